"""Benchmarks of the A–Z slice: the BVPI 157 query, search, and pages under gunicorn."""
