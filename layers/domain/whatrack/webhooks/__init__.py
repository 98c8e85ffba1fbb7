"""Meta webhook envelope: signature, parsing, classification of each change."""
