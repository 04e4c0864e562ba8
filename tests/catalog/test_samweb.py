"""The samweb adapter against recorded SAM answers, served by a small real HTTP server.

No SAM server runs here, so the answers are recorded ones (shapes as SAM gives them); the
transport is real: requests, sockets, retries, POST bodies.
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from app.catalog.base import CatalogError, NotFound
from app.catalog.samweb import LONG_DIMENSIONS, SamwebCatalog

API = "/sam/mu2e/api"
# (method, path) -> list of (status, body) answered in turn (the last one repeats)
RECORDED = {
    ("GET", f"{API}/files/count"): [(503, "Service busy"), (200, "42\n")],
    ("POST", f"{API}/files/count"): [(200, "7\n")],
    ("GET", f"{API}/files/list"): [(200, json.dumps(["a.art", "b.art"]))],
    ("POST", f"{API}/definitions/create"): [(200, "Dataset definition 'ds1' created\n")],
    ("POST", f"{API}/definitions/name/ds1/snapshot"): [(200, "12345\n")],
    ("GET", f"{API}/definitions/name/ds1/describe"): [
        (200, json.dumps({"defname": "ds1", "dimensions": "data_tier raw"}))],
    ("GET", f"{API}/projects/name/p1/summary"): [(200, json.dumps({
        "project_name": "p1", "project_status": "completed",
        "file_counts": {"consumed": 9, "failed": 1, "delivered": 0, "unknown": 2},
        "process_counts": {"completed": 3, "bad": 1},
    }))],
    ("GET", f"{API}/projects/name/p1/recovery_dimensions"): [
        (200, "project_name p1 and consumed_status != consumed\n")],
    ("GET", f"{API}/files/name/a.art/locations"): [(200, json.dumps([
        {"full_path": "enstore:/pnfs/mu2e/tape/a", "location_type": "tape"},
        {"full_path": "dcache:/pnfs/mu2e/persistent/a", "location_type": "disk"}]))],
    ("POST", f"{API}/files/name/a.art/locations"): [(200, "")],
    ("GET", f"{API}/files/name/a.art/metadata"): [(200, json.dumps(
        {"file_name": "a.art", "runs": [[1002, 3, "physics"]]}))],
    ("GET", f"{API}/files/name/missing.art/metadata"): [(404, "File 'missing.art' not found")],
    ("GET", f"{API}/projects/name/down/summary"): [(500, "Internal Server Error")],
    ("POST", f"{API}/files"): [(200, "")],
}


@pytest.fixture
def sam():
    calls = []
    served: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, method):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            calls.append({"method": method, "path": parts.path,
                          "query": parse_qs(parts.query), "body": body,
                          "auth": self.headers.get("Authorization")})
            answers = RECORDED.get((method, parts.path))
            if answers is None:
                status, text = 404, "no recording"
            else:
                n = served.get((method, parts.path), 0)
                served[(method, parts.path)] = n + 1
                status, text = answers[min(n, len(answers) - 1)]
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.answer("GET")

        def do_POST(self):
            self.answer("POST")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    catalog = SamwebCatalog(f"http://127.0.0.1:{server.server_port}", "mu2e",
                            retries=2, backoff=0.01, timeout=5)
    catalog.calls = calls
    yield catalog
    server.shutdown()
    server.server_close()


def test_count_retries_a_5xx_then_answers(sam):
    assert sam.count_files("defname: ds1") == 42
    counts = [c for c in sam.calls if c["path"].endswith("/files/count")]
    assert len(counts) == 2  # the 503, then the answer
    assert counts[1]["query"]["dims"] == ["defname: ds1"]


def test_long_dimensions_go_in_a_post_body(sam):
    long_dims = "file_name " + ",".join(f"f{i:05d}.art" for i in range(200))
    assert len(long_dims) > LONG_DIMENSIONS
    assert sam.count_files(long_dims) == 7
    call = sam.calls[-1]
    assert call["method"] == "POST" and "dims" not in call["query"]
    assert parse_qs(call["body"])["dims"] == [long_dims]


def test_list_files(sam):
    assert sam.list_files("defname: ds1") == ["a.art", "b.art"]
    assert sam.calls[-1]["query"]["format"] == ["json"]


def test_definitions_and_snapshots(sam):
    sam.create_definition("ds1", "data_tier raw and version v1")
    sent = parse_qs(sam.calls[-1]["body"])
    assert sent["defname"] == ["ds1"] and sent["dims"] == ["data_tier raw and version v1"]
    assert sent["group"] == ["mu2e"]
    assert sam.take_snapshot("ds1") == 12345
    assert sam.definition_dimensions("ds1") == "data_tier raw"


def test_project_summary_and_recovery_dimensions(sam):
    summary = sam.project_summary("p1")
    assert summary["tot_consumed"] == 9 and summary["tot_failed"] == 1
    assert summary["tot_unknown"] == 2 and summary["tot_jobs"] == 3
    assert sam.calls[-1]["query"]["process_limit"] == ["0"]
    dims = sam.recovery_dimensions("p1", useprocess=True)
    assert dims == "project_name p1 and consumed_status != consumed"
    assert sam.calls[-1]["query"]["useProcess"] == ["1"]


def test_locations_and_metadata(sam):
    assert sam.locate("a.art") == ["enstore:/pnfs/mu2e/tape/a", "dcache:/pnfs/mu2e/persistent/a"]
    sam.add_location("a.art", "dcache:/pnfs/mu2e/scratch/a")
    assert parse_qs(sam.calls[-1]["body"]) == {"add": ["dcache:/pnfs/mu2e/scratch/a"]}
    assert sam.get_metadata("a.art")["runs"] == [[1002, 3, "physics"]]


def test_declare_sends_metadata_and_parents(sam):
    sam.declare_file("c.art", size=10, checksum="adler32:abc", metadata={"data_tier": "reco"},
                     parents=["a.art"])
    body = json.loads(sam.calls[-1]["body"])
    assert body == {"data_tier": "reco", "file_name": "c.art", "file_size": 10,
                    "checksum": ["adler32:abc"], "parents": [{"file_name": "a.art"}]}


def test_errors_name_the_url(sam):
    with pytest.raises(NotFound, match="missing.art"):
        sam.get_metadata("missing.art")
    with pytest.raises(CatalogError) as err:
        sam.project_summary("down")
    assert "/sam/mu2e/api/projects/name/down/summary failed after 3 tries" in str(err.value)
    assert "HTTP 500" in str(err.value)
    assert len([c for c in sam.calls if c["path"].endswith("/down/summary")]) == 3


def test_bearer_token(sam, tmp_path):
    token = tmp_path / "token"
    token.write_text("abc.def.ghi\n")
    sam.token_file = str(token)
    sam.list_files("defname: ds1")
    assert sam.calls[-1]["auth"] == "Bearer abc.def.ghi"


def test_connection_refused_is_a_catalog_error():
    dead = SamwebCatalog("http://127.0.0.1:9", "mu2e", retries=1, backoff=0.01, timeout=2)
    with pytest.raises(CatalogError, match="failed after 2 tries: ConnectionError"):
        dead.count_files("defname: x")


def test_a_recovery_through_sam(sam):
    from app.catalog.recovery import SubmissionFacts, recover

    rec = recover("proj_status", SubmissionFacts(project="p1"), sam)
    assert rec.dims == "project_name p1 and consumed_status != consumed"
    assert rec.names == ["a.art", "b.art"]
    # SAM does not say per file what became of it: the reason is the type's
    assert {f.reason for f in rec.files} == {
        "not consumed by a process of project p1 that completed"}
    listed = sam.calls[-1]
    assert listed["path"].endswith("/files/list") and listed["query"]["dims"] == [rec.dims]
