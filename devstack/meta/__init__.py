"""The Meta simulator (a Graph API double that posts signed webhooks back): see :mod:`devstack.meta.simulator`."""

from devstack.meta.answers import (
    ROUTES,
    Scripted,
    invalid_token,
    lost_answer,
    media_expired,
    meta_error,
    rate_limited,
    server_error,
    too_slow,
    url_gone,
)
from devstack.meta.media import MediaFile
from devstack.meta.messaging import Sent, StatusPlan, Template
from devstack.meta.simulator import APP_ID, APP_SECRET, Call, MetaSimulator, running_simulator

__all__ = [
    "APP_ID",
    "APP_SECRET",
    "ROUTES",
    "Call",
    "MediaFile",
    "MetaSimulator",
    "Scripted",
    "Sent",
    "StatusPlan",
    "Template",
    "invalid_token",
    "lost_answer",
    "media_expired",
    "meta_error",
    "rate_limited",
    "running_simulator",
    "server_error",
    "too_slow",
    "url_gone",
]
