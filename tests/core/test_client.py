"""The client as the service sees it: what each request says about who sends it."""

from __future__ import annotations

from emulator_proc import EmulatorProcess

from smtui import __version__
from smtui.core.client import SageMakerClient


async def test_every_request_names_smtui_and_its_sdk_in_one_fixed_user_agent(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    before = emu.agents()
    await client.list_pipelines()
    await client.list_pipelines()
    sent = {agent: n - before.get(agent, 0) for agent, n in emu.agents().items() if n != before.get(agent, 0)}
    [(agent, count)] = sent.items()  # one string for every request: it is not rebuilt per call
    assert count == 2
    product, *rest = agent.split()
    assert product == f"smtui/{__version__}"
    assert {part.split("/")[0] for part in rest} >= {"aiobotocore", "botocore", "Python"}
