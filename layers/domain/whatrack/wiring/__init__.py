"""Each function's wiring, in a module of its own: ``ingest``, ``status_api``, ``consumers``,
``replay``, ``reconciler``, ``watchdog`` (and ``operator`` for the operator scripts).

A module builds its function's collaborators in straight lines, each named once, every one required,
once per execution environment (``@once``), and imports nothing of the other functions (an import
contract in ``pyproject.toml`` keeps them independent). What several share (table binding, the queue
publisher, the Graph client) is in :mod:`whatrack.wiring.shared`, with the one :func:`reset` for
tests and local-stack restarts.
"""

from whatrack.wiring.shared import reset

__all__ = ["reset"]
