"""Issue 12's chaos replay: a seeded onboarding delivered through the local stack with and without
faults, whose complete final states must be the same (``make chaos SEEDS=N``; two seeds in the suite)."""
