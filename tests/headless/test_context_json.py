"""`--json` with `--context`/`--all-contexts`: every record of an execution says where it is, with the same
fields as `ls` (`context`, `account`, `region`); without those flags the records are as they always were.
Two emulators on two ports stand for two accounts in one region (`test_contexts`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emulator_proc import EmulatorProcess
from test_contexts import BETA, config, contexts, smtui, started, two
from test_step_actions import callback_pipeline, steps_of

__all__ = ["config", "contexts", "two"]  # the fixtures these tests use, from test_contexts

IN_BETA = {"context": "beta", "account": BETA, "region": "us-east-1"}


def in_beta(record: dict[str, Any]) -> bool:
    return {key: record.get(key) for key in IN_BETA} == IN_BETA


def output(*args: str) -> Any:
    result = smtui(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_each_command_names_the_context_of_its_records(
    contexts: None, two: tuple[EmulatorProcess, EmulatorProcess], tmp_path: Path
) -> None:
    _, beta = two
    pipeline, arn = started(beta, "json")
    other = beta.start_execution(pipeline)
    beta.run_until_done(arn)
    beta.run_until_done(other)

    assert in_beta(output("show", arn, "--all-contexts")["execution"])
    waited = [json.loads(line) for line in smtui("wait", arn, "--all-contexts", "--json").output.splitlines()]
    assert waited[-1]["event"] == "done" and in_beta(waited[-1]["executions"][0])
    assert all(in_beta(line) for line in waited if line["event"] == "progress")
    assert all(in_beta(e) for e in output("diff", arn, other, "--all-contexts")["executions"])

    new = output("start", pipeline, "--context", "beta")
    assert in_beta(new) and new["arn"].split(":")[4] == BETA
    (stopped,) = output("stop", new["arn"], "--all-contexts", "--yes")
    assert in_beta(stopped) and stopped["result"] == "stopping"

    runs = tmp_path / "runs.csv"
    runs.write_text("_display_name\none\n")
    (row,) = output("launch", str(runs), "--pipeline", pipeline, "--context", "beta")["rows"]
    assert row["result"] == "started" and in_beta(row)

    # Without --context/--all-contexts: the records as they always were.
    plain = output("show", arn, "--endpoint-url", beta.url, "--region", "us-east-1")["execution"]
    assert plain["arn"] == arn and not {"context", "account", "region"} & plain.keys()


def test_a_step_command_names_the_context_too(
    contexts: None, two: tuple[EmulatorProcess, EmulatorProcess]
) -> None:
    _, beta = two
    arn = beta.start_execution(callback_pipeline(beta))
    for _ in range(20):
        if steps_of(beta, arn).get("Review", {}).get("StepStatus") == "Executing":
            break
        beta.advance(60)
    answered = output("callback", arn, "Review", "--failure", "no", "--all-contexts", "--yes")
    assert answered["result"] == "failure" and in_beta(answered)
