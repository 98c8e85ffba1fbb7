"""The domain: entities, value objects, enums, rules and errors of WhaTrack's inbox.

Pure Python and pydantic only: no I/O, no AWS SDK, no Powertools. Every other package imports
from here; this package imports nothing of theirs.
"""
