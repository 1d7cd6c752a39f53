"""values.schema.yaml is the chart schema's one source: the JSON Helm reads, the README values
table and the keys of values.yaml must all agree with it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

from conftest import CHART, ROOT

SCRIPT = ROOT / "scripts" / "chart_schema.py"


def chart_schema(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60
    )


def copied_chart(tmp_path: Path) -> Path:
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    return chart


def test_generated_schema_and_readme_table_are_up_to_date():
    result = chart_schema("--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_fails_when_the_json_is_stale(tmp_path):
    chart = copied_chart(tmp_path)
    source = chart / "values.schema.yaml"
    source.write_text(source.read_text().replace("maximum: 120", "maximum: 119"))
    result = chart_schema("--check", "--chart", str(chart))
    assert result.returncode == 1
    assert "values.schema.json is stale" in result.stderr
    assert "README.md is stale" not in result.stderr


def test_check_fails_when_values_yaml_and_the_schema_have_different_keys(tmp_path):
    chart = copied_chart(tmp_path)
    values = chart / "values.yaml"
    values.write_text(values.read_text().replace("  spillSizeLimit: 4Gi\n", "  spillSize: 4Gi\n"))
    result = chart_schema("--check", "--chart", str(chart))
    assert result.returncode == 1
    assert "worker.spillSizeLimit: in values.schema.yaml, missing from values.yaml" in result.stderr
    assert "worker.spillSize: in values.yaml, missing from values.schema.yaml" in result.stderr


def test_json_has_no_references_left_and_accepts_the_chart_defaults():
    text = (CHART / "values.schema.json").read_text()
    assert "$ref" not in text and "$defs" not in text
    schema = json.loads(text)
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(yaml.safe_load((CHART / "values.yaml").read_text()))


def commented(lines: list[str], number: int) -> bool:
    """The line, or the block key it belongs to (resources: {requests, limits}), has `# --`."""
    indent = len(lines[number]) - len(lines[number].lstrip())
    while number > 0:
        if lines[number - 1].strip().startswith("# --"):
            return True
        parents = [
            n
            for n in range(number)
            if lines[n].strip()
            and not lines[n].strip().startswith("#")
            and len(lines[n]) - len(lines[n].lstrip()) < indent
        ]
        if not parents:
            return False
        number = parents[-1]
        indent = len(lines[number]) - len(lines[number].lstrip())
    return False


def test_every_value_has_a_comment_and_a_table_row():
    """dask/helm-chart style: a short `# --` comment above each value in values.yaml."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "- ")) or stripped.endswith(":"):
            continue
        assert commented(lines, number), f"values.yaml:{number + 1} has no `# --` comment"
    readme = (CHART / "README.md").read_text()
    schema = json.loads((CHART / "values.schema.json").read_text())
    for key in schema["properties"]["worker"]["properties"]:
        assert f"| `worker.{key}` |" in readme
