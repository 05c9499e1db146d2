"""The registry calls behind each field's writes: one small function per call.

`clients.registry` is an `mlflow.MlflowClient`; these functions only call its methods, so this
module imports nothing from MLflow. Tests use doubles made with `create_autospec(MlflowClient)`,
so a call MLflow does not have fails there as it would here; `fields/seams.py` types both sides.
"""

from __future__ import annotations

from reconciler.fields.seams import EntryAddress, WriteClients, entry


def create_model(clients: WriteClients, address: EntryAddress, description: str) -> None:
    clients.registry.create_registered_model(address.model, description=description or None)


def model_description(clients: WriteClients, address: EntryAddress, value: str) -> None:
    clients.registry.update_registered_model(address.model, description=value)


def version_description(clients: WriteClients, address: EntryAddress, value: str) -> None:
    clients.registry.update_model_version(address.model, str(address.version), description=value)


def model_tag(clients: WriteClients, address: EntryAddress, value: str) -> None:
    clients.registry.set_registered_model_tag(address.model, entry(address), value)


def delete_model_tag(clients: WriteClients, address: EntryAddress) -> None:
    clients.registry.delete_registered_model_tag(address.model, entry(address))


def version_tag(clients: WriteClients, address: EntryAddress, value: str) -> None:
    clients.registry.set_model_version_tag(address.model, str(address.version), entry(address), value)


def delete_version_tag(clients: WriteClients, address: EntryAddress) -> None:
    clients.registry.delete_model_version_tag(address.model, str(address.version), entry(address))


def alias(clients: WriteClients, address: EntryAddress, version: int) -> None:
    clients.registry.set_registered_model_alias(address.model, entry(address), str(version))


def delete_alias(clients: WriteClients, address: EntryAddress) -> None:
    clients.registry.delete_registered_model_alias(address.model, entry(address))


def stage(clients: WriteClients, address: EntryAddress, value: str) -> None:
    # Other holders of the stage are archived by the plan's own changes, never implicitly.
    clients.registry.transition_model_version_stage(
        address.model, str(address.version), str(value), archive_existing_versions=False
    )
