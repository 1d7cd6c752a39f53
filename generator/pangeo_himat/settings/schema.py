"""The settings schema, its defaults and its problems (the typed `Settings` are in model.py).

`values.schema.json` is the single source of truth: it validates the file, supplies every
default and documents every key. This module translates schema errors into one line per
problem (file, line, dotted key path, what is expected) and fills in the defaults. Reading a
file and running the rules and the fit on it is `loader`'s job, which sits above this module.
"""

from __future__ import annotations

import copy
import functools
import json
import sys
from typing import Any

from pangeo_himat.settings.errors import Problem
from pangeo_himat.settings.shipped import schema_path
from pangeo_himat.settings.suggest import did_you_mean
from pangeo_himat.settings.yaml_lines import KeyPath, dotted

# jsonschema imports every optional format checker it can find (jsonschema/_format.py); where
# Jupyter is installed they are all there: rfc3987_syntax compiles a grammar at import (~1.2 s on
# a 2-core machine), the others add ~80 ms to every `himat` call. The settings schema uses no
# `format`, so jsonschema is imported with them hidden; they stay importable for everyone else.
_FORMAT_MODULES = (
    "rfc3987_syntax",
    "rfc3987",
    "rfc3986_validator",
    "rfc3339_validator",
    "isoduration",
    "webcolors",
    "jsonpointer",
    "uri_template",
    "fqdn",
    "idna",
)
_hidden = [name for name in _FORMAT_MODULES if name not in sys.modules]
sys.modules.update(dict.fromkeys(_hidden))  # type: ignore[arg-type]  # None: ImportError
try:
    import jsonschema
finally:
    for _name in _hidden:
        if sys.modules.get(_name, ...) is None:
            del sys.modules[_name]


@functools.lru_cache(maxsize=1)
def settings_schema() -> dict[str, Any]:
    """The settings JSON Schema (draft 2020-12)."""
    schema: dict[str, Any] = json.loads(schema_path().read_text())
    return schema


def schema_at(path: KeyPath, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The subschema that describes the value at `path` ({} when the path leaves the schema)."""
    root = settings_schema()
    node = schema if schema is not None else root
    for part in path:
        node = resolve_ref(node, root)
        if isinstance(part, int):
            node = node.get("items", {})
        elif part in node.get("properties", {}):
            node = node["properties"][part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return {}
    return resolve_ref(node, root)


def resolve_ref(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Merge a `$ref` target under the node's own keywords (descriptions and defaults win)."""
    if "$ref" not in node:
        return node
    target = root
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return {**resolve_ref(target, root), **{k: v for k, v in node.items() if k != "$ref"}}


def apply_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """Fill every missing key that has a schema default, recursively, without mutating input."""
    schema = resolve_ref(schema, settings_schema())
    if isinstance(value, dict):
        result = dict(value)
        for key, subschema in schema.get("properties", {}).items():
            subschema = resolve_ref(subschema, settings_schema())
            if key not in result and "default" in subschema:
                result[key] = copy.deepcopy(subschema["default"])
            if key in result:
                result[key] = apply_defaults(result[key], subschema)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in result:
                if key not in schema.get("properties", {}):
                    result[key] = apply_defaults(result[key], extra)
        return result
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(item, schema["items"]) for item in value]
    return value


TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


SHOWN_CHARACTERS = 60


def show(value: Any) -> str:
    """A value as the user wrote it: strings quoted (long ones cut), null/true/false spelled so."""
    if isinstance(value, str) and len(value) > SHOWN_CHARACTERS:
        return json.dumps(value[:SHOWN_CHARACTERS])[:-1] + f'..." ({len(value)} characters)'
    if value is None or isinstance(value, (str, bool)):
        return json.dumps(value)
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return str(value)


def _expected_from_type(where: dict[str, Any]) -> str:
    """A plain phrase for a schema node without an `x-expected` sentence."""
    kinds = where.get("type", "object" if "properties" in where else "")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if "enum" in where:
        return " or ".join(json.dumps(v) for v in where["enum"])
    return " or ".join(TYPE_WORDS.get(kind, kind) for kind in kinds if kind) or "a valid value"


