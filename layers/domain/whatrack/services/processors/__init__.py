"""One processor per routed webhook field (CONTRACT §8), the dead-letter hooks, and their registry.

Each processor receives one change for one connection, validates it with the tolerant models of
:mod:`whatrack.webhooks.payloads` (a ``ValidationError`` marks the change ``rejected``, never
retried) and applies it through the ports; every write is conditional, so a redelivered or
reordered change ends in the same state.
"""
