"""Step caching: which step types reuse an earlier run, the key two runs must share, and `ExpireAfter`.

The key is not every argument. SageMaker compares, per step type, the documented *default cache key
attributes* (Developer Guide, "Default cache key attributes by pipeline step type"): what a step computes
from (its image, script, inputs, environment, hyperparameters), never where it writes or what it runs on.
So a change of output path, instance type, role or job name does not rerun a step, and the SDK's default
output path, which holds the execution id (`Std:Join` of `Execution.PipelineExecutionId`), still hits.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

# A member name, or (member name, the only children of it that count).
_Attribute = str | tuple[str, tuple[str, ...]]

# Step type -> the members of its resolved Arguments in the key: the Developer Guide's list.
_ARGUMENT_KEYS: dict[str, tuple[_Attribute, ...]] = {
    "Processing": ("AppSpecification", "Environment", "ProcessingInputs"),
    "Training": (
        "AlgorithmSpecification",
        "CheckpointConfig",
        "DebugHookConfig",
        "DebugRuleConfigurations",
        "Environment",
        "HyperParameters",
        "InputDataConfig",
    ),
    "Tuning": (
        "HyperParameterTuningJobConfig",
        (
            "TrainingJobDefinition",
            (
                "AlgorithmSpecification",
                "HyperParameterRanges",
                "InputDataConfig",
                "StaticHyperParameters",
                "TuningObjective",
            ),
        ),
        "TrainingJobDefinitions",
    ),
    "AutoML": (
        ("AutoMLJobConfig", ("CompletionCriteria", "CandidateGenerationConfig", "DataSplitConfig", "Mode")),
        "AutoMLJobObjective",
        "InputDataConfig",
        "ProblemType",
    ),
    "Transform": ("DataProcessing", "Environment", "ModelName", "TransformInput"),
    "EMR": ("ClusterId", "StepConfig"),
}
# Check steps: the Guide names the SDK's ClarifyCheckConfig/QualityCheckConfig and CheckJobConfig, which the
# SDK writes as the Arguments (the CreateProcessingJob request of the check's job), and step-level members.
_CHECK_TOP_KEYS = {
    "ClarifyCheck": (
        "CheckType",
        "SkipCheck",
        "RegisterNewBaseline",
        "ModelPackageGroupName",
        "SuppliedBaselineConstraints",
        "ModelName",  # the model ClarifyCheckConfig's model_config names (model bias and explainability)
    ),
    "QualityCheck": (
        "CheckType",
        "SkipCheck",
        "RegisterNewBaseline",
        "ModelPackageGroupName",
        "SuppliedBaselineConstraints",
        "SuppliedBaselineStatistics",
    ),
}
# Where a check job writes, and its name, are no more part of its key than a processing step's.
_CHECK_ARGUMENTS_LEFT_OUT = frozenset({"ProcessingOutputConfig", "ProcessingJobName"})

# Step types whose results CacheConfig may reuse: the Guide's list, plus Lambda. The Guide documents no key
# for Lambda, but the SDK's LambdaStep takes a cache_config; its key is the function and its whole input
# (a Lambda step's Arguments are the event it is invoked with: every member is an input, none an output).
# Other step types ignore CacheConfig: a Callback's result comes from whoever answers it, a Condition only
# decides, a Fail step never succeeds, ForEach reruns its children (which may be cached themselves), and
# the Model/RegisterModel/Endpoint kinds create resources rather than compute results.
CACHEABLE = frozenset({*_ARGUMENT_KEYS, *_CHECK_TOP_KEYS, "Lambda"})


def cache_key(step_type: str, raw: dict[str, Any], arguments: Any, resolve: Callable[[Any], Any]) -> str:
    """The step's cache key: a digest of its type and its key attributes, expressions resolved.

    `arguments` are the step's resolved Arguments; `resolve` resolves a step-level member (a check step's
    `SkipCheck` may be a parameter). An absent attribute counts as null, so adding one changes the key.
    """
    args = arguments if isinstance(arguments, dict) else {}
    attributes: dict[str, Any]
    if step_type in _ARGUMENT_KEYS:
        attributes = {_name(a): _project(args, a) for a in _ARGUMENT_KEYS[step_type]}
    elif step_type in _CHECK_TOP_KEYS:
        attributes = {k: v for k, v in args.items() if k not in _CHECK_ARGUMENTS_LEFT_OUT}
        attributes.update({k: resolve(raw.get(k)) for k in _CHECK_TOP_KEYS[step_type]})
    else:
        attributes = {"FunctionArn": resolve(raw.get("FunctionArn")), "Arguments": arguments}
    text = json.dumps([step_type, attributes], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _name(attribute: _Attribute) -> str:
    return attribute if isinstance(attribute, str) else attribute[0]


def _project(args: dict[str, Any], attribute: _Attribute) -> Any:
    if isinstance(attribute, str):
        return args.get(attribute)
    value = args.get(attribute[0])
    if not isinstance(value, dict):
        return value
    return {child: value.get(child) for child in attribute[1]}


# `ExpireAfter` as the Guide writes it: ISO-8601 (`PT1H`, `P30D`) or its short form without the `P`, in
# either case (`30d`, `5y`, `T16m`, `30dT5h`). Months and years are taken as 30 and 365 days.
_DURATION = re.compile(
    r"^P?(?:(?P<Y>\d+)Y)?(?:(?P<MO>\d+)M)?(?:(?P<W>\d+)W)?(?:(?P<D>\d+)D)?"
    r"(?:T?(?:(?P<H>\d+)H)?(?:(?P<MI>\d+)M)?(?:(?P<S>\d+(?:\.\d+)?)S)?)?$"
)
_SECONDS = {"Y": 365 * 86400, "MO": 30 * 86400, "W": 604800, "D": 86400, "H": 3600, "MI": 60, "S": 1}


def duration_seconds(text: Any) -> float | None:
    """`ExpireAfter` in seconds; None when absent or unreadable (the entry then never expires)."""
    if not isinstance(text, str):
        return None
    upper = text.strip().upper()
    match = _DURATION.match(upper)
    if match is None or upper.endswith("T") or not any(match.groupdict().values()):
        return None
    return sum(float(v) * _SECONDS[k] for k, v in match.groupdict().items() if v)
