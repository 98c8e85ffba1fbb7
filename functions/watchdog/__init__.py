"""Lambda function package: watchdog."""
