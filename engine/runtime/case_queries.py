"""Case reads of ``engine.Engine``: snapshots, work lists and the timeline."""

from __future__ import annotations

from collections.abc import Sequence

from engine.errors import NotFound
from engine.runtime.arguments import _actor
from engine.runtime.kernel import EngineCore
from engine.runtime.snapshots import Case, TimelineEvent


class CaseQueries(EngineCore):
    """Reads that never change a case."""

    # -- reading ----------------------------------------------------------------------------

    def case(self, ref: str) -> Case:
        """A snapshot; never changes anything."""
        with self.store.transaction() as tx:
            case = tx.get_case(ref)
            if case is None:
                raise NotFound(f"case {ref!r} not found")
            return self._snapshot(tx, case)

    def inbox(self, user: str) -> list[Case]:
        """H8: To Do / In Progress cases assigned to ``user``."""
        user = _actor(user, "user")
        with self.store.transaction() as tx:
            return [self._snapshot(tx, c) for c in tx.inbox(user)]

    def responsibilities(self, user: str) -> list[Case]:
        """H8: Waiting cases whose assignee (or owner, when unassigned) is ``user``."""
        user = _actor(user, "user")
        with self.store.transaction() as tx:
            return [self._snapshot(tx, c) for c in tx.responsibilities(user)]

    def timeline(
        self, ref: str, *, include_related: bool = False, kinds: Sequence[str] | str | None = None
    ) -> list[TimelineEvent]:
        """V18: events of a case or action; with ``include_related`` also those of its actions
        and sub-cases (or, for an action, of its case)."""
        if isinstance(kinds, str):
            kinds = [kinds]
        with self.store.transaction() as tx:
            refs = [ref]
            case = tx.get_case(ref)
            if case is None:
                action = tx.get_action(ref)
                if action is None:
                    raise NotFound(f"case or action {ref!r} not found")
                owner: str | None = action.case_ref
                if include_related:
                    refs.append(action.case_ref)
            else:
                owner = case.parent
                if include_related:
                    refs += [a.ref for a in tx.actions_of(ref)]
                    for sub in tx.subcases_of(ref):
                        refs.append(sub.ref)
                        refs += [a.ref for a in tx.actions_of(sub.ref)]
                    if case.parent is not None:  # SC6: the parent and its related activities
                        refs.append(case.parent)
                        refs += [a.ref for a in tx.actions_of(case.parent)]
                        refs += [s.ref for s in tx.subcases_of(case.parent) if s.ref != ref]
            wanted = list(kinds) if kinds is not None else None
            events = tx.events_for(refs, wanted)
            if wanted is not None and "rework" in wanted and owner and owner not in refs:
                # RW9: with the rework-history filter, an action or a sub-case also shows the
                # reworks of the case it belongs to.
                events += tx.events_for([owner], ["rework"])
                events.sort(key=lambda e: (e.at, e.id or 0))
            return [
                TimelineEvent(
                    kind=e.kind,
                    at=e.at,
                    by=e.by,
                    details=dict(e.details),
                    ref=e.ref,
                    case_ref=e.case_ref,
                    id=e.id,
                )
                for e in events
            ]
