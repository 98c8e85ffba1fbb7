"""The local stack: moto server + API Gateway (HTTP API) front + SQS event-source emulation.

Everything is built from ``template.yaml``; the handlers run unchanged. ``python -m devstack``.
"""
