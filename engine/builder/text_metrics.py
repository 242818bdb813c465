"""Deterministic text measurement for diagram labels, the way bpmn-js lays text out.

bpmn-js (bpmn.io, Camunda Modeler) draws labels in Arial: 12 px inside tasks, 11 px for
*external* labels (events, gateways, sequence flows, groups), with a line height of 1.2 times
the font size. It wraps a label to the width of its box with diagram-js's ``Text.layoutText``:
explicit line breaks first, then, while a line is too wide, it cuts the line at a space or
hyphen (or, for a single long word, inside the word) by a proportional estimate and measures
again.

Here the measuring is done with a table of Arial's advance widths in font units (1/2048 em),
so the same text always gives the same width on every machine: printable ASCII (Helvetica's
widths, Arial being metric-compatible with Helvetica), Latin-1, Latin Extended-A, punctuation
and a few symbols, and Arial's kerning pairs among ASCII (``Te``, ``AV``, ``y.`` ...). The
table is what bpmn-js measures in Chromium, where Arial is Liberation Sans (metric-compatible
with Arial): ``tools/bpmn_js_check --calibrate`` compares the two, and ``--wrap-cases``
compares :func:`wrap` with bpmn-js's wrapping. Other characters are measured by their base
letter (``é`` as ``e``), as a full em when East Asian wide (CJK, emoji), or as an average
letter (no kerning).
"""

from __future__ import annotations

import math
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