def _schema_problem(
    error: jsonschema.ValidationError, file: str, lines: dict[KeyPath, int]
) -> list[Problem]:
    """Turn one jsonschema error into user-facing problems (unknown keys give one each)."""
    path: KeyPath = tuple(error.absolute_path)
    where = schema_at(path)
    expected = where.get("x-expected") or _expected_from_type(where)

    def problem(at: KeyPath, message: str) -> Problem:
        line = lines.get(at) or lines.get(at[:-1]) if at else None
        return Problem(file, line, dotted(at), message)

    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(where.get("properties", {})))
        known = set(where.get("properties", {}))
        extras = [key for key in error.instance if key not in known]
        return [problem((*path, key), f"unknown key; expected one of: {allowed}") for key in extras]
    if error.validator == "required":
        line = lines.get(path) if path else None
        problems = []
        for missing in (key for key in error.validator_value if key not in error.instance):
            sub = schema_at((*path, missing))
            hint = sub.get("x-expected") or _expected_from_type(sub)
            problems.append(
                Problem(file, line, dotted((*path, missing)), f"missing; expected {hint}".strip())
            )
        return problems
    if error.validator == "propertyNames" or "propertyNames" in error.schema_path:
        names = where.get("propertyNames", {})
        hint = names.get("x-expected", "a different key")
        return [
            problem(path, f"{show(error.instance)} is not an allowed key here; expected {hint}")
        ]
    if error.validator in ("minItems", "uniqueItems", "maxItems"):
        detail = {
            "minItems": f"needs at least {error.validator_value} entries",
            "maxItems": f"takes at most {error.validator_value} entries",
            "uniqueItems": "has the same entry twice",
        }[error.validator]
        return [problem(path, f"{detail}; expected {expected}")]
    if error.validator == "maxProperties":
        return [
            problem(
                path,
                f"has {len(error.instance)} entries, more than the {error.validator_value} "
                f"allowed; expected {expected}",
            )
        ]
    if error.validator in ("maxLength", "minLength"):
        return [problem(path, f"{show(error.instance)} has the wrong length; expected {expected}")]
    if error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return [problem(path, f"{show(error.instance)} is out of range; expected {expected}")]
    if error.validator == "type" and "x-expected" not in where:
        wanted = error.validator_value
        kinds = [wanted] if isinstance(wanted, str) else wanted
        words = " or ".join(TYPE_WORDS.get(kind, kind) for kind in kinds)
        return [problem(path, f"is {show(error.instance)}; expected {words}")]
    if error.validator == "enum" and isinstance(error.instance, str):
        choices = [value for value in error.validator_value if isinstance(value, str)]
        hint = did_you_mean(error.instance, choices)
        return [problem(path, f"{show(error.instance)} is not {expected}; {hint}".rstrip("; "))]
    return [problem(path, f"{show(error.instance)} is not {expected}".rstrip())]


def validate_document(data: Any, file: str, lines: dict[KeyPath, int]) -> list[Problem]:
    """Schema problems of a parsed settings document, in file order."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}, not a mapping"
        return [
            Problem(
                file,
                1 if data is not None else None,
                "",
                f"is {kind}; expected a "
                "mapping with the keys cluster, stable, spot, workers, jupyter, ...",
            )
        ]
    problems: list[Problem] = []
    for error in schema_errors(data):
        problems.extend(_schema_problem(error, file, lines))
    first_per_key = {(p.path, p.line): p for p in reversed(problems)}
    unique = [p for p in dict.fromkeys(problems) if first_per_key[(p.path, p.line)] is p]
    return sorted(unique, key=lambda p: (p.line or 0, p.path))


def _strict_integer(checker: Any, instance: Any) -> bool:
    """JSON Schema counts 3.0 as an integer; a count written 3.0 or 1e20 is refused here."""
    return isinstance(instance, int) and not isinstance(instance, bool)


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer),
)


def schema_errors(data: Any) -> list[jsonschema.ValidationError]:
    """Every schema error of a parsed document."""
    return list(_Validator(settings_schema()).iter_errors(data))
