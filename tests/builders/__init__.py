"""Every test builder in one place: Meta payloads (``payloads``), the reference samples and demo
onboarding (``samples``), Lambda events and the ``events/`` files (``events``)."""
