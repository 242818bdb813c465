"""C1 "automatically on a schedule": ``Engine.tick()`` creates a case at each occurrence.

A schedule of a deployed definition (``settings.schedules``) fires at ``first``, then every
``every`` (wall clock). Each occurrence fires exactly once, in its own transaction: a new case,
``created_how="schedule"``, submitted (To Do, SLA started), ``original_request_at`` = the
occurrence. Missed occurrences (engine down, ``first`` in the past) each fire once, oldest
first, at most ``MAX_CATCH_UP`` per schedule per tick. A new version of the process replaces
the schedules of the older ones. Two-engine races: tests/test_engine_concurrency.py; crashes:
tests/test_engine_durability.py.

Most definitions here are the YAML below with schedules put into the loaded model
(:func:`scheduled_definition`), deployed as a ``ProcessDefinition``; one test deploys the YAML
``schedules:`` syntax itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import CLAIM_API, START

from engine import CaseStatus, Engine, HoldKind, ManualClock, NotFound, ProcessDefinition
from engine.builder.loader import load_definition
from engine.model import DueRule, DueUnit, ScheduleDef
from engine.runtime import case_commands
from engine.runtime.records import ScheduleRecord
from engine.runtime.snapshots import TimerFired

#: Monday 2026-03-02 10:00 UTC: the first occurrence of the daily schedule below.
TEN = START + timedelta(hours=1)
DAY = timedelta(days=1)
DAILY = ScheduleDef(DueRule(1, DueUnit.DAYS), TEN, "Morning check")

REPORT_YAML = """\
id: report
name: Daily report
version: {version}
customer: Acme
contract: Fleet
service: Reporting
due: 4h
{extra}
stages:
  - name: Work
    actions:
      - {{id: check, title: Check figures}}
