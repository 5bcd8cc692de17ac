"""The generated logs in process: deterministic from the seed, never materialised (a million-line stream is a
few parts), and metric lines built from the regexes users write."""

from __future__ import annotations

import pytest
from engine_harness import Harness, definition, step
from logs_harness import processing, training, transform

from smtui.emulator import joblogs
from smtui.emulator.joblogs.metrics import example_line, extract
from smtui.emulator.joblogs.timeline import Fixed

LAMBDA = step(
    "Notify",
    "Lambda",
    FunctionArn="arn:aws:lambda:us-east-1:123456789012:function:notify",
    Arguments={"rows": 3},
    OutputParameters=[{"OutputName": "id", "OutputType": "String"}],
)


def _logs(seed: int) -> list[tuple[str, list[tuple[int, str]]]]:
    h = Harness(seed=seed)
    pipeline = h.pipeline(definition(training(count=2), processing(count=2), transform(), LAMBDA))
    assert h.run(h.start(pipeline)) == "Succeeded"
    result = []
    for job in sorted(h.store.jobs(), key=lambda j: (j.kind, j.step_name)):
        for stream in joblogs.job_streams(job):
            timeline = stream.timeline
            result.append(
                (
                    f"{stream.group} {stream.name}",
                    [(e.timestamp, e.message) for e in timeline.events(0, len(timeline))],
                )
            )
    return result


def test_the_same_seed_writes_the_same_logs() -> None:
    first, again, other = _logs(1), _logs(1), _logs(2)
    assert first == again
    assert [name for name, _ in first] != [name for name, _ in other]  # ids and job names differ
    assert [lines for _, lines in first] != [lines for _, lines in other]
    groups = {name.split(" ")[0] for name, _ in first}
    assert groups == {
        "/aws/lambda/notify",
        "/aws/sagemaker/ProcessingJobs",
        "/aws/sagemaker/TrainingJobs",
        "/aws/sagemaker/TransformJobs",
    }


def test_a_million_line_stream_is_generated_on_demand() -> None:
    h = Harness("[pipelines.p.steps.Train]\nduration = 20000\nlog_rate = 3200\n")
    execution = h.start(h.pipeline(definition(training())))
    h.advance(100)
    (job,) = h.store.jobs("TrainingJob")
    (stream,) = joblogs.job_streams(job)
    timeline = stream.timeline
    assert len(timeline) > 1_000_000
    fixed = sum(part.count for part in timeline.parts if isinstance(part, Fixed))
    assert fixed < 200  # the rest is a series computed line by line when read
    middle = len(timeline) // 2
    assert timeline.time(middle - 1) <= timeline.time(middle) <= timeline.time(middle + 1)
    assert timeline.first_at(timeline.time(middle)) <= middle
    assert "samples/sec" in timeline.message(middle)
    assert h.run(execution) == "Succeeded"


@pytest.mark.parametrize(
    "regex",
    [
        r"validation-auc:([0-9\.]+)",
        r".*\[[0-9]+\].*#011validation-rmse:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*",
        r"Train_loss=(.*?);",
        r"'eval_loss': ([0-9\.]+)",
        r"#quality_metric: host=\S+, epoch=\S+, train mse <loss>=(\S+)",
        r"^Epoch \d+ .* Loss: ([0-9.]+)$",
        r"(?:loss|err)=(\d+\.\d+)",
        r"\bacc\b[:=]\s*([0-9.]+)",
        r"(?P<value>\d+\.\d+) mAP",
    ],
)
def test_metric_lines_are_built_from_the_regex_that_reads_them(regex: str) -> None:
    line = example_line(regex, 0.4123, counter=7)
    assert line is not None and extract(regex, line) == 0.4123
