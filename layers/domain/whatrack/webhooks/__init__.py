"""Meta's wire format: the signed envelope, its classification per change, and tolerant payload models."""
