"""Benchmarks and quality evaluations; each script prints its figures (see its docstring for the command)."""
