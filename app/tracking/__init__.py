"""Tracking: batch job states in, submission states out (through app/states.py)."""
