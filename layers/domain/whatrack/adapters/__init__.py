"""AWS adapters implementing :mod:`whatrack.ports`. The only place that imports boto3/pynamodb."""
