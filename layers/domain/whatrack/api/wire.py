"""What every wire model shares: camelCase names, built from read models, times in ISO-8601 with ``Z``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

from whatrack.domain.clock import iso

IsoTime = Annotated[datetime, PlainSerializer(iso, return_type=str)]


class WireModel(BaseModel):
    """camelCase on the wire; built from read models by attribute (``Model.model_validate(record)``)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, from_attributes=True)
