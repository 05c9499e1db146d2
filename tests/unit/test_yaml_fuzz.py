"""The loader and validator under generated input (a few hundred examples here; bench/fuzz_loader.py
runs 10,000+): only one-line DesiredStateErrors, only plain data, the two readers agree."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from tests.support import yamlfuzz
from tests.support.yamlcheck import check_input

FAST = settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@FAST
@given(yamlfuzz.documents())
def test_documents_in_every_style(content):
    check_input(content)


@FAST
@given(yamlfuzz.mutated())
def test_mutated_files(content):
    check_input(content)


@FAST
@given(yamlfuzz.scalar_swaps())
def test_every_scalar_in_every_position(content):
    check_input(content)


@settings(FAST, max_examples=30)
@given(yamlfuzz.bombs())
def test_bombs_and_deep_nesting(content):
    check_input(content)


@FAST
@given(yamlfuzz.random_bytes)
def test_random_bytes(content):
    check_input(content)
