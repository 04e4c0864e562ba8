"""Batch engines behind one interface (app/batch/base.py): local (embedded) and jobsub."""
