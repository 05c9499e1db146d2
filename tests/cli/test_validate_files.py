"""`reconciler validate --offline` as a subprocess: bad bytes are a user error (exit 1), not a crash,
and the offline path imports neither MLflow nor the registry client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def validate(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    cmd = [sys.executable, *extra, "-m", "reconciler", "validate", "--offline", "--models-dir", str(tmp_path / "m")]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_a_latin1_file_is_exit_1_with_its_line_and_byte(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "churn.yaml").write_bytes("name: churn\ndescription: d\xe9j\xe0 vu\n".encode("latin-1"))
    done = validate(tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        f"error: {tmp_path / 'm' / 'churn.yaml'}:2: not UTF-8: byte 0xe9 at column 15 (offset 26); "
        "save the file as UTF-8\n"
    )
    assert not (tmp_path / "cache" / "reconciler" / "crash.log").exists()


def test_upper_case_suffix_is_validated_and_reserved_names_skipped(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "churn.YAML").write_text("name: churn\n")
    (tmp_path / "m" / "_settings.yaml").write_text("anything: at all\n")
    done = validate(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 model file(s)" in done.stdout


def test_offline_validate_imports_no_mlflow_and_no_registry_client(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "churn.yaml").write_text("name: churn\n")
    done = validate(tmp_path, "-X", "importtime")
    assert done.returncode == 0, done.stderr
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "reconciler.files.desired" in modules
    unwanted = {
        m for m in modules if m.split(".")[0] in ("mlflow", "urllib3", "requests", "tenacity", "ruamel", "jsonschema")
    }
    assert not unwanted, sorted(unwanted)


def test_plan_over_http_imports_neither_mlflow_nor_the_round_trip_yaml_library(tmp_path):
    """A no-op plan against a server reads through the REST client: MLflow (about 1 s of imports)
    and ruamel.yaml (import's round-trip writer) stay out of its start-up, `--out` included."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "churn.yaml").write_text("name: churn\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), MLFLOW_TRACKING_URI="http://127.0.0.1:9")  # nobody listens
    cmd = [sys.executable, "-X", "importtime", "-m", "reconciler", "plan", "--models-dir", "m", "--out", "p.json"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 1 and "cannot reach the registry http://127.0.0.1:9" in done.stderr
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "reconciler.registry.reader" in modules
    assert not {m for m in modules if m.split(".")[0] in ("mlflow", "ruamel", "sqlalchemy")}


def test_valid_files_do_not_pay_for_line_numbers(tmp_path):
    """Lines come from re-reading a file with PyYAML's reference reader: only error messages pay for
    that. A valid file with `stage_aliases` paid it on every load (about 1 ms a file)."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "churn.yaml").write_text(
        "name: churn\nversions:\n  1: {stage: Staging}\npolicy:\n  stage_aliases: {Staging: staging}\n"
    )
    done = validate(tmp_path, "-X", "importtime")
    assert done.returncode == 0, done.stderr
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "reconciler.files.yamlsource" in modules and "yaml_rs" in modules
    assert "reconciler.files.yamlstrict" not in modules and "yaml" not in modules


def test_a_database_uri_without_its_driver_is_a_user_error(tmp_path):
    """mysql:// is a database MLflow accepts; without its driver installed, plan said "internal error"."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "churn.yaml").write_text("name: churn\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), MLFLOW_TRACKING_URI="mysql://u:pw0rd@127.0.0.1:9/db")
    cmd = [sys.executable, "-m", "reconciler", "plan", "--models-dir", "m"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "database driver (MySQLdb) is not installed" in done.stderr and "pw0rd" not in done.stderr
    assert not (tmp_path / "cache" / "reconciler" / "crash.log").exists()
