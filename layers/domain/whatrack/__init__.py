"""WhaTrack Coexistence Sync domain package.

The core (models, services, rules) imports no AWS SDK; everything that talks to AWS lives in
``whatrack.adapters`` and is wired per function in ``whatrack.wiring`` (a module per function).
"""

__version__ = "0.1.0"