UNITS_PER_EM = 2048
"""Arial's design grid: the widths below are in 1/2048 em, as the font stores them."""
_FIRST = 0x20
# fmt: off
_ASCII = (
    569, 569, 727, 1139, 1139, 1821, 1366, 391,  # ' !"#$%&\''
    682, 682, 797, 1196, 569, 682, 569, 569,  # '()*+,-./'
    1139, 1139, 1139, 1139, 1139, 1139, 1139, 1139,  # '01234567'
    1139, 1139, 569, 569, 1196, 1196, 1196, 1139,  # '89:;<=>?'
    2079, 1366, 1366, 1479, 1479, 1366, 1251, 1593,  # '@ABCDEFG'
    1479, 569, 1024, 1366, 1139, 1706, 1479, 1593,  # 'HIJKLMNO'
    1366, 1593, 1479, 1366, 1251, 1479, 1366, 1933,  # 'PQRSTUVW'
    1366, 1366, 1251, 569, 569, 569, 961, 1139,  # 'XYZ[\\]^_'
    682, 1139, 1139, 1024, 1139, 1139, 569, 1139,  # '`abcdefg'
    1139, 455, 455, 1024, 455, 1706, 1139, 1139,  # 'hijklmno'
    1139, 1139, 682, 1024, 569, 1139, 1024, 1479,  # 'pqrstuvw'
    1024, 1024, 1024, 684, 532, 684, 1196,  # 'xyz{|}~'
)
# fmt: on
"""Arial's advance widths of the printable ASCII characters (the same as Helvetica's AFM widths
to within 1/1000 em, by Unicode glyph: ``'`` is ``quotesingle`` and the backtick ``grave``,
not the AFM's curly quotes at codes 0x27 and 0x60)."""
_SPECIAL: dict[str, int] = {
    # Arial's widths where the base letter does not give them (Latin-1, Latin Extended-A,
    # punctuation, symbols), as Chromium measures them (tools/bpmn_js_check --calibrate).
    "\u00a0": 569,  #   no-break space
    "\u00a1": 682,  # ¡ inverted exclamation mark
    "\u00a6": 532,  # ¦ broken bar
    "\u00a8": 682,  # ¨ diaeresis
    "\u00a9": 1509,  # © copyright sign
    "\u00aa": 758,  # ª feminine ordinal indicator
    "\u00ac": 1196,  # ¬ not sign
    "\u00ae": 1509,  # ® registered sign
    "\u00af": 1131,  # ¯ macron
    "\u00b0": 819,  # ° degree sign
    "\u00b1": 1124,  # ± plus-minus sign
    "\u00b2": 682,  # ² superscript two
    "\u00b3": 682,  # ³ superscript three
    "\u00b4": 682,  # ´ acute accent
    "\u00b5": 1180,  # µ micro sign
    "\u00b6": 1100,  # ¶ pilcrow sign
    "\u00b7": 569,  # · middle dot
    "\u00b8": 682,  # ¸ cedilla
    "\u00b9": 682,  # ¹ superscript one
    "\u00ba": 748,  # º masculine ordinal indicator
    "\u00bc": 1708,  # ¼ vulgar fraction one quarter
    "\u00bd": 1708,  # ½ vulgar fraction one half
    "\u00be": 1708,  # ¾ vulgar fraction three quarters
    "\u00bf": 1251,  # ¿ inverted question mark
    "\u00c6": 2048,  # Æ latin capital letter ae
    "\u00d0": 1479,  # Ð latin capital letter eth
    "\u00d7": 1196,  # × multiplication sign
    "\u00d8": 1593,  # Ø latin capital letter o with stroke
    "\u00de": 1366,  # Þ latin capital letter thorn
    "\u00df": 1251,  # ß latin small letter sharp s
    "\u00e6": 1821,  # æ latin small letter ae
    "\u00ec": 569,  # ì latin small letter i with grave
    "\u00ed": 569,  # í latin small letter i with acute
    "\u00ee": 569,  # î latin small letter i with circumflex
    "\u00ef": 569,  # ï latin small letter i with diaeresis
    "\u00f7": 1124,  # ÷ division sign
    "\u00f8": 1251,  # ø latin small letter o with stroke
    "\u010f": 1259,  # ď latin small letter d with caron
    "\u0110": 1479,  # Đ latin capital letter d with stroke
    "\u0126": 1479,  # Ħ latin capital letter h with stroke
    "\u0129": 569,  # ĩ latin small letter i with tilde
    "\u012b": 569,  # ī latin small letter i with macron
    "\u012d": 569,  # ĭ latin small letter i with breve
    "\u0131": 569,  # ı latin small letter dotless i
    "\u0132": 1505,  # Ĳ latin capital ligature ij
    "\u0133": 909,  # ĳ latin small ligature ij
    "\u0138": 1024,  # ĸ latin small letter kra
    "\u013e": 597,  # ľ latin small letter l with caron
    "\u0140": 684,  # ŀ latin small letter l with middle dot
    "\u0142": 455,  # ł latin small letter l with stroke
    "\u0149": 1237,  # ŉ latin small letter n preceded by apostrophe
    "\u014a": 1481,  # Ŋ latin capital letter eng
    "\u0152": 2048,  # Œ latin capital ligature oe
    "\u0153": 1933,  # œ latin small ligature oe
    "\u0165": 768,  # ť latin small letter t with caron
    "\u0166": 1251,  # Ŧ latin capital letter t with stroke
    "\u0167": 569,  # ŧ latin small letter t with stroke
    "\u017f": 455,  # ſ latin small letter long s
    "\u2010": 682,  # ‐ hyphen
    "\u2011": 682,  # ‑ non-breaking hyphen
    "\u2014": 2048,  # — em dash
    "\u2015": 2048,  # ― horizontal bar
    "\u2017": 1131,  # ‗ double low line
    "\u2018": 455,  # ‘ left single quotation mark
    "\u2019": 455,  # ’ right single quotation mark
    "\u201a": 455,  # ‚ single low-9 quotation mark
    "\u201b": 455,  # ‛ single high-reversed-9 quotation mark
    "\u201c": 682,  # “ left double quotation mark
    "\u201d": 682,  # ” right double quotation mark
    "\u201e": 682,  # „ double low-9 quotation mark
    "\u2022": 717,  # • bullet
    "\u2026": 2048,  # … horizontal ellipsis
    "\u2030": 2048,  # ‰ per mille sign
    "\u2032": 384,  # ′ prime
    "\u2033": 725,  # ″ double prime
    "\u2039": 682,  # ‹ single left-pointing angle quotation mark
    "\u203a": 682,  # › single right-pointing angle quotation mark
    "\u2122": 2048,  # ™ trade mark sign
    "\u2190": 2048,  # ← leftwards arrow
    "\u2191": 1024,  # ↑ upwards arrow
    "\u2192": 2048,  # → rightwards arrow
    "\u2193": 1024,  # ↓ downwards arrow
    "\u2194": 2048,  # ↔ left right arrow
    "\u2212": 1196,  # − minus sign
    "\u221e": 1460,  # ∞ infinity
    "\u2248": 1124,  # ≈ almost equal to
    "\u2260": 1124,  # ≠ not equal to
    "\u2264": 1124,  # ≤ less-than or equal to
    "\u2265": 1124,  # ≥ greater-than or equal to
}
# fmt: off
_KERNING: dict[str, int] = {
    "AT": -152, "AV": -152, "AW": -76, "AY": -152, "Av": -37, "Aw": -37, "Ay": -37,
    "F,": -227, "F.": -227, "FA": -113, "LT": -152, "LV": -152, "LW": -152, "LY": -152,
    "Ly": -76, "P,": -264, "P.": -264, "PA": -152, "RT": -37, "RV": -37, "RW": -37,
    "RY": -37, "T,": -227, "T-": -113, "T.": -227, "T:": -227, "T;": -227, "TA": -152,
    "TO": -37, "Ta": -227, "Tc": -227, "Te": -227, "Ti": -76, "To": -227, "Tr": -76,
    "Ts": -227, "Tu": -76, "Tw": -113, "Ty": -113, "V,": -188, "V-": -113, "V.": -188,
    "V:": -76, "V;": -76, "VA": -152, "Va": -152, "Ve": -113, "Vi": -37, "Vo": -113,
    "Vr": -76, "Vu": -76, "Vy": -76, "W,": -113, "W-": -37, "W.": -113, "W:": -37,
    "W;": -37, "WA": -76, "Wa": -76, "We": -37, "Wo": -37, "Wr": -37, "Wu": -37,
    "Wy": -18, "Y,": -264, "Y-": -188, "Y.": -264, "Y:": -113, "Y;": -133, "YA": -152,
    "Ya": -152, "Ye": -188, "Yi": -76, "Yo": -188, "Yp": -152, "Yq": -188, "Yu": -113,
    "Yv": -113, "ff": -37, "r,": -113, "r.": -113, "v,": -152, "v.": -152, "w,": -113,
    "w.": -113, "y,": -152, "y.": -152,
}
# fmt: on
"""Arial's kerning pairs among printable ASCII (added to the pair's widths), which Chromium's
canvas ``measureText`` (diagram-js's measuring) and its SVG text apply."""
_AVERAGE = 1139
"""An unknown character: as wide as a digit or a lower-case ``a``."""
_WIDE = UNITS_PER_EM
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
    if _FIRST <= code < _FIRST + len(_ASCII):
        return _ASCII[code - _FIRST]
    special = _SPECIAL.get(char)
    if special is not None:
        return special
    if char in "\t\r\n\f\v":
        return _ASCII[0]
    category = unicodedata.category(char)
    if category in ("Mn", "Me", "Cf"):  # combining marks, format characters: no advance
        return 0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return _WIDE
    base = unicodedata.normalize("NFD", char)[0]
    if base != char and _FIRST <= ord(base) < _FIRST + len(_ASCII):
        return _ASCII[ord(base) - _FIRST]
    return _AVERAGE


