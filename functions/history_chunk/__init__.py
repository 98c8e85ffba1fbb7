"""Lambda function package: history_chunk."""
