"""/api/v1 failure signatures: the starting set, add, change, delete, who may."""
from __future__ import annotations

from tests.api.support import API, as_user

URL = f"{API}/experiments/mu2e/signatures"


def test_list_installs_the_starting_set(client, people):
    body = client.get(URL + "?per_page=200", headers=as_user("alice")).get_json()
    assert body["total"] > 3 and all(s["starting"] for s in body["items"])
    assert {"memory", "stage-in"} <= {s["category"] for s in body["items"]}


def test_add_change_delete_and_refusals(client, people):
    new = {"name": "cvmfs gone", "pattern": r"cvmfs: .* not mounted", "category": "site",
           "action": "retry elsewhere", "exit_codes": "65"}
    assert client.post(URL, json=new, headers=as_user("alice")).status_code == 403
    made = client.post(URL, json=new, headers=as_user("pat"))
    body = made.get_json()
    assert made.status_code == 201 and body["name"] == "cvmfs gone"
    assert body["exit_codes"] == "65" and body["hits"] == 0
    again = client.post(URL, json=new, headers=as_user("pat"))
    assert again.status_code == 422 and "already has a signature" in again.get_json()["error"]

    url = f"{URL}/{body['id']}"
    changed = client.patch(url, json={"exit_codes": "65, 66"}, headers=as_user("sue"))
    assert changed.status_code == 200 and changed.get_json()["exit_codes"] == "65, 66"
    bad = client.patch(url, json={"category": "weather"}, headers=as_user("sue"))
    assert bad.status_code == 422
    assert client.patch(url, json={"pattern": 5}, headers=as_user("sue")).get_json()[
        "field"] == "pattern"
    assert client.patch(url, json={"pattern": "(unclosed"}, headers=as_user("sue")
                        ).status_code == 422
    assert client.delete(url, headers=as_user("sam")).status_code == 403
    assert client.delete(url, headers=as_user("pat")).get_json() == {"deleted": "cvmfs gone"}
    assert client.delete(url, headers=as_user("pat")).status_code == 404
