"""The docs site builds with no warning, its internal links resolve, its pictures are drawn.

The build is the one `make docs` runs (Sphinx, warnings as errors, nitpicky), into a temporary
folder. Its generated parts (pictures, settings reference, version calendar, cost tables) are
written at every build and never committed, so none of them can be stale; the chart's values
table, which the chart's README also shows, is checked by tests/test_chart_schema.py.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click
import pytest

from conftest import ROOT
from pangeo_himat.cli import cli
from pangeo_himat.cost.cost import HOURS_PER_MONTH, estimate_cost
from pangeo_himat.fit.fit import compute_fit
from pangeo_himat.fit.loader import load_settings

PAGES = (
    "index",
    "getting-started",
    "how-it-works",
    "living-with-a-cluster",
    "elastic-workers",
    "costs",
    "security",
    "troubleshooting",
    "local-mode",
    "data-on-s3",
    "coming-from-terraform",
    "testing",
    "tools-and-versions",
    "reference/cli",
    "reference/settings",
    "reference/chart",
    "reference/versions",
)


class Links(HTMLParser):
    """Every href/src of a page, and every id it defines."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id":
                self.ids.add(value)
            elif name in {"href", "src"} and tag in {"a", "img", "link", "script", "object"}:
                self.targets.append(value)


def text_of(page: Path) -> str:
    """What a reader sees: the page without its tags (highlighting splits commands apart)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def parse(page: Path) -> Links:
    links = Links()
    links.feed(page.read_text(errors="replace"))
    return links


def broken_links(site: Path) -> list[str]:
    """`page: target` for each internal link whose file or anchor does not exist."""
    pages = [p for p in site.rglob("*.html") if p.relative_to(site).parts[0] != "_static"]
    parsed = {page: parse(page) for page in pages}
    broken = []
    for page, links in parsed.items():
        for target in links.targets:
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or target.startswith(("mailto:", "data:")):
                continue
            path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if path.is_dir():
                path = path / "index.html"
            if not path.exists():
                broken.append(f"{page.relative_to(site)}: {target}")
                continue
            if parts.fragment and path.suffix == ".html":
                ids = parsed[path].ids if path in parsed else parse(path).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)}: {target}")
    return broken


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("dot") is None:
        pytest.fail("Graphviz's dot is missing: `make graphviz` installs it (make test does)")
    out = tmp_path_factory.mktemp("docs")
    sphinx = Path(sys.executable).parent / "sphinx-build"
    result = subprocess.run(
        [str(sphinx), "-b", "html", "-n", "-W", "--keep-going", "-q", "-d", str(out / "doctrees"),
         str(ROOT / "docs"), str(out / "html")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONHASHSEED": "0"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip() == "", result.stderr
    return out / "html"


@pytest.mark.slow
def test_the_site_builds_every_page_with_no_warning(site: Path) -> None:
    for page in PAGES:
        assert (site / f"{page}.html").exists(), page


@pytest.mark.slow
def test_every_internal_link_and_anchor_resolves(site: Path) -> None:
    assert broken_links(site) == []


@pytest.mark.slow
def test_the_link_check_finds_a_broken_link(site: Path, tmp_path: Path) -> None:
    copy = tmp_path / "html"
    shutil.copytree(site, copy)
    index = copy / "index.html"
    index.write_text(
        index.read_text().replace("</body>", '<a href="costs.html#no-such-part">x</a></body>')
    )
    (copy / "security.html").unlink()
    found = broken_links(copy)
    assert "index.html: costs.html#no-such-part" in found
    assert any(line.endswith("security.html") for line in found)


@pytest.mark.slow
def test_the_pictures_are_drawn_at_build_time(site: Path) -> None:
    images = {path.name for path in (site / "_images").iterdir()}
    for name in ("fit.png", "week-cost.png", "elastic-day.png"):
        assert name in images
        assert (site / "_images" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the architecture diagram: Graphviz output from docs/architecture.dot, inline in the page
    assert "graphviz" in (site / "how-it-works.html").read_text()


@pytest.mark.slow
def test_the_costs_page_shows_what_the_cost_model_computes(site: Path) -> None:
    settings = load_settings(ROOT / "settings.yaml")
    report = estimate_cost(settings, compute_fit(settings))
    page = text_of(site / "costs.html")
    assert f"{report.total('running') * HOURS_PER_MONTH:.2f}" in page
    assert f"{report.total('hibernated_all'):.3f}" in page


@pytest.mark.slow
def test_the_cli_reference_lists_every_verb(site: Path) -> None:
    page = text_of(site / "reference" / "cli.html")
    for name, verb in cli.commands.items():
        assert f"himat {name} [OPTIONS]" in page, name
        shown = [p for p in verb.params if isinstance(p, click.Option) and not p.hidden]
        for option in (o for param in shown for o in param.opts):
            assert option in page, f"{name} {option}"


@pytest.mark.slow
def test_the_settings_reference_lists_every_key(site: Path) -> None:
    schema = json.loads((ROOT / "values.schema.json").read_text())
    page = text_of(site / "reference" / "settings.html")
    for key in schema["properties"]["workers"]["properties"]:
        assert f"workers.{key}" in page
