"""Personal data in texts meant for people (logs, notifications): phone numbers shown by their end."""

from __future__ import annotations

import re

DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z_])\+?\d[\d\s().-]{6,}\d(?![0-9A-Za-z_])")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def mask_digits(text: str) -> str:
    """``+55 11 96666-0001`` → ``***0001``: enough to tell numbers apart, not to call anyone."""

    def mask(match: re.Match[str]) -> str:
        found = match.group(0)
        digits = re.sub(r"\D", "", found)
        return found if len(digits) < 8 or DATE.match(found) else f"***{digits[-4:]}"

    return DIGIT_RUN.sub(mask, text)
