"""Lambda glue shared by the functions: HTTP error mapping and the SQS partial-batch handler."""
