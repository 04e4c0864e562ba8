"""The data catalogue: one interface (base.Catalog), the embedded implementation in the POMS
database (embedded.EmbeddedCatalog), Fermilab's SAM over HTTP (samweb.SamwebCatalog), a
per-request cache (cache.CachedCatalog), SAM's dimension language (dimensions, query) and
recovery file lists (recovery). Plain Python: no Flask import."""
