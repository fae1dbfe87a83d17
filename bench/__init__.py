"""Benchmarks: `make bench` (not part of `make test`; nothing here asserts speed)."""
