"""Contexts (`[contexts.NAME]`, `--context`, `--all-contexts`) on the headless commands, against two
emulators on two ports standing for two accounts in one region."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from emulator_proc import EmulatorProcess
from wire_harness import simple_definition

from smtui.config import load_settings

ALPHA, BETA = "111111111111", "222222222222"


@pytest.fixture(scope="module")
def two() -> Iterator[tuple[EmulatorProcess, EmulatorProcess]]:
    alpha = EmulatorProcess("--account", ALPHA, scenario=False).start()
    beta = EmulatorProcess("--account", BETA, scenario=False).start()
    yield alpha, beta
    alpha.stop()
    beta.stop()


@pytest.fixture
def config(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "config" / "smtui" / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return write


@pytest.fixture
def contexts(two: tuple[EmulatorProcess, EmulatorProcess], config: Callable[[str], Path]) -> None:
    alpha, beta = two
    config(
        f'[contexts.alpha]\nregion = "us-east-1"\nendpoint_url = "{alpha.url}"\n'
        f'[contexts.beta]\nregion = "us-east-1"\nendpoint_url = "{beta.url}"\n'
    )


def smtui(*args: str) -> Result:
    from smtui.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def started(emu: EmulatorProcess, prefix: str) -> tuple[str, str]:
    pipeline = f"{prefix}-{uuid.uuid4().hex[:6]}"
    emu.create_pipeline(pipeline, simple_definition())
    arn = emu.start_execution(pipeline)
    emu.advance(1)
    return pipeline, arn


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[contexts.a]\nregion = "us-east-1"\nprofil = "x"\n', "setting 'contexts.a.profil': unknown"),
        ('[contexts.a]\nprofile = "x"\n', "setting 'contexts.a.region' is missing"),
        (
            '[contexts.a]\nregion = "us-east-1"\nendpoint_url = "ftp://x"\n',
            "setting 'contexts.a.endpoint_url': 'ftp://x' is not an http(s) URL",
        ),
        ("[contexts.a]\nregion = 3\n", "setting 'contexts.a.region' expects text, got 3"),
    ],
)
def test_a_bad_context_is_one_line_naming_it(config: Callable[[str], Path], table: str, message: str) -> None:
    path = config(table)
    with pytest.raises(ValueError) as raised:
        load_settings(path, env={})
    assert str(raised.value).startswith(f"{path}: {message}")
    result = smtui("ls", "--context", "a")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and message in result.output
    assert "Traceback" not in result.output


def test_an_unknown_context_is_a_usage_error(contexts: None) -> None:
    result = smtui("ls", "--context", "gamma")
    assert result.exit_code == 2
    assert result.output == "smtui: --context: unknown context 'gamma' (known: alpha, beta)\n"


def test_all_contexts_without_any_is_a_usage_error(config: Callable[[str], Path]) -> None:
    config("rate = 5\n")
    result = smtui("ls", "--all-contexts")
    assert result.exit_code == 2
    assert result.output == "smtui: --all-contexts: no [contexts.NAME] in the config file\n"


def test_ls_merges_the_contexts_with_their_fields(
    contexts: None, two: tuple[EmulatorProcess, EmulatorProcess]
) -> None:
    alpha, beta = two
    a_pipeline, a_arn = started(alpha, "alpha")
    b_pipeline, b_arn = started(beta, "beta")
    result = smtui("ls", "--all-contexts", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["arn"]: row for row in json.loads(result.output)}
    assert rows[a_arn]["context"] == "alpha" and rows[a_arn]["account"] == ALPHA
    assert rows[b_arn]["context"] == "beta" and rows[b_arn]["account"] == BETA
    assert rows[b_arn]["region"] == "us-east-1" and rows[b_arn]["pipeline"] == b_pipeline

    text = smtui("--context", "alpha", "ls", "--context", "beta").output.splitlines()
    assert text[0].split()[:2] == ["CONTEXT", "PIPELINE"]
    assert any(line.split()[1:3] == ["alpha", a_pipeline] for line in text[1:])
    assert any(line.split()[1:3] == ["beta", b_pipeline] for line in text[1:])

    only = json.loads(smtui("ls", "--context", "beta", "--json").output)
    assert {row["context"] for row in only} == {"beta"}


def test_a_command_on_an_arn_acts_in_the_context_that_holds_it(
    contexts: None, two: tuple[EmulatorProcess, EmulatorProcess]
) -> None:
    alpha, beta = two
    _, arn = started(beta, "picked")
    before_a, before_b = (e.stats().get("StopPipelineExecution", 0) for e in two)
    shown = smtui("show", arn, "--all-contexts", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["execution"]["arn"] == arn
    stopped = smtui("stop", arn, "--all-contexts", "--yes")
    assert stopped.exit_code == 0, stopped.output
    assert alpha.stats().get("StopPipelineExecution", 0) == before_a
    assert beta.stats().get("StopPipelineExecution", 0) == before_b + 1


def test_a_command_with_no_arn_needs_one_context(contexts: None) -> None:
    result = smtui("start", "some-pipeline", "--all-contexts", "--yes")
    assert result.exit_code == 2
    assert result.output.startswith("smtui: several contexts (alpha, beta)")
    assert result.output.count("\n") == 1


def test_expired_credentials_in_one_context_cost_only_its_rows(
    contexts: None, two: tuple[EmulatorProcess, EmulatorProcess]
) -> None:
    alpha, beta = two
    _, a_arn = started(alpha, "fine")
    _, b_arn = started(beta, "expiring")
    beta.faults(expired_token=True)
    try:
        result = smtui("ls", "--all-contexts", "--json")
    finally:
        beta.faults()
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert a_arn in {row["arn"] for row in rows}
    assert {row["context"] for row in rows} == {"alpha"}
    assert result.stderr.startswith("smtui: context beta: ") and result.stderr.count("\n") == 1
    # Lifted, the context answers again: nothing was cached.
    assert b_arn in {row["arn"] for row in json.loads(smtui("ls", "--all-contexts", "--json").output)}


def test_the_tui_refuses_an_unknown_context_before_opening(contexts: None) -> None:
    result = smtui("--context", "gamma")
    assert result.exit_code == 2
    assert result.output == "smtui: --context: unknown context 'gamma' (known: alpha, beta)\n"


def test_events_setup_and_teardown_run_in_every_context(
    contexts: None, two: tuple[EmulatorProcess, EmulatorProcess]
) -> None:
    setup = smtui("events", "setup", "--all-contexts", "--json")
    assert setup.exit_code == 0, setup.output
    plans = json.loads(setup.output)
    assert [plan["context"] for plan in plans] == ["alpha", "beta"]
    assert f":{ALPHA}:" in plans[0]["queue_arn"] and f":{BETA}:" in plans[1]["queue_arn"]
    for emu in two:
        assert emu.stats().get("CreateQueue", 0) == 1
    text = smtui("events", "teardown", "--all-contexts").output
    assert text.splitlines()[0] == "context alpha:" and "context beta:" in text
    for emu in two:
        assert emu.stats().get("DeleteQueue", 0) == 1
