"""Benchmarks of issues #9 and #22: `python -m bench [--quick | --smoke]` (see bench/README.md)."""
