"""The header says how the monitor learns of changes when it has an events queue: `push`, or
`polling (events: reason)` once the queue is gone."""

from __future__ import annotations

from conftest import Emulator, text_of, tui, until


async def test_header_says_push_then_polling_when_the_queue_is_deleted(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    await emu.start("alpha")
    async with emu.client.sibling("sqs") as sqs:
        url = (await sqs.create_queue(QueueName="smtui-events"))["QueueUrl"]
        await sqs.send_message(QueueUrl=url, MessageBody="{}")  # not an event: read, ignored, deleted
        # Short polls (WaitTimeSeconds 0, then a second of the test's clock): a step of that clock waits for
        # every call in flight, and a long poll is one for up to 20 s of real time. That a long poll ends
        # as soon as a message comes or its queue goes is the emulator's part (tests/emulator/test_sqs.py).
        async with tui(emu, monitor={"events_queue": url, "events_wait": 0}) as (app, pilot):
            header = app.screen.query_one("#status")
            await until(lambda: "push" in text_of(header), pilot=pilot, what="push in the header")
            assert "polling" not in text_of(header)
            await sqs.delete_queue(QueueUrl=url)
            await until(
                lambda: "polling (events: the queue does not exist)" in text_of(header),
                pilot=pilot,
                wait=10,
                what="the fallback in the header",
            )


async def test_no_mode_in_the_header_without_a_queue(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    await emu.start("alpha")
    async with tui(emu) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.row_count == 1, pilot=pilot)
        header = text_of(screen.query_one("#status"))
        assert "push" not in header and "polling" not in header
