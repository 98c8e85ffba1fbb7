"""Benchmarks (`make bench`). Figures go to docs/benchmarks.md; tests never assert timings."""
