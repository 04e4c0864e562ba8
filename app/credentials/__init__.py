"""Grid credentials for launching: parsing (parse.py, no database) and storing (store.py)."""
