"""Job records: validated, persisted, re-queued after a restart, expired after their time."""

from __future__ import annotations

import pytest

from emotion.errors import SettingsError
from emotion.service.config import ServiceConfig, client_settings
from emotion.service.jobs import Job, JobStore
from emotion.settings import Settings


def test_unfinished_jobs_are_queued_again_and_finished_ones_kept(tmp_path):
    store = JobStore(tmp_path, ttl_s=3600)
    running = store.add(Job.new("a.mp4", "/m/a.mp4")).id
    store.update(running, state="running", progress=0.4)
    done = store.add(Job.new("b.mp4", "/m/b.mp4")).id
    store.update(done, state="done", progress=1.0, finished=1.0)
    again = JobStore(tmp_path, ttl_s=3600)
    assert [j.id for j in again.load()] == [running]
    assert again.get(running).state == "queued" and again.get(running).progress == 0.4
    assert again.get(done).state == "done"


def test_finished_jobs_expire_with_their_files(tmp_path):
    store = JobStore(tmp_path, ttl_s=10)
    old = store.add(Job.new("a.mp4", "/m/a.mp4", uploaded=True)).id
    store.upload_dir(old).mkdir()
    store.results_dir(old).mkdir()
    store.update(old, state="done", finished=100.0)
    fresh = store.add(Job.new("b.mp4", "/m/b.mp4")).id
    store.update(fresh, state="cancelled", finished=105.0)
    queued = store.add(Job.new("c.mp4", "/m/c.mp4")).id
    assert store.expire(now=112.0) == [old]
    assert store.get(old) is None and not store.upload_dir(old).exists() and not store.results_dir(old).exists()
    assert not (tmp_path / "jobs" / f"{old}.json").exists()
    assert store.get(fresh) and store.get(queued)


@pytest.mark.parametrize("bad", [{"state": "paused"}, {"progress": 1.5}])
def test_job_values_are_checked(bad):
    with pytest.raises(ValueError):
        Job.new("a", "/a").replace(**bad)


@pytest.mark.parametrize("options,message", [
    ({"fps": 0}, "fps must be a number"), ({"model": "/etc"}, "unknown setting(s) model"),
    ({"segments": "acts"}, "segments must be"), ([1], "must be a JSON object")])
def test_client_settings_are_validated(options, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        client_settings(Settings(), options)


@pytest.mark.parametrize("kw,message", [({"port": 0}, "port must be"), ({"max_upload_mb": 0}, "max_upload_mb"),
                                        ({"result_ttl_h": -1}, "result_ttl_h")])
def test_service_config_limits(kw, message):
    with pytest.raises(SettingsError, match=message):
        ServiceConfig(**kw)
