"""Lambda function package: status_api."""
