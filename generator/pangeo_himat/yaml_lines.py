"""YAML loading that remembers where each key was written.

Error messages name the line of the offending key, so the loader keeps a map from key path
(a tuple of keys and list indexes) to the 1-based line. Duplicate keys are an error here:
PyYAML silently keeps the last one, which would hide a typo from the user.
"""

from __future__ import annotations

from typing import Any

import yaml

from pangeo_himat.errors import Problem

KeyPath = tuple[str | int, ...]


def _record_lines(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], file: str) -> None:
    """Walk the node tree: remember each key's line, refuse a key written twice."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            line = key_node.start_mark.line + 1
            if child in lines and lines[child] != line:
                raise YamlProblem(
                    Problem(
                        file, line, dotted(child), f"written twice (first on line {lines[child]})"
                    )
                )
            lines[child] = line
            _record_lines(value_node, child, lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines, file)


def load_yaml_with_lines(text: str, file: str) -> tuple[Any, dict[KeyPath, int]]:
    """Parse one YAML document; return the data and the line of every key path.

    Raises YamlProblem for syntax errors, with the line where the parser stopped, and for
    duplicate keys, which PyYAML would otherwise resolve silently by keeping the last one.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        reason = error.problem or str(error)
        raise YamlProblem(Problem(file, line, "", f"not valid YAML: {reason}")) from None
    except yaml.YAMLError as error:
        raise YamlProblem(Problem(file, None, "", f"not valid YAML: {error}")) from None
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _record_lines(node, (), lines, file)
    return data, lines


class YamlProblem(Exception):
    """A YAML file that cannot be read as data at all."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def dotted(path: KeyPath) -> str:
    """('data', 'buckets', 0, 'name') -> 'data.buckets[0].name'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
