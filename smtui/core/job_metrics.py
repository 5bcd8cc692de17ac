"""A training job's metric history, read from its log the way SageMaker extracts metrics: every line of the
job's streams that an `AlgorithmSpecification.MetricDefinitions` regex matches gives one value (the regex's
first group). No SageMaker call: the lines come through the Logs client and its budget.

Cost: FilterLogEvents over the job's streams (`/aws/sagemaker/TrainingJobs`, prefix `<job>/`), one call per
10,000 lines. A finished job is read once, whole, and then kept (`Requests`); a running one is read again at
most every `METRICS_REFRESH` seconds, each read starting where the last one ended (`FilterReader`'s cursor,
minus its 5-s overlap whose lines it recognises by event id), so a refresh costs one call.
"""

from __future__ import annotations

import re
import warnings

from smtui.core.jobs import JobInfo, MetricDefinition, MetricHistory, MetricSeries
from smtui.core.log_readers import FilterReader
from smtui.core.logs import LogSource
from smtui.core.logs_client import LogsClient

METRICS_REFRESH = 30.0  # seconds between two reads of a running job's metric lines
MAX_POINTS = 2_000  # values kept per metric: a sparkline shows a few dozen, the last ones matter


def has_metric_history(job: JobInfo) -> bool:
    """Whether the job declares metrics to read from its log (training jobs with MetricDefinitions)."""
    return job.kind == "Training" and bool(job.metric_definitions)


class MetricReader:
    """Reads one job's metric lines, each read adding what the log gained since the last one."""

    def __init__(self, logs: LogsClient, job: JobInfo) -> None:
        source = LogSource(
            group=f"/aws/sagemaker/{job.kind}Jobs",
            stream_prefix=f"{job.name}/",
            job_name=job.name,
            resolved_from=job.arn,
            instances=job.instance_count or 1,
        )
        self.job_arn = job.arn
        self._reader = FilterReader(logs, source, None)
        self._patterns = [(d.name, _compile(d)) for d in job.metric_definitions]
        self._values: dict[str, list[float]] = {d.name: [] for d in job.metric_definitions}

    async def read(self, *, final: bool) -> MetricHistory:
        async for batch in self._reader.pages(final=final):
            for line in batch:
                for name, pattern in self._patterns:
                    value = extract(pattern, line.message)
                    if value is not None:
                        self._values[name].append(value)
        for values in self._values.values():
            del values[:-MAX_POINTS]
        series = tuple(MetricSeries(name, tuple(values)) for name, values in self._values.items())
        return MetricHistory(self.job_arn, series, final)


async def metric_history(logs: LogsClient, job: JobInfo) -> MetricHistory:
    """The whole metric history of a job, in one read (final if the job has ended)."""
    return await MetricReader(logs, job).read(final=job.is_done)


def extract(pattern: re.Pattern[str] | None, message: str) -> float | None:
    """The value a definition reads from one line: its regex's first group (SageMaker's rule), or None."""
    match = pattern.search(message) if pattern is not None else None
    if match is None or not match.groups() or match.group(1) is None:
        return None
    try:
        return float(match.group(1))
    except ValueError:
        return None


def _compile(definition: MetricDefinition) -> re.Pattern[str] | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a user's regex may trip FutureWarnings ("nested set")
        try:
            return re.compile(definition.regex)
        except re.error:
            return None  # SageMaker would have refused it at CreateTrainingJob; nothing to read
