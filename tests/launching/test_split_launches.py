"""A stage's split type decides each launch's input: the next slice, then nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.launching import schedule, service
from app.launching.inputs import SplitsExhausted, choose_input
from app.models.base import utcnow
from tests.launching.conftest import SPLIT_FILES as FILES
from workers.main import tick
from workers.queues import connection


def files_of(chosen) -> list[str]:
    return sorted(chosen.files or [])


def test_each_launch_takes_the_next_slice_and_a_dry_run_takes_none(launch_app, split_stage):
    config = launch_app.config
    peek = choose_input(split_stage, preview=True, config=config)
    assert files_of(peek) == FILES[:2]
    assert files_of(choose_input(split_stage, preview=True, config=config)) == FILES[:2]

    taken = []
    for _ in range(3):
        taken.append(files_of(choose_input(split_stage, config=config)))
        db.session.commit()
    assert taken == [FILES[:2], FILES[2:4], FILES[4:]]
    with pytest.raises(SplitsExhausted, match="nfiles"):
        choose_input(split_stage, preview=True, config=config)


def exhaust(stage, config) -> None:
    for _ in range(3):
        choose_input(stage, config=config)
    db.session.commit()


@pytest.mark.parametrize("clear", [True, False])
def test_a_schedule_whose_splits_ran_out_is_cleared_unless_the_stage_keeps_it(
        launch_app, split_stage, clear):
    config = launch_app.config
    split_stage.default_clear_cronjob = clear
    schedule.set_schedule(split_stage, "*/5 * * * *", split_stage.campaign.owner)
    db.session.commit()
    exhaust(split_stage, config)
    service.stage_settings(split_stage).schedule_next_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    tick(launch_app, connection(config["POMS_REDIS_URL"]), force=True)
    db.session.expire_all()
    settings = service.stage_settings(split_stage)
    assert (settings.schedule == "") is clear
    if not clear:
        assert settings.schedule == "*/5 * * * *"


def test_the_stage_page_previews_the_next_slices_and_resets_the_splitter(
        launch_app, split_stage, member):
    from tests.fixtures.app import csrf_token, signed_in

    client = signed_in(launch_app.test_client(), "alice")
    url = f"/e/mu2e/stage/{split_stage.id}/splits"
    page = client.get(url).get_data(as_text=True)
    assert "nfiles(2)" in page and page.count("<li>") == 3  # 2 + 2 + 1 files
    assert "Then no more" in page

    for _ in range(2):
        choose_input(split_stage, config=launch_app.config)
    db.session.commit()
    assert client.get(url).get_data(as_text=True).count("<li>") == 1

    member("mu2e", "bob", "analysis")  # not the campaign's owner
    other = signed_in(launch_app.test_client(), "bob")
    token = csrf_token(other, f"/e/mu2e/stage/{split_stage.id}")
    assert "Reset the splitter" not in other.get(url).get_data(as_text=True)
    refused = other.post(f"{url}/reset", data={"csrf_token": token})
    assert refused.status_code == 403
    reset = client.post(f"{url}/reset", data={"csrf_token": csrf_token(client, url)})
    assert "start again" in reset.get_data(as_text=True)
    assert reset.get_data(as_text=True).count("<li>") == 3
    assert files_of(choose_input(split_stage, preview=True, config=launch_app.config)) == FILES[:2]
