"""Lambda function package: live_message."""
