"""The client as the service sees it: what each request says about who sends it."""

from __future__ import annotations

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
