"""Lambda function package: webhook_ingest."""
