"""The data catalogue interface: what POMS asks of SAM, or of the embedded catalogue.

One catalogue object serves one experiment (SAM's URLs are per experiment too). Two
implementations: `EmbeddedCatalog` (app/catalog/embedded.py, the default, in the POMS
database) and `SamwebCatalog` (app/catalog/samweb.py, Fermilab's SAM over HTTP). Wrap either
in `CachedCatalog` (app/catalog/cache.py) for the life of one web request.

Queries are SAM dimension strings (app/catalog/dimensions.py says which). File names are
unique per experiment.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

from app.catalog.dimensions import quote


class CatalogError(RuntimeError):
    """The catalogue refused or failed: the message says what and, for SAM, which URL."""


class NotFound(CatalogError):
    """No such file, definition, snapshot or project."""


@dataclass(frozen=True)
class FileInfo:
    name: str
    size: int = 0
    checksum: str = ""
    metadata: dict = field(default_factory=dict, hash=False)
    create_date: datetime | None = None
    parents: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delivery:
    """What became of one file in one project: why a recovery includes it."""

    file_name: str
    status: str  # not delivered, delivered, consumed, failed, skipped
    process: str = ""  # the consumer (job) it was last given to
    process_status: str = ""  # active, completed, bad


class Catalog(ABC):
    kind = "abstract"
    experiment: str

    # --- files ---
    @abstractmethod
    def declare_file(
        self,
        name: str,
        *,
        size: int = 0,
        checksum: str = "",
        metadata: dict | None = None,
        parents: tuple[str, ...] | list[str] = (),
        create_date: datetime | None = None,
    ) -> None:
        """Declare a file with its metadata and parents (which must exist)."""

    @abstractmethod
    def add_location(self, name: str, location: str) -> None: ...

    @abstractmethod
    def locate(self, name: str) -> list[str]: ...

    @abstractmethod
    def get_metadata(self, name: str) -> dict: ...

    # --- queries ---
    @abstractmethod
    def count_files(self, dims: str) -> int: ...

    @abstractmethod
    def list_files(self, dims: str) -> list[str]: ...

    # --- definitions and snapshots ---
    @abstractmethod
    def create_definition(self, name: str, dims: str) -> None:
        """Save (or replace) a named dimension query."""

    def create_list_definition(self, name: str, files: list[str]) -> None:
        """A definition holding exactly these files."""
        if not files:
            raise CatalogError(f"definition '{name}': an explicit list needs files")
        self.create_definition(name, "file_name " + ",".join(quote(f) for f in files))

    def create_frozen_definition(self, name: str, dims: str) -> int:
        """A definition holding exactly the files `dims` selects now; how many they are (0:
        no definition is made)."""
        names = self.list_files(dims)
        if names:
            self.create_list_definition(name, names)
        return len(names)

    @abstractmethod
    def definition_dimensions(self, name: str) -> str: ...

    def frozen_dims(self, dims: str) -> str:
        """Dimensions naming exactly the files `dims` selects now (for previews)."""
        names = self.list_files(dims)
        return "file_name " + ",".join(quote(n) for n in names) if names else "file_id 0"

    @abstractmethod
    def take_snapshot(self, defname: str) -> int:
        """Freeze the definition's files now; returns the snapshot id."""

    # --- projects (who was given which file, what they consumed) ---
    @abstractmethod
    def project_summary(self, project: str) -> dict:
        """SAM's project summary: file_counts, process_counts and tot_* totals."""

    @abstractmethod
    def recovery_dimensions(self, project: str, useprocess: bool = False) -> str:
        """Dimensions of the project's files still to do ('' when none)."""

    # The embedded catalogue records deliveries itself; with SAM the jobs report to SAM.
    def start_project(self, project: str, defname: str) -> int:
        raise CatalogError(f"{self.kind}: projects are started by the jobs, not by POMS")

    def deliver(self, project: str, process: str, file_name: str) -> None:
        raise CatalogError(f"{self.kind}: deliveries are recorded by SAM")

    def set_file_status(self, project: str, process: str, file_name: str, status: str) -> None:
        raise CatalogError(f"{self.kind}: file statuses are recorded by SAM")

    def end_process(self, project: str, process: str, status: str = "completed") -> None:
        raise CatalogError(f"{self.kind}: process statuses are recorded by SAM")

    def end_project(self, project: str) -> None:
        raise CatalogError(f"{self.kind}: projects are ended by SAM")

    def deliveries(self, project: str, names: list[str]) -> dict[str, Delivery]:
        """Per file, what became of it in the project (empty when the catalogue cannot say)."""
        return {}
