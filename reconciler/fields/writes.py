"""The registry calls behind each field's writes: one small function per call.

`clients.registry` is an `mlflow.MlflowClient`; these functions only call its methods, so this
module imports nothing from MLflow. Tests use doubles made with `create_autospec(MlflowClient)`,
so a call MLflow does not have fails there as it would here.
"""

from __future__ import annotations

from typing import Any


def create_model(clients: Any, address: Any, description: str) -> None:
    clients.registry.create_registered_model(address.model, description=description or None)


def model_description(clients: Any, address: Any, value: str) -> None:
    clients.registry.update_registered_model(address.model, description=value)


def version_description(clients: Any, address: Any, value: str) -> None:
    clients.registry.update_model_version(address.model, str(address.version), description=value)


def model_tag(clients: Any, address: Any, value: str) -> None:
    clients.registry.set_registered_model_tag(address.model, address.key, value)


def delete_model_tag(clients: Any, address: Any) -> None:
    clients.registry.delete_registered_model_tag(address.model, address.key)


def version_tag(clients: Any, address: Any, value: str) -> None:
    clients.registry.set_model_version_tag(address.model, str(address.version), address.key, value)


def delete_version_tag(clients: Any, address: Any) -> None:
    clients.registry.delete_model_version_tag(address.model, str(address.version), address.key)


def alias(clients: Any, address: Any, version: int) -> None:
    clients.registry.set_registered_model_alias(address.model, address.key, str(version))


def delete_alias(clients: Any, address: Any) -> None:
    clients.registry.delete_registered_model_alias(address.model, address.key)


def stage(clients: Any, address: Any, value: str) -> None:
    # Other holders of the stage are archived by the plan's own changes, never implicitly.
    clients.registry.transition_model_version_stage(
        address.model, str(address.version), str(value), archive_existing_versions=False
    )
