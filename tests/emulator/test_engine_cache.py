"""Step caching as SageMaker does it: a step reruns only when one of its type's documented cache key
attributes changed (Developer Guide, "Default cache key attributes by pipeline step type"), never for an
output path, an instance type, a role or a job name."""

from __future__ import annotations

import json
from typing import Any

import pytest
from engine_harness import Harness, definition, step

from smtui.emulator.store.records import PipelineVersion

CACHED = {"CacheConfig": {"Enabled": True, "ExpireAfter": "P1D"}}
P = {"Get": "Parameters.P"}
# The path the SDK gives an output without a destination: it holds the execution id, so it differs each run.
PER_EXECUTION = {
    "Std:Join": {"On": "/", "Values": ["s3://bucket/p", {"Get": "Execution.PipelineExecutionId"}]}
}


def _processing(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "AppSpecification": {"ImageUri": "image:1"},
        "Environment": {"MODE": "fast"},
        "ProcessingInputs": [
            {"InputName": "in", "S3Input": {"S3Uri": "s3://bucket/in", "LocalPath": "/opt/ml/processing/in"}}
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {"OutputName": "out", "S3Output": {"S3Uri": PER_EXECUTION, "LocalPath": "/opt/ml/out"}}
            ]
        },
        "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1}},
        "RoleArn": "arn:aws:iam::123456789012:role/R",
    }
    return _changed(args, changes)


