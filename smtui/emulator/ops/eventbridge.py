"""Amazon EventBridge (AWS JSON 1.1, `AWSEvents.<Op>`): rules on the default bus and their targets
(`bus.rules`). Delivery to SQS targets is `bus.bus.Bus.publish`."""

from __future__ import annotations

from typing import Any

from smtui.emulator.bus.rules import Rules
from smtui.emulator.ops.common import Context, Operation, offset_page


def _rules(ctx: Context, request: dict[str, Any]) -> Rules:
    rules = ctx.bus.rules
    rules.check_bus(request.get("EventBusName"), ctx.region)
    return rules


def put_rule(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    rule = _rules(ctx, request).put(request, ctx.region)
    return {"RuleArn": rule.arn}


def describe_rule(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    rule = _rules(ctx, request).get(request["Name"])
    described: dict[str, Any] = rule.describe(ctx.backend.account)
    return described


def list_rules(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    rules = _rules(ctx, request)
    prefix = request.get("NamePrefix") or ""
    found = [r for name, r in sorted(rules.by_name.items()) if name.startswith(prefix)]
    page, token = offset_page(found, request, ["ListRules", prefix], size=request.get("Limit") or 100)
    return {"Rules": [r.describe(ctx.backend.account) for r in page], "NextToken": token}


def delete_rule(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    _rules(ctx, request).delete(request["Name"])
    return {}


def put_targets(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    rule = _rules(ctx, request).get(request["Rule"])
    failed: list[dict[str, Any]] = []
    for target in request["Targets"]:
        if target.get("InputTransformer") is not None:
            failed.append(
                {
                    "TargetId": target["Id"],
                    "ErrorCode": "ValidationException",
                    "ErrorMessage": "The emulator does not apply InputTransformer.",
                }
            )
            continue
        rule.targets[target["Id"]] = dict(target)
    return {"FailedEntryCount": len(failed), "FailedEntries": failed}


def list_targets_by_rule(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    rule = _rules(ctx, request).get(request["Rule"])
    targets = list(rule.targets.values())
    page, token = offset_page(targets, request, ["Targets", rule.name], size=request.get("Limit") or 100)
    return {"Targets": list(page), "NextToken": token}


def remove_targets(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    rule = _rules(ctx, request).get(request["Rule"])
    for target_id in request["Ids"]:
        rule.targets.pop(target_id, None)  # an Id the rule lacks: no failure (our choice; undocumented)
    return {"FailedEntryCount": 0, "FailedEntries": []}


OPERATIONS: dict[str, Operation] = {
    "PutRule": put_rule,
    "DescribeRule": describe_rule,
    "ListRules": list_rules,
    "DeleteRule": delete_rule,
    "PutTargets": put_targets,
    "ListTargetsByRule": list_targets_by_rule,
    "RemoveTargets": remove_targets,
}
