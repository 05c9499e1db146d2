"""The reference YAML reader: libyaml's C parser (through PyYAML) emits events; this module turns
them into plain data and refuses, before the data is built, what a desired-state file must not hold.

Refused: tags other than the core ones (!!python/object, !custom, !!binary, !!set, !!timestamp...),
aliases that expand past MAX_NODES nodes or refer to themselves, nesting deeper than MAX_DEPTH,
duplicate keys, keys that collide once read as text (`1:` and `"1":`), keys that are not strings
(except version numbers in `versions`), more than one document, a %YAML directive other than 1.2,
and YAML 1.1's merge key (a plain `<<:`): YAML 1.2 has none, and applying it dropped values
silently (`{k: a, <<: {k: b}}` kept a); a quoted `"<<":` is an ordinary key, as yaml-rs reads it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from yaml import events as ev
from yaml._yaml import CParser
from yaml.error import MarkedYAMLError, YAMLError

from reconciler.errors import DesiredStateError
from reconciler.files.yamlscalars import is_int, resolve_plain
from reconciler.files.yamltext import check_value, empty

MAX_NODES = 200_000  # after alias expansion: stops "billion laughs" files
MAX_DEPTH = 32  # the format needs 5
MAX_INT_DIGITS = 1000
CORE = "tag:yaml.org,2002:"
NESTED = f"nested deeper than {MAX_DEPTH} levels; the format needs at most 5"
VERSIONS_PATH = ("versions",)  # the one mapping whose keys may be integers (version numbers)
_NO_KEY = object()
_MERGE = object()


class _Frame:
    __slots__ = ("anchor", "height", "is_map", "key", "keys", "line", "path", "size", "value")

    def __init__(self, is_map: bool, path: tuple[Any, ...], line: int):
        self.is_map = is_map
        self.value: Any = {} if is_map else []
        self.path = path
        self.line = line
        self.key: Any = _NO_KEY
        self.keys: dict[str, tuple[int, str, type]] = {}  # key -> (line, as written, type read)
        self.anchor: str | None = None
        self.size = 1
        self.height = 1


def events(text: str) -> Iterator[ev.Event]:
    parser = CParser(text)
    try:
        while True:
            event = parser.get_event()
            yield event
            if isinstance(event, ev.StreamEndEvent):
                return
    finally:
        parser.dispose()


def build(text: str, source: str) -> Any:
    """Plain data (dict/list/str/int/float/bool/None, str keys) or a one-line DesiredStateError."""
    try:
        return _Builder(source).run(events(text))
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f":{mark.line + 1}" if mark else ""
        if "nesting depth" in str(e.problem):  # libyaml's own limit (1000) can come first
            raise DesiredStateError(f"{source}{line}: {NESTED}") from None
        raise DesiredStateError(f"{source}{line}: invalid YAML: {e.problem or e.context}; fix the syntax") from None
    except YAMLError as e:
        raise DesiredStateError(f"{source}: invalid YAML: {e}; fix the syntax") from None


def tag_name(tag: str) -> str:
    return "!!" + tag[len(CORE) :] if tag.startswith(CORE) else tag


class _Builder:
    def __init__(self, source: str):
        self.source = source
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int, int]] = {}  # name -> (value, nodes, height)
        self.open_anchors: set[str] = set()
        self.nodes = 0
        self.root: Any = None

    def fail(self, line: int, what: str) -> DesiredStateError:
        return DesiredStateError(f"{self.source}:{line}: {what}")

    def run(self, stream: Iterator[ev.Event]) -> Any:
        next(stream)  # StreamStart
        start = next(stream)
        if isinstance(start, ev.StreamEndEvent):
            raise empty(self.source)
        assert isinstance(start, ev.DocumentStartEvent)
        if start.version not in (None, (1, 2)):
            version = ".".join(map(str, start.version))
            raise self.fail(1, f"%YAML {version} directive: these files are YAML 1.2; remove the directive")
        for event in stream:
            if isinstance(event, ev.DocumentEndEvent):
                break
            self.on(event)
        after = next(stream)
        if not isinstance(after, ev.StreamEndEvent):
            raise self.fail(after.start_mark.line + 1, "a second YAML document; keep one model per file")
        return self.root

    def on(self, event: ev.Event) -> None:
        line = event.start_mark.line + 1
        kind = type(event)
        if kind is ev.ScalarEvent:
            self.count(1, line)
            self.check_depth(1, line)
            value = self.scalar(event, line)
            if event.anchor:
                self.anchors[event.anchor] = ("<<" if value is _MERGE else value, 1, 1)
            self.add(value, line, 1, 1, event.value if event.implicit[0] else repr(event.value))
        elif kind is ev.MappingStartEvent or kind is ev.SequenceStartEvent:
            self.open(event, kind is ev.MappingStartEvent, line)
        elif kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
            self.close()
        elif kind is ev.AliasEvent:
            self.alias(event, line)

    def count(self, nodes: int, line: int) -> None:
        self.nodes += nodes
        if self.nodes > MAX_NODES:
            raise self.fail(
                line,
                f"more than {MAX_NODES} nodes (after expanding YAML aliases); "
                "remove the anchors/aliases or trim the file",
            )

    def check_depth(self, height: int, line: int) -> None:
        if len(self.stack) + height > MAX_DEPTH:
            raise self.fail(line, NESTED)

    def scalar(self, event: ev.ScalarEvent, line: int) -> Any:
        tag, text = event.tag, event.value
        if tag is None and event.implicit[0]:
            if text == "<<":
                return _MERGE
            if len(text) > MAX_INT_DIGITS and is_int(text):
                raise self.fail(line, f"a number with more than {MAX_INT_DIGITS} digits; quote it if it is text")
            value = resolve_plain(text)
        elif tag is None or tag == "!":
            value = text
        else:
            value = self.tagged(tag, text, line)
        if type(value) is str:
            check_value(value, self.source, line)
        return value

    def tagged(self, tag: str, text: str, line: int) -> Any:
        kind = tag[len(CORE) :] if tag.startswith(CORE) else None
        if kind == "str":
            return text
        if kind not in ("int", "float", "bool", "null"):
            raise self.fail(
                line, f"YAML tag {tag_name(tag)} is not allowed; use plain strings, numbers, lists and mappings"
            )
        value = resolve_plain(text) if len(text) <= MAX_INT_DIGITS or not is_int(text) else text
        wanted = {"int": (int,), "float": (float, int), "bool": (bool,), "null": (type(None),)}[kind]
        if type(value) not in wanted:
            raise self.fail(line, f"{text!r} is not a valid !!{kind}; fix the value or drop the tag")
        return float(value) if kind == "float" else value

    def open(self, event: ev.CollectionStartEvent, is_map: bool, line: int) -> None:
        self.count(1, line)
        self.check_depth(1, line)
        tag = event.tag
        if tag not in (None, "!", CORE + ("map" if is_map else "seq")):
            raise self.fail(
                line, f"YAML tag {tag_name(tag)} is not allowed; use plain strings, numbers, lists and mappings"
            )
        parent = self.stack[-1] if self.stack else None
        if parent is None:
            path: tuple[Any, ...] = ()
        elif parent.is_map:
            path = (*parent.path, parent.key) if isinstance(parent.key, str) else ("?",)
        else:
            path = (*parent.path, len(parent.value))
        frame = _Frame(is_map, path, line)
        if event.anchor:
            self.open_anchors.add(event.anchor)
            frame.anchor = event.anchor
        self.stack.append(frame)

    def close(self) -> None:
        frame = self.stack.pop()
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = (frame.value, frame.size, frame.height)
        self.add(frame.value, frame.line, frame.size, frame.height, "")

    def alias(self, event: ev.AliasEvent, line: int) -> None:
        name = event.anchor
        if name in self.open_anchors:
            raise self.fail(line, f"alias *{name} refers to the node that contains it; YAML recursion is not allowed")
        if name not in self.anchors:
            raise self.fail(line, f"alias *{name} refers to no anchor; define &{name} before using it")
        value, nodes, height = self.anchors[name]
        self.count(nodes, line)
        self.check_depth(height, line)
        self.add(value, line, nodes, height, "*" + name)

    def add(self, value: Any, line: int, nodes: int, height: int, raw: str) -> None:
        if not self.stack:
            self.root = "<<" if value is _MERGE else value
            return
        frame = self.stack[-1]
        frame.size += nodes
        frame.height = max(frame.height, height + 1)
        if not frame.is_map:
            frame.value.append("<<" if value is _MERGE else value)
        elif frame.key is _NO_KEY:
            frame.key = self.key(frame, value, line, raw)
        else:
            frame.value[frame.key] = "<<" if value is _MERGE else value
            frame.key = _NO_KEY

    def key(self, frame: _Frame, key: Any, line: int, raw: str) -> Any:
        if key is _MERGE:
            raise self.fail(
                line,
                "'<<' is a YAML 1.1 merge key, and these files are YAML 1.2, which has none; write the keys "
                "out in full (or quote '<<' if it is meant as a key)",
            )
        if type(key) is str:
            text = key
        elif type(key) is int and frame.path == VERSIONS_PATH:
            text = str(key)
        elif isinstance(key, (dict, list)):
            raise self.fail(line, "a mapping or a list as a mapping key is not allowed; use a string key")
        else:
            kind = {bool: "a boolean", type(None): "null"}.get(type(key), "a number")
            where = "" if frame.path == VERSIONS_PATH else "; only the keys under versions: are version numbers"
            raise self.fail(line, f"mapping key {raw} is read as {kind}, not a string{where}; quote it")
        if text in frame.keys:
            first_line, first_raw, first_type = frame.keys[text]
            if first_type is type(key):
                raise self.fail(line, f"duplicate key {text!r} (also on line {first_line}); keep one")
            raise self.fail(
                line,
                f"key {raw} and key {first_raw} on line {first_line} are the same key {text!r} once read as text; "
                "keep one",
            )
        frame.keys[text] = (line, raw, type(key))
        return text


def line_of(text: str, path: Sequence[str | int]) -> int:
    """1-based line of the deepest node on `path` (JSON-pointer steps) that the text has: for a
    mapping entry the line of its key, for a list item the line of the item; 1 for the root."""
    target = tuple(str(step) for step in path)
    best = (0, 1)
    stack: list[list[Any]] = []  # [is_map, expecting_key, key, key_line, index, path]
    try:
        for event in events(text):
            kind = type(event)
            if kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
                stack.pop()
                continue
            if kind not in _NODE_EVENTS:
                continue
            line = event.start_mark.line + 1
            node_path, node_line = _place(stack, event, line)
            if node_path is not None and node_path == target[: len(node_path)] and len(node_path) >= best[0]:
                best = (len(node_path), node_line)
                if len(node_path) == len(target):
                    return node_line
            if kind is ev.MappingStartEvent or kind is ev.SequenceStartEvent:
                stack.append([kind is ev.MappingStartEvent, True, None, line, 0, node_path])
    except YAMLError:
        pass
    return best[1]


_NODE_EVENTS = (ev.ScalarEvent, ev.AliasEvent, ev.MappingStartEvent, ev.SequenceStartEvent)


def _place(stack: list[list[Any]], event: ev.Event, line: int) -> tuple[tuple[str, ...] | None, int]:
    """Where a node event sits: its path (None inside a complex key) and the line to report."""
    if not stack:
        return (), 1
    frame = stack[-1]
    is_map, expecting_key, key, key_line, index, parent = frame
    if is_map and expecting_key:
        frame[1] = False
        frame[2] = _key_text(event) if isinstance(event, ev.ScalarEvent) else None
        frame[3] = line
        return None, line
    if is_map:
        frame[1] = True
        return (None if parent is None or key is None else (*parent, key)), key_line
    frame[4] = index + 1
    return (None if parent is None else (*parent, str(index))), line


def _key_text(event: ev.ScalarEvent) -> str:
    if event.tag is None and event.implicit[0]:
        value = resolve_plain(event.value) if len(event.value) <= MAX_INT_DIGITS else event.value
        return str(value) if type(value) is int else str(event.value)
    return str(event.value)