def _training(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "AlgorithmSpecification": {"TrainingImage": "image:1", "TrainingInputMode": "File"},
        "HyperParameters": {"eta": "0.1"},
        "OutputDataConfig": {"S3OutputPath": PER_EXECUTION},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "RoleArn": "arn:aws:iam::123456789012:role/R",
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
    return _changed(args, changes)


def _transform(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "ModelName": "model-a",
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/in"}}},
        "TransformOutput": {"S3OutputPath": PER_EXECUTION},
        "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
    }
    return _changed(args, changes)


def _tuning(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "HyperParameterTuningJobConfig": {"Strategy": "Bayesian"},
        "TrainingJobDefinition": {
            "StaticHyperParameters": {"epochs": "3"},
            "OutputDataConfig": {"S3OutputPath": PER_EXECUTION},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        },
    }
    return _changed(args, changes)


def _changed(args: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`args` with each `A__B__C=value` change set at that path (`__0` indexes a list)."""
    for path, value in changes.items():
        target: Any = args
        parts = path.split("__")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        target[parts[-1]] = value
    return args


# (step type, Arguments with the parameter P somewhere, whether another P reruns the step)
CASES = [
    pytest.param("Processing", _processing(), False, id="processing-output-path-holds-the-execution-id"),
    pytest.param(
        "Processing",
        _processing(ProcessingResources__ClusterConfig__InstanceType=P),
        False,
        id="processing-instance-type",
    ),
    pytest.param("Processing", _processing(RoleArn=P), False, id="processing-role"),
    pytest.param("Processing", _processing(Environment__MODE=P), True, id="processing-environment"),
    pytest.param(
        "Processing", _processing(ProcessingInputs__0__S3Input__S3Uri=P), True, id="processing-inputs"
    ),
    pytest.param("Processing", _processing(AppSpecification__ImageUri=P), True, id="processing-image"),
    pytest.param("Training", _training(ResourceConfig__InstanceType=P), False, id="training-instance-type"),
    pytest.param("Training", _training(StoppingCondition__MaxRuntimeInSeconds=P), False, id="training-stop"),
    pytest.param("Training", _training(HyperParameters__eta=P), True, id="training-hyperparameters"),
    pytest.param("Training", _training(AlgorithmSpecification__TrainingImage=P), True, id="training-image"),
    pytest.param("Transform", _transform(TransformResources__InstanceType=P), False, id="transform-instance"),
    pytest.param("Transform", _transform(ModelName=P), True, id="transform-model"),
    pytest.param(
        "Tuning",
        _tuning(TrainingJobDefinition__ResourceConfig__InstanceType=P),
        False,
        id="tuning-definition-resources",
    ),
    pytest.param(
        "Tuning",
        _tuning(TrainingJobDefinition__StaticHyperParameters__epochs=P),
        True,
        id="tuning-static-hyperparameters",
    ),
    pytest.param("Tuning", _tuning(HyperParameterTuningJobConfig__Strategy=P), True, id="tuning-config"),
    pytest.param("EMR", {"ClusterId": "j-1", "StepConfig": {"HadoopJarStep": {"Args": [P]}}}, True, id="emr"),
]


@pytest.mark.parametrize(("kind", "arguments", "reruns"), CASES)
def test_only_the_documented_key_attributes_rerun_a_cached_step(
    kind: str, arguments: dict[str, Any], reruns: bool
) -> None:
    h = Harness()
    parameters = [{"Name": "P", "Type": "String", "DefaultValue": "1"}]
    pipeline = h.pipeline(definition(step("S", kind, Arguments=arguments, **CACHED), parameters=parameters))
    first = h.start(pipeline)
    assert h.run(first) == "Succeeded"
    second = h.start(pipeline, parameters=[{"Name": "P", "Value": "2"}])
    assert h.steps(second)["S"].cache_source_arn == (None if reruns else first.arn)


def test_a_changed_check_configuration_reruns_a_check_step_but_its_output_path_does_not() -> None:
    h = Harness()
    check = step(
        "Check",
        "QualityCheck",
        Arguments=_processing(),
        CheckType="DATA_QUALITY",
        SkipCheck=P,
        RegisterNewBaseline=False,
        **CACHED,
    )
    parameters = [{"Name": "P", "Type": "Boolean", "DefaultValue": False}]
    pipeline = h.pipeline(definition(check, parameters=parameters))
    first = h.start(pipeline)
    assert h.run(first) == "Succeeded"
    again = h.start(pipeline)  # a new execution id in the output path only
    assert h.steps(again)["Check"].cache_source_arn == first.arn
    skipping = h.start(pipeline, parameters=[{"Name": "P", "Value": "true"}])
    assert h.steps(skipping)["Check"].cache_source_arn is None


def test_lambda_is_cached_on_its_function_and_its_whole_input() -> None:
    """No key is documented for Lambda steps: the function and every member of its input count."""
    h = Harness()
    parameters = [{"Name": "P", "Type": "String", "DefaultValue": "1"}]
    function = "arn:aws:lambda:us-east-1:123456789012:function:f"
    lam = step("L", "Lambda", Arguments={"x": P}, FunctionArn=function, **CACHED)
    text = json.dumps(definition(lam, parameters=parameters))
    pipeline = h.pipeline(text)
    first = h.start(pipeline)
    assert h.run(first) == "Succeeded"
    assert h.steps(h.start(pipeline))["L"].cache_source_arn == first.arn
    assert h.steps(h.start(pipeline, parameters=[{"Name": "P", "Value": "2"}]))["L"].cache_source_arn is None
    # The same input to another function is another computation.
    pipeline.versions.append(
        PipelineVersion(
            version_id=2, created=h.clock.now(), definition=text.replace(function, function + "2")
        )
    )
    assert h.steps(h.start(pipeline, version_id=2))["L"].cache_source_arn is None


def test_callback_and_condition_steps_never_hit_the_cache() -> None:
    """CacheConfig on a step type with no documented key is ignored: a Callback's result comes from whoever
    answers it, and a Condition only decides."""
    h = Harness("[pipelines.p.steps.Wait]\ncallback_reply_after = 60\n")
    condition = step(
        "Decide",
        "Condition",
        Arguments={"Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}], "IfSteps": []},
        **CACHED,
    )
    wait = step("Wait", "Callback", SqsQueueUrl="https://sqs.us-east-1.amazonaws.com/1/q", **CACHED)
    pipeline = h.pipeline(definition(condition, wait))
    first = h.start(pipeline)
    assert h.run(first) == "Succeeded"
    second = h.start(pipeline)
    assert h.run(second) == "Succeeded"
    steps = h.steps(second)
    assert steps["Decide"].cache_source_arn is None and steps["Wait"].cache_source_arn is None
    assert (
        steps["Wait"].metadata["Callback"]["CallbackToken"]
        != h.steps(first)["Wait"].metadata["Callback"]["CallbackToken"]
    )


def test_cache_hit_on_second_execution_and_miss_when_arguments_differ() -> None:
    h = Harness()
    cached = step(
        "Prep",
        Arguments={"Environment": {"Mode": {"Get": "Parameters.Mode"}}},
        CacheConfig={"Enabled": True, "ExpireAfter": "PT2H"},
    )
    pipeline = h.pipeline(
        definition(
            cached,
            step("Train", "Training", DependsOn=["Prep"]),
            parameters=[{"Name": "Mode", "Type": "String", "DefaultValue": "a"}],
        )
    )
    first = h.start(pipeline)
    assert h.run(first) == "Succeeded"
    second = h.start(pipeline)
    prep = h.steps(second)["Prep"]
    assert prep.status == "Succeeded" and prep.cache_source_arn == first.arn
    assert prep.start == prep.end == second.created
    assert prep.metadata == h.steps(first)["Prep"].metadata  # the source's job, not a new one
    assert h.steps(second)["Train"].cache_source_arn is None  # no CacheConfig: runs again
    other = h.start(pipeline, parameters=[{"Name": "Mode", "Value": "b"}])
    assert h.steps(other)["Prep"].cache_source_arn is None
    assert h.run(second) == "Succeeded" and h.run(other) == "Succeeded"
    h.advance(3 * 3600)  # past ExpireAfter
    late = h.start(pipeline)
    assert h.steps(late)["Prep"].cache_source_arn is None


def test_an_earlier_run_nobody_looked_at_since_it_ended_is_reused() -> None:
    """Executions advance lazily: the start catches the pipeline's earlier runs up to now first."""
    h = Harness()
    pipeline = h.pipeline(definition(step("Prep", **CACHED)))
    first = h.start(pipeline)
    h.clock.advance(3600)  # the clock moves on; nobody asks about `first`, so it is not advanced
    second = h.start(pipeline)
    assert first.status == "Succeeded"
    assert h.steps(second)["Prep"].cache_source_arn == first.arn


def test_expire_after_counts_from_the_run_reused_not_from_the_last_hit() -> None:
    h = Harness()
    pipeline = h.pipeline(definition(step("Prep", CacheConfig={"Enabled": True, "ExpireAfter": "PT12H"})))
    first = h.start(pipeline)
    assert h.run(first) == "Succeeded"
    h.advance(8 * 3600)
    hit = h.start(pipeline)
    assert h.steps(hit)["Prep"].cache_source_arn == first.arn
    h.advance(5 * 3600)  # 13 h after the run, 5 h after the hit
    assert h.steps(h.start(pipeline))["Prep"].cache_source_arn is None


@pytest.mark.parametrize(
    ("expire_after", "fresh", "stale"),
    [
        ("PT1H", 3000, 4000),
        ("T16m", 900, 1000),
        ("30dT5h", 30 * 86400, 31 * 86400),
        ("2w", 13 * 86400, 15 * 86400),
    ],
)
def test_expire_after_reads_the_forms_the_guide_writes(expire_after: str, fresh: float, stale: float) -> None:
    for age, hits in ((fresh, True), (stale, False)):
        h = Harness()
        pipeline = h.pipeline(
            definition(step("Prep", CacheConfig={"Enabled": True, "ExpireAfter": expire_after}))
        )
        first = h.start(pipeline)
        assert h.run(first) == "Succeeded"
        ended = h.steps(first)["Prep"].end
        assert ended is not None
        h.advance(ended + age - h.clock.now())
        assert h.steps(h.start(pipeline))["Prep"].cache_source_arn == (first.arn if hits else None)
