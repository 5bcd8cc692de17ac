"""`smtui events setup` / `smtui events teardown`: the queue and the EventBridge rule that push updates need
(`smtui.core.push_setup`; docs/push.md)."""

from __future__ import annotations

import json

import click

from smtui.core.client import SageMakerClient
from smtui.core.push_setup import DEFAULT_NAME, EVENT_PATTERN, EventsSetup, Plan, check_name, queue_policy
from smtui.headless.common import aws_options, places_from, print_json, require_writable, run


def _name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return check_name(value)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _plan_json(plan: Plan, *, dry_run: bool) -> dict[str, object]:
    return {
        "queue_url": plan.queue_url,
        "queue_arn": plan.queue_arn,
        "rule_arn": plan.rule_arn,
        "dry_run": dry_run,
        "changed": plan.changed,
        "resources": [{"resource": r, "action": a} for r, a in plan.steps],
    }


@click.group("events")
def events_command() -> None:
    """Set up (or remove) the SQS queue and EventBridge rule for push updates (`smtui --events URL`)."""


@events_command.command("setup")
@click.option(
    "--queue",
    "name",
    default=DEFAULT_NAME,
    show_default=True,
    callback=_name,
    help="Name of the SQS queue, and of the EventBridge rule that sends to it.",
)
@click.option("--dry-run", is_flag=True, help="Print what would be created; change nothing.")
@aws_options
def setup_command(
    name: str,
    dry_run: bool,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """Create, idempotently: an SQS queue; a queue policy that lets only the rule send to it; an
    EventBridge rule on the default bus matching SageMaker's pipeline execution and step status changes;
    the rule's target (the queue). Prints the queue URL to give `smtui --events` or `smtui wait --events`.
    """
    places, read_only = places_from(profile, region, endpoint_url)
    if not dry_run:
        require_writable(read_only, "set up events")

    async def body(client: SageMakerClient) -> Plan:
        async with EventsSetup(client, name) as setup:
            return await setup.setup(dry_run=dry_run)

    # With several contexts (`--all-contexts`): each one's queue and rule, in turn (setup is idempotent: a
    # failure in one context can be run again as it is).
    plans = [(place.name, run(place.target, body)) for place in places]
    if as_json:
        _print_plans_json(plans, dry_run=dry_run)
        return
    for context, plan in plans:
        if context is not None:
            click.echo(f"context {context}:")
        _print_setup(plan, name, dry_run, context)


def _print_plans_json(plans: list[tuple[str | None, Plan]], *, dry_run: bool) -> None:
    """One context: its plan's JSON; several (`--context`/`--all-contexts`): a list, each with its context."""
    shown = [_plan_json(plan, dry_run=dry_run) for _, plan in plans]
    if plans[0][0] is None:
        print_json(shown[0])
    else:
        print_json([{"context": context, **one} for (context, _), one in zip(plans, shown, strict=True)])


def _print_setup(plan: Plan, name: str, dry_run: bool, context: str | None) -> None:
    for resource, action in plan.steps:
        click.echo(f"{resource}: {action}")
    if dry_run:
        click.echo(f"  the rule's event pattern: {json.dumps(EVENT_PATTERN)}")
        queue_arn = plan.queue_arn or f"<the ARN of queue {name}>"
        rule_arn = plan.rule_arn or f"<the ARN of rule {name}>"
        click.echo(f"  the queue policy: {json.dumps(queue_policy(queue_arn, rule_arn))}")
        if plan.queue_url is None:
            return
    click.echo(f"queue URL: {plan.queue_url}")
    if context is None:
        click.echo(f"use it with: smtui --events {plan.queue_url}  (or events_queue in config.toml)")
    else:
        click.echo(
            f'use it with: events_queue = "{plan.queue_url}" under [contexts.{context}] in config.toml'
        )


@events_command.command("teardown")
@click.option(
    "--queue",
    "name",
    default=DEFAULT_NAME,
    show_default=True,
    callback=_name,
    help="Name of the SQS queue and EventBridge rule that `events setup` created.",
)
@aws_options
def teardown_command(
    name: str,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """Remove what `events setup` created: smtui's target of the rule, the rule (unless other targets use
    it), and the queue. What is already gone is skipped."""
    places, read_only = places_from(profile, region, endpoint_url)
    require_writable(read_only, "tear down events")

    async def body(client: SageMakerClient) -> Plan:
        async with EventsSetup(client, name) as setup:
            return await setup.teardown()

    plans = [(place.name, run(place.target, body)) for place in places]
    if as_json:
        _print_plans_json(plans, dry_run=False)
        return
    for context, plan in plans:
        if context is not None:
            click.echo(f"context {context}:")
        for resource, action in plan.steps:
            click.echo(f"{resource}: {action}")
