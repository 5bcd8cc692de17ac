"""A batch transform job's log: per instance, the model server's stream (`<instance-id>`) and the data log
(`<instance-id>/data-log`) where SageMaker reports the transform's settings and the objects that failed."""

from __future__ import annotations

import random
import time

from smtui.emulator.joblogs.phases import Life
from smtui.emulator.joblogs.timeline import Series, Timeline, unit
from smtui.emulator.joblogs.write import Writer, dict_of, toolkit_time, traceback
from smtui.emulator.store.records import JobRecord

DEFAULT_RATE = 6.0  # invocations logged per minute, per instance
_SERVER_SETTINGS = (
    "MMS Home: /usr/local/lib/python3.9/site-packages",
    "Current directory: /",
    "Temp directory: /tmp",
    "Number of GPUs: 0",
    "Number of CPUs: 8",
    "Max heap size: 7912 M",
    "Python executable: /usr/local/bin/python3.9",
    "Config file: /etc/sagemaker-mms.properties",
    "Inference address: http://0.0.0.0:8080",
    "Management address: http://0.0.0.0:8080",
    "Model Store: /.sagemaker/mms/models",
    "Initial Models: ALL",
    "Log dir: /logs",
    "Metrics dir: /logs",
    "Default workers per model: 8",
    "Maximum Response Size: 6553500",
    "Maximum Request Size: 6553500",
)


def _data_time(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}"


def transform_streams(job: JobRecord, life: Life, rng: random.Random) -> list[tuple[str, Timeline]]:
    """(instance id, timeline) and (instance id + "/data-log", timeline) per instance."""
    if life.container_start is None:
        return []
    args = job.arguments
    source = dict_of(dict_of(dict_of(args.get("TransformInput")).get("DataSource")).get("S3DataSource"))
    input_uri = str(source.get("S3Uri") or "s3://input")
    strategy = str(args.get("BatchStrategy") or "MULTI_RECORD")
    settings = (
        f"MaxConcurrentTransforms={args.get('MaxConcurrentTransforms', 1)},"
        f" MaxPayloadInMB={args.get('MaxPayloadInMB', 6)}, BatchStrategy={strategy}"
    )
    start, finish = int(life.container_start * 1000), int(life.container_end * 1000)
    seconds = max(life.container_end - life.container_start, 1.0)
    rate = DEFAULT_RATE if job.log_rate is None else job.log_rate
    failed = life.failure is not None
    streams: list[tuple[str, Timeline]] = []
    for rank in range(max(job.instance_count, 1)):
        instance = "i-" + "".join(rng.choice("0123456789abcdef") for _ in range(17))
        port = 40_000 + rng.randrange(20_000)
        head = Writer(start)
        head.line("Warning: MMS is using non-default JVM parameters: -XX:-UseContainerSupport")
        head.line(f"{toolkit_time(head.now + 700)} [INFO ] main com.amazonaws.ml.mms.ModelServer - ", 700)
        head.lines(_SERVER_SETTINGS)
        for text in (
            "main com.amazonaws.ml.mms.wlm.ModelManager - Model model loaded.",
            "main com.amazonaws.ml.mms.ModelServer - Inference API bind to: http://0.0.0.0:8080",
        ):
            head.line(f"{toolkit_time(head.now + 1_800)} [INFO ] {text}", 1_800)
        head.line("Model server started.", 10)
        for request, status in (("GET /ping", 200), ("GET /execution-parameters", 404)):
            access = f'/169.254.255.130:{port} "{request} HTTP/1.1" {status} 3'
            head.line(
                f"{toolkit_time(head.now + 2_000)} [INFO ] pool-2-thread-3 ACCESS_LOG - {access}", 2_000
            )
        body_start, body_end = head.now + 1_000, max(head.now + 2_000, finish - 3_000)
        reach = rng.uniform(0.2, 0.9) if failed else 1.0
        count = max(1, round(rate * seconds / 60 * reach))
        salt = rng.randrange(1 << 30)

        def render(index: int, ms: int, salt: int = salt, port: int = port) -> str:
            took = 40 + int(900 * unit(salt, index))
            access = f'/169.254.255.130:{port} "POST /invocations HTTP/1.1" 200 {took}'
            return f"{toolkit_time(ms)} [INFO ] W-9000-model ACCESS_LOG - {access}"

        body = Series(body_start, body_end, count, render, salt)
        end = Writer(body_end + 400)
        data = Writer(body_start - 500)
        data.line(f"{_data_time(data.now)}:[sagemaker logs]: {settings}")
        if failed:
            part = f"{input_uri.rstrip('/')}/part-{rank:05d}.csv"
            frames = [("handle", "data = self.preprocess(batch)"), ("preprocess", "return decode(batch)")]
            handler = "/opt/ml/model/code/inference.py"
            # The data log reports the failed object a moment before the handler's traceback ends the log.
            failed_at = end.now - 300
            data.line(
                f"{_data_time(failed_at)}:[sagemaker logs]: {part}: ClientError: 400", failed_at - data.now
            )
            data.line(
                f"{_data_time(failed_at)}:[sagemaker logs]: {part}: Received client error (400) from primary"
                " with message: the model could not decode the input"
            )
            end.lines(traceback(handler, frames, life.failure or ""))
        else:
            end.line(f"{toolkit_time(end.now)} [INFO ] main com.amazonaws.ml.mms.ModelServer - Shutting down")
        streams.append((instance, Timeline([head.part(), body, end.part()]).fit(finish)))
        streams.append((f"{instance}/data-log", Timeline([data.part()]).fit(finish)))
    return streams
