"""Fermilab's SAM over its HTTP API (what the original POMS's samweb_lite calls), with
`requests`.

    catalog = SamwebCatalog("https://samweb.fnal.gov:8483", "mu2e",
                            cert=("/path/proxy", "/path/proxy"))   # or token_file=...
    catalog.count_files("defname: mydata minus snapshot_id 42")

Every call: a timeout; a retry with backoff on 5xx answers and on connection errors (SAM
answers 503 when busy); dimensions longer than 1024 characters go in a POST body, as
samweb_client does (a URL that long is refused by proxies). A failure raises CatalogError
naming the URL, the status and SAM's message; 404 raises NotFound.
"""
from __future__ import annotations

from urllib.parse import quote as urlquote

import requests

from app.catalog.base import Catalog, CatalogError, NotFound
from app.http_retries import send_retried

LONG_DIMENSIONS = 1024


class SamwebCatalog(Catalog):
    kind = "samweb"

    def __init__(
        self,
        base_url: str,
        experiment: str,
        *,
        cert=None,
        token_file: str | None = None,
        verify=True,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        role: str = "",
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.experiment = experiment
        self.cert = cert
        self.token_file = token_file
        self.verify = verify
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.role = role
        self.http = session or requests.Session()

    # --- transport ---
    def url(self, path: str) -> str:
        return f"{self.base_url}/sam/{urlquote(self.experiment)}/api/{path.lstrip('/')}"

    def _headers(self) -> dict:
        headers = {"Accept": "application/json, text/plain"}
        if self.token_file:
            with open(self.token_file) as fh:
                headers["Authorization"] = "Bearer " + fh.read().strip()
        return headers

    def request(self, method: str, path: str, *, params=None, data=None, json=None):
        url = self.url(path)
        tries = f"SAM {method} {url} failed after {self.retries + 1} tries"
        try:
            response = send_retried(
                lambda: self.http.request(
                    method, url, params=params, data=data, json=json, timeout=self.timeout,
                    cert=self.cert, verify=self.verify, headers=self._headers(),
                ),
                retries=self.retries, backoff=self.backoff,
                retry_on=(requests.RequestException,),
            )
        except requests.RequestException as err:
            raise CatalogError(f"{tries}: {type(err).__name__}: {err}") from None
        if response.status_code >= 500:
            raise CatalogError(
                f"{tries}: HTTP {response.status_code}: {response.text.strip()[:300]}")
        if response.status_code == 404:
            raise NotFound(f"SAM {method} {url}: not found: {response.text.strip()[:300]}")
        if response.status_code >= 400:
            raise CatalogError(
                f"SAM {method} {url} answered {response.status_code}: "
                f"{response.text.strip()[:300]}"
            )
        return response

    def _dims_request(self, path: str, dims: str, extra: dict | None = None):
        params = dict(extra or {})
        if len(dims) > LONG_DIMENSIONS:
            return self.request("POST", path, params=params, data={"dims": dims})
        params["dims"] = dims
        return self.request("GET", path, params=params)

    @staticmethod
    def _file_path(name: str) -> str:
        return f"files/name/{urlquote(name, safe='')}"

    # --- files ---
    def declare_file(self, name, *, size=0, checksum="", metadata=None, parents=(),
                     create_date=None) -> None:
        body = dict(metadata or {})
        body.update({"file_name": name, "file_size": int(size)})
        if checksum:
            body["checksum"] = [checksum]
        if parents:
            body["parents"] = [{"file_name": p} for p in parents]
        self.request("POST", "files", json=body)

    def add_location(self, name: str, location: str) -> None:
        self.request("POST", self._file_path(name) + "/locations", data={"add": location})

    def locate(self, name: str) -> list[str]:
        found = self.request("GET", self._file_path(name) + "/locations").json()
        out = []
        for item in found:
            if isinstance(item, dict):
                out.append(item.get("full_path") or item.get("location") or "")
            else:
                out.append(str(item))
        return out

    def get_metadata(self, name: str) -> dict:
        return self.request(
            "GET", self._file_path(name) + "/metadata", params={"format": "json"}
        ).json()

    # --- queries ---
    def count_files(self, dims: str) -> int:
        text = self._dims_request("files/count", dims).text.strip()
        try:
            return int(text)
        except ValueError:
            raise CatalogError(f"SAM files/count answered {text[:200]!r}, not a number") from None

    def list_files(self, dims: str) -> list[str]:
        response = self._dims_request("files/list", dims, {"format": "json"})
        try:
            names = response.json()
        except ValueError:
            names = [line.strip() for line in response.text.splitlines() if line.strip()]
        return [n if isinstance(n, str) else n.get("file_name", "") for n in names]

    # --- definitions and snapshots ---
    def create_definition(self, name: str, dims: str) -> None:
        self.request(
            "POST",
            "definitions/create",
            data={"defname": name, "dims": dims, "group": self.experiment, "user": self.role
                  or "sam"},
        )

    def definition_dimensions(self, name: str) -> str:
        found = self.request(
            "GET", f"definitions/name/{urlquote(name, safe='')}/describe",
            params={"format": "json"},
        ).json()
        return found.get("dimensions", "")

    def take_snapshot(self, defname: str) -> int:
        text = self.request(
            "POST", f"definitions/name/{urlquote(defname, safe='')}/snapshot",
            data={"group": self.experiment},
        ).text.strip()
        try:
            return int(text)
        except ValueError:
            raise CatalogError(f"SAM snapshot answered {text[:200]!r}, not an id") from None

    # --- projects ---
    def project_summary(self, project: str) -> dict:
        info = self.request(
            "GET", f"projects/name/{urlquote(project, safe='')}/summary",
            params={"format": "json", "process_limit": 0},
        ).json()
        return with_totals(info)

    def recovery_dimensions(self, project: str, useprocess: bool = False) -> str:
        return self.request(
            "GET", f"projects/name/{urlquote(project, safe='')}/recovery_dimensions",
            params={"useProcess": int(bool(useprocess)), "format": "plain"},
        ).text.strip()


def with_totals(info: dict) -> dict:
    """tot_* totals from a SAM project summary, as the original computes them."""
    info = dict(info)
    counts = info.get("file_counts", {})
    processes = info.pop("processes", None)
    if not processes:
        info["tot_jobs"] = info.get("process_counts", {}).get("completed", 0)
        info["tot_consumed"] = counts.get("consumed", 0) + counts.get("completed", 0)
        info["tot_failed"] = counts.get("failed", 0)
        info["tot_skipped"] = counts.get("skipped", 0)
        info["tot_delivered"] = counts.get("delivered", 0)
        info["tot_unknown"] = counts.get("unknown", 0)
        info["tot_jobfails"] = 0
        return info
    totals = dict.fromkeys(("consumed", "failed", "skipped", "delivered", "unknown"), 0)
    jobfails = 0
    for proc in processes:
        for key in totals:
            totals[key] += proc.get("counts", {}).get(key, 0)
        if proc.get("status") != "completed":
            jobfails += 1
    info.update({f"tot_{k}": v for k, v in totals.items()})
    info["tot_jobs"] = len(processes)
    info["tot_jobfails"] = jobfails
    return info
