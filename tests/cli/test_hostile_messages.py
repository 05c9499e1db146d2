"""What reaches the terminal when the input is hostile or mistyped, and how the process ends: the
CLI as a subprocess (no server: the URIs here reach nothing)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import secrets_scan

SECRET = "S3cretPW-hostile-9f2c"  # fixed: parametrized ids must be the same in every xdist worker
secrets_scan.register(SECRET)


def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    base["XDG_CACHE_HOME"] = str(cwd / "cache")
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "churn.yaml").write_text("name: churn\ndescription: Churn model\n")
    return tmp_path


@pytest.mark.parametrize(
    "uri",
    [
        f"postgres://bob:{SECRET}@127.0.0.1:1/db",  # MLflow quotes the URI it does not support
        f"htps://bob:{SECRET}@127.0.0.1:1/db",
        f"http//bob:{SECRET}@127.0.0.1:1/db",
        f"http:/bob:{SECRET}@127.0.0.1:1/db",
        f"bob:{SECRET}@127.0.0.1:1/db",
        f"https://{SECRET}@127.0.0.1:1/",
        f"postgresql://127.0.0.1:1/db?sslmode=disable&password={SECRET}",
    ],
)
def test_a_mistyped_tracking_uri_is_never_printed_with_its_password(checkout, uri):
    done = run(checkout, "plan", env={"MLFLOW_TRACKING_URI": uri})
    assert done.returncode == 1, done.stderr
    assert SECRET not in done.stdout + done.stderr, done.stderr
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1, done.stderr


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        (f"http://u:{SECRET}@[::1", "MLFLOW_TRACKING_URI is not a URI (http://u:***@[::1): its host cannot"),
        (f"sqlite://u:{SECRET}@/x.db", "MLFLOW_TRACKING_URI sqlite://u:***@/x.db names no SQLite file"),
        (f"postgresql://u:{SECRET}@db:abc/x", "is not a URI (postgresql://u:***@db:abc/x): its port"),
        (f"https://u:{SECRET}@[zz]/", "MLFLOW_TRACKING_URI is not a URI (https://u:***@[zz]/): its host cannot"),
    ],
)
def test_a_uri_that_cannot_be_parsed_is_a_one_line_user_error(checkout, uri, words):
    """They were internal errors (exit 3), with the traceback saved."""
    done = run(checkout, "plan", env={"MLFLOW_TRACKING_URI": uri})
    assert done.returncode == 1 and words in done.stderr, done.stderr
    assert len(done.stderr.splitlines()) == 1 and SECRET not in done.stderr
    assert not (checkout / "cache").exists()


# A password holding an unencoded `/`, `?` or `#`: the URL parser ends the host there and reads the
# password's first piece as the port, and its error text quoted that piece.
PIECE = "longpass123hostile"


@pytest.mark.parametrize("variable", ["MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"])
@pytest.mark.parametrize(
    "uri",
    [
        f"http://bob:{PIECE}/abcdef@127.0.0.1:9/",
        f"https://ci:{PIECE}?xyzzy@127.0.0.1:9/",
        f"postgresql://bob:{PIECE}/abcdef@127.0.0.1:9/db",
        f"http://bob:{PIECE}#abcdef@127.0.0.1:9/",
        "http://bob:123/abcdef@127.0.0.1:9/",  # a "port" the parser can read: the rest was the path
    ],
)
def test_no_piece_of_a_password_with_an_unencoded_delimiter_is_printed(checkout, variable, uri):
    done = run(checkout, "plan", env={variable: uri})
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"error: {variable} is not a URI (") and len(done.stderr.splitlines()) == 1
    assert "percent-encode" in done.stderr, done.stderr
    for piece in (PIECE, "abcdef", "xyzzy"):
        assert piece not in done.stdout + done.stderr, done.stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MLFLOW_TRACKING_USERNAME": "bob", "MLFLOW_TRACKING_PASSWORD": "Eur\u20acSecret77"}, "_PASSWORD"),
        ({"MLFLOW_TRACKING_USERNAME": "b\u00f6b", "MLFLOW_TRACKING_PASSWORD": "Secret77"}, "MLFLOW_TRACKING_USERNAME"),
        ({"MLFLOW_TRACKING_TOKEN": "tok\u20acSecret77"}, "MLFLOW_TRACKING_TOKEN"),
        ({"MLFLOW_TRACKING_URI": "http://bob:Sx%ecret9@127.0.0.1:9/"}, "MLFLOW_TRACKING_URI"),
        ({"MLFLOW_REGISTRY_URI": "http://bob:Eur\u20acSecret77@127.0.0.1:9/"}, "MLFLOW_REGISTRY_URI"),
    ],
)
def test_credentials_outside_ascii_are_a_one_line_error_naming_the_variable(checkout, env, named):
    """They were `internal error: UnicodeEncodeError: ... character '\\u20ac' in position 3`, exit 3."""
    env = {"MLFLOW_TRACKING_URI": "http://127.0.0.1:9/", **env}
    done = run(checkout, "plan", env=env)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("error: ") and named in done.stderr and len(done.stderr.splitlines()) == 1
    for piece in ("\u20ac", "\u00f6", "\\u", "Secret77", "Sx", "cret9", "position"):
        assert piece not in done.stdout + done.stderr, done.stderr


def test_an_internal_codec_error_names_no_character_or_position(tmp_path):
    code = (
        "from reconciler.error_handler import error_handler\n"
        "with error_handler():\n"
        "    'Eur\\u20acSecret77'.encode('latin-1')\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env = {**base, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith("error: internal error: UnicodeEncodeError: 'latin-1' codec:"), first
    assert "\\u20ac" not in first and "position" not in first and "\u20ac" not in first


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        (f"postgresql://bob@127.0.0.1:9/db?password={SECRET}&connect_timeout=x", "bad value for connect_timeout"),
        (f"http://bob:{SECRET}@{'a' * 300}.com/", "longer than DNS allows"),
        (f"http://bob:{SECRET}@{'a' * 64}.example.com/", "longer than DNS allows"),
        (f"databricks://bob:{SECRET}@x", "is no registry the reconciler can use"),
        (f"uc://bob:{SECRET}@x", "is no registry the reconciler can use"),
    ],
)
def test_a_registry_uri_mlflow_or_its_drivers_cannot_use_is_a_one_line_user_error(checkout, uri, words):
    """They were internal errors (exit 3): psycopg's ProgrammingError, urllib3's LocationParseError,
    MLflow's _NoDbutilsError."""
    done = run(checkout, "plan", env={"MLFLOW_REGISTRY_URI": uri})
    assert done.returncode == 1 and words in done.stderr, done.stderr
    assert len(done.stderr.splitlines()) == 1 and SECRET not in done.stdout + done.stderr
    assert not (checkout / "cache").exists()


