"""Helpers the tests share: real services, the registry simulator and its JSON, sandboxes, faults, generators."""
