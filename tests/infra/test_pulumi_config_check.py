"""Both committed stacks pass the Pulumi CLI's config check (mirrored in tests/infra/pulumi_rules.py),
and the project file declares config the way Pulumi accepts it."""

from __future__ import annotations

import copy

import pytest

from tests.infra.harness import REPO, load_yaml, stack_config
from tests.infra.pulumi_rules import config_errors

pytestmark = pytest.mark.infra

PROJECT = load_yaml(REPO / "Pulumi.yaml")
STACKS = ("local", "prod")


def _stack(name: str) -> dict:
    return load_yaml(REPO / f"Pulumi.{name}.yaml")["config"]


@pytest.mark.parametrize("stack", STACKS)
def test_committed_stack_passes_the_cli_config_check(stack):
    assert config_errors(stack, PROJECT, _stack(stack)) == []


def test_the_rule_catches_what_the_old_project_file_missed():
    """The keys issue 9 lists, declared typed without a default, as before: Pulumi refuses both stacks."""
    old = copy.deepcopy(PROJECT)
    for key in ("mlflowImage", "hostname", "tlsSecretName", "clusterIssuer", "storageClass", "s3EndpointUrl"):
        del old["config"][key]["default"]
    local = {k: v for k, v in _stack("local").items()}
    assert config_errors("local", old, local) == [
        "Stack 'local' is missing configuration values 'clusterIssuer', 'hostname', 'mlflowImage', "
        "'s3EndpointUrl', 'storageClass' and 'tlsSecretName'"
    ]
    prod = {k: v for k, v in _stack("prod").items() if k.split(":")[1] not in ("storageClass", "s3EndpointUrl")}
    assert config_errors("prod", old, prod) == [
        "Stack 'prod' is missing configuration values 's3EndpointUrl' and 'storageClass'"
    ]
    one = {k: v for k, v in prod.items() if k != "mlflow-registry:mlflowImage"}
    assert config_errors(
        "prod", old, {**one, "mlflow-registry:storageClass": "gp3", "mlflow-registry:s3EndpointUrl": ""}
    ) == ["Stack 'prod' is missing configuration value 'mlflowImage'"]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("mlflowPort", "five thousand", "must be of type 'integer'"),
        ("externalS3", "yes", "must be of type 'boolean'"),
        ("hostname", {"a": 1}, "must be of type 'string'"),
    ],
)
def test_the_rule_catches_mistyped_values(key, value, message):
    config = {**_stack("prod"), f"mlflow-registry:{key}": value}
    (error,) = config_errors("prod", PROJECT, config)
    assert error == f"Stack 'prod' with configuration key '{key}' {message}"


def test_project_file_declares_config_as_pulumi_accepts():
    """Pulumi types project config as string, integer, boolean or array (arrays need `items`);
    a default must have the declared type. Keys holding objects are documented, not declared."""
    assert PROJECT["runtime"]["name"] == "python" and PROJECT["main"] == "infra/"
    python_types = {"string": str, "integer": int, "boolean": bool, "array": list}
    for key, decl in PROJECT["config"].items():
        assert set(decl) <= {"type", "items", "description", "secret", "default"}, key
        assert decl["type"] in python_types, f"{key}: type {decl['type']!r} is not one Pulumi accepts"
        assert decl["type"] != "array" or "items" in decl, key
        assert "default" in decl, f"{key}: without a default every stack must set it"
        expected = python_types[decl["type"]]
        assert isinstance(decl["default"], expected) and not (expected is int and isinstance(decl["default"], bool)), (
            key
        )


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_receives_the_declared_defaults(stack):
    """As the CLI does, the harness fills in Pulumi.yaml's defaults: the program sees every key."""
    values = stack_config(stack)["values"]
    assert {f"mlflow-registry:{k}" for k in PROJECT["config"]} <= set(values)


UPSTREAM = {"name": "test", "runtime": "dotnet"}


@pytest.mark.parametrize(
    ("declared", "stack", "message"),
    [  # pulumi/pulumi sdk/go/common/workspace/project_test.go (fd2f0554)
        (  # TestStackConfigErrorsWhenMissingStackValueForConfigTypeWithNoDefault
            {"values": {"type": "array", "items": {"type": "string"}}},
            {},
            "Stack 'dev' is missing configuration value 'values'",
        ),
        (  # ...MissingTwoStackValue...
            {"another": {"type": "string"}, "values": {"type": "array", "items": {"type": "string"}}},
            {},
            "Stack 'dev' is missing configuration values 'another' and 'values'",
        ),
        (  # ...MissingMultipleStackValue...
            {
                "hello": {"type": "integer"},
                "values": {"type": "array", "items": {"type": "string"}},
                "world": {"type": "string"},
            },
            {},
            "Stack 'dev' is missing configuration values 'hello', 'values' and 'world'",
        ),
        (  # TestStackConfigSecretIsCorrectlyValidated (the plain value)
            {"importantNumber": {"type": "integer", "secret": True}},
            {"test:importantNumber": 20},
            "Stack 'dev' with configuration key 'importantNumber' must be encrypted as it's secret",
        ),
        (  # TestStackConfigIntegerTypeIsCorrectlyValidated (the invalid stack)
            {"importantNumber": {"type": "integer"}},
            {"test:importantNumber": "hello"},
            "Stack 'dev' with configuration key 'importantNumber' must be of type 'integer'",
        ),
    ],
)
def test_the_mirror_answers_as_upstreams_tests(declared, stack, message):
    assert config_errors("dev", {**UPSTREAM, "config": declared}, stack) == [message]


def test_the_mirror_accepts_what_upstream_accepts():
    """TestStackConfigDoesNotErrorWhenProjectHasNotDefinedConfig, and the encrypted secret."""
    assert config_errors("dev", UPSTREAM, {"test:hello": 21, "test:world": 42}) == []
    secret = {**UPSTREAM, "config": {"importantNumber": {"type": "integer", "secret": True}}}
    assert config_errors("dev", secret, {"test:importantNumber": {"secure": "MjA="}}) == []
