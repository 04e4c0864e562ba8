"""Uploaded files: each experimenter's files per experiment (CFG files, scripts, proxies,
tokens), their quota, the launch credential among them, and what a launch's $UPLOADS holds."""
