"""Lambda function package: echo."""
