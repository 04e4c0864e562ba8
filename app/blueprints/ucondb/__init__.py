"""The embedded UconDB server: Fermilab's UconDB web API at /ucondb/<database>/app/...

Machine API (the same URLs, parameters, answers and content types as ivmfnal/ucondb 3.9):
  GET  version | probe | folders | objects?folder= | tags?folder=
  GET  versions?folder=&object=[&tv=&tr=&tr_since=]
  POST lookup_versions?folder=[&object=&tr=&tag=]  body {"ids"|"keys"|"key_min","key_max"|"tvs"}
  GET  get_blob?folder=&(version_id=|data_key=)
  GET  data/F/O[?id=|key=|tag=|tv=|tr=|data_key=|meta_only=yes]        (also get/F/O)
  POST data/F/O?full_meta=yes[&tv=&tag=...&key=&override=yes|no]  body = the bytes (also PUT,
       put/F/O): Digest authentication
  POST create_folder?folder=F[&owner=]  and  tag?folder=&tag=&(version_id=|object=&key=):
       Digest authentication
Human pages: UI/index, UI/folder?folder=F, UI/object?folder=F&name=O, UI/version?folder=F&vid=N.

Who may do what: reads (the API and the pages) need nothing, as on Fermilab's server: FCL
files are not secret, and grid jobs fetch them with a plain GET. Writes need HTTP Digest
(realm = the folder, MD5, qop=auth) as one of POMS_UCONDB_WRITERS; a POMS sign-in plays no
part, and the API is exempt from CSRF (no cookie authorises anything here). Behind a
Kerberos front end, exempt /ucondb/ from it as Fermilab exempts its UconDB.

Errors are JSON {"error": "...", "status": N}: 400 bad names and parameters, 401 (with a
Digest challenge) no or wrong credentials, 404 unknown database content, 409 a key that holds
other data, 413 a blob over POMS_UCONDB_MAX_BLOB_BYTES.

  server.py  the blueprint, its JSON answers and errors, the settings it checks
  reads.py   the machine API's reads        writes.py  its writes (Digest)
  pages.py   the pages for people (errors as pages), nested as the `ucondb.ui` blueprint
"""
from app.blueprints.ucondb import (  # noqa: F401  (each adds its routes to bp)
    pages,
    reads,
    writes,
)
from app.blueprints.ucondb.server import bp

__all__ = ["bp"]
