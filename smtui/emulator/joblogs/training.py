"""A training job's log, one stream per instance (`algo-1` … `algo-n`), as the SageMaker training toolkit
writes it: the toolkit's start-up (the training environment, the command it runs), the script's epochs with
the metric lines its `MetricDefinitions` match (on the lead host, `algo-1`), and the toolkit's report of
success — or, for a failing job, the script's traceback and the toolkit's, ending with the FailureReason.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

from smtui.emulator.joblogs import metrics
from smtui.emulator.joblogs.phases import Life
from smtui.emulator.joblogs.timeline import Series, Timeline, unit
from smtui.emulator.joblogs.write import (
    Writer,
    dict_of,
    list_of,
    toolkit_time,
    traceback,
    user_code_failed,
    user_error,
)
from smtui.emulator.store.records import JobRecord

DEFAULT_RATE = 2.0  # progress lines per minute of training, per host, besides the metric lines
_EPOCH_KEYS = ("epochs", "num_epochs", "n_epochs", "max_epochs", "num_round", "num_train_epochs")
_FRAMEWORKS = ("xgboost", "pytorch", "tensorflow", "huggingface", "sklearn", "mxnet")


def _toolkit(ms: int, text: str, level: str = "INFO") -> str:
    return f"{toolkit_time(ms)} sagemaker-training-toolkit {level:<8} {text}"


def _epochs(hyper: dict[str, Any], seconds: float) -> int:
    for key in _EPOCH_KEYS:
        try:
            value = int(float(str(hyper[key])))
        except (KeyError, ValueError):
            continue
        if 1 <= value <= 1000:
            return value
    return max(3, min(50, int(seconds // 120)))


def targets(job: JobRecord) -> dict[str, float]:
    """The final values the job's metrics converge to (a job from an older state file kept only its
    final metrics)."""
    return job.target_metrics or job.metrics


def effective_definitions(job: JobRecord) -> list[metrics.MetricDefinition]:
    """The job's MetricDefinitions, or implicit ones for the scenario's metrics when it declares none."""
    return metrics.definitions(job.arguments) or metrics.implicit(sorted(targets(job)))


def training_streams(job: JobRecord, life: Life, rng: random.Random) -> list[tuple[str, Timeline]]:
    """(host, timeline) per instance; empty when no container ever ran."""
    if life.container_start is None:
        return []
    args = job.arguments
    spec = dict_of(args.get("AlgorithmSpecification"))
    image = str(spec.get("TrainingImage") or spec.get("AlgorithmName") or "training-image")
    framework = next((f for f in _FRAMEWORKS if f in image.lower()), "training")
    hyper = {str(k): str(v) for k, v in dict_of(args.get("HyperParameters")).items()}
    script = hyper.get("sagemaker_program", "train.py").strip('"')
    channels = {
        str(c.get("ChannelName")): str(
            dict_of(dict_of(c.get("DataSource")).get("S3DataSource")).get("S3Uri", "")
        )
        for c in list_of(args.get("InputDataConfig"))
        if isinstance(c, dict)
    }
    hosts = [f"algo-{k}" for k in range(1, max(job.instance_count, 1) + 1)]
    gpu = (job.instance_type or "").startswith(("ml.g", "ml.p"))
    start, finish = int(life.container_start * 1000), int(life.container_end * 1000)
    seconds = max(life.container_end - life.container_start, 1.0)
    epochs = _epochs(hyper, seconds)
    definitions = effective_definitions(job)
    failed = life.failure is not None
    reach = rng.uniform(0.35, 0.9) if failed else 1.0  # a failing job dies part way through its epochs
    shown = max(1, math.ceil(epochs * reach)) if failed else epochs
    rate = DEFAULT_RATE if job.log_rate is None else job.log_rate
    steps = max(0, round(rate * seconds / 60 / shown))  # progress lines per epoch
    error = user_error(rng, gpu)
    command = " ".join(
        [f"/opt/conda/bin/python3.10 {script}"]
        + [f"--{k} {v}" for k, v in sorted(hyper.items()) if not k.startswith("sagemaker_")]
    )
    streams = []
    for rank, host in enumerate(hosts):
        head = Writer(start)
        head.lines(
            [
                "bash: cannot set terminal process group (-1): Inappropriate ioctl for device",
                "bash: no job control in this shell",
            ]
        )
        head.line(
            _toolkit(head.now + 900, f"Imported framework sagemaker_{framework}_container.training"), 900
        )
        head.line(_toolkit(head.now + 6, "No Neurons detected (normal if no neurons installed)"), 6)
        gpus = "Found 1 GPUs" if gpu else "No GPUs detected (normal if no gpus installed)"
        head.line(_toolkit(head.now + 8, gpus), 8)
        if len(hosts) > 1:
            head.line(_toolkit(head.now + 40, "Block until all host DNS lookups succeed."), 40)
        head.line(_toolkit(head.now + 2300, "Invoking user script"), 2300)
        env = {
            "channel_input_dirs": {name: f"/opt/ml/input/data/{name}" for name in channels},
            "current_host": host,
            "current_instance_type": job.instance_type or "ml.m5.xlarge",
            "hosts": hosts,
            "hyperparameters": hyper,
            "job_name": job.name,
            "model_dir": "/opt/ml/model",
            "module_name": script.removesuffix(".py"),
            "num_gpus": 1 if gpu else 0,
            "output_data_dir": "/opt/ml/output/data",
            "user_entry_point": script,
        }
        head.lines(["Training Env:", *json.dumps(env, indent=4, sort_keys=True).splitlines()])
        variables = [
            f"SM_HOSTS={json.dumps(hosts)}",
            f"SM_CURRENT_HOST={host}",
            f"SM_CURRENT_INSTANCE_TYPE={job.instance_type or 'ml.m5.xlarge'}",
            f"SM_HPS={json.dumps(hyper, sort_keys=True)}",
            f"SM_USER_ENTRY_POINT={script}",
            f"SM_CHANNELS={json.dumps(sorted(channels))}",
            *(f"SM_CHANNEL_{name.upper()}=/opt/ml/input/data/{name}" for name in sorted(channels)),
            "SM_MODEL_DIR=/opt/ml/model",
            *(f"{k}={v}" for k, v in sorted(dict_of(args.get("Environment")).items())),
        ]
        head.lines(["Environment variables:", *variables, "Invoking script with the following command:"])
        head.line(command)
        head.line(f"Using image {image}", 1200)
        for name, uri in sorted(channels.items()):
            rows = 10_000 + rng.randrange(990_000)
            head.line(
                f"Loaded channel '{name}': {rows:,} rows from {uri or f'/opt/ml/input/data/{name}'}", 700
            )
        if len(hosts) > 1:
            head.line(f"Distributed training on {len(hosts)} hosts: this is rank {rank} ({host})", 300)
        tail_ms = 4_000 if failed else 3_000
        body_start, body_end = head.now + 1_000, max(head.now + 2_000, finish - tail_ms)
        lead = rank == 0
        per_epoch = steps + (len(definitions) if lead else 0)
        salt = rng.randrange(1 << 30)
        body = Series(
            body_start,
            body_end,
            shown * per_epoch,
            _epoch_renderer(job, definitions, epochs, steps, per_epoch, host, salt, framework == "xgboost"),
            salt,
        )
        end = Writer(body_end + 500)
        if failed:
            end.events.extend(_failure_tail(end.now, script, life.failure or "", error, lead))
        else:
            if lead:
                end.line("Saving the model to /opt/ml/model")
            end.line(
                _toolkit(end.now + 400, "Waiting for the process to finish and give a return code."), 400
            )
            end.line(
                _toolkit(end.now + 5, "Done waiting for a return code. Received 0 from exiting process."), 5
            )
            end.line(_toolkit(end.now + 3, "Reporting training SUCCESS"), 3)
        streams.append((host, Timeline([head.part(), body, end.part()]).fit(finish)))
    return streams


def _epoch_renderer(
    job: JobRecord,
    definitions: list[metrics.MetricDefinition],
    epochs: int,
    steps: int,
    per_epoch: int,
    host: str,
    salt: int,
    zero_based: bool,
) -> Any:
    batches = max(steps * 25, 100)

    def render(index: int, _ms: int) -> str:
        epoch, slot = index // per_epoch + 1, index % per_epoch
        if slot < steps:
            batch = (slot + 1) * batches // (steps + 1)
            speed = 180 + 40 * unit(salt, index)
            return f"[{host}] epoch {epoch}/{epochs} - batch {batch}/{batches} - {speed:.1f} samples/sec"
        definition = definitions[slot - steps]
        target = targets(job).get(definition.name, 0.5)
        value = metrics.history(target, definition.name, epoch / epochs, unit(salt + 7, index))
        # XGBoost numbers its rounds from 0 (`[0]#011train-logloss:...`); the rest count epochs from 1.
        line = metrics.example_line(definition.regex, value, epoch - 1 if zero_based else epoch)
        return line or f"{definition.name}={metrics.value_text(value)}"

    return render


def _failure_tail(
    ms: int, script: str, reason: str, error: tuple[str, str], lead: bool
) -> list[tuple[int, str]]:
    """The end of a failing job: the script's own traceback (when its code failed), then the toolkit's,
    whose last line is the FailureReason. The other hosts only see their peer fail, a moment earlier."""
    if not lead:
        return [
            (ms, _toolkit(ms, "Reporting training FAILURE", "ERROR")),
            (ms, "Peer host algo-1 failed; shutting down"),
        ]
    ms += 1_000
    lines: list[tuple[int, str]] = []
    if user_code_failed(reason):
        exception, code = error
        frames = [("<module>", "main(parse_args())"), ("main", "trainer.fit()"), ("fit", code)]
        lines += [(ms, text) for text in traceback(f"/opt/ml/code/{script}", frames, exception)]
    for offset, text, level in (
        (300, "Waiting for the process to finish and give a return code.", "INFO"),
        (305, "Done waiting for a return code. Received 1 from exiting process.", "INFO"),
        (310, "Reporting training FAILURE", "ERROR"),
        (311, "framework error: ", "ERROR"),
    ):
        lines.append((ms + offset, _toolkit(ms + offset, text, level)))
    toolkit = "/opt/conda/lib/python3.10/site-packages/sagemaker_training"
    frames = [("train", "entrypoint()"), ("run", "process.check(...)"), ("check", "raise error_class(")]
    lines += [(ms + 311, text) for text in traceback(f"{toolkit}/trainer.py", frames, reason)]
    return lines
