"""Use cases: each service takes its ports (Protocols) as arguments and applies the domain's rules."""
