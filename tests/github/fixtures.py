"""pytest fixtures for tests that talk to GitHub (registered in tests/conftest.py for every test).

- `github_contract`: GitHub's OpenAPI description loaded and its validators built, once per session.
- `fake_github`: a FakeGitHub on a free loopback port; at teardown it fails the test if a request broke
  the contract (take expected ones with `take_violations()`) or the fake answered outside the spec.
- `expression_evaluator`: one Node process running GitHub's expression evaluator, per session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from . import spec
from .contract import Contract, contract
from .expressions import Evaluator
from .fake import FakeGitHub


@pytest.fixture(scope="session")
def github_contract() -> dict[str, Contract]:
    return {version: contract(version) for version in spec.supported_versions()}


@pytest.fixture
def fake_github(tmp_path: Path, github_contract: dict[str, Contract]) -> Iterator[FakeGitHub]:
    gh = FakeGitHub(tmp_path / "github")
    try:
        yield gh
    finally:
        gh.close()
    gh.assert_clean()


@pytest.fixture(scope="session")
def expression_evaluator() -> Iterator[Evaluator]:
    with Evaluator() as evaluator:
        yield evaluator
