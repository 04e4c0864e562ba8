"""A catalogue on the test's migrated database: `catalog` is EmbeddedCatalog for samdev."""
from datetime import datetime, timedelta

import pytest

from app.catalog.embedded import EmbeddedCatalog

T0 = datetime(2026, 1, 1)


@pytest.fixture
def catalog(app):
    from app.extensions import db

    return EmbeddedCatalog(db.session, "samdev")


@pytest.fixture
def raw_files(catalog):
    """raw_000 .. raw_019: runs 1..4 (five files each), version v1, a day apart."""
    catalog.declare_files(
        [
            {
                "name": f"raw_{i:03d}.art",
                "size": 100 + i,
                "metadata": {"runs": [[1 + i // 5, i % 5, "physics"]], "data_tier": "raw",
                             "version": "v1", "file_format": "art"},
                "create_date": T0 + timedelta(days=i),
            }
            for i in range(20)
        ]
    )
    catalog.create_definition("raw", "data_tier raw")
    return [f"raw_{i:03d}.art" for i in range(20)]
