"""Fuzzed settings files: validate and render end in exit 0 or 2, never an exception or a hang.

A seeded generator mutates the shipped settings.yaml a few hundred times (types, bounds,
aliases, nesting, encodings, unicode, huge strings, duplicate keys) and runs each file through
`himat validate` and `himat render` in-process. On exit 2 nothing may be written, and validate
and render must agree.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from conftest import ROOT
from pangeo_himat.cli import cli

SEED = 20261201
CASES = 250
# Generous: a case takes milliseconds; this only catches a hang or a blow-up.
SECONDS_PER_CASE = 10.0

BASE = yaml.safe_load((ROOT / "settings.yaml").read_text())
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    3.0,
    0.5,
    -0.0,
    1e-9,
    1e20,
    2**31,
    2**63,
    10**400,
    "",
    " ",
    "auto",
    "latest",
    "1.3",
    "1.35",
    "400m",
    "-400m",
    "1e3",
    "0x10",
    "NaN",
    "∞",
    "ユニコード",
    "e\u0301",
    "\u202eevil",
    "a" * 10_000,
    "9" * 400,
    "9" * 400 + "Mi",
    [],
    [None],
    {},
    {"a": 1},
    ["us-west-2a"] * 3,
]
RAW_SCALARS = [
    ".nan",
    ".inf",
    "-.inf",
    "1.0e+20",
    "1.0e-9",
    "9" * 400,
    "0o17",
    "0b101",
    "!!binary aGVsbG8=",
    "2026-12-01",
    "~",
    "yes",
    "on",
    "'\\x00'",
]


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a document, containers included."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


def set_at(document: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        document = document[part]
    document[path[-1]] = value


def dump(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def mutate_value(rng: random.Random, document: dict) -> str:
    set_at(document, rng.choice(paths(document)), rng.choice(ODD_VALUES))
    return dump(document)


def mutate_raw_scalar(rng: random.Random, document: dict) -> str:
    key = rng.choice([p for p in paths(document) if not isinstance(p[-1], int)])
    set_at(document, key, "@@RAW@@")
    return dump(document).replace("'@@RAW@@'", rng.choice(RAW_SCALARS), 1)


def get_at(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


def add_unknown_key(rng: random.Random, document: dict) -> str:
    mappings = [()] + [p for p in paths(document) if isinstance(get_at(document, p), dict)]
    target = get_at(document, rng.choice(mappings))
    target[rng.choice(["colour", "Name", "nodes ", "ü", "k" * 300, "a\nb", "aws:x"])] = 1
    return dump(document)


def delete_key(rng: random.Random, document: dict) -> str:
    path = rng.choice(paths(document))
    parent: Any = document
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return dump(document)


def nest(rng: random.Random, document: dict) -> str:
    depth = rng.choice([5, 31, 40, 200])
    value: Any = "@@DEEP@@"
    for _ in range(depth):
        value = rng.choice([{"a": value}, [value]])
    set_at(document, rng.choice(paths(document)), value)
    very_deep = rng.choice(["@@DEEP@@", "[" * 5000 + "]" * 5000, "{a: " * 900 + "}" * 900])
    return dump(document).replace("'@@DEEP@@'", very_deep)


def aliases(rng: random.Random, document: dict) -> str:
    text = dump(document)
    choice = rng.randrange(4)
    if choice == 0:  # recursive alias
        return text + "extra: &r {self: *r}\n"
    if choice == 1:  # alias bomb
        lines = ['a0: &a0 ["x","x","x","x","x","x","x","x"]']
        lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 8) + "]" for i in range(1, 9)]
        return text + "\n".join(lines) + "\n"
    if choice == 2:  # undefined alias
        return text.replace("himat", "*nowhere", 1)
    return text + "spot: &s {nodes: 1}\nworkers: *s\n"


def duplicate_key(rng: random.Random, document: dict) -> str:
    del document["spot"]
    text = dump(document)
    return text + rng.choice(
        ["cluster: {name: again}\n", "spot: {nodes: 3, nodes: 9}\n", "spot: {}\nspot: {}\n"]
    )


def encoding(rng: random.Random, document: dict) -> bytes:
    text = dump(document)
    return rng.choice(
        [
            text.encode("utf-16"),
            text.encode("utf-8-sig"),
            text.encode("latin-1", errors="replace") + b"\xff\xfe",
            text.encode()[: rng.randrange(1, len(text))],
            b"\x00" * 64,
            text.replace("\n", "\r\n").encode(),
            text.replace("  ", "\t", 1).encode(),
        ]
    )


def garbage(rng: random.Random, document: dict) -> bytes:
    data = bytearray(dump(document).encode())
    for _ in range(rng.randrange(1, 20)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def huge_string(rng: random.Random, document: dict) -> str:
    set_at(document, rng.choice(paths(document)), "é" * rng.choice([300, 5000, 50_000]))
    return dump(document)


def many_tags(rng: random.Random, document: dict) -> str:
    document["cluster"]["tags"] = {f"k{i}": "v" for i in range(rng.choice([31, 1000]))}
    return dump(document)


MUTATIONS: list[Callable[[random.Random, dict], str | bytes]] = [
    mutate_value, mutate_value, mutate_value, mutate_raw_scalar, mutate_raw_scalar,
    add_unknown_key, delete_key, nest, aliases, duplicate_key, encoding, garbage, huge_string,
    many_tags,
]  # fmt: skip


def generated_cases() -> list[tuple[int, str, bytes]]:
    rng = random.Random(SEED)
    cases = []
    for index in range(CASES):
        mutation = rng.choice(MUTATIONS)
        document = yaml.safe_load(yaml.safe_dump(BASE))
        content = mutation(rng, document)
        data = content.encode() if isinstance(content, str) else content
        cases.append((index, mutation.__name__, data))
    return cases


def run(args: list[str]) -> tuple[int, float, Any]:
    started = time.monotonic()
    result = CliRunner().invoke(cli, args, catch_exceptions=True)
    return result.exit_code, time.monotonic() - started, result


@pytest.mark.timeout(120)
def test_fuzzed_settings_end_in_exit_0_or_2_and_write_nothing_on_failure(tmp_path):
    failures = []
    outcomes = {0: 0, 2: 0}
    for index, mutation, data in generated_cases():
        folder = tmp_path / f"case-{index}"
        folder.mkdir()
        settings = folder / "settings.yaml"
        settings.write_bytes(data)
        checked, checked_s, checked_result = run(["validate", "-f", str(settings)])
        rendered, rendered_s, rendered_result = run(
            ["render", "-f", str(settings), "--out", str(folder)]
        )
        where = f"case {index} ({mutation})"
        for code, seconds, result in (
            (checked, checked_s, checked_result),
            (rendered, rendered_s, rendered_result),
        ):
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                failures.append(f"{where}: {type(result.exception).__name__}: {result.exception}")
            elif code not in (0, 2):
                failures.append(f"{where}: exit {code}: {result.output[-300:]}")
            if seconds > SECONDS_PER_CASE:
                failures.append(f"{where}: took {seconds:.1f} s")
            if "Traceback" in result.output:
                failures.append(f"{where}: traceback in output")
        if checked != rendered:
            failures.append(f"{where}: validate exit {checked}, render exit {rendered}")
        if rendered == 2 and sorted(p.name for p in folder.iterdir()) != ["settings.yaml"]:
            failures.append(f"{where}: render failed but wrote files")
        if rendered == 2:
            lines = rendered_result.stderr.strip().splitlines()
            if not lines or not all(line.startswith(str(settings)) for line in lines):
                failures.append(f"{where}: problem lines do not name the file: {lines[:3]}")
        outcomes[rendered] = outcomes.get(rendered, 0) + 1
    assert not failures, "\n".join(failures[:20])
    # The generator must exercise both paths, or it tests nothing.
    assert outcomes[0] > 10 and outcomes[2] > CASES // 2, outcomes


def test_generated_cases_are_the_same_for_the_same_seed():
    assert [data for _, _, data in generated_cases()[:20]] == [
        data for _, _, data in generated_cases()[:20]
    ]
