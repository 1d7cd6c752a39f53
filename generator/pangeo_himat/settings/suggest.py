"""`did you mean ...?` for a value that must be one of a known set (regions, instance types)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# difflib's similarity ratio above which a known value counts as what was meant: 0.6 is
# difflib.get_close_matches' own default; three names are enough to choose from.
CUTOFF = 0.6
SHOWN = 3


def close_matches(word: str, known: Iterable[str]) -> list[str]:
    """The known values nearest in spelling to `word`, nearest first."""
    return difflib.get_close_matches(word, list(known), n=SHOWN, cutoff=CUTOFF)


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`did you mean a, b or c? ` (with its trailing space), or "" when nothing is close."""
    matches = close_matches(word, known)
    if not matches:
        return ""
    if len(matches) == 1:
        return f"did you mean {matches[0]}? "
    return f"did you mean {', '.join(matches[:-1])} or {matches[-1]}? "
