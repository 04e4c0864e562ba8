"""A client for the UconDB web API: Fermilab's server or the one POMS embeds.

    client = UconDBClient("https://dbdata0vm.fnal.gov:9443/mu2e_ucondb_prod/app",
                          username="mu2e_ucon_web", password="...")
    client.create_folder("cnf_mu2e_tutorial_fcl")
    meta = client.put_data("cnf_mu2e_tutorial_fcl", "job_001.fcl", data, key="job_001.fcl")
    data = client.get_data("cnf_mu2e_tutorial_fcl", "job_001.fcl", key="job_001.fcl")

Reads need no credentials; writes (put_data, create_folder, add_tag) answer the server's
Digest challenge with username/password. Every call retries on a 5xx answer or a failed
connection (`retries` times, waiting backoff, 2*backoff, 4*backoff, ...) and then raises; a
4xx is raised at once. Every error names the method, the URL and the status:

    UconDBError            base; .url, .status (None when no answer came), .message
      NotFound             404: no such folder, object, version or data key
      Unauthorized         401/403: no or wrong credentials for a write
      TooLarge             413: the blob is over the server's limit
      BadRequest           other 4xx (400: bad names or parameters)
        KeyConflict        409: the key exists with other data (override=True moves it)
      ServerError          5xx after the retries
        Unreachable        no answer at all (refused, reset, timed out) after the retries
"""
from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

import requests
from requests.auth import HTTPDigestAuth

from app.http_retries import NO_ANSWER, send_retried

DEFAULT_TIMEOUT = (5.0, 60.0)  # (connect, read) seconds
RECORD_SEPARATOR = b"\x1e"  # RFC 7464 JSON text sequences (lookup_versions answers so)


class UconDBError(Exception):
    def __init__(self, message: str, *, url: str, status: int | None = None,
                 method: str = "GET"):
        self.message = message
        self.url = url
        self.status = status
        self.method = method
        answer = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"UconDB {method} {url}: {answer}: {message}")


class NotFound(UconDBError):
    pass


class Unauthorized(UconDBError):
    pass


class TooLarge(UconDBError):
    pass


class BadRequest(UconDBError):
    pass


class KeyConflict(BadRequest):
    pass


class ServerError(UconDBError):
    pass


class Unreachable(ServerError):
    pass


def _error_for(status: int):
    if status == 404:
        return NotFound
    if status in (401, 403):
        return Unauthorized
    if status == 413:
        return TooLarge
    if status == 409:
        return KeyConflict
    if status >= 500:
        return ServerError
    return BadRequest


def _message(response: requests.Response) -> str:
    """The server's own words: our JSON {"error": ...}, or the real server's text."""
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("error"):
            return str(body["error"])
    except ValueError:
        pass
    text = (response.text or "").strip()
    return text[:500] or response.reason or "no message"


def _segment(name: str) -> str:
    return quote(str(name), safe="")


