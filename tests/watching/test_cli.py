"""`poms watch`, `poms watches`, `poms deliveries` and `poms unwatch` against a live server:
a webhook watch of a stage is told of a failure; the messages are listed with their state."""
from __future__ import annotations

from tests.watching.support import launch_failed, watch_pass


def test_watch_from_the_command_line_is_told_and_unwatched(launch_app, tutorial, dev_server,
                                                           poms, webhook):
    done = poms("watch", tutorial.name, "reco_fcl", "--event", "submission_failed",
                "--webhook", webhook.url)
    assert done.code == 0, done.err
    assert done.out.startswith(f"watching stage reco_fcl of campaign {tutorial.name}: "
                               f"webhook to {webhook.url}, immediate")
    listed = poms("--json", "watches")
    assert [(w["stage"], w["events"]) for w in listed.json["watches"]] == [
        ("reco_fcl", ["submission_failed"])]

    failed = launch_failed(tutorial, "reco_fcl", launch_app)
    watch_pass(launch_app)
    assert len(webhook.bodies) == 1
    assert f"submission {failed.id} of reco_fcl LaunchFailed" in webhook.bodies[0]["text"]
    sent = poms("--json", "deliveries", "--state", "sent")
    assert [d["target"] for d in sent.json["deliveries"]] == [webhook.url]

    bad = poms("watch", tutorial.name, "--email", "two@a.org,three@b.org")
    assert bad.code == 1 and "is not one email address" in bad.err and "[target]" in bad.err
    nothing = poms("watch", tutorial.name, "no_such_stage")
    assert nothing.code == 1 and "has no stage 'no_such_stage'" in nothing.err

    gone = poms("unwatch", tutorial.name, "reco_fcl")
    assert (gone.code, gone.out.strip()) == (0, "1 watch removed")
    assert poms("--json", "watches").json["watches"] == []
    again = poms("unwatch", tutorial.name, "reco_fcl")
    assert again.code == 1 and "0 watches removed" in again.out
