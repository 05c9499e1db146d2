"""Add a proposed version to a model file's text: the round-trip writer import uses (comments, order
and quoting kept), then the same checks as any file. Pure: text in, text out."""

from __future__ import annotations

import copy
import io
from collections.abc import Mapping
from dataclasses import dataclass

from ruamel.yaml.comments import CommentedMap

from reconciler.errors import DesiredStateError
from reconciler.files.convert import check_semantics, from_document
from reconciler.files.desired import check_document, value_problem
from reconciler.files.importer import _styled, round_trip_yaml
from reconciler.files.yamlsource import parse
from reconciler.proposal.rule import ProposeRule
from reconciler.state import DesiredModel, Origin, Stage
from reconciler.text import line_endings, printable

RUN_DESCRIPTION_TAG = "mlflow.note.content"


@dataclass(frozen=True)
class Edit:
    text: str
    model: DesiredModel
    replaced: int | None  # the version the alias pointed at before (None: no alias rule, or unset)
    archived: tuple[int, ...]  # versions the file moved out of an exclusive stage


def version_entry(rule: ProposeRule, run_tags: Mapping[str, str]) -> dict[str, object]:
    """What the file says of the new version: its stage, the run tags the rule copies, the description."""
    entry: dict[str, object] = {}
    if rule.stage is not None:
        entry["stage"] = rule.stage.value
    description = run_tags.get(RUN_DESCRIPTION_TAG, "").strip()
    if rule.description and description:
        entry["description"] = description
    tags = {k: run_tags[k] for k in rule.tags if k in run_tags}
    if tags:
        entry["tags"] = tags
    return entry


def check_copyable(source: str, version: int, entry: Mapping[str, object]) -> None:
    """What propose copies from the run goes into a reviewed file and git: a value `mask` would
    change (a CI URL with a token in it, a pasted clone URL) is refused, naming the run's tag."""
    tags = entry.get("tags")
    values = [(RUN_DESCRIPTION_TAG, entry.get("description")), *(tags.items() if isinstance(tags, Mapping) else ())]
    for tag, value in values:
        why = value_problem(value) if isinstance(value, str) else None
        if why is not None:
            raise DesiredStateError(
                f"{source}: version {version}: the run's tag {printable(tag)!r} {why}; nothing was written: "
                "fix the tag on the run (and rotate a secret), or drop it from propose.tags"
            )


def propose_text(text: str, source: str, version: int, rule: ProposeRule, run_tags: Mapping[str, str]) -> Edit:
    parse(text, source)  # the strict reading refuses tags, bombs, bad bytes before we edit
    new = version_entry(rule, run_tags)
    check_copyable(source, version, new)
    yaml = round_trip_yaml()
    lf, newline = line_endings(text, source)
    data = yaml.load(lf)
    versions = _top(data, "versions")
    key = next((k for k in versions if str(k) == str(version)), version)
    entry = versions.get(key)
    added = not isinstance(entry, CommentedMap)
    if added:
        entry = versions[key] = CommentedMap()
    for field, value in new.items():
        if isinstance(value, Mapping):
            tags = _mapping(entry, field)
            for k, v in value.items():
                tags[k] = _styled(v)
        else:
            entry[field] = _styled(value)
    if added and len(versions) > 1:
        _move_trailing_comment(versions, list(versions)[-2], key)
    replaced = None
    if rule.alias is not None:
        aliases = _top(data, "aliases")
        before = aliases.get(rule.alias)
        replaced = int(before) if isinstance(before, int) and before != version else None
        aliases[rule.alias] = version
    archived = _leave_exclusive_stage(data, version, rule.stage)
    buf = io.StringIO()
    yaml.dump(data, buf)
    out = buf.getvalue().replace("\n", newline)
    return Edit(out, check(out, source), replaced, archived)


def _move_trailing_comment(versions: CommentedMap, previous: object, added: object) -> None:
    """ruamel keeps the blank line or comment that ends a block on that block's last key: the version
    appended after it would sit below it. Hand it to the new last key, so the layout stays; a comment
    on that key's own line is about that key and stays with it (only what follows its line moves)."""
    src_map, src_key = _deepest_last(versions, previous)
    token = src_map.ca.items.get(src_key, [None, None, None, None])
    if len(token) < 3 or token[2] is None:
        return
    dst_map, dst_key = _deepest_last(versions, added)
    if dst_key is None:
        return
    comment = token[2]
    value = comment.value
    if value.startswith("#"):  # a comment on the key's own line is about that key: it stays
        end = value.find("\n") + 1 or len(value)
        own, after = value[:end], value[end:]
        if not after:
            return
        comment.value = own
        moved = copy.copy(comment)
        moved.value = after
    else:
        moved, token[2] = comment, None
    dst_map.ca.items[dst_key] = [None, None, moved, None]


def _deepest_last(parent: CommentedMap, key: object) -> tuple[CommentedMap, object]:
    while isinstance(parent.get(key), CommentedMap) and len(parent[key]):
        parent, key = parent[key], list(parent[key])[-1]
    return parent, key


TRAILING_SECTIONS = ("review", "policy", "propose")  # a new aliases: or versions: goes above these


def _top(data: CommentedMap, key: str) -> CommentedMap:
    """A top-level mapping; a new one above the review, policy and propose sections, as files are laid out."""
    if key not in data:
        keys = list(data)
        at = next((i for i, k in enumerate(keys) if k in TRAILING_SECTIONS), len(keys))
        data.insert(at, key, CommentedMap())
    return _mapping(data, key)


def _mapping(parent: CommentedMap, key: str) -> CommentedMap:
    if not isinstance(parent.get(key), CommentedMap):
        parent[key] = CommentedMap()
    return parent[key]


def _leave_exclusive_stage(data: CommentedMap, version: int, stage: Stage | None) -> tuple[int, ...]:
    """A stage held by one version at a time (policy.exclusive_stages): older holders the file names
    are archived in the file, as the merge would archive them in the registry."""
    exclusive = (data.get("policy") or {}).get("exclusive_stages") or ()
    if stage is None or stage.value not in exclusive:
        return ()
    moved = []
    for k, entry in (data.get("versions") or {}).items():
        if str(k) != str(version) and isinstance(entry, CommentedMap) and entry.get("stage") == stage.value:
            entry["stage"] = Stage.ARCHIVED.value
            moved.append(int(k))
    return tuple(moved)


def check(text: str, source: str) -> DesiredModel:
    """The edited file, checked as `validate` checks any file."""
    doc = parse(text, source)
    try:
        check_document(doc)
        model = from_document(doc.data, Origin(source, doc.line))
        check_semantics(model)
    except DesiredStateError as e:
        raise DesiredStateError(f"{e} (propose would write an invalid file; nothing was written)") from e
    return model
