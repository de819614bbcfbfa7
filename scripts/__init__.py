"""Development, benchmark and drill scripts, run as files (`python scripts/NAME.py`)."""
