"""Tracking: batch job states in, submission states out (app/tracking/states.py)."""