class UconDBClient:
    def __init__(self, base_url: str, *, username: str | None = None,
                 password: str | None = None, timeout=DEFAULT_TIMEOUT, retries: int = 3,
                 backoff: float = 0.5, verify: bool | str = True,
                 session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"UconDB URL {base_url!r} is not an http(s) URL")
        self.username = username
        self.password = password
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.verify = verify
        self.session = session or requests.Session()
        self._auth = HTTPDigestAuth(username, password) if username and password else None

    @classmethod
    def from_config(cls, config, *, base_url: str | None = None, **kwargs) -> UconDBClient:
        """The client the settings describe (POMS_UCONDB_URL, _USER, _PASSWORD); pass the
        app's config (a mapping), e.g. from an RQ job inside an app context."""
        return cls(base_url or config["POMS_UCONDB_URL"],
                   username=config.get("POMS_UCONDB_USER") or None,
                   password=config.get("POMS_UCONDB_PASSWORD") or None, **kwargs)

    # -- where ---------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname

    @property
    def path(self) -> str:
        """The URL path of the API root, e.g. /mu2e_ucondb_prod/app."""
        return urlsplit(self.base_url).path

    @property
    def database(self) -> str:
        """The database the base URL names (the path segment before /app)."""
        parts = [p for p in self.path.split("/") if p]
        if len(parts) >= 2 and parts[-1] == "app":
            return parts[-2]
        raise ValueError(f"UconDB URL {self.base_url} does not end in /<database>/app")

    def data_url(self, folder: str, object_name: str | None = None) -> str:
        url = f"{self.base_url}/data/{_segment(folder)}"
        return url if object_name is None else f"{url}/{_segment(object_name)}"

    def location(self, folder: str) -> str:
        """Where a folder's files are, as the catalogue records it: HOST:/<path>/data/F."""
        return f"{self.host}:{self.path}/data/{folder}"

    # -- transport -----------------------------------------------------------------------
    def _request(self, method: str, endpoint: str, *, params=None, data=None,
                 auth: bool = False, expect=(200,)) -> requests.Response:
        url = f"{self.base_url}/{endpoint}"
        shown = requests.Request(method, url, params=params).prepare().url
        if auth and self._auth is None:
            raise Unauthorized("this write needs a username and password (POMS_UCONDB_USER, "
                               "POMS_UCONDB_PASSWORD)", url=shown, method=method)
        try:
            response = send_retried(
                lambda: self.session.request(
                    method, url, params=params, data=data, timeout=self.timeout,
                    auth=self._auth if auth else None, verify=self.verify,
                ),
                retries=self.retries, backoff=self.backoff,
            )
        except NO_ANSWER as err:
            raise Unreachable(f"{type(err).__name__}: {err}", url=shown,
                              method=method) from err
        if response.status_code in expect:
            return response
        raise _error_for(response.status_code)(_message(response), url=shown,
                                               status=response.status_code, method=method)

    @staticmethod
    def _json(response: requests.Response):
        try:
            return response.json()
        except ValueError:
            raise ServerError(f"the answer is not JSON: {response.text[:200]!r}",
                              url=response.url, status=response.status_code) from None

    @staticmethod
    def _json_records(response: requests.Response) -> list:
        """A JSON list, or an RFC 7464 sequence of JSON texts, as a list."""
        content = response.content
        if RECORD_SEPARATOR not in content:
            body = json.loads(content or b"[]")
            return body if isinstance(body, list) else list(body.values())
        return [json.loads(part) for part in content.split(RECORD_SEPARATOR) if part.strip()]

    @staticmethod
    def _bytes(response: requests.Response) -> bytes:
        # The real server may deflate a large blob and say so in Transfer-Encoding (we ask it
        # not to with compress=no, and undo it if it does anyway).
        if "deflate" in response.headers.get("Transfer-Encoding", "").lower():
            return zlib.decompress(response.content)
        return response.content

    # -- reads ---------------------------------------------------------------------------
    def version(self) -> str:
        return self._request("GET", "version").text.strip()

    def folders(self) -> list[str]:
        return self._json(self._request("GET", "folders"))

    def folder_exists(self, folder: str) -> bool:
        return folder in self.folders()

    def objects(self, folder: str) -> list[str]:
        return self._json(self._request("GET", "objects", params={"folder": folder}))

    def tags(self, folder: str) -> list[str]:
        return self._json(self._request("GET", "tags", params={"folder": folder}))

    def versions(self, folder: str, object_name: str, *, tv=None, tr=None,
                 tr_since=None) -> list[dict]:
        """An object's versions valid at tv (default now), newest record first."""
        params = {"folder": folder, "object": object_name}
        params.update({k: v for k, v in (("tv", tv), ("tr", tr), ("tr_since", tr_since))
                       if v is not None})
        return self._json(self._request("GET", "versions", params=params))

    def lookup_versions(self, folder: str, object_name: str | None = None, *,
                        ids: Iterable[int] | None = None, keys: Iterable[str] | None = None,
                        key_min: str | None = None, key_max: str | None = None,
                        tvs: Iterable[float] | None = None, tr=None,
                        tag: str | None = None) -> list[dict]:
        params = {"folder": folder}
        if object_name is not None:
            params["object"] = object_name
        if tr is not None:
            params["tr"] = tr
        if tag is not None:
            params["tag"] = tag
        if ids is not None:
            body = {"ids": [int(i) for i in ids]}
        elif keys is not None:
            body = {"keys": list(keys)}
        elif key_min is not None or key_max is not None:
            body = {k: v for k, v in (("key_min", key_min), ("key_max", key_max))
                    if v is not None}
        elif tvs is not None:
            body = {"tvs": [float(t) for t in tvs]}
        else:
            # Nothing to look up by: the object's versions, through `versions` as the real
            # client does (the real server's lookup_versions needs one of the above).
            if object_name is None:
                raise ValueError("give ids, keys, key_min/key_max or tvs, or an object")
            return self.versions(folder, object_name, tr=tr)
        response = self._request("POST", "lookup_versions", params=params,
                                 data=json.dumps(body))
        return self._json_records(response)

    def get_version(self, folder: str, object_name: str, *, key=None, tag=None, tv=None,
                    tr=None, version_id=None) -> dict:
        """One version's metadata (the one valid at tv, default now, unless key or id)."""
        params = self._selector(key=key, tag=tag, tv=tv, tr=tr, version_id=version_id)
        params["meta_only"] = "yes"
        meta = self._json(self._request(
            "GET", f"data/{_segment(folder)}/{_segment(object_name)}", params=params))
        if not meta:  # the real server answers {} for an unknown id
            raise NotFound("no such version", url=self.data_url(folder, object_name))
        return meta

    def get_data(self, folder: str, object_name: str, *, key=None, tag=None, tv=None,
                 tr=None, version_id=None) -> bytes:
        """The bytes of one version (the one valid at tv, default now, unless key or id)."""
        params = self._selector(key=key, tag=tag, tv=tv, tr=tr, version_id=version_id)
        return self._bytes(self._request(
            "GET", f"data/{_segment(folder)}/{_segment(object_name)}", params=params or None))

    def get_blob(self, folder: str, *, version_id: int | None = None,
                 data_key: str | None = None) -> bytes:
        if (version_id is None) == (data_key is None):
            raise ValueError("give exactly one of version_id and data_key")
        params = {"folder": folder, "compress": "no"}
        if version_id is not None:
            params["version_id"] = int(version_id)
        else:
            params["data_key"] = data_key
        return self._bytes(self._request("GET", "get_blob", params=params))

    @staticmethod
    def _selector(*, key, tag, tv, tr, version_id) -> dict:
        params = {}
        if version_id is not None:
            params["id"] = int(version_id)
        if key is not None:
            params["key"] = key
        if tag is not None:
            params["tag"] = tag
        if tv is not None:
            params["tv"] = tv
        if tr is not None:
            params["tr"] = tr
        return params

    # -- writes --------------------------------------------------------------------------
    def put_data(self, folder: str, object_name: str, data: bytes, *, tv=None,
                 tags: Iterable[str] | str = (), key: str | None = None,
                 override: bool = False) -> dict:
        """Store a new version; its metadata. With a key that holds the same bytes already,
        the embedded server answers with that version instead of making another."""
        params: list[tuple[str, str]] = [("full_meta", "yes")]
        if tv is not None:
            params.append(("tv", str(tv)))
        for tag in [tags] if isinstance(tags, str) else tags:
            params.append(("tag", tag))
        if key is not None:
            params.append(("key", key))
            params.append(("override", "yes" if override else "no"))
        response = self._request(
            "POST", f"data/{_segment(folder)}/{_segment(object_name)}", params=params,
            data=bytes(data), auth=True,
        )
        return self._json(response)

    def create_folder(self, folder: str, *, owner: str | None = None,
                      read: Iterable[str] = (), write: Iterable[str] = ()) -> None:
        """Create a folder; a folder that exists is left as it is."""
        params = {"folder": folder}
        if owner:
            params["owner"] = owner
        if read:
            params["read"] = ",".join(read)
        if write:
            params["write"] = ",".join(write)
        self._request("POST", "create_folder", params=params, auth=True)

    def ensure_folder(self, folder: str) -> bool:
        """Create the folder unless it is there; True when it was created."""
        if self.folder_exists(folder):
            return False
        self.create_folder(folder)
        return True

    def add_tag(self, folder: str, tag: str, *, version_id: int | None = None,
                object_name: str | None = None, key: str | None = None) -> None:
        params = {"folder": folder, "tag": tag}
        if version_id is not None:
            params["version_id"] = int(version_id)
        else:
            params.update(object=object_name, key=key)
        self._request("POST", "tag", params=params, auth=True)