"""


def scheduled_definition(
    tmp_path: Path, *schedules: ScheduleDef, version: int = 1, extra: str = ""
) -> ProcessDefinition:
    """The ``report`` process (``version``) loaded from YAML, with ``schedules`` set."""
    path = tmp_path / f"report-{version}.yaml"
    path.write_text(REPORT_YAML.format(version=version, extra=extra), encoding="utf-8")
    definition = load_definition(path)
    settings = replace(definition.model.settings, schedules=tuple(schedules))
    return replace(definition, model=replace(definition.model, settings=settings))


def stored_schedules(engine: Engine, process: str = "report") -> list[ScheduleRecord]:
    with engine.store.transaction() as tx:
        return tx.schedules_of(process)


@pytest.fixture
def engine(clock: ManualClock, tmp_path: Path) -> Iterator[Engine]:
    """An in-memory engine with ``report`` v1 deployed, scheduled daily at 10:00 from TEN."""
    with Engine("sqlite:///:memory:", clock=clock) as eng:
        eng.deploy(scheduled_definition(tmp_path, DAILY))
        yield eng


def test_C1_a_case_appears_at_each_occurrence_and_not_before(
    engine: Engine, clock: ManualClock
) -> None:
    assert engine.tick() == []
    clock.set(TEN - timedelta(microseconds=1))
    assert engine.tick() == []
    with pytest.raises(NotFound):
        engine.case("C-1")
    clock.set(TEN)
    assert engine.tick() == [TimerFired("schedule", "C-1", TEN, TEN, CaseStatus.TO_DO)]
    assert engine.tick() == []
    clock.set(TEN + DAY - timedelta(seconds=1))
    assert engine.tick() == []
    clock.set(TEN + DAY)
    assert engine.tick() == [TimerFired("schedule", "C-2", TEN + DAY, TEN + DAY, CaseStatus.TO_DO)]
    assert [s.next_at for s in stored_schedules(engine)] == [TEN + 2 * DAY]


def test_C1_C2_C3_the_scheduled_case_is_submitted_with_the_definition_context(
    engine: Engine, clock: ManualClock
) -> None:
    clock.set(TEN + timedelta(minutes=5))
    [fired] = engine.tick()
    case = engine.case(fired.case_ref)
    assert case.created_how == "schedule"
    assert case.created_by == "scheduler" and case.owner == "scheduler"
    assert case.status is CaseStatus.TO_DO and case.assignee is None
    assert case.title == "Morning check"
    assert (case.process, case.version) == ("report", 1)
    assert (case.customer, case.contract, case.service) == ("Acme", "Fleet", "Reporting")
    assert case.data == {}
    assert case.created_at == clock.now() and case.original_request_at == TEN
    assert case.due == clock.now() + timedelta(hours=4)  # SLA started at submission (C3)
    assert [a.action_type for a in engine.actions(case.ref)] == ["check"]
    created = engine.timeline(case.ref, kinds=["created"])
    assert [(e.by, e.details["how"]) for e in created] == [("scheduler", "schedule")]


def test_C1_without_a_title_the_case_takes_the_process_name(
    clock: ManualClock, tmp_path: Path
) -> None:
    every_90_minutes = ScheduleDef(DueRule(90, DueUnit.MINUTES), TEN)
    with Engine("sqlite://", clock=clock) as engine:
        engine.deploy(scheduled_definition(tmp_path, every_90_minutes))
        clock.set(TEN + timedelta(minutes=90))
        fired = engine.tick()
        assert [f.fire_at for f in fired] == [TEN, TEN + timedelta(minutes=90)]
        assert [engine.case(f.case_ref).title for f in fired] == ["Daily report"] * 2


def test_C1_each_missed_occurrence_fires_once_oldest_first(
    engine: Engine, clock: ManualClock
) -> None:
    """The engine was down three days: one case per missed occurrence (catch-up), each with
    its occurrence as original_request_at, all created now."""
    now = TEN + 3 * DAY + timedelta(minutes=30)
    clock.set(now)
    fired = engine.tick()
    occurrences = [TEN + n * DAY for n in range(4)]
    assert [(f.kind, f.fire_at, f.fired_at) for f in fired] == [
        ("schedule", at, now) for at in occurrences
    ]
    cases = [engine.case(f.case_ref) for f in fired]
    assert [c.ref for c in cases] == ["C-1", "C-2", "C-3", "C-4"]
    assert [c.original_request_at for c in cases] == occurrences
    assert {c.created_at for c in cases} == {now}
    assert engine.tick() == []
    clock.set(TEN + 4 * DAY)
    assert [f.fire_at for f in engine.tick()] == [TEN + 4 * DAY]


def test_C1_a_first_occurrence_already_past_at_deploy_is_caught_up_by_the_first_tick(
    clock: ManualClock, tmp_path: Path
) -> None:
    past = ScheduleDef(DueRule(1, DueUnit.DAYS), START - 2 * DAY)
    with Engine("sqlite://", clock=clock) as engine:
        engine.deploy(scheduled_definition(tmp_path, past))
        assert [s.next_at for s in stored_schedules(engine)] == [START - 2 * DAY]
        fired = engine.tick()
        assert [f.fire_at for f in fired] == [START - 2 * DAY, START - DAY, START]
        assert [s.next_at for s in stored_schedules(engine)] == [START + DAY]


def test_C1_catch_up_is_capped_per_tick_and_the_next_tick_goes_on(
    clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert case_commands.MAX_CATCH_UP == 1000  # the documented cap
    monkeypatch.setattr(case_commands, "MAX_CATCH_UP", 3)
    hourly = ScheduleDef(DueRule(1, DueUnit.HOURS), TEN)
    with Engine("sqlite://", clock=clock) as engine:
        engine.deploy(scheduled_definition(tmp_path, hourly, DAILY))
        clock.set(TEN + timedelta(hours=4))  # hourly: 5 occurrences due; daily: 1
        first = engine.tick()
        assert [(f.case_ref, f.fire_at) for f in first] == [
            ("C-1", TEN),
            ("C-2", TEN + timedelta(hours=1)),
            ("C-3", TEN + timedelta(hours=2)),
            ("C-4", TEN),  # the other schedule is not held up by the first one's backlog
        ]
        second = engine.tick()
        assert [f.fire_at for f in second] == [TEN + timedelta(hours=h) for h in (3, 4)]
        assert engine.tick() == []
        titles = [engine.case(f.case_ref).title for f in first + second]
        assert titles == ["Daily report"] * 3 + ["Morning check"] + ["Daily report"] * 2


def test_C1_schedules_persist_a_restarted_engine_goes_on_without_redeploying(
    clock: ManualClock, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'caseloom.sqlite'}"
    with Engine(url, clock=clock) as engine:
        engine.deploy(scheduled_definition(tmp_path, DAILY))
        clock.set(TEN)
        assert [f.case_ref for f in engine.tick()] == ["C-1"]
    with Engine(url, clock=clock) as restarted:
        assert restarted.tick() == []  # the 10:00 occurrence fired before the restart
        clock.set(TEN + 2 * DAY)
        fired = restarted.tick()
        assert [(f.case_ref, f.fire_at) for f in fired] == [
            ("C-2", TEN + DAY),
            ("C-3", TEN + 2 * DAY),
        ]
        case = restarted.case("C-3")
        assert (case.created_how, case.title, case.status) == (
            "schedule",
            "Morning check",
            CaseStatus.TO_DO,
        )


def test_C1_deploying_again_or_from_a_second_engine_does_not_duplicate_or_reset(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    clock.set(TEN)
    engine.tick()
    [before] = stored_schedules(engine)
    assert before.next_at == TEN + DAY
    engine.deploy(scheduled_definition(tmp_path, DAILY))
    engine.deploy(
        scheduled_definition(tmp_path, DAILY, ScheduleDef(DueRule(1, DueUnit.HOURS), TEN))
    )
    assert stored_schedules(engine) == [before]
    assert engine.tick() == []


def test_C1_a_new_version_replaces_the_schedules_of_the_old_one(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    clock.set(TEN)
    [v1_case] = engine.tick()
    twice_a_day = ScheduleDef(DueRule(12, DueUnit.HOURS), TEN + timedelta(hours=2), "v2 check")
    engine.deploy(scheduled_definition(tmp_path, twice_a_day, version=2))
    assert [(s.version, s.active) for s in stored_schedules(engine)] == [(1, False), (2, True)]
    clock.set(TEN + DAY + timedelta(hours=1))  # v1 would have fired at TEN + DAY
    fired = engine.tick()
    assert [f.fire_at for f in fired] == [TEN + timedelta(hours=2), TEN + timedelta(hours=14)]
    cases = [engine.case(f.case_ref) for f in fired]
    assert [(c.version, c.title) for c in cases] == [(2, "v2 check")] * 2
    assert engine.case(v1_case.case_ref).version == 1  # cases already made are kept
    # a version without schedules stops them all
    engine.deploy(scheduled_definition(tmp_path, version=3))
    clock.set(TEN + 9 * DAY)
    assert engine.tick() == []
    assert [s.active for s in stored_schedules(engine)] == [False, False]


def test_C1_a_process_without_schedules_is_untouched_and_timers_still_fire(
    engine: Engine, clock: ManualClock
) -> None:
    engine.deploy(CLAIM_API)
    assert stored_schedules(engine, "claim") == []
    claim = engine.create_case("claim", by="ann", submit=True)
    engine.start_work(claim.ref, by="bob")
    engine.hold(claim.ref, HoldKind.UNTIL, by="bob", until=TEN)
    clock.set(TEN)
    fired = engine.tick()
    assert [(f.kind, f.case_ref, f.fire_at) for f in fired] == [
        ("hold_until", claim.ref, TEN),  # timers first, then schedules
        ("schedule", "C-2", TEN),
    ]
    assert engine.case("C-2").process == "report"
    assert engine.case(claim.ref).status is CaseStatus.TO_DO


def test_C1_V10_a_process_requiring_contacts_gets_its_scheduled_cases_as_draft(
    clock: ManualClock, tmp_path: Path
) -> None:
    definition = scheduled_definition(tmp_path, DAILY, extra="required_contacts: [primary]")
    with Engine("sqlite://", clock=clock) as engine:
        engine.deploy(definition)
        clock.set(TEN)
        assert engine.tick() == [TimerFired("schedule", "C-1", TEN, TEN, CaseStatus.DRAFT)]
        case = engine.case("C-1")
        assert case.created_how == "schedule" and case.due is None
        assert engine.actions("C-1") == []
        assert engine.tick() == []  # the occurrence is done, Draft or not


def test_C1_schedules_written_in_yaml_are_registered_and_fire(
    clock: ManualClock, tmp_path: Path
) -> None:
    extra = 'schedules:\n  - {every: 2h, first: "2026-03-02T10:00:00Z", title: From YAML}'
    path = tmp_path / "report.yaml"
    path.write_text(REPORT_YAML.format(version=1, extra=extra), encoding="utf-8")
    with Engine("sqlite://", clock=clock) as engine:
        engine.deploy(path)
        [stored] = stored_schedules(engine)
        assert (stored.next_at, stored.every_seconds, stored.title) == (
            datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
            7200,
            "From YAML",
        )
        clock.set(TEN + timedelta(hours=2))
        assert [engine.case(f.case_ref).title for f in engine.tick()] == ["From YAML"] * 2
