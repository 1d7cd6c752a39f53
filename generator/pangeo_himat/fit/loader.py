"""Read a settings file: the schema, then the defaults, then the rules, then the fit.

Every problem is reported in one run wherever problems do not depend on each other: a value
the schema refuses is set aside (replaced by its default) so that the rules and the fit still
run on the rest, and a rule or the fit is skipped only when one of its inputs was refused.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from pangeo_himat.fit.fit import FIT_INPUTS, compute_fit
from pangeo_himat.settings.errors import InputError, Problem
from pangeo_himat.settings.model import Settings, from_document
from pangeo_himat.settings.reader import read_settings_text
from pangeo_himat.settings.rules import CHECKS, settings_warnings
from pangeo_himat.settings.schema import (
    apply_defaults,
    schema_errors,
    settings_schema,
    validate_document,
)
from pangeo_himat.settings.yaml_lines import KeyPath, YamlProblem, load_yaml_with_lines

# How often a refused value is set aside before the rest is given up on (each round removes
# at least one value, and a settings file nests a few levels deep).
REPAIR_ROUNDS = 8


def _overlaps(a: KeyPath, b: KeyPath) -> bool:
    """One path lies inside the other (or they are the same)."""
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def _refused_paths(data: Any) -> list[KeyPath]:
    """Where the schema refuses something; an unknown key is refused by itself alone."""
    paths: list[KeyPath] = []
    for error in schema_errors(data):
        path: KeyPath = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set(error.schema.get("properties", {}))
            paths.extend((*path, key) for key in error.instance if key not in known)
        elif error.validator == "required" and isinstance(error.instance, dict):
            # A missing key refuses that key alone, not its whole section: the section's other
            # values still feed their rules (expose: loadbalancer without a certificate and
            # without CIDRs reports both).
            paths.extend((*path, key) for key in error.validator_value if key not in error.instance)
        else:
            # A bad list item sets the whole list aside: its indexes stay meaningful.
            cut = next((i for i, part in enumerate(path) if isinstance(part, int)), len(path))
            paths.append(path[:cut])
    return paths


def _without(data: Any, path: KeyPath) -> Any:
    """A copy of data with the value at path removed (the whole document for the root)."""
    if not path:
        return {}
    if not isinstance(data, dict) or path[0] not in data:
        return data
    result = dict(data)
    if len(path) == 1:
        del result[path[0]]
    else:
        result[path[0]] = _without(data[path[0]], path[1:])
    return result


def _missing_keys(data: Any) -> list[KeyPath]:
    """Required keys the file leaves out: their defaults must not feed a rule as if written."""
    return [
        (*tuple(error.absolute_path), key)
        for error in schema_errors(data)
        if error.validator == "required" and isinstance(error.instance, dict)
        for key in error.validator_value
        if key not in error.instance
    ]


def set_aside(data: Any) -> tuple[Any, list[KeyPath]] | None:
    """The document with every refused value removed, and where they were; None if hopeless."""
    refused: list[KeyPath] = _missing_keys(data)
    for _ in range(REPAIR_ROUNDS):
        completed = apply_defaults(data, settings_schema())
        # A path refused already holds a default now (a missing key the schema needs set):
        # every rule that reads it is skipped, so it needs no second removal.
        paths = [path for path in _refused_paths(completed) if path not in refused]
        if not paths:
            return completed, refused
        for path in paths:
            data = _without(data if isinstance(data, dict) else {}, path)
        refused.extend(paths)
    return None


def _settings(data: Any, file: str, lines: dict[KeyPath, int]) -> Settings:
    """The typed settings of a document that passes the schema once its defaults are filled."""
    return from_document(apply_defaults(data, settings_schema()), file, lines)


def _later_problems(
    settings: Settings, refused: list[KeyPath]
) -> tuple[list[Problem], list[Problem]]:
    """Rule problems, then fit problems, of checks whose inputs all passed what came before."""
    problems: list[Problem] = []
    failed: list[KeyPath] = list(refused)
    for check, inputs in CHECKS:
        if any(_overlaps(path, inp) for path in failed for inp in inputs):
            continue
        found = check(settings)
        problems.extend(found)
        if found:
            failed.extend(inputs)
    if any(_overlaps(path, inp) for path in failed for inp in FIT_INPUTS):
        return problems, []
    return problems, compute_fit(settings).problems


def parse_settings(text: str, file: str) -> Settings:
    """Settings from text: schema problems, rule problems and (when they exist) fit problems.

    Without schema or rule problems, the fit is left to the caller (`himat fit` prints the
    table before its problems); with them, the fit's problems join the list when its inputs
    are sound, so one run shows everything.
    """
    try:
        data, lines = load_yaml_with_lines(text, file)
    except YamlProblem as error:
        raise InputError([error.problem]) from None
    problems = validate_document(data, file, lines)
    if not problems:
        return _checked(_settings(data, file, lines))
    repaired = set_aside(data) if isinstance(data, dict) else None
    if repaired is not None:
        completed, refused = repaired
        rule_problems, fit_problems = _later_problems(_settings(completed, file, lines), refused)
        problems += rule_problems + fit_problems
    raise InputError(_sorted(list(dict.fromkeys(problems))))


def _checked(settings: Settings) -> Settings:
    """Settings that passed the schema, after the rules (and, if a rule fails, the fit)."""
    rule_problems, fit_problems = _later_problems(settings, [])
    if rule_problems:
        raise InputError(_sorted(rule_problems + fit_problems))
    return replace(settings, warnings=tuple(settings_warnings(settings)))


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.path))


def load_settings(path: Path | str | None) -> Settings:
    """Read, validate and complete a settings file; None gives the embedded defaults."""
    if path is None:
        return _checked(from_document(apply_defaults({}, settings_schema())))
    path = Path(path)
    return parse_settings(read_settings_text(path), str(path))
