"""Benchmarks of the CRM's hot paths, each printed next to a raw baseline measured in the same run.

`uv run python -m bench` runs them all with their defaults; `uv run python -m bench NAME --help`
lists one benchmark's options. Traffic goes to 127.0.0.1 only, every loop is bounded in count
and time, and nothing here asserts a timing: the figures are for people to read.
"""
