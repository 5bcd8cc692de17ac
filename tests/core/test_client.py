"""The client as the service sees it: what each request says about who sends it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from emulator_proc import EmulatorProcess

from smtui import __version__
from smtui.core.client import SageMakerClient
from smtui.core.errors import AwsError


async def test_every_request_names_smtui_and_its_sdk_in_one_fixed_user_agent(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    await client.list_pipelines()
    await client.list_pipelines()
    [(agent, count)] = emu.agents().items()  # one string for every request: it is not rebuilt per call
    assert count == 2
    product, *rest = agent.split()
    assert product == f"smtui/{__version__}"
    assert {part.split("/")[0] for part in rest} >= {"aiobotocore", "botocore", "Python"}


async def test_a_bug_is_not_dressed_as_an_aws_error(client: SageMakerClient) -> None:
    """What AWS answers becomes an AwsError; a mistake of ours (here an operation botocore does not have)
    surfaces as itself, with its traceback, instead of as a refusal from the service."""
    with pytest.raises(AwsError) as refused:
        await client.call("describe_pipeline", PipelineName="no-such-pipeline")
    assert refused.value.is_not_found
    with pytest.raises(AttributeError):
        await client.call("describe_pipeline_typo", PipelineName="x")


MEMORY_OF_CONTEXTS = """
import asyncio, json, sys
from pathlib import Path
from smtui.core.client import AwsTarget, SageMakerClient

def rss_mib():
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024

async def main():
    held, sizes = [], []
    for i in range(3):  # three contexts: a SageMaker client and its SQS sibling each, as with --events
        target = AwsTarget(region="us-east-1", endpoint_url=sys.argv[1])
        client = await SageMakerClient.create(target).__aenter__()
        held += [client, await client.sibling("sqs").__aenter__()]
        await client.list_pipelines()
        sizes.append(rss_mib())
    print(json.dumps(sizes))

asyncio.run(main())
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the process's RSS from /proc")
def test_more_contexts_do_not_load_the_service_models_again(emu: EmulatorProcess) -> None:
    # A session per context (its own profile) loaded its own copy of the SageMaker and SQS models: ~19 MiB
    # more per context, 150 MiB for 3 contexts' monitors and their data (`benchmarks/push_bench.py`).
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_OF_CONTEXTS, emu.url],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )
    first, *_, third = json.loads(out.stdout)
    assert third - first < 6  # MiB for two more contexts' clients
