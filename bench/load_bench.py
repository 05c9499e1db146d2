"""Benchmark: loading models/*.yaml, new loader against the old ruamel.yaml one, in one run.

    .venv/bin/python bench/load_bench.py [--models 1000 --versions 20 --repeat 3 --old-rev REV]

Generates realistic files (tests/support/modelgen.py: descriptions, tags, aliases, comments, flow and block
style, some with anchors) in a temporary directory, then reports medians of --repeat runs of:
  1. `reconciler validate --offline` as a subprocess, the whole process (start, imports, load,
     checks, output), for this tree and for the old loader (the tree at --old-rev, by default the
     commit before reconciler/yamlsource.py was added);
  2. a breakdown: interpreter start + imports of the CLI (a subprocess), and, in a subprocess of
     that tree, the CPU time of parse (read + YAML), schema check, and the rest of loading (typed
     conversion, semantics). Whole processes are timed both wall and CPU (CPU is steadier on a
     shared machine);
  3. whether the validate path imports mlflow (python -X importtime);
  4. in this process, the CPU time of other YAML readers and schema validators on the same files
     (the slow ones on a sample of 100, scaled up and labeled so).
Timings on shared machines are noisy: compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.modelgen import write_models  # noqa: E402

BREAKDOWN = r"""
import json, sys, time
from pathlib import Path
import reconciler.files.desired as desired
inner = [0.0]
if NEW:  # the fast reader checks schema validity itself: count that time as the schema check's
    from reconciler.files import schemacheck
    from reconciler.files.yamlsource import read_model_file
    plain_is_valid = schemacheck.is_valid
    def timed(data):
        t = time.process_time()
        try:
            return plain_is_valid(data)
        finally:
            inner[0] += time.process_time() - t
    schemacheck.is_valid = timed
files = desired.model_files(Path(sys.argv[1]))
parse_s = schema_s = rest_s = 0.0
for path in files:
    t0 = time.process_time()
    if NEW:
        data = read_model_file(path)
    else:
        data = desired.parse_yaml(path.read_text(encoding="utf-8"), str(path))
    t1 = time.process_time()
    if NEW:
        schemacheck.check(data)
        plain = data.data
    else:
        desired.check_document(data, str(path))
        plain = data
    t2 = time.process_time()
    model = desired.from_document(plain, str(path))
    desired.check_semantics(model, data)
    t3 = time.process_time()
    parse_s += t1 - t0
    schema_s += t2 - t1
    rest_s += t3 - t2
