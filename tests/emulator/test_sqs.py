"""The emulator's SQS (AWS JSON 1.0) through boto3: queues, attributes, messages, visibility, long polling."""

from __future__ import annotations

import json
import signal
import socket
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError
from wire_harness import EmulatorProcess, make_client, new_name


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_create_queue_is_idempotent_and_refuses_other_attributes(sqs: Any) -> None:
    name = new_name("q")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    assert url.endswith(f"/123456789012/{name}")
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"] == url
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists) as caught:
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "46"})
    assert code(caught) == "QueueAlreadyExists"
    assert "VisibilityTimeout" in caught.value.response["Error"]["Message"]
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as caught:
        sqs.get_queue_url(QueueName=new_name("missing"))
    assert code(caught) == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(ClientError) as caught:
        sqs.create_queue(QueueName="bad name!")
    assert code(caught) == "InvalidParameterValue"


def test_queue_attributes_read_and_write(sqs: Any) -> None:
    name = new_name("q")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy, "VisibilityTimeout": "5"})
    every = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert every["QueueArn"] == f"arn:aws:sqs:us-east-1:123456789012:{name}"
    assert every["Policy"] == policy
    assert every["VisibilityTimeout"] == "5"
    assert every["ApproximateNumberOfMessages"] == "0"
    some = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    assert list(some) == ["QueueArn"]
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url)
    with pytest.raises(ClientError) as caught:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Colour": "blue"})
    assert code(caught) == "InvalidAttributeName"
    with pytest.raises(ClientError) as caught:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "99999"})
    assert code(caught) == "InvalidAttributeValue"
    with pytest.raises(ClientError) as caught:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": "{not json"})
    assert code(caught) == "InvalidAttributeValue"


def test_receive_gives_ids_md5_and_the_attributes_asked_for(sqs: Any, emulator: EmulatorProcess) -> None:
    url = sqs.create_queue(QueueName=new_name("q"))["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello")
    assert sent["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"
    now = emulator.now()
    got = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"])["Messages"]
    assert [m["MessageId"] for m in got] == [sent["MessageId"]]
    message = got[0]
    assert message["Body"] == "hello" and message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["ReceiptHandle"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert int(message["Attributes"]["SentTimestamp"]) == round(now * 1000)  # the emulator's clock

    url2 = sqs.create_queue(QueueName=new_name("q"))["QueueUrl"]
    sqs.send_message(QueueUrl=url2, MessageBody="plain")
    assert "Attributes" not in sqs.receive_message(QueueUrl=url2)["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=url2)  # in flight now: nothing to give


def test_max_number_of_messages_and_wait_are_bounded(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=new_name("q"))["QueueUrl"]
    for body in "abcdefghijkl":
        sqs.send_message(QueueUrl=url, MessageBody=body)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == list("abcdefghij")
    for key, value in (("MaxNumberOfMessages", 11), ("MaxNumberOfMessages", 0), ("WaitTimeSeconds", 21)):
        with pytest.raises(ClientError) as caught:
            sqs.receive_message(QueueUrl=url, **{key: value})
        assert code(caught) == "InvalidParameterValue"
        assert key in caught.value.response["Error"]["Message"]


def test_visibility_timeout_runs_on_the_emulator_clock(sqs: Any, emulator: EmulatorProcess) -> None:
    url = sqs.create_queue(QueueName=new_name("q"), Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="again")
    first = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    emulator.advance(29)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]) == (
        "0",
        "1",
    )
    emulator.advance(2)
    second = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert second["MessageId"] == first["MessageId"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    # A stale handle "succeeds" and deletes nothing (as SQS documents); the latest one deletes.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    emulator.advance(31)
    third = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]
    assert third["MessageId"] == first["MessageId"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"])
    emulator.advance(60)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")


def test_delete_message_batch_reports_each_entry(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=new_name("q"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="one")
    sqs.send_message(QueueUrl=url, MessageBody="two")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    entries = [{"Id": f"m{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
    reply = sqs.delete_message_batch(QueueUrl=url, Entries=[*entries, {"Id": "bad", "ReceiptHandle": "x"}])
    assert sorted(e["Id"] for e in reply["Successful"]) == ["m0", "m1"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in reply["Failed"]] == [
        ("bad", "ReceiptHandleIsInvalid", True)
    ]
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
            "ApproximateNumberOfMessagesNotVisible"
        ]
        == "0"
    )
    with pytest.raises(sqs.exceptions.EmptyBatchRequest) as caught:
        sqs.delete_message_batch(QueueUrl=url, Entries=[])
    assert code(caught) == "AWS.SimpleQueueService.EmptyBatchRequest"
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.delete_message_batch(QueueUrl=url, Entries=[entries[0], entries[0]])
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest):
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": f"e{i}", "ReceiptHandle": "x"} for i in range(11)]
        )


def test_a_deleted_queue_no_longer_exists(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=new_name("q"))["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    for call in (
        lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
        lambda: sqs.receive_message(QueueUrl=url),
        lambda: sqs.delete_queue(QueueUrl=url),
    ):
        with pytest.raises(sqs.exceptions.QueueDoesNotExist) as caught:
            call()
        assert code(caught) == "AWS.SimpleQueueService.NonExistentQueue"


def test_the_wire_is_json_1_0_with_query_compatible_errors(emulator: EmulatorProcess) -> None:
    """What any SQS client relies on, checked on the raw HTTP reply."""
    request = urllib.request.Request(
        emulator.url,
        data=json.dumps({"QueueName": new_name("missing")}).encode(),
        headers={"X-Amz-Target": "AmazonSQS.GetQueueUrl", "Content-Type": "application/x-amz-json-1.0"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 400
    assert caught.value.headers["Content-Type"] == "application/x-amz-json-1.0"
    assert caught.value.headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert json.loads(caught.value.read()) == {
        "__type": "com.amazonaws.sqs#QueueDoesNotExist",
        "message": "The specified queue does not exist.",
    }


def test_long_poll_returns_as_soon_as_a_message_arrives(sqs: Any, emulator: EmulatorProcess) -> None:
    url = sqs.create_queue(QueueName=new_name("q"))["QueueUrl"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)  # waits, then empty
    replies: list[dict[str, Any]] = []
    poller = make_client("sqs", emulator, read_timeout=60)
    thread = threading.Thread(
        target=lambda: replies.append(poller.receive_message(QueueUrl=url, WaitTimeSeconds=20))
    )
    thread.start()
    sqs.send_message(QueueUrl=url, MessageBody="wake up")
    # The poll must end well before its 20 s: it answers the moment the message lands.
    thread.join(timeout=15)
    assert not thread.is_alive()
    assert [m["Body"] for m in replies[0]["Messages"]] == ["wake up"]


def test_deleting_a_queue_ends_a_long_poll_on_it(sqs: Any, emulator: EmulatorProcess) -> None:
    url = sqs.create_queue(QueueName=new_name("q"))["QueueUrl"]
    errors: list[str] = []
    poller = make_client("sqs", emulator, read_timeout=60)

    def poll() -> None:
        try:
            poller.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        except ClientError as error:
            errors.append(error.response["Error"]["Code"])

    thread = threading.Thread(target=poll)
    thread.start()
    # Deleting at once may beat the poll to the queue: then it fails at once, which is the same answer.
    sqs.delete_queue(QueueUrl=url)
    thread.join(timeout=15)
    assert not thread.is_alive()
    assert errors == ["AWS.SimpleQueueService.NonExistentQueue"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_emulator_ends_a_long_poll(emulator_factory: Any, sig: int) -> None:
    """A consumer long-polling must not hold the stop up for 20 s (or past `stop`'s timeout, which kills)."""
    own = emulator_factory("--time-scale", "0")
    poller = make_client("sqs", own, read_timeout=60)
    url = poller.create_queue(QueueName=new_name("q"))["QueueUrl"]
    endings: list[Any] = []

    def poll() -> None:
        try:
            endings.append(poller.receive_message(QueueUrl=url, WaitTimeSeconds=20))
        except ConnectionClosedError as error:
            endings.append(error)

    thread = threading.Thread(target=poll)
    thread.start()
    while "AmazonSQS.ReceiveMessage" not in own.stats():
        thread.join(timeout=0.05)  # until the poll is in the emulator's hands
    # Killed unless it exits before the poll's own end (20 s): a bound that only tells the fix from its
    # absence.
    assert own.stop(sig, timeout=19) == 0, own.stderr_text()[-3000:]
    thread.join(timeout=15)
    # Answered, empty; or closed, when its body was still on its way (botocore sends the body after the
    # headers, and the headers are what `stats` counts): the test below pins that case down.
    assert endings and (isinstance(endings[0], ConnectionClosedError) or "Messages" not in endings[0])


def test_stopping_the_emulator_closes_a_request_whose_body_has_not_arrived(emulator_factory: Any) -> None:
    """Once stopping, the server reads no more: a request still waiting for its body can never be answered.
    It is closed after the stop's second of grace; it used to hold the exit for a minute (aiohttp's default):
    the long-poll stop above failed so whenever SIGTERM overtook the poll's body."""
    own = emulator_factory("--time-scale", "0")
    host, port = own.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as client:
        client.sendall(
            b"POST / HTTP/1.1\r\nHost: emulator\r\nX-Amz-Target: AmazonSQS.ReceiveMessage\r\n"
            b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n"
        )
        while "AmazonSQS.ReceiveMessage" not in own.stats():
            pass  # until the emulator holds the request, waiting for its 100 bytes
        assert own.stop(timeout=19) == 0, own.stderr_text()[-3000:]
        try:
            answer = client.recv(1024)
        except ConnectionResetError:
            answer = b""
        assert answer == b""  # closed, nothing answered
    assert "Traceback" not in own.stderr_text()
