"""Lambda function package: unmatched_replay."""
