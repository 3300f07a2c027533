"""Benchmarks that print their figures (``python -m optimizer bench ...``); never timed tests."""
