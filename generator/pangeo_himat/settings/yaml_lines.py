"""YAML loading that remembers where each key was written, with bounded work.

Error messages name the line of the offending key, so the loader keeps a map from key path
(a tuple of keys and list indexes) to the 1-based line. PyYAML's own loader is not used to build
the data: it silently keeps the last of two equal keys, expands every alias without counting
(a 1 KB "billion laughs" file becomes gigabytes) and recurses once per nesting level. Here the
composer refuses deep nesting, and the data is built from the node graph with every node visit
counted, so aliases are expanded at most MAX_NODES times and an alias to one of its own
ancestors is refused.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from pangeo_himat.settings.errors import Problem

KeyPath = tuple[str | int, ...]

# A settings file has about 60 keys; these limits are far above any real file and far below
# what could take a noticeable time or memory.
MAX_DEPTH = 32
MAX_NODES = 20_000
# The largest magnitude any setting may hold before the schema's own bounds apply: far above
# every bound in values.schema.json, small enough that arithmetic on it is exact and fast.
MAX_NUMBER = 10**15
MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlProblem(Exception):
    """A YAML file that cannot be read as data at all."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


class _OverLimit(yaml.composer.ComposerError):
    """Valid YAML, but deeper or larger than a settings file can be."""


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer stops at MAX_DEPTH levels of nesting and MAX_NODES values."""

    depth = 0
    nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.depth += 1
        self.nodes += 1
        try:
            if self.depth > MAX_DEPTH or self.nodes > MAX_NODES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                reason = (
                    f"nested deeper than {MAX_DEPTH} levels"
                    if self.depth > MAX_DEPTH
                    else f"holds more than {MAX_NODES} values; a settings file has about 60"
                )
                raise _OverLimit(None, None, reason, mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def dotted(path: KeyPath) -> str:
    """('data', 'buckets', 0, 'name') -> 'data.buckets[0].name'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _Builder:
    """Build plain data from a composed node graph, counting every node it expands."""

    def __init__(self, loader: _BoundedLoader, file: str):
        self.loader = loader
        self.file = file
        self.lines: dict[KeyPath, int] = {}
        self.visited = 0
        self.open: set[int] = set()

    def fail(self, node: yaml.Node, path: KeyPath, message: str) -> YamlProblem:
        return YamlProblem(Problem(self.file, node.start_mark.line + 1, dotted(path), message))

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise self.fail(
                node,
                path,
                f"aliases expand to more than {MAX_NODES} values; expected a settings file of "
                "plain keys and values",
            )
        if len(path) > MAX_DEPTH:
            raise self.fail(node, path, f"nested deeper than {MAX_DEPTH} levels")
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.open:
            raise self.fail(node, path, "an alias refers to a value that contains it")
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return self.mapping(node, path)
        finally:
            self.open.discard(id(node))

    def scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as error:
            raise self.fail(node, path, f"cannot be read as a value: {error.problem}") from None
        except (yaml.YAMLError, ValueError, OverflowError) as error:
            raise self.fail(node, path, f"cannot be read as a value: {error}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(node, path, f"{node.value} is not a finite number")
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if is_number and abs(value) > MAX_NUMBER:
            shown = node.value if len(node.value) <= 20 else f"{node.value[:20]}..."
            raise self.fail(
                node,
                path,
                f"{shown} ({len(node.value)} characters) is out of range; expected a "
                f"number between -{MAX_NUMBER:.0e} and {MAX_NUMBER:.0e}",
            )
        return value

    def mapping(self, node: yaml.Node, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merged.update(self.merge(value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, path, "a key must be a plain name, not a list or mapping")
            key = key_node.value
            child = (*path, key)
            line = key_node.start_mark.line + 1
            if key in result:
                raise self.fail(
                    key_node, child, f"written twice (first on line {self.lines[child]})"
                )
            self.lines[child] = line
            result[key] = self.build(value_node, child)
        return {**{k: v for k, v in merged.items() if k not in result}, **result}

    def merge(self, node: yaml.Node, path: KeyPath) -> dict[str, Any]:
        """`<<: *base` or `<<: [*a, *b]`: earlier sources win, as YAML's merge key says."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise self.fail(source, path, "`<<` merges only mappings")
            for key, value in self.build(source, path).items():
                merged.setdefault(key, value)
        return merged


def load_yaml_with_lines(text: str, file: str) -> tuple[Any, dict[KeyPath, int]]:
    """Parse one YAML document; return the data and the line of every key path.

    Raises YamlProblem for syntax errors (with the line where the parser stopped), for keys
    written twice, for nesting past MAX_DEPTH, for aliases that expand past MAX_NODES values or
    contain themselves, and for numbers that are not finite or not of a sane size.
    """
    try:
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as error:
        reason = f"unacceptable character #x{error.character:04x} at position {error.position}"
        raise YamlProblem(Problem(file, None, "", f"not valid YAML: {reason}")) from None
    try:
        node = loader.get_single_node()
    except yaml.reader.ReaderError as error:
        reason = f"unacceptable character #x{error.character:04x} at position {error.position}"
        raise YamlProblem(Problem(file, None, "", f"not valid YAML: {reason}")) from None
    except _OverLimit as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise YamlProblem(Problem(file, line, "", str(error.problem))) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        reason = error.problem or str(error)
        raise YamlProblem(Problem(file, line, "", f"not valid YAML: {reason}")) from None
    except yaml.YAMLError as error:
        raise YamlProblem(Problem(file, None, "", f"not valid YAML: {error}")) from None
    finally:
        loader.dispose()
    if node is None:
        return None, {}
    builder = _Builder(loader, file)
    return builder.build(node, ()), builder.lines
