"""The `himat` command's structure and the verbs around the lifecycle: the root group lists every
verb, no module imports the root, `fit --list-types`, and what import-tfvars writes."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_himat
from pangeo_himat.fit.fit import max_pods
from pangeo_himat.settings.catalog import load_catalog

PACKAGE = ROOT / "generator" / "pangeo_himat"
ORIGINAL_TFVARS = Path(__file__).parent / "fixtures" / "tfvars" / "pangeo-himat.tfvars"


def pinned_tfvars(folder: Path) -> Path:
    """The original tfvars with its :latest image pinned by a tag (import-tfvars refuses latest)."""
    tfvars = folder / "pinned.tfvars"
    tfvars.write_text(ORIGINAL_TFVARS.read_text().replace(":latest", ":2019.05"))
    return tfvars


VERBS = {
    "validate", "render", "fit", "cost", "import-tfvars", "local", "cluster", "install",
    "hibernate", "resume", "scale", "status", "connect", "destroy", "upgrade", "backup",
    "restore", "init", "iam-policy",
}  # fmt: skip


def imported_modules(path: Path) -> list[tuple[str, bool]]:
    """(module, imported inside a function) for every import of one source file."""
    tree = ast.parse(path.read_text())
    nested = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, id(node) in nested)]
            found += [(f"{node.module}.{alias.name}", id(node) in nested) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, id(node) in nested) for alias in node.names]
    return found


def test_the_root_group_lists_every_verb_on_a_plain_import():
    code = "from pangeo_himat.cli import cli; print(' '.join(sorted(cli.commands)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == VERBS


def test_no_module_imports_the_cli_root_and_none_imports_inside_a_function():
    entry_points = {PACKAGE / "cli" / "__init__.py", PACKAGE / "__main__.py"}
    for path in sorted(PACKAGE.rglob("*.py")):
        imports = imported_modules(path)
        if path not in entry_points:
            assert ("pangeo_himat.cli", False) not in imports, path
            assert not any(name == "pangeo_himat.cli.cli" for name, _ in imports), path
        if path.parent.name in ("cli", "lifecycle") or path.name in ("options.py", "names.py"):
            inside = [name for name, nested in imports if nested]
            assert inside == [], f"{path}: imports inside a function: {inside}"


def test_local_mode_imports_without_the_cli_root_first():
    code = "import pangeo_himat.local; import pangeo_himat.cli"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_entry_point_runs_the_root_group():
    result = run_himat("--help")
    assert result.returncode == 0
    assert all(verb in result.stdout for verb in VERBS)


def test_list_types_shows_every_catalog_type_with_its_figures_and_region_price():
    result = run_himat("fit", "--list-types", "-f", "tests/fixtures/settings-eu.yaml")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:-1]}
    catalog = load_catalog()
    assert set(rows) == set(catalog.types)
    m5 = catalog.types["m5.xlarge"]
    assert rows["m5.xlarge"] == [
        "m5.xlarge", str(m5.vcpu), f"{m5.memory_mib / 1024:g}", "GiB", str(max_pods(m5)),
        m5.architecture, f"{m5.on_demand_usd_per_hour['eu-west-1']:.4f}",
    ]  # fmt: skip
    assert result.stdout.splitlines()[-1].startswith("prices: eu-west-1")


def test_list_types_as_json_carries_the_region_price():
    result = run_himat("fit", "--list-types", "--json", "-f", "settings.yaml")
    document = json.loads(result.stdout)
    prices = {row["type"]: row["on_demand_usd_per_hour"] for row in document["instance_types"]}
    assert document["region"] == "us-west-2"
    assert (
        prices["m5.xlarge"] == load_catalog().types["m5.xlarge"].on_demand_usd_per_hour["us-west-2"]
    )


def schema_of(settings_file: Path) -> Path:
    first = settings_file.read_text().splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    reference = Path(first.split("$schema=", 1)[1])
    return reference if reference.is_absolute() else settings_file.parent / reference


def test_settings_imported_outside_the_checkout_point_to_a_schema_that_resolves(tmp_path):
    out = tmp_path / "elsewhere" / "settings.yaml"
    out.parent.mkdir()
    result = run_himat("import-tfvars", str(pinned_tfvars(tmp_path)), "-o", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    schema = schema_of(out)
    assert schema.is_absolute() and schema.is_file()
    assert json.loads(schema.read_text())["$schema"].startswith("https://json-schema.org/")


def test_settings_imported_inside_the_checkout_use_a_relative_schema(tmp_path):
    folder = ROOT / "clusterconfig" / f".import-test-{tmp_path.name}"
    out = folder / "settings.yaml"
    try:
        result = run_himat("import-tfvars", str(pinned_tfvars(tmp_path)), "-o", str(out))
        assert result.returncode == 0, result.stderr
        first = out.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../../values.schema.json"
        assert schema_of(out).resolve() == (ROOT / "values.schema.json").resolve()
    finally:
        out.unlink(missing_ok=True)
        folder.rmdir() if folder.exists() else None


@pytest.mark.parametrize(("count", "noted"), [("2", False), ("400", True)])
def test_import_says_the_original_asked_for_too_many_workers_only_when_it_did(
    tmp_path, count, noted
):
    tfvars = tmp_path / "terraform.tfvars"
    original = pinned_tfvars(tmp_path).read_text()
    assert "dask_worker_count = 100\n" in original
    tfvars.write_text(
        original.replace("dask_worker_count = 100\n", f"dask_worker_count = {count}\n")
    )
    result = run_himat("import-tfvars", str(tfvars))
    assert result.returncode == 0, result.stderr
    assert ("asked for more workers than fit" in result.stderr) is noted
    expected = "auto" if noted else int(count)
    assert yaml.safe_load(result.stdout)["workers"]["count"] == expected


def make_dry(*args: str) -> str:
    """What make would run (make -n), from the checkout's Makefile."""
    result = subprocess.run(
        ["make", "-n", "-s", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    "target",
    ["cluster", "install", "hibernate", "resume", "status", "connect", "destroy"],
)
def test_make_passes_dry_run_to_every_lifecycle_verb(target):
    commands = make_dry(target, "DRY_RUN=1", "NODES=2")
    assert f"himat {target} " in commands and "--dry-run" in commands


def test_make_import_tfvars_force_replaces():
    assert "--force" in make_dry("import-tfvars", "TFVARS=x.tfvars", "FORCE=1")
    assert "--force" not in make_dry("import-tfvars", "TFVARS=x.tfvars")


def test_make_help_lists_every_verb_once():
    result = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True)
    listed = [line.split()[1] for line in result.stdout.splitlines()]
    assert len(listed) == len(set(listed))
    assert set(listed) >= VERBS, VERBS - set(listed)
