"""What-if variants of a scenario (``variants:``), merged onto the base document.

Mappings merge key by key; lists and values replace; a distribution (``durations``, an
action's duration for one pool under ``pool_durations``, ``interarrival``), a data generator
or a gateway's branch probabilities given in a variant replace the base one whole. A merged
document (:class:`VariantDocument`) locates each problem at the line that caused it: the
variant's where the value came from the variant, else the base's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from engine.builder.yaml_source import YamlDocument, YamlPath
from engine.errors import Problem

__all__ = ["VariantDocument", "in_variant", "merge_variant", "variant_patches"]

# Positions of the merged document where a variant's mapping replaces the base one whole
# ("*" matches any key): distributions (an action's, an action's for one pool), data
# generators, a gateway's branch probabilities.
_REPLACED: tuple[tuple[str, ...], ...] = (
    ("arrivals", "interarrival"),
    ("processes", "*", "durations", "*"),
    ("processes", "*", "pool_durations", "*", "*"),
    ("processes", "*", "data", "*"),
    ("processes", "*", "branches", "*"),
)


def variant_patches(data: Any) -> list[tuple[int, dict[str, Any]]]:
    """The well-formed variants of the document (others are schema problems), with their
    index under ``variants``."""
    if not isinstance(data, dict) or not isinstance(data.get("variants"), list):
        return []
    return [
        (i, item)
        for i, item in enumerate(data["variants"])
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    ]


@dataclass(frozen=True)
class VariantDocument(YamlDocument):
    """A base document with a variant merged in: its problems are located in ``source``,
    at the base's or the variant's lines depending on where each value came from."""

    source: YamlDocument | None = None
    overrides: dict[YamlPath, YamlPath] = field(default_factory=dict, repr=False)

    def origin(self, path: YamlPath) -> YamlPath:
        """Where the value at ``path`` of the merged document is written in the file."""
        for end in range(len(path), 0, -1):
            found = self.overrides.get(path[:end])
            if found is not None:
                return found + path[end:]
        return path

    def problem(self, message: str, path: YamlPath, **options: Any) -> Problem:
        """:meth:`YamlDocument.problem` of ``source``, at where ``path`` is written."""
        assert self.source is not None
        return self.source.problem(message, self.origin(path), **options)


def merge_variant(doc: YamlDocument, index: int, patch: dict[str, Any]) -> VariantDocument:
    """The base document ``doc`` with variant ``patch`` (``variants[index]``) merged in."""
    base = {key: value for key, value in doc.data.items() if key != "variants"}
    overrides: dict[YamlPath, YamlPath] = {}
    body = {key: value for key, value in patch.items() if key != "name"}
    merged = _merge(base, body, (), ("variants", index), overrides)
    return VariantDocument(data=merged, file=doc.file, source=doc, overrides=overrides)


def in_variant(problem: Problem, name: str, file: str) -> Problem:
    """``problem`` found only when checking variant ``name``, saying so (when it is in the
    scenario ``file``, not in a definition)."""
    if problem.file != file:
        return problem
    return dataclasses.replace(problem, message=f"variant {name!r}: {problem.message}")


def _merge(
    base: Any, patch: Any, here: YamlPath, source: YamlPath, overrides: dict[YamlPath, YamlPath]
) -> Any:
    """``patch`` merged onto ``base``; records where each replaced value came from."""
    if not (isinstance(base, dict) and isinstance(patch, dict)) or _replaced(here):
        overrides[here] = source
        return patch
    out = dict(base)
    for key, value in patch.items():
        if key in out:
            out[key] = _merge(out[key], value, here + (key,), source + (key,), overrides)
        else:
            out[key] = value
            overrides[here + (key,)] = source + (key,)
    return out


def _replaced(path: YamlPath) -> bool:
    return any(
        len(pattern) == len(path)
        and all(want in ("*", part) for want, part in zip(pattern, path, strict=True))
        for pattern in _REPLACED
    )
