"""A `--state` file written by an older emulator still loads, and its executions carry on where they were.

`state-before-dataclasses.json` holds the rows of a state file written while the engine kept its entries as
plain dicts: one finished run, one failed run to retry, and one running run caught with a step waiting for
its callback, a step waiting to retry, a ForEach part way through and a step that hit the cache.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from engine_harness import Harness

from smtui.emulator import joblogs
from smtui.emulator.store.store import Store

SAVED = json.loads((Path(__file__).parent / "state-before-dataclasses.json").read_text())
# The scenario the file was written with: outcomes are drawn as steps start, so it must be the same.
SCENARIO = """
[pipelines.legacy.steps.Train]
duration = 1000
fail_attempts = 1
failures = [{ reason = "CapacityError: no capacity", exception = "SageMaker.CAPACITY_ERROR" }]
[pipelines.legacy.steps.Score]
duration = 500
[pipelines.broken.steps.B]
fail_attempts = 1
failures = [{ reason = "ClientError: bad input", exception = "" }]
"""


def _load(tmp_path: Path) -> Harness:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE records (kind TEXT, key TEXT, body TEXT, seq INTEGER, PRIMARY KEY (kind, key))"
        )
        db.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", SAVED["rows"])
    db.close()
    store = Store(path)
    return Harness(SCENARIO, store=store, start=float(store.meta["clock"]))


def test_a_running_execution_from_an_older_state_file_carries_on(tmp_path: Path) -> None:
    h = _load(tmp_path)
    running = h.store.get_execution(SAVED["running"])
    assert running is not None and running.status == "Executing"
    steps = h.steps(running)
    assert steps["Prep"].cache_source_arn == SAVED["finished"]
    assert (steps["Train"].status, steps["Train"].attempt) == ("Executing", 1)  # waiting to retry
    assert steps["Score-0"].status == "Executing" and "Score-1" not in steps  # MaxConcurrency 1
    token = steps["Approve"].metadata["Callback"]["CallbackToken"]
    h.engine.send_step_success(token, [{"Name": "rows", "Value": "12"}])
    assert h.run(running) == "Succeeded"
    steps = h.steps(running)
    assert steps["Train"].attempt == 2
    assert [steps[f"Score-{i}"].status for i in range(3)] == ["Succeeded"] * 3
    assert steps["Fan"].metadata["ForEach"]["SucceededStepCount"] == 3
    load = h.store.get_job("ProcessingJob", steps["Load"].metadata["ProcessingJob"]["Arn"].rsplit("/", 1)[1])
    assert load is not None and load.arguments["Environment"] == {"ROWS": 12}


def test_a_failed_execution_from_an_older_state_file_retries_and_its_finished_run_feeds_the_cache(
    tmp_path: Path,
) -> None:
    h = _load(tmp_path)
    failed = h.store.get_execution(SAVED["failed"])
    assert failed is not None and failed.status == "Failed"
    h.engine.retry_execution(failed, None)
    assert h.run(failed) == "Succeeded"
    assert h.steps(failed)["B"].attempt == 2 and h.steps(failed)["C"].status == "Succeeded"
    legacy = h.store.get_pipeline("legacy")
    assert legacy is not None
    again = h.start(legacy)
    assert h.steps(again)["Prep"].cache_source_arn == SAVED["finished"]


def test_jobs_from_an_older_state_file_log_within_their_run_and_keep_their_metrics(tmp_path: Path) -> None:
    """Such a file stored each job's log lines; now the log is written from the job, so the lines differ, but
    they fall within the job's run and its metric lines still give the final metrics it recorded."""
    h = _load(tmp_path)
    job = h.store.get_job("TrainingJob", "pipelines-y8vlmjsh9i1y-Train-rd53S5G28L")
    assert job is not None and job.start is not None and job.end is not None
    assert job.metrics == {"train:loss": 0.3242, "validation:accuracy": 0.8809}
    assert {name: value for name, (value, _) in joblogs.final_metrics(job).items()} == job.metrics
    (stream,) = joblogs.job_streams(job)
    timeline = stream.timeline
    assert job.start * 1000 <= timeline.time(0) and timeline.time(len(timeline) - 1) <= job.end * 1000