CRASH = f"""
import sys
from reconciler.error_handler import error_handler
with error_handler():
    raise RuntimeError("boom: could not reach http://admin:{SECRET}@127.0.0.1:5000/x\\nsecond line")
"""


def crash(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """An internal error in a real process, through the real error handler."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return subprocess.run(
        [sys.executable, "-c", CRASH], cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_the_crash_log_is_private_masked_and_never_written_through_a_symlink(tmp_path):
    cache = tmp_path / "cache"
    (cache / "reconciler").mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (cache / "reconciler" / "crash.log").symlink_to(victim)
    done = crash(tmp_path, {"XDG_CACHE_HOME": str(cache)})
    assert done.returncode == 3, done.stderr
    log = cache / "reconciler" / "crash.log"
    assert victim.read_text() == "keep me\n" and not log.is_symlink()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text()
    assert "RuntimeError: boom: could not reach http://admin:***@127.0.0.1:5000/x" in text and SECRET not in text
    assert done.stderr.splitlines()[0] == (
        "error: internal error: RuntimeError: boom: could not reach http://admin:***@127.0.0.1:5000/x"
    )
    assert f"The traceback is in {log}" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("where", ["under a file", "read-only home"])
def test_a_crash_log_that_cannot_be_written_still_gives_one_error_line_and_the_traceback(tmp_path, where):
    """The handler itself failed with two raw tracebacks."""
    if where == "under a file":
        (tmp_path / "file").write_text("")
        env = {"XDG_CACHE_HOME": str(tmp_path / "file" / "cache")}
    else:
        if os.geteuid() == 0:  # root writes into a read-only directory: make HOME unwritable another way
            (tmp_path / "home").write_text("")
        else:
            (tmp_path / "home").mkdir(mode=0o500)
        env = {"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": ""}
    done = crash(tmp_path, env)
    assert done.returncode == 3, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "error: internal error: RuntimeError: boom: could not reach http://admin:***@127.0.0.1:5000/x"
    assert "crash.log could not be written" in lines[1] and "please report it" in lines[1]
    assert lines[2] == "Traceback (most recent call last):" and lines[-2].startswith("RuntimeError: boom")
    assert done.stderr.count("Traceback") == 1 and SECRET not in done.stderr


LOGS = f"""
import logging, warnings
import mlflow  # gives its loggers (and alembic's) a handler of their own, propagate = False
logging.basicConfig()  # a root handler made before the command, holding the original stderr (urllib3 propagates)
from reconciler.error_handler import error_handler
uri = "http://admin:{SECRET}@127.0.0.1:5000"
with error_handler():
    logging.getLogger("mlflow.tracking").warning("MLflow: %s", uri)
    logging.getLogger("alembic.runtime.migration").warning("alembic: %s", uri)
    logging.getLogger("urllib3.connectionpool").warning("urllib3: Retrying after broken connection %s", uri)
    warnings.warn("a warning: " + uri, UserWarning, stacklevel=1)
    print("printed:", uri)
"""


def test_mlflow_alembic_and_urllib3_log_lines_and_warnings_are_masked_in_a_real_process(tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    done = subprocess.run([sys.executable, "-c", LOGS], cwd=tmp_path, env=base, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    for line in ("MLflow: ", "alembic: ", "urllib3: Retrying after broken connection ", "a warning: "):
        assert f"{line}http://admin:***@127.0.0.1:5000" in done.stderr, done.stderr
    assert "printed: http://admin:***@127.0.0.1:5000" in done.stdout


def test_a_deleted_audit_journal_is_refused_with_how_to_restore_it(checkout):
    """MLflow keeps a deleted experiment (and its runs), so the journal could neither be written nor
    made again; apply failed with MLflow's "must be in the 'active' state" and no hint."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{checkout / 'mlflow.db'}"
    assert run(checkout, "apply", "--yes").returncode == 0
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    journal = client.get_experiment_by_name("gitops.audit").experiment_id
    client.delete_experiment(journal)
    (checkout / "models" / "churn.yaml").write_text("name: churn\ndescription: Churn model, v2\n")

    done = run(checkout, "apply", "--yes")

    assert done.returncode == 1, done.stderr
    hint = f"mlflow experiments restore --experiment-id {journal}"
    assert f"the audit journal (the experiment 'gitops.audit', id {journal}) is deleted" in done.stderr
    assert f"nothing was written. Restore it: {hint}" in done.stderr and len(done.stderr.splitlines()) == 1
    assert client.get_registered_model("churn").description == "Churn model"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    restored = subprocess.run(
        [sys.executable, "-m", "mlflow", *hint.split()[1:]],
        env={**env, "MLFLOW_TRACKING_URI": uri},
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert restored.returncode == 0, restored.stderr
    again = run(checkout, "apply", "--yes")
    assert again.returncode == 0, again.stderr
    assert client.get_registered_model("churn").description == "Churn model, v2"


HTTP_SETTINGS = (
    [
        ("MLFLOW_HTTP_REQUEST_TIMEOUT", v, "a whole number of seconds from 1 to 3600", "30")
        for v in ("0", "-1", "nan", "inf", "abc", "1e400", "2.5")
    ]
    + [
        ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", v, "a whole number of retries from 0 to 100", "3")
        for v in ("abc", "1.5", "-1")
    ]
    + [("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "abc", "a whole number of seconds (the first retry's backoff)", "1")]
)


@pytest.mark.parametrize(("name", "value", "expected", "default"), HTTP_SETTINGS)
def test_a_bad_http_setting_is_one_line_naming_the_variable(tmp_path, name, value, expected, default):
    """MLflow's HTTP settings were passed to int()/float()/requests unchecked: exit 3 for each."""
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.yaml").write_text("name: m\n")
    for verb in (["plan"], ["import", "--all"]):
        done = run(tmp_path, *verb, env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9", name: value})
        assert done.returncode == 1, (verb, done.stderr)
        [line] = done.stderr.splitlines()
        assert line.startswith(f"error: {name}={value!r}: expected {expected}"), line
        assert line.endswith(f"unset it for the default ({default})"), line
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["m.yaml"]


def test_history_escapes_the_recorded_commit_like_the_other_journal_fields(tmp_path):
    """`apply --commit $'c0ffee\\n2026-01-01'` split the listing, and an escape in it reached the terminal."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(tracking_uri=uri, registry_uri=uri).create_registered_model("gamma")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "gamma.yaml").write_text("name: gamma\ndescription: g3\n")
    env = {"MLFLOW_TRACKING_URI": uri}
    applied = run(tmp_path, "apply", "--yes", "--commit", "c0\x1b]0;X\x07\n2026-01-01", env=env)
    assert applied.returncode == 0, applied.stderr
    done = run(tmp_path, "history", "gamma", env=env)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout, done.stdout
    [first, *rest] = [line for line in done.stdout.splitlines() if "c0" in line]
    assert "c0\\x1b]0;X\\x07\\n2" in first and not rest, done.stdout


def test_a_line_break_in_a_model_files_name_is_escaped_in_its_one_line_error(tmp_path):
    """`models/x\\n::error::pwn.yaml` gave two "error:" lines, the second about a file '::error::pwn.yaml'."""
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.yaml").write_text("name: m\n")
    (tmp_path / "models" / "x\n::error::pwn.yaml").write_text("name: x\n")
    (tmp_path / "models" / "y\u2028z.yaml").write_text("name: y\n")
    done = run(tmp_path, "validate", "--offline")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("error: models/") for line in lines), lines
    assert any("models/x\\n::error::pwn.yaml" in line for line in lines), lines
    assert any("models/y\\u2028z.yaml" in line for line in lines), lines
