"""Deployed definitions, keyed by process id and version.

Redeploying the same id and version with the same content is a no-op; with different content it
is refused (bump the version instead). A new version deploys beside the old ones: running cases
keep the version they started with, new cases take the latest.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.errors import DefinitionError, NotFound, Problem
from engine.model import ProcessDefinition


class Catalog:
    """An in-memory set of deployed process definitions (the store persists the same rules)."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, int], ProcessDefinition] = {}

    def check_can_add(self, definition: ProcessDefinition) -> ProcessDefinition | None:
        """The already-deployed equal definition, or None if new; DefinitionError on conflict."""
        existing = self._by_key.get(definition.key)
        if existing is None:
            return None
        if existing.digest != definition.digest:
            raise DefinitionError(
                Problem(
                    f"process {definition.id!r} version {definition.version} is already "
                    f"deployed (from {existing.source or 'the store'}) with different content; "
                    "deploy it as a new version",
                    file=definition.source,
                    path="version",
                    code="E-VERSION",
                )
            )
        return existing

    def add(self, definition: ProcessDefinition) -> ProcessDefinition:
        """Deploy; returns the definition now in the catalog (the existing one if identical)."""
        existing = self.check_can_add(definition)
        if existing is not None:
            return existing
        self._by_key[definition.key] = definition
        return definition

    def get(self, process_id: str, version: int | None = None) -> ProcessDefinition:
        """A given version, or the latest when ``version`` is None."""
        if version is not None:
            found = self._by_key.get((process_id, version))
            if found is None:
                raise NotFound(f"process {process_id!r} version {version} is not deployed")
            return found
        versions = self.versions(process_id)
        if not versions:
            raise NotFound(f"process {process_id!r} is not deployed")
        return self._by_key[(process_id, versions[-1])]

    def versions(self, process_id: str) -> list[int]:
        return sorted(v for (pid, v) in self._by_key if pid == process_id)

    def process_ids(self) -> set[str]:
        return {pid for (pid, _) in self._by_key}

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self) -> Iterator[ProcessDefinition]:
        return iter(sorted(self._by_key.values(), key=lambda d: d.key))

    def __len__(self) -> int:
        return len(self._by_key)
