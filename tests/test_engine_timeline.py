"""Engine façade: the timeline (SPEC V18, S6): order, fields, ``kinds`` filter, related events."""

from __future__ import annotations

from datetime import UTC, timedelta

from conftest import START, at, claim_in_progress, open_action

from engine import CaseStatus, Engine, HoldKind, ManualClock, TimelineEvent


def _story(engine: Engine, clock: ManualClock) -> tuple[str, str]:
    """Create, submit, start, work an action, hold, reply: returns (case ref, action ref)."""
    case = engine.create_case("claim", by="ann", data={"amount": 5000}, submit=True)
    clock.advance(timedelta(minutes=10))
    engine.start_work(case.ref, by="bob")
    register = open_action(engine, case.ref, "register")
    clock.advance(timedelta(minutes=10))
    engine.complete_action(register.ref, by="bob")
    clock.advance(timedelta(minutes=10))
    engine.hold(case.ref, HoldKind.MORE_INFO, by="bob", reason="Customer documents")
    clock.advance(timedelta(minutes=10))
    engine.reply(case.ref, body="attached", sender="cust@example.com")
    return case.ref, register.ref


def _status_changes(events: list[TimelineEvent]) -> list[tuple[str, str, str | None]]:
    return [(e.details["from"], e.details["to"], e.by) for e in events if "to" in e.details]


def test_V18_timeline_records_everything_in_order(engine: Engine, clock: ManualClock) -> None:
    ref, _ = _story(engine, clock)
    events = engine.timeline(ref, include_related=True)
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert all(e.at.tzinfo is not None and e.at.utcoffset() == timedelta(0) for e in events)
    assert events[0].at == START
    assert events[-1].at == at(2, 9, 40)
    kinds = {e.kind for e in events}
    assert len(kinds) >= 6  # created, submitted, started, action events, hold, reply


def test_S6_status_changes_in_the_timeline_carry_by_reason_and_date(
    engine: Engine, clock: ManualClock
) -> None:
    ref, _ = _story(engine, clock)
    events = engine.timeline(ref)
    assert _status_changes(events)[1:] == [
        ("Draft", "To Do", "ann"),
        ("To Do", "In Progress", "bob"),
        ("In Progress", "Waiting", "bob"),
        ("Waiting", "To Do", "cust@example.com"),
    ]
    hold = next(e for e in events if e.details.get("to") == "Waiting")
    assert hold.at == at(2, 9, 30)
    assert hold.details["reason"]
    assert hold.details["hold_kind"] == "more_info"
    reply = events[-1]
    assert reply.details["reason"]
    assert reply.details["body"] == "attached"
    assert all(e.details.get("reason") for e in events if "to" in e.details and e.kind != "created")


def test_V18_kinds_filter_keeps_only_the_kinds_asked(engine: Engine, clock: ManualClock) -> None:
    ref, _ = _story(engine, clock)
    everything = engine.timeline(ref, include_related=True)
    hold_kind = next(e.kind for e in everything if e.details.get("to") == "Waiting")
    only = engine.timeline(ref, kinds=[hold_kind])
    assert [e.kind for e in only] == [hold_kind]
    assert engine.timeline(ref, kinds=hold_kind) == only
    two = {hold_kind, everything[0].kind}
    both = engine.timeline(ref, include_related=True, kinds=sorted(two))
    assert {e.kind for e in both} == two
    assert both == [e for e in everything if e.kind in two]
    assert engine.timeline(ref, kinds=["no-such-kind"]) == []
    assert engine.timeline(ref, kinds=[]) == []


def test_V18_include_related_adds_the_actions_events(engine: Engine, clock: ManualClock) -> None:
    ref, register = _story(engine, clock)
    own = engine.timeline(ref)
    related = engine.timeline(ref, include_related=True)
    assert set(map(repr, own)) < set(map(repr, related))
    extra = [e for e in related if e not in own]
    assert any(e.by == "bob" and e.at == at(2, 9, 20) for e in extra)  # register completed
    action_events = engine.timeline(register)
    assert action_events
    assert all(e in related for e in action_events)
    assert not any(e in own for e in action_events)


def test_V18_timeline_of_an_action_with_related_includes_its_case(
    engine: Engine, clock: ManualClock
) -> None:
    ref, register = _story(engine, clock)
    own = engine.timeline(register)
    with_case = engine.timeline(register, include_related=True)
    assert all(e in with_case for e in own)
    assert all(e in with_case for e in engine.timeline(ref))


def test_V18_reading_never_adds_events(engine: Engine, clock: ManualClock) -> None:
    ref, _ = _story(engine, clock)
    before = engine.timeline(ref, include_related=True)
    engine.case(ref)
    engine.actions(ref)
    engine.inbox("bob")
    engine.responsibilities("bob")
    engine.timeline(ref)
    assert engine.timeline(ref, include_related=True) == before


def test_V18_launch_and_resolve_are_in_the_timeline(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    clock.advance(timedelta(minutes=5))
    (launched,) = engine.launch_action(case.ref, "second_opinion", by="zoe")
    clock.advance(timedelta(minutes=5))
    engine.resolve(case.ref, by="bob")
    related = engine.timeline(case.ref, include_related=True)
    assert any(e.by == "zoe" and e.at == at(2, 9, 5) for e in engine.timeline(launched.ref))
    resolved = [e for e in related if e.details.get("to") == CaseStatus.RESOLVED.value]
    assert [(e.by, e.at) for e in resolved] == [("bob", at(2, 9, 10))]
    assert resolved[0].at.tzinfo is not None and resolved[0].at.astimezone(UTC) == resolved[0].at
