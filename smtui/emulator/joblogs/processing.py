"""A processing job's log, one stream per host (`algo-1` … `algo-n`, the hostnames SageMaker gives a
processing cluster): the script's start-up, its reading of each input, progress over its shard of the
records, and the outputs it writes — or a traceback ending with the FailureReason."""

from __future__ import annotations

import random

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

DEFAULT_RATE = 3.0  # progress lines per minute of processing, per host


def processing_streams(job: JobRecord, life: Life, rng: random.Random) -> list[tuple[str, Timeline]]:
    """(host, timeline) per instance; empty when no container ever ran."""
    if life.container_start is None:
        return []
    args = job.arguments
    app = dict_of(args.get("AppSpecification"))
    entrypoint = [str(part) for part in list_of(app.get("ContainerEntrypoint"))]
    script_path = next((p for p in reversed(entrypoint) if p.endswith(".py")), "/opt/program/process.py")
    module = script_path.rsplit("/", 1)[-1].removesuffix(".py")
    command = " ".join(
        [*(entrypoint or ["python3", script_path]), *map(str, list_of(app.get("ContainerArguments")))]
    )
    inputs = [i for i in list_of(args.get("ProcessingInputs")) if isinstance(i, dict)]
    outputs = [
        o for o in list_of(dict_of(args.get("ProcessingOutputConfig")).get("Outputs")) if isinstance(o, dict)
    ]
    hosts = [f"algo-{k}" for k in range(1, max(job.instance_count, 1) + 1)]
    start, finish = int(life.container_start * 1000), int(life.container_end * 1000)
    seconds = max(life.container_end - life.container_start, 1.0)
    rate = DEFAULT_RATE if job.log_rate is None else job.log_rate
    total = 50_000 + rng.randrange(5_000_000)
    failed = life.failure is not None
    reach = rng.uniform(0.2, 0.9) if failed else 1.0
    error = user_error(rng, gpu=False)

    def log(ms: int, text: str, level: str = "INFO") -> str:
        return f"{toolkit_time(ms)} {level:<8} {module}: {text}"

    streams = []
    for rank, host in enumerate(hosts):
        share = total // len(hosts) + (1 if rank < total % len(hosts) else 0)
        head = Writer(start)
        head.line(log(head.now, f"Starting: {command}"))
        head.line(
            log(
                head.now + 15,
                f"Host {host} ({rank + 1} of {len(hosts)}), {job.instance_type or 'ml.m5.xlarge'}",
            ),
            15,
        )
        for key, value in sorted(dict_of(args.get("Environment")).items()):
            head.line(log(head.now + 1, f"Environment {key}={value}"), 1)
        for item in inputs:
            s3 = dict_of(item.get("S3Input"))
            local = s3.get("LocalPath") or f"/opt/ml/processing/input/{item.get('InputName')}"
            head.line(
                log(
                    head.now + 600,
                    f"Reading input '{item.get('InputName')}' from {local} ({s3.get('S3Uri', '')})",
                ),
                600,
            )
        if not inputs:
            head.line(log(head.now + 600, "No inputs: generating the data set"), 600)
        head.line(log(head.now + 2_500, f"Read {share:,} records (shard {rank + 1} of {len(hosts)})"), 2_500)
        tail_ms = 3_000
        body_start, body_end = head.now + 1_000, max(head.now + 2_000, finish - tail_ms)
        shown = max(1, round(rate * seconds / 60 * reach))
        salt = rng.randrange(1 << 30)

        def render(index: int, ms: int, share: int = share, shown: int = shown, salt: int = salt) -> str:
            done = min(share, int(share * reach * (index + 1) / shown))
            speed = 1_500 + 600 * unit(salt, index)
            percent = 100 * done // max(share, 1)
            return log(ms, f"Processed {done:,} of {share:,} records ({percent}%) - {speed:,.0f} records/s")

        body = Series(body_start, body_end, shown, render, salt)
        end = Writer(body_end + 500)
        if failed:
            if user_code_failed(life.failure or "") and rank == 0:
                exception, code = error
                frames = [("<module>", "main()"), ("main", "frame = transform(frame)"), ("transform", code)]
                end.lines(traceback(script_path, frames, exception))
            if rank == 0:
                end.lines(traceback(script_path, [("<module>", "sys.exit(main())")], life.failure or ""), 50)
            else:
                end.line(log(end.now, "Stopping: a peer host failed", "ERROR"))
        else:
            for item in outputs:
                s3 = dict_of(item.get("S3Output"))
                local = s3.get("LocalPath") or f"/opt/ml/processing/{item.get('OutputName')}"
                rows = int(share * (0.15 + 0.7 * unit(salt, 99)))
                end.line(
                    log(
                        end.now + 800,
                        f"Wrote output '{item.get('OutputName')}' ({rows:,} records) to {local}",
                    ),
                    800,
                )
            end.line(log(end.now + 200, f"Done in {seconds:.1f} s"), 200)
        streams.append((host, Timeline([head.part(), body, end.part()]).fit(finish)))
    return streams