print(json.dumps({"parse": parse_s - inner[0], "schema": schema_s + inner[0], "rest": rest_s}))
"""


def median_run(cmd: list[str], env: dict[str, str], repeat: int, cwd: Path) -> tuple[float, float, str]:
    """(median wall seconds, median CPU seconds (user + system), last stdout) of `repeat` runs."""
    walls, cpus, out = [], [], ""
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
        out = done.stdout
    return statistics.median(walls), statistics.median(cpus), out


def old_tree(rev: str, into: Path) -> Path:
    into.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "reconciler", "schemas"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def old_revision(given: str | None) -> str:
    """The commit `given`, by default the one before reconciler/yamlsource.py was added."""
    if given is None:
        added = git("log", "--diff-filter=A", "--format=%H", "--", "reconciler/yamlsource.py").split()
        given = f"{added[-1]}^" if added else "HEAD"
    return git("rev-parse", given).strip()


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout


def measure(tree: Path, models: Path, repeat: int, new: bool) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["PYTHONPATH"] = str(tree)
    py = sys.executable
    validate = [py, "-m", "reconciler", "validate", "--offline", "--models-dir", str(models)]
    wall, cpu, output = median_run(validate, env, repeat, tree)
    imports_wall, imports_cpu, _ = median_run([py, "-c", "import reconciler.cli"], env, repeat, tree)
    script = BREAKDOWN.replace("NEW", "True" if new else "False")
    parts = [json.loads(median_run([py, "-c", script, str(models)], env, 1, tree)[2]) for _ in range(repeat)]
    breakdown = {k: statistics.median(p[k] for p in parts) for k in ("parse", "schema", "rest")}
    importtime = subprocess.run(
        [py, "-X", "importtime", *validate[1:]], env=env, cwd=tree, capture_output=True, text=True, timeout=900
    ).stderr
    mlflow = any(line.split("|")[-1].strip().startswith("mlflow") for line in importtime.splitlines())
    return {
        "validate": wall,
        "validate_cpu": cpu,
        "imports": imports_wall,
        "imports_cpu": imports_cpu,
        **breakdown,
        "mlflow_imported": mlflow,
        "output": output.strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--old-rev", default=None, help="git revision with the old loader [default: before yamlsource.py]"
    )
    parser.add_argument("--no-alternatives", dest="alternatives", action="store_false", help="skip part 4")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        paths = write_models(models, args.models, args.versions)
        size = sum(p.stat().st_size for p in paths)
        print(f"{len(paths)} files x {args.versions} versions, {size / 1e6:.1f} MB, in {models}", flush=True)
        rev = old_revision(args.old_rev)
        old = old_tree(rev, Path(tmp) / "old")
        new_r = measure(ROOT, models, args.repeat, new=True)
        old_r = measure(old, models, args.repeat, new=False)
        report(new_r, old_r, rev, args.repeat)
        if args.alternatives:
            alternatives(paths, args.repeat)


def report(new: dict[str, Any], old: dict[str, Any], rev: str, repeat: int) -> None:
    print(f"\nmedian of {repeat} runs                new loader   old loader ({rev[:10]})   old/new")
    rows = [
        ("validate --offline, wall", "validate"),
        ("validate --offline, CPU", "validate_cpu"),
        ("  start + imports, wall", "imports"),
        ("  start + imports, CPU", "imports_cpu"),
        ("  parse (read + YAML), CPU", "parse"),
        ("  schema check, CPU", "schema"),
        ("  typed conversion + semantics, CPU", "rest"),
    ]
    for label, key in rows:
        print(f"{label:36s} {new[key]:8.3f} s {old[key]:14.3f} s {old[key] / max(new[key], 1e-9):10.1f}x")
    new_both, old_both = new["parse"] + new["schema"], old["parse"] + old["schema"]
    print(f"{'  parse + schema, CPU':36s} {new_both:8.3f} s {old_both:14.3f} s {old_both / new_both:10.1f}x")
    print(f"\nvalidate imports mlflow: new {new['mlflow_imported']}, old {old['mlflow_imported']}")
    print(f"new: {new['output']}\nold: {old['output']}")


def _ruamel_kind() -> str:
    try:
        import _ruamel_yaml  # noqa: F401

        return "C"
    except ImportError:
        return "pure Python: no ruamel.yaml.clib"


def alternatives(paths: list[Path], repeat: int) -> None:
    import jsonschema
    import yaml
    import yaml_rs
    from ruamel.yaml import YAML

    from reconciler.files import schemacheck
    from reconciler.files.yamlsource import parse
    from reconciler.files.yamlstrict import build

    texts = [p.read_text(encoding="utf-8") for p in paths]
    docs = [parse(t, "x").data for t in texts]
    python_validator = jsonschema.Draft202012Validator(schemacheck.schema())
    rows: list[tuple[str, Any, list[Any], int]] = [
        ("yaml-rs (the fast reader)", lambda t: yaml_rs.loads(t, parse_datetime=False), texts, 1),
        ("reference reader (libyaml events)", lambda t: build(t, "x"), texts, 1),
        ("PyYAML CSafeLoader", lambda t: yaml.load(t, Loader=yaml.CSafeLoader), texts, 1),
        (f"ruamel.yaml safe ({_ruamel_kind()})", YAML(typ="safe").load, texts, 1),
        ("ruamel.yaml round-trip, pure (old)", YAML(typ="rt", pure=True).load, texts[:100], len(texts) // 100),
        ("jsonschema-rs is_valid", schemacheck.is_valid, docs, 1),
        ("jsonschema (Python) is_valid (old)", python_validator.is_valid, docs[:100], len(docs) // 100),
    ]
    try:
        import fastjsonschema

        rows.append(("fastjsonschema (generated Python)", fastjsonschema.compile(schemacheck.schema()), docs, 1))
    except ImportError:
        print("fastjsonschema: not installed, skipped")
    print(f"\nCPU for {len(texts)} files, median of {repeat}")
    for label, fn, sample, scale in rows:
        runs = []
        for _ in range(repeat):
            started = time.process_time()
            for item in sample:
                fn(item)
            runs.append((time.process_time() - started) * scale)
        note = f" (sample of {len(sample)}, x{scale})" if scale > 1 else ""
        print(f"{label:38s} {statistics.median(runs):8.3f} s{note}")


if __name__ == "__main__":
    main()
