"""Realistic desired-state files, deterministic per seed: for the load benchmark and the fuzzer.

Each file has a header comment, a description (plain, or Markdown in a block scalar with bullets and
**bold**), owners, 4-6 tags, 2-3 aliases, N versions (block or flow style, descriptions, tags,
comments) and a policy. A share of files uses an anchor and aliases for shared version tags,
the way people keep such files short.
"""

from __future__ import annotations

import random
from pathlib import Path

STAGES = ("Archived", "Staging", "Production")
TEAMS = ("vision", "search", "ads", "risk", "nlp", "platform", "growth")


def model_text(i: int, versions: int = 20, seed: int = 0) -> tuple[str, str]:
    """(model name, file text) for model number i."""
    rng = random.Random(seed * 1_000_003 + i)
    name = f"model-{i:04d}"
    team = rng.choice(TEAMS)
    lines = [
        "# yaml-language-server: $schema=../schemas/model.schema.json",
        "#",
        f"# Desired state of {name}. Owned by the {team} team; change it in a pull request.",
        f"name: {name}",
        *_description(rng, i),
        f'owners: [ml-platform, "@acme/{team}-team"]',
        "tags:",
        f"  team: {team}",
        f"  task: {rng.choice(('classification', 'regression', 'ranking'))}",
        f'  cost_center: "{1000 + i}"',
        f"  framework: {rng.choice(('xgboost', 'pytorch', 'sklearn', 'lightgbm'))}",
        *([f"  data: s3://features/{team}/v{rng.randint(1, 9)}"] if rng.random() < 0.7 else []),
        *(["  pii: 'no'"] if rng.random() < 0.3 else []),
        "",
        "# Consumers load models:/<name>@champion.",
        "aliases:",
        f"  champion: {versions}",
        *([f"  challenger: {versions - 1}"] if versions > 1 else []),
        *(["  baseline: 1"] if rng.random() < 0.5 else []),
        "",
        "versions:",
    ]
    anchored = rng.random() < 0.05
    flow = rng.random() < 0.3
    for v in range(1, versions + 1):
        lines += _version(rng, v, versions, flow, anchored)
    lines += [
        "",
        "policy:",
        "  # Promoting a version to Production archives the previous holder.",
        "  exclusive_stages: [Production]",
        f"  keep_latest: {rng.randint(3, 10)}",
        "  stage_aliases: {Staging: staging}",
        f"  prune: {{tags: false, aliases: {rng.choice(('true', 'false'))}}}",
        "",
    ]
    return name, "\n".join(lines)


def _description(rng: random.Random, i: int) -> list[str]:
    if rng.random() < 0.5:
        return [f"description: Gradient-boosted trees for segment {i}; retrained weekly on the hold-out split."]
    return [
        "description: |",
        f"  Scores **segment {i}** for the {rng.choice(TEAMS)} endpoint.",
        "",
        "  - trained on the last 90 days of events",
        f"  - AUC 0.{rng.randint(700, 999)} on the hold-out split (see the model card)",
        "  - owner on call: #ml-platform",
    ]


def _version(rng: random.Random, v: int, last: int, flow: bool, anchored: bool) -> list[str]:
    stage = "Production" if v == last else "Staging" if v == last - 1 else "Archived"
    auc = f"0.{rng.randint(700, 999)}"
    sha = f"g{rng.getrandbits(40):010x}"
    if flow:
        return [
            f"  {v}: {{stage: {stage}, description: 'AUC {auc}, lr=0.{rng.randint(1, 9)}', tags: {{git_sha: {sha}}}}}"
        ]
    lines = [
        f"  {v}:",
        f"    stage: {stage}",
        f"    description: 'Run {v}: AUC {auc} on hold-out, lr=0.{rng.randint(1, 9)}'",
    ]
    if anchored:
        lines += ["    tags: &shared {validated_by: ml-leads, dataset: '2026-01'}" if v == 1 else "    tags: *shared"]
    else:
        lines += [
            "    tags:",
            f"      validated_by: reviewer-{rng.randint(1, 9)}",
            f'      dataset: "2026-{(v % 12) + 1:02d}-01"',
            f"      git_sha: {sha}",
        ]
    if v % 5 == 0:
        lines.append(f"    # version {v} was re-evaluated after the data fix")
    return lines


def write_models(directory: Path, count: int, versions: int = 20, seed: int = 0) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        name, text = model_text(i, versions, seed)
        path = directory / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
