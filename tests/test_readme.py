"""Every command the README and the docs show exists, and the read-only ones run as shown.

Commands are taken from fenced code blocks (a line starting with `make ` or `himat `, after an
optional `$ ` prompt) and from inline code spans in the prose and tables. A `make` command must
name real targets and variables (`make -n` parses it as make does). A `himat` command must name
a real verb and real options; one in a code block must also parse as a whole (arguments
included), and the verbs that only read the settings (validate, fit, cost, render) are run for
real on the shipped settings. Inline spans often name a verb without its arguments
("`himat restore` makes a volume"), so for them the verb and options are checked.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from conftest import ROOT
from pangeo_himat.cli import cli

DOCS = ROOT / "docs"
READ_ONLY_VERBS = {"validate", "fit", "cost", "render"}
INLINE = re.compile(r"`((?:make|himat) [^`]+)`")
SHELL_FENCES = {"", "console", "sh", "bash", "shell", "text"}


def documents() -> list[Path]:
    pages = sorted(p for p in DOCS.rglob("*.md") if not {"_build", "_generated"} & set(p.parts))
    return [ROOT / "README.md", *pages]


def _command(line: str) -> str | None:
    line = line.strip().removeprefix("$ ")
    line = re.split(r"\s+#", line, maxsplit=1)[0].strip()
    return line if line.startswith(("make ", "himat ")) or line in {"make", "himat"} else None


def split_fences(text: str) -> tuple[list[str], list[str]]:
    """Lines of shell code blocks, and the prose lines outside any code block or directive."""
    code: list[str] = []
    prose: list[str] = []
    fence: str | None = None  # the info string of the open fence
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = stripped[3:].split(" ")[0] if fence is None else None
            continue
        if fence is None:
            prose.append(line)
        elif fence in SHELL_FENCES:
            code.append(line)
    return code, prose


def commands_in(text: str) -> list[tuple[str, bool]]:
    """(command, whole) pairs: whole when it stands in a code block, ready to run."""
    code, prose = split_fences(text)
    found = [(c, True) for c in map(_command, code) if c]
    found += [(c, False) for c in map(_command, INLINE.findall("\n".join(prose))) if c]
    return found


def documented(program: str) -> list[tuple[str, str, bool]]:
    """(page, command, whole) for every command of that program, each once."""
    seen: dict[tuple[str, bool], str] = {}
    for page in documents():
        for command, whole in commands_in(page.read_text()):
            if command.split()[0] == program:
                seen.setdefault((command, whole), str(page.relative_to(ROOT)))
    return sorted((page, command, whole) for (command, whole), page in seen.items())


def _is_synopsis(args: list[str]) -> bool:
    """`himat local [-f FILE] [--workers N]` or `<name>`: a summary, not a runnable line."""
    return any(a.startswith(("[", "<")) or a.endswith("...") or a.isupper() for a in args)


def check_himat(command: str, whole: bool = True) -> str | None:
    """None when the command parses as the click commands define it, else why not."""
    args = shlex.split(command)[1:]
    if not args:
        return None
    verb, rest = args[0], args[1:]
    if verb.startswith("-"):
        return None if verb in {"--help", "-h", "--version"} else f"unknown option {verb}"
    sub = cli.commands.get(verb)
    if sub is None:
        return f"himat has no command {verb!r}"
    names = {opt for param in sub.params for opt in getattr(param, "opts", [])}
    names |= {"--help", "-h"}
    for arg in rest:
        option = arg.split("=", 1)[0].strip("[]")
        if option.startswith("-") and option not in names:
            return f"himat {verb} has no option {option}"
    if not whole or _is_synopsis(rest):
        return None
    try:
        with sub.make_context(verb, list(rest)):
            pass
    except click.exceptions.Exit:
        pass
    except click.ClickException as error:
        return error.format_message()
    return None


@pytest.mark.parametrize(("page", "command", "whole"), documented("himat"))
def test_documented_himat_command_exists(page: str, command: str, whole: bool) -> None:
    problem = check_himat(command, whole)
    assert problem is None, f"{page}: {command}: {problem}"


@pytest.mark.parametrize(("page", "command", "whole"), documented("make"))
def test_documented_make_command_exists(page: str, command: str, whole: bool) -> None:
    args = shlex.split(command)[1:]
    variables = [a.split("=", 1)[0] for a in args if "=" in a]
    makefile = (ROOT / "Makefile").read_text()
    for name in variables:
        assert f"$({name})" in makefile, f"{page}: {command}: the Makefile never reads {name}"
    result = subprocess.run(
        ["make", "-n", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"{page}: {command}: {result.stderr}"


def test_a_command_that_does_not_exist_is_caught() -> None:
    assert check_himat("himat hibernat") == "himat has no command 'hibernat'"
    assert check_himat("himat fit --plott x.png") == "himat fit has no option --plott"
    assert check_himat("himat scale") is not None  # its node count is required
    assert check_himat("himat scale", whole=False) is None  # "`himat scale` sets the nodes"
    assert commands_in("run `make cluster DRY_RUN=1` now\n```\n$ himat fit  # look\n```\n") == [
        ("himat fit", True),
        ("make cluster DRY_RUN=1", False),
    ]


@pytest.mark.slow
def test_documented_read_only_commands_run(tmp_path: Path) -> None:
    shutil.copy(ROOT / "settings.yaml", tmp_path / "settings.yaml")
    shutil.copy(ROOT / "values.schema.json", tmp_path / "values.schema.json")
    ran = 0
    for page, command, whole in documented("himat"):
        args = shlex.split(command)[1:]
        if not whole or not args or args[0] not in READ_ONLY_VERBS or _is_synopsis(args):
            continue
        result = subprocess.run(
            [sys.executable, "-m", "pangeo_himat", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
        assert result.returncode == 0, f"{page}: {command}: {result.stderr}"
        ran += 1
    assert ran >= 3


def test_readme_fits_on_two_screens_and_links_the_docs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    assert "](docs/index.md)" in readme
    for fact in ("Python 3.11", "1.5 GiB", "ssh -L 8888:127.0.0.1:8888", "15 to 20 minutes"):
        assert fact in readme


def test_readme_shows_the_test_command_and_ci_runs_it() -> None:
    assert "make test" in (ROOT / "README.md").read_text()
    assert (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1] == "make test"
