"""Deterministic text measurement for diagram labels, the way bpmn-js lays text out.

bpmn-js (bpmn.io, Camunda Modeler) draws labels in Arial: 12 px inside tasks, 11 px for
*external* labels (events, gateways, sequence flows, groups), with a line height of 1.2 times
the font size. It wraps a label to the width of its box with diagram-js's ``Text.layoutText``:
explicit line breaks first, then, while a line is too wide, it cuts the line at a space or
hyphen (or, for a single long word, inside the word) by a proportional estimate and measures
again.

Here the measuring is done with the advance widths of Helvetica (Adobe's AFM metrics, the
same as Arial's: Arial was made metric-compatible with Helvetica), in 1/1000 em, so the same
text always gives the same width on every machine. Characters outside the table are measured
by their base letter (``é`` as ``e``), as a full em when East Asian wide (CJK, emoji), or as
an average letter.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "EXTERNAL_FONT",
    "TASK_FONT",
    "Font",
    "ellipsize",
    "line_width",
    "wrap",
]

_FIRST = 0x20
_HELVETICA = (
    # fmt: off
    278,
    278,
    355,
    556,
    556,
    889,
    667,
    222,
    333,
    333,
    389,
    584,
    278,
    333,
    278,
    278,  # ' '..'/'
    556,
    556,
    556,
    556,
    556,
    556,
    556,
    556,
    556,
    556,
    278,
    278,
    584,
    584,
    584,
    556,  # '0'..'?'
    1015,
    667,
    667,
    722,
    722,
    667,
    611,
    778,
    722,
    278,
    500,
    667,
    556,
    833,
    722,
    778,  # '@'..'O'
    667,
    778,
    722,
    667,
    611,
    722,
    667,
    944,
    667,
    667,
    611,
    278,
    278,
    278,
    469,
    556,  # 'P'..'_'
    222,
    556,
    556,
    500,
    556,
    556,
    278,
    556,
    556,
    222,
    222,
    500,
    222,
    833,
    556,
    556,  # '`'..'o'
    556,
    556,
    333,
    500,
    278,
    556,
    500,
    722,
    500,
    500,
    500,
    334,
    260,
    334,
    584,  # 'p'..'~'
    # fmt: on
)
"""Helvetica advance widths (1/1000 em) of the printable ASCII characters, from
``Helvetica.afm`` (Adobe Core 14 metrics, as shipped with matplotlib)."""
_SPECIAL: dict[str, int] = {
    "\u00a0": 278,  # no-break space
    "\u00df": 611,  # ß
    "\u00e6": 889,  # æ
    "\u00c6": 1000,  # Æ
    "\u00f8": 611,  # ø
    "\u00d8": 778,  # Ø
    "\u20ac": 556,  # €
    "\u2026": 1000,  # …
    "\u2018": 222,
    "\u2019": 222,
    "\u201c": 333,
    "\u201d": 333,
    "\u2013": 556,  # en dash
    "\u2014": 1000,  # em dash
}
_AVERAGE = 556
_WIDE = 1000
ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class Font:
    """A font size in px and its line height (bpmn-js: 1.2 times the size)."""

    size: float

    @property
    def line_height(self) -> float:
        return self.size * 1.2


TASK_FONT = Font(12)
"""bpmn-js's default font: labels embedded in tasks."""
EXTERNAL_FONT = Font(11)
"""bpmn-js's external labels: events, gateways, sequence flows, groups."""


@lru_cache(maxsize=4096)
def _char_units(char: str) -> int:
    code = ord(char)
    if _FIRST <= code < _FIRST + len(_HELVETICA):
        return _HELVETICA[code - _FIRST]
    special = _SPECIAL.get(char)
    if special is not None:
        return special
    if char in "\t\r\n\f\v":
        return _HELVETICA[0]
    category = unicodedata.category(char)
    if category in ("Mn", "Me", "Cf"):  # combining marks, format characters: no advance
        return 0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return _WIDE
    base = unicodedata.normalize("NFD", char)[0]
    if base != char and _FIRST <= ord(base) < _FIRST + len(_HELVETICA):
        return _HELVETICA[ord(base) - _FIRST]
    return _AVERAGE


_SPACES = re.compile(r"[ \t\r\f\v]+")


def _collapse(line: str) -> str:
    """A line as SVG renders it: runs of spaces and tabs are one space, ends trimmed."""
    return _SPACES.sub(" ", line).strip(" ")


def line_width(text: str, font: Font) -> float:
    """Width in px of one line of ``text`` (white space collapsed, as SVG draws it)."""
    return sum(_char_units(c) for c in _collapse(text)) * font.size / 1000


# -- diagram-js's Text.layoutText ---------------------------------------------------------------

_BREAKS = re.compile(r"\u00ad?\r?\n")
_PARTS = re.compile(r"(\s|-|\u00ad)")


def _semantic_shorten(line: str, max_length: float) -> str:
    """The longest prefix of whole parts (split at white space and hyphens) shorter than
    ``max_length`` characters (diagram-js ``semanticShorten``)."""
    parts = [p for p in _PARTS.split(line) if p]
    if len(parts) < 2:
        return ""
    kept: list[str] = []
    length = 0
    for part in parts:
        if len(part) + length < max_length:
            kept.append(part)
            length += len(part)
        else:
            if part in ("-", "\u00ad") and kept:
                kept.pop()
            break
    if kept and kept[-1] == "\u00ad":
        kept[-1] = "-"
    return "".join(kept)


def _shorten(line: str, width: float, max_width: float) -> str:
    """diagram-js ``shortenLine``: cut proportionally, at a break if there is one."""
    length = max(len(line) * (max_width / width), 1)
    shorter = _semantic_shorten(line, length)
    if not shorter or len(shorter) >= len(line):
        shorter = line[: max(min(round(length - 1), len(line) - 1), 1)]
    return shorter


def wrap(text: str, max_width: float, font: Font) -> list[str]:
    """The lines bpmn-js draws for ``text`` wrapped at ``max_width`` px (empty for no text).

    diagram-js keeps a line when it is narrower than ``round(max_width)`` (or one character
    long); else it shortens it and measures again. The rest of the line starts the next one.
    """
    if not text.strip():
        return []
    limit = round(max_width)
    lines: list[str] = []
    pending = _BREAKS.split(text)
    while pending:
        original = pending.pop(0)
        fit = original
        while True:
            width = line_width(fit, font) if _collapse(fit) else 0.0
            if fit in ("", " ") or width < limit or len(fit) < 2:
                break
            fit = _shorten(fit, width, max_width)
        if len(fit) < len(original):
            rest = original[len(fit) :].strip()
            if rest:
                pending.insert(0, rest)
        lines.append(_collapse(fit))
    while lines and not lines[-1]:
        lines.pop()
    return lines


def ellipsize(text: str, max_width: float, font: Font, max_lines: int) -> str:
    """``text`` itself when it wraps into at most ``max_lines`` lines at ``max_width``; else
    its longest prefix that, with an ellipsis, does (white space normalised)."""
    lines = wrap(text, max_width, font)
    if len(lines) <= max_lines:
        return text
    flat = _collapse(_BREAKS.sub(" ", text))
    longest = sum(len(line) + 1 for line in lines[:max_lines])
    for end in range(min(longest, len(flat) - 1), 0, -1):
        candidate = flat[:end].rstrip() + ELLIPSIS
        if len(wrap(candidate, max_width, font)) <= max_lines:
            return candidate
    return ELLIPSIS
