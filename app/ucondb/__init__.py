"""UconDB: where FCL files live, one folder per FCL dataset.

  naming.py    the folder rule (dataset with `.` -> `_`) and what names, keys and tags may hold
  client.py    UconDBClient: the web API over requests (Fermilab's server or the embedded one)
  fcl.py       store_fcl_files: a dataset's FCL files into its folder -> catalogue locations
  jobs.py      FCL stages: the `uploads` work per finished job (queued through app/work.py,
               run by workers/jobs.upload), and what holds the dependent stages until
               their FCL files are in UconDB (uses the database)
  store.py     the embedded server's domain logic (app/blueprints/ucondb.py is its web face)
  digest.py    HTTP Digest, server side, with stateless nonces
  cli.py       `flask --app wsgi poms ucondb ...`

Nothing here imports Flask except cli.py (jobs.py uses the database session). The
POMS_UCONDB_* settings and their defaults are in app/config/ucondb.py.
"""
