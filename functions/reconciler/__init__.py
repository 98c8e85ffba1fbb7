"""Lambda function package: reconciler."""
