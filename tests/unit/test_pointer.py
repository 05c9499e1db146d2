"""JSON pointers in messages follow RFC 6901: a key or user name holding `/` or `~` stays unambiguous."""

from __future__ import annotations

import pytest

from reconciler.errors import DesiredStateError, ValidationErrors
from reconciler.files.desired import load_models
from reconciler.plan import saved_plan
from reconciler.pointer import child, pointer, token


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([], "/"),
        (["tags", "team"], "/tags/team"),
        (["tags", "a/b"], "/tags/a~1b"),
        (["tags", "a~b"], "/tags/a~0b"),
        (["tags", "~1"], "/tags/~01"),  # escaped ~ first: "~1" is not read back as "/"
        (["permissions", "ml/ops~team@example.com"], "/permissions/ml~1ops~0team@example.com"),
        (["versions", 3, "stage"], "/versions/3/stage"),
        (["", "x"], "//x"),
    ],
)
def test_pointer_escapes_tilde_then_slash(steps, expected):
    assert pointer(steps) == expected


def test_child_and_token_compose_the_same_pointer():
    assert child(child("", "tags"), "a/b~c") == pointer(["tags", "a/b~c"]) == "/tags/" + token("a/b~c")
    assert token("a/b~c") == "a~1b~0c"


def test_a_schema_error_under_a_tag_key_with_a_slash_names_it_unambiguously(tmp_path):
    (tmp_path / "churn.yaml").write_text("name: churn\ntags:\n  a/b: [1]\n")  # MLflow tag keys may hold `/`
    with pytest.raises(ValidationErrors) as info:
        load_models(tmp_path)
    (error,) = info.value.errors
    assert "churn.yaml:3: /tags/a~1b: " in str(error)


def test_a_saved_plan_names_a_bad_string_under_a_user_name_with_slash_and_tilde():
    doc = {"name": "churn", "permissions": {"ml/ops~x": "READ\x07"}}
    with pytest.raises(DesiredStateError, match=r"^plan\.json/permissions/ml~1ops~0x: "):
        saved_plan._desired(doc, "plan.json")
