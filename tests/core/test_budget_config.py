"""The call budget (token bucket, in-flight cap, AIMD), parameter checking and settings precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtui.config import load_settings
from smtui.core.actions import validate_parameters
from smtui.core.budget import CallBudget
from smtui.core.clock import ManualClock
from smtui.core.model import Parameter


async def test_bucket_grants_the_rate_and_caps_calls_in_flight() -> None:
    clock = ManualClock()
    budget = CallBudget(4.0, max_in_flight=2, clock=clock)
    granted = 0
    for _ in range(100):  # 10 simulated seconds, releasing at once
        await clock.advance(0.1)
        while budget.try_acquire():
            granted += 1
            budget.release()
    assert 38 <= granted <= 42  # 4 calls/s, never more than one second of burst
    assert not budget.try_acquire()  # what accrued each tenth of a second was spent: no burst left
    await clock.advance(5)
    assert budget.try_acquire() and budget.try_acquire()
    assert not budget.try_acquire()  # two in flight: the cap


async def test_throttling_halves_the_rate_then_it_climbs_back() -> None:
    clock = ManualClock()
    budget = CallBudget(10.0, clock=clock)
    budget.on_throttle()
    assert budget.rate == 5.0 and budget.throttled
    budget.on_throttle()  # the same congestion episode (within a second): no second halving
    assert budget.rate == 5.0
    await clock.advance(1.5)
    budget.on_throttle()
    assert budget.rate == pytest.approx((5.0 + 1.5) / 2)  # climbed 1.5 s at +1/s, then halved
    for _ in range(150):  # 15 s without throttling: back to the configured rate
        await clock.advance(0.1)
        budget.wait_time()
    assert budget.rate == 10.0 and not budget.throttled


async def test_retries_botocore_made_are_charged() -> None:
    clock = ManualClock()
    budget = CallBudget(1.0, clock=clock)
    assert budget.try_acquire()
    budget.release()
    budget.charge(2)
    await clock.advance(2.0)
    assert not budget.try_acquire()  # two seconds repaid the two extra attempts only
    await clock.advance(1.0)
    assert budget.try_acquire()


async def test_a_users_call_goes_ahead_of_the_polls() -> None:
    clock = ManualClock()
    budget = CallBudget(2.0, max_in_flight=1, clock=clock)
    assert budget.try_acquire()  # a poll takes the only token and the only slot
    assert not budget.try_acquire(urgent=True)  # a key press: no token yet, so it waits...
    budget.waiting += 1
    await clock.advance(0.5)  # ...until the next one, which the polls leave to it
    assert budget.room() == 0 and budget.wait_time() > 0 and not budget.try_acquire()
    assert budget.wait_time(urgent=True) == 0
    assert budget.try_acquire(urgent=True)  # the in-flight cap does not hold back one call per key press
    budget.waiting -= 1
    assert budget.in_flight == 2  # but it is counted: a slot and a token
    budget.release()
    await clock.advance(0.5)
    assert not budget.try_acquire()  # the poll still holds the only slot
    budget.release()
    assert budget.try_acquire()


PARAMS = [
    Parameter("Epochs", "Integer", 3),
    Parameter("Rate", "Float", 0.1),
    Parameter("Deploy", "Boolean", False),
    Parameter("Mode", "String", "fast", enum_values=("fast", "slow")),
]


def test_validate_parameters_names_the_field() -> None:
    assert validate_parameters(PARAMS, {"Epochs": "5", "Rate": "1e-3", "Deploy": "True", "Mode": "slow"}) == {
        "Epochs": "5",
        "Rate": "1e-3",
        "Deploy": "true",
        "Mode": "slow",
    }
    for values, message in [
        ({"Epoch": "5"}, "unknown parameter 'Epoch' (this pipeline declares: Deploy, Epochs, Mode, Rate)"),
        ({"Epochs": "5.5"}, "parameter 'Epochs' is an Integer; got '5.5'"),
        ({"Rate": "fast"}, "parameter 'Rate' is a Float; got 'fast'"),
        ({"Deploy": "yes"}, "parameter 'Deploy' is a Boolean (true/false); got 'yes'"),
        ({"Mode": "medium"}, "parameter 'Mode' must be one of fast, slow; got 'medium'"),
    ]:
        with pytest.raises(ValueError) as info:
            validate_parameters(PARAMS, values)
        assert str(info.value) == message


def test_settings_file_then_environment_then_flags(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('region = "eu-west-1"\nprofile = "ml"\nrate = 4\nread_only = true\n')
    settings = load_settings(path, env={"SMTUI_REGION": "us-west-2"}, profile="cli")
    assert (settings.region, settings.profile, settings.rate, settings.read_only) == (
        "us-west-2",
        "cli",
        4.0,
        True,
    )
    assert load_settings(tmp_path / "missing.toml", env={}).rate == 10.0
    path.write_text("colour = 'red'\n")
    with pytest.raises(ValueError, match="unknown setting 'colour'"):
        load_settings(path, env={})


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("", {"SMTUI_RATE": "abc"}, "SMTUI_RATE: setting 'rate' expects a number, got 'abc'"),
        (
            "",
            {"SMTUI_WATCHED_INTERVAL": "0"},
            "SMTUI_WATCHED_INTERVAL: setting 'watched_interval' expects a number > 0",
        ),
        ('bell = "nope"\n', {}, "config.toml: setting 'bell' expects true or false, got 'nope'"),
        ("read_only = 1\n", {}, "config.toml: setting 'read_only' expects true or false, got 1"),
        ("[keys]\n'app.quit' = 3\n", {}, "config.toml: setting 'keys' expects text"),
    ],
)
def test_a_bad_setting_is_named_with_its_source(
    tmp_path: Path, text: str, env: dict[str, str], message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        load_settings(path, env=env)
    assert message in str(info.value)


def test_environment_words_for_booleans_and_the_keymap(tmp_path: Path) -> None:
    env = {
        "SMTUI_BELL": "yes",
        "SMTUI_READ_ONLY": "0",
        "SMTUI_KEYS": "execution.stop=ctrl+k, app.quit=ctrl+q",
    }
    settings = load_settings(tmp_path / "missing.toml", env=env)
    assert settings.bell is True and settings.read_only is False
    assert dict(settings.keys) == {"execution.stop": "ctrl+k", "app.quit": "ctrl+q"}
