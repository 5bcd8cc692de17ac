"""A Lambda step's function invocation as the Lambda runtime logs it to `/aws/lambda/<function>`: one stream
`YYYY/MM/DD/[$LATEST]<32 hex>` per invocation (a cold start each), START, the function's own lines, END and
REPORT; a failing invocation logs its error (or the runtime's timeout) before END."""

from __future__ import annotations

import json
import random
import time
import uuid

from smtui.emulator.joblogs.phases import Life
from smtui.emulator.joblogs.timeline import Timeline
from smtui.emulator.joblogs.write import Writer, iso_time, traceback
from smtui.emulator.store.records import JobRecord

RUNTIME = "python:3.12.v38"


def function_name(function_arn: str) -> str:
    """`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]` → `<name>` (a bare name stays)."""
    if ":function:" in function_arn:
        return function_arn.split(":function:", 1)[1].split(":", 1)[0]
    return function_arn.rsplit(":", 1)[-1] or "function"


def _version(function_arn: str) -> str:
    qualifier = function_arn.split(":function:", 1)[1].split(":")[1:] if ":function:" in function_arn else []
    return qualifier[0] if qualifier and qualifier[0].isdigit() else "$LATEST"


def request_id(rng: random.Random) -> str:
    """An invocation's request id: a UUID drawn from the run's seeded RNG."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def lambda_stream(job: JobRecord, life: Life, rng: random.Random) -> list[tuple[str, Timeline]]:
    """The one stream of the invocation: (stream name, timeline)."""
    start, finish = int((life.container_start or life.end) * 1000), int(life.end * 1000)
    version = _version(job.arn)
    name = time.strftime("%Y/%m/%d", time.gmtime(start // 1000)) + f"/[{version}]{rng.getrandbits(128):032x}"
    rid = job.name
    init = 150 + rng.uniform(0, 600)
    log = Writer(start)
    runtime_arn = (
        f"arn:aws:lambda:{job.arn.split(':')[3] if job.arn.count(':') > 3 else 'us-east-1'}::runtime:"
    )
    runtime_arn += f"{rng.getrandbits(256):064x}"
    log.line(f"INIT_START Runtime Version: {RUNTIME}\tRuntime Version ARN: {runtime_arn}")
    log.line(f"START RequestId: {rid} Version: {version}", int(init))
    event = json.dumps(job.arguments, sort_keys=True, default=str)
    log.line(f"[INFO]\t{iso_time(log.now + 3)}\t{rid}\tReceived event: {event}", 3)
    failure = life.failure
    if failure is not None and "timed out" in failure:
        log.now = max(log.now, finish - 5)
        log.line(f"{iso_time(log.now)} {rid} {failure.split(': ', 1)[-1]}")
    elif failure is not None:
        log.now = max(log.now, finish - 20)
        lines = traceback(
            "/var/task/lambda_function.py", [("lambda_handler", "result = handle(event)")], failure
        )
        log.line(f"[ERROR]\t{iso_time(log.now)}\t{rid}\t{failure}")
        log.lines(lines)
    else:
        log.now = max(log.now, finish - 20)
        returned = json.dumps(job.outputs, sort_keys=True, default=str)
        log.line(f"[INFO]\t{iso_time(log.now)}\t{rid}\tReturning {returned}")
    log.line(f"END RequestId: {rid}", 2)
    took = max(finish - start - init, 1.0)
    memory = 60 + rng.randrange(60)
    log.line(
        f"REPORT RequestId: {rid}\tDuration: {took:.2f} ms\tBilled Duration: {int(took) + 1} ms\t"
        f"Memory Size: 128 MB\tMax Memory Used: {memory} MB\tInit Duration: {init:.2f} ms",
        1,
    )
    return [(name, Timeline([log.part()]))]
