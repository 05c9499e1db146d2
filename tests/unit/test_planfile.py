"""Reading a saved plan: bounded in size and time, strict at the top level, and every failure a
one-line PlanFileError (each case failed before the fix: `apply /dev/zero` grew to 9.5 GB,
`/dev/urandom` and a FIFO hung, a 5,000-digit number was an internal error, an array said
"format_version None", and `format_version: 2.0` was accepted)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from reconciler.errors import PlanFileError
from reconciler.plan import saved_plan
from tests.unit.test_planner_golden import CASES, plan_for

AGAIN = "make one with 'reconciler plan --out FILE'"


@pytest.fixture(scope="module")
def saved() -> dict:
    return json.loads(saved_plan.text(plan_for(CASES / "keep-latest")))


def refused(path: Path, within: float = 10.0) -> str:
    """The message `saved_plan.read(path)` refuses it with, in a thread that must finish in time."""
    outcome: list[BaseException | object] = []
    reader = threading.Thread(target=lambda: outcome.append(_read(path)), daemon=True)
    started = time.monotonic()
    reader.start()
    reader.join(within)
    assert not reader.is_alive(), f"reading {path} did not finish within {within} s"
    assert time.monotonic() - started < within
    assert isinstance(outcome[0], PlanFileError), outcome
    message = str(outcome[0])
    assert "\n" not in message and message.startswith(str(path)), message
    return message


def _read(path: Path) -> BaseException | object:
    try:
        return saved_plan.read(path)
    except Exception as e:  # returned for the test to judge: any other kind is the failure
        return e


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "plan.json"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_a_saved_plan_still_reads(tmp_path, saved):
    plan = saved_plan.read(write(tmp_path, json.dumps(saved)))
    assert plan.plan_hash == saved["plan_hash"] and len(plan.changes) == 3


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused_without_reading_it(device):
    assert refused(Path(device)) == (
        f"{device}: is a character device, not a plan file; give the file 'reconciler plan --out FILE' wrote"
    )


def test_a_fifo_without_a_writer_is_refused_at_once(tmp_path):
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    assert "is a named pipe (FIFO), not a plan file" in refused(fifo)


def test_a_directory_is_refused(tmp_path):
    assert "is a directory, not a plan file" in refused(tmp_path)


def test_a_file_over_the_limit_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "plan.json"
    with path.open("wb") as f:
        f.truncate(saved_plan.MAX_PLAN_BYTES + 1)  # sparse: nothing to read, but its size says it all
    assert f"over {saved_plan.MAX_PLAN_BYTES // 2**20} MiB, far more than a plan" in refused(path, within=2.0)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"format_version": 2, "n": ' + "9" * 5000 + "}", "it holds an integer of 5,000 digits"),
        ('{"format_version": 2, "n": -' + "1" * 4301 + "}", "it holds an integer of 4,301 digits"),
        ('{"format_version": 2, "n": NaN}', "it holds NaN, which is not JSON"),
        ('{"format_version": 2, "n": -Infinity}', "it holds -Infinity, which is not JSON"),
        ('{"format_version": 2, "n": 1e999}', "it holds the number 1e999 (out of range)"),
        (b'{"format_version": 2, "n": "\xff"}', "not a JSON plan (not UTF-8 at byte offset 28)"),
        ('{"format_version": 2,', "not a JSON plan (line 1 column 22: Expecting property name"),
        ("[" * 100_000 + "]" * 100_000, "not a JSON plan (nested too deeply)"),
        ('{"a": ' * 100 + "1" + "}" * 100, "nested over 64 levels"),
    ],
)
def test_bad_json_and_numbers_are_one_line(tmp_path, text, says):
    message = refused(write(tmp_path, text))
    assert says in message and message.endswith(AGAIN), message


@pytest.mark.parametrize(
    ("top", "says"),
    [
        ([], "a saved plan is a JSON object, not an array"),
        ([{"format_version": 2}], "a saved plan is a JSON object, not an array"),
        ("plan", "a saved plan is a JSON object, not a string"),
        (None, "a saved plan is a JSON object, not null"),
        ({}, "the plan has no format_version (is it a saved plan?)"),
        ({"format_version": 2.0}, "plan format_version 2.0 is not 2 (an integer)"),
        ({"format_version": True}, "plan format_version true is not 2 (an integer)"),
        ({"format_version": "2"}, 'plan format_version "2" is not 2 (an integer)'),
        ({"format_version": 1}, "plan format_version 1 is not 2 (an integer)"),
    ],
)
def test_the_top_level_is_an_object_with_the_integer_format_version(tmp_path, top, says):
    assert says in refused(write(tmp_path, json.dumps(top)))


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("scope", "churn", "#/scope: a string, where a plan has an array"),
        ("registry", ["sqlite:///x.db"], "#/registry: an array, where a plan has a string"),
        ("summary", [], "#/summary: an array, where a plan has an object"),
        ("signature", 7, "#/signature: an integer, where a plan has a string"),
        ("changes", None, "#/changes: null, where a plan has an array"),
    ],
)
def test_each_top_level_key_has_its_type(tmp_path, saved, key, value, says):
    assert says in refused(write(tmp_path, json.dumps({**saved, key: value})))


def test_a_missing_key_is_named(tmp_path, saved):
    del saved["notes"]
    assert "the plan has no 'notes'" in refused(write(tmp_path, json.dumps(saved)))


def test_plan_out_refuses_to_save_what_apply_would_refuse(tmp_path, monkeypatch):
    plan = plan_for(CASES / "keep-latest")
    assert saved_plan.saved_text(plan, tmp_path / "p.json") == saved_plan.text(plan)
    monkeypatch.setattr(saved_plan, "MAX_PLAN_BYTES", len(saved_plan.text(plan).encode()) - 1)
    with pytest.raises(PlanFileError, match=r"p\.json: the plan would be 0\.0 MiB, over the 0 MiB that"):
        saved_plan.saved_text(plan, tmp_path / "p.json")
