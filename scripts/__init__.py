"""Development launcher, drills and benchmarks, run from the Makefile."""