_SPACES = re.compile(r"[ \t\r\f\v]+")
_TRAILING = re.compile(r"\s+$")


def _collapse(line: str) -> str:
    """A line as SVG renders it: runs of spaces and tabs are one space, ends trimmed."""
    return _SPACES.sub(" ", line).strip(" ")


def _units(text: str) -> int:
    """Advance width of ``text`` in 1/2048 em: its characters' widths and kerning."""
    kerning = sum(_KERNING.get(text[i : i + 2], 0) for i in range(len(text) - 1))
    return sum(_char_units(c) for c in text) + kerning


def line_width(text: str, font: Font) -> float:
    """Width in px of one line of ``text`` as drawn: white space collapsed as SVG draws it,
    trailing white space (a no-break space too), which takes no ink, left out."""
    return _units(_TRAILING.sub("", _collapse(text))) * font.size / UNITS_PER_EM


# -- diagram-js's Text.layoutText ---------------------------------------------------------------
# As in diagram-js 15 (bpmn-js 18), checked against it on thousands of texts with
# ``tools/bpmn_js_check --wrap-cases``.

_BREAKS = re.compile(r"\u00ad?\r?\n")
_PARTS = re.compile(r"(\s|-|\u00ad)")


def _measured_width(line: str, font: Font) -> float:
    """The width diagram-js measures for a line (canvas ``measureText``): trailing white space
    left out, other white space not collapsed."""
    return _units(_TRAILING.sub("", line)) * font.size / UNITS_PER_EM


def _js_round(value: float) -> int:
    """JavaScript's ``Math.round`` (halves up, where Python's ``round`` goes to even)."""
    return math.floor(value + 0.5)


def _semantic_shorten(line: str, max_length: float) -> str:
    """The longest prefix of whole parts (split at white space and hyphens) shorter than
    ``max_length`` characters (diagram-js ``semanticShorten``; like it, it stops at the empty
    part between two consecutive separators)."""
    parts = _PARTS.split(line)
    if len(parts) < 2:
        return ""
    kept: list[str] = []
    length = 0
    for part in parts:
        if not part:
            break
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
        shorter = line[: max(min(_js_round(length - 1), len(line) - 1), 1)]
    return shorter


def wrap(text: str, max_width: float, font: Font) -> list[str]:
    """The lines bpmn-js draws for ``text`` wrapped at ``max_width`` px (empty for no text),
    each with its white space collapsed as SVG draws it.

    diagram-js keeps a line when its measured width is at most ``max_width`` (or it is one
    character long); else it shortens it and measures again. The rest of the line, trimmed,
    starts the next one (an empty rest still makes an empty line, as in diagram-js).
    """
    if not text.strip():
        return []
    lines: list[str] = []
    pending = _BREAKS.split(text)
    while pending:
        original = pending.pop(0)
        fit = original
        while True:
            width = _measured_width(fit, font) if fit else 0.0
            if fit in ("", " ") or width <= max_width or len(fit) < 2:
                break
            fit = _shorten(fit, width, max_width)
        if len(fit) < len(original):
            pending.insert(0, original[len(fit) :].strip())
        lines.append(_collapse(fit))
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
