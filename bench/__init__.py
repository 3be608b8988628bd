"""Benchmarks of issue #9: `python -m bench [--quick | --smoke]` (see bench/README.md)."""
