"""Lambda function package: state_sync."""
