"""``caseloom demo``: the insurance claim of ``processes/claim.yaml``, end to end.

Deploys every definition of a folder into an :class:`~engine.Engine` on a SQLite file, runs one
claim through its whole life on a :class:`~engine.ManualClock` (submission, work, a *more info*
hold that pauses the SLA, the reply that ends it, a manual launch, robots, resolution, the
feedback window closing on ``tick()``), prints each command with the case, its due date and its
actions (A3 order) as it goes, then the timeline, and reads the case back through a second
engine on the same file. Uses only the public API (``from engine import ...``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import ParamSpec, TypeVar

from engine import (
    Action,
    Case,
    CaseStatus,
    Engine,
    HoldKind,
    InvalidTransition,
    ManualClock,
    TimelineEvent,
)

__all__ = [
    "CLAIM_DATA",
    "DEFAULT_DB",
    "START",
    "DemoFailure",
    "DemoResult",
    "definition_files",
    "fresh_database",
    "run_demo",
    "statuses_text",
]

#: Where ``caseloom demo`` writes its database unless told otherwise (recreated each run).
DEFAULT_DB = Path("out/demo.sqlite")
#: The demo clock starts on Monday 2 March 2026, 09:00 UTC (opening time of the office calendar).
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: Claim data: at most 5000 with fewer than 3 prior claims skips *Fraud screening* (a sub-case
#: step), above 1000 runs *Assessment*.
CLAIM_DATA: dict[str, object] = {"amount": 3000, "prior_claims": 0}

DEFINITION_SUFFIXES = (".yaml", ".yml", ".bpmn")
INDENT = "    "
#: Output lines are wrapped to this width.
WIDTH = 108

P = ParamSpec("P")
T = TypeVar("T")


class DemoFailure(RuntimeError):
    """The story did not go as written: the engine did not do what the demo expects."""


@dataclass(frozen=True)
class DemoResult:
    """What a demo run did: the database, the case, the statuses it went through."""

    db: Path
    case_ref: str
    statuses: tuple[CaseStatus, ...]
    """The case status after each command, consecutive repeats removed."""
    reread: Case
    """The case as a second engine on the same database file reads it."""
    events: int
    """How many timeline events (the case's and its actions') the second engine reads."""


def _day(at: datetime) -> str:
    """``Mon 03-02 09:00`` (the year is in the header)."""
    return at.astimezone(UTC).strftime("%a %m-%d %H:%M")


def _literal(value: object) -> str:
    """A Python-looking literal for printing a call."""
    if isinstance(value, Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        items = ", ".join(f"{json.dumps(k)}: {_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    return repr(value)


def _span(delta: timedelta) -> str:
    """``+1d 3h30m``."""
    minutes = int(delta.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    text = (f"{days}d " if days else "") + (f"{hours}h" if hours or not mins else "")
    return "+" + text + (f"{mins:02d}m" if mins else "")


def _event_parts(event: TimelineEvent) -> list[str]:
    """The interesting parts of an event's details."""
    details = event.details
    parts: list[str] = []
    if "to" in details:
        parts.append(f"{details.get('from') or '-'} -> {details['to']}")
    for key in ("action_type", "hold_kind", "reason", "error", "timer"):
        value = details.get(key)
        if value and not (key == "reason" and str(value).replace(" ", "_") == event.kind):
            parts.append(f"{key}={value}")
    if details.get("feedback_until"):
        until = datetime.fromisoformat(str(details["feedback_until"]))
        parts.append(f"feedback until {_day(until)}")
    if details.get("data"):
        parts.append(f"data={_literal(details['data'])}")
    if details.get("body"):
        parts.append(f"body={_literal(details['body'])}")
    return parts


class _Story:
    """Runs commands against the engine and prints what they did."""

    def __init__(
        self, engine: Engine, clock: ManualClock, echo: Callable[[str], None], quiet: bool
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.echo = echo
        self.quiet = quiet
        self.statuses: list[CaseStatus] = []
        self._actions_seen: tuple[tuple[str, str, str | None], ...] = ()

    def say(self, text: str = "") -> None:
        if not self.quiet:
            self.echo(text)

    def wrapped(self, head: str, parts: Sequence[str], sep: str = "  ") -> None:
        """``head`` then ``parts`` joined by ``sep``, wrapped between parts to WIDTH with
        continuation lines under the first part."""
        lines = [""]
        for part in parts:
            if lines[-1] and len(head) + len(lines[-1]) + len(sep) + len(part) > WIDTH:
                lines.append(part)
            else:
                lines[-1] = f"{lines[-1]}{sep}{part}" if lines[-1] else part
        self.say((head + lines[0]).rstrip())
        for line in lines[1:]:
            self.say(" " * len(head) + line)

    def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Print ``clock  name(args)`` (one argument per line when long), then run it."""
        name = getattr(fn, "__name__", "call")
        shown = [_literal(a) for a in args] + [f"{k}={_literal(v)}" for k, v in kwargs.items()]
        head = f"{_day(self.clock.now())}  {name}("
        lines = [head]
        for i, arg in enumerate(shown):
            piece = arg + (", " if i < len(shown) - 1 else ")")
            if len(lines[-1]) + len(piece.rstrip()) > WIDTH:
                lines[-1] = lines[-1].rstrip()
                lines.append(" " * len(head))
            lines[-1] += piece
        if not shown:
            lines[-1] += ")"
        for line in lines:
            self.say(line)
        return fn(*args, **kwargs)

    def advance(self, delta: timedelta, *, show: bool = False) -> None:
        """Move the clock; print it when ``show`` (small steps show in the next command)."""
        before = self.clock.now()
        now = self.clock.advance(delta)
        if show:
            self.say(f"{_day(before)}  clock {_span(delta)} -> {now:%a %Y-%m-%d %H:%M} UTC")

    def show(self, ref: str, *, actions: bool = True) -> Case:
        """Print the case (status, assignee, due) and its actions when they changed."""
        case = self.engine.case(ref)
        if not self.statuses or self.statuses[-1] is not case.status:
            self.statuses.append(case.status)
        hold = f"  hold: {case.hold_kind.value} ({case.hold_reason})" if case.hold_kind else ""
        flag = "  highlighted" if case.highlighted else ""
        self.say(
            f"{INDENT}case     {case.ref}  {case.status.value:<11}  "
            f"assignee: {case.assignee or '-'}{hold}{flag}"
        )
        due = f"{case.due:%a %m-%d %H:%M} UTC" if case.due else "-"
        self.say(f"{INDENT}due      {due}  [{case.due_state}]  {case.due_text}")
        if actions:
            self._show_actions(ref)
        return case

    def _show_actions(self, ref: str) -> None:
        listed = self.engine.actions(ref)
        seen = tuple((a.ref, a.status.value, a.assignee) for a in listed)
        if seen == self._actions_seen:
            return
        self._actions_seen = seen
        label = "actions "
        for action in listed:
            self.say(f"{INDENT}{label} {_action_line(action)}")
            label = " " * len(label)

    def timeline(self, ref: str) -> None:
        """Every event of the case and its actions, oldest first."""
        events = self.engine.timeline(ref, include_related=True)
        by_width = max(len(e.by or "-") for e in events)
        self.say(f"timeline({ref!r}, include_related=True):")
        for event in events:
            by = event.by or "-"
            head = f"{INDENT}{_day(event.at)}  {event.ref:<4} {event.kind:<17} {by:<{by_width}}  "
            self.wrapped(head, _event_parts(event))


def _action_line(action: Action) -> str:
    kind = " [ad hoc]" if action.ad_hoc else (" [robot]" if action.robot else "")
    due = _day(action.due) if action.due else "-"
    return (
        f"{action.ref:<4} {action.status.value:<11} stage {action.stage}  "
        f"{action.title:<16} due {due}  {action.status_text}{kind}"
    )


def _open_action(engine: Engine, case_ref: str, action_type: str) -> Action:
    """The case's open action of ``action_type``; DemoFailure when the flow did not create it."""
    for action in engine.actions(case_ref):
        if action.action_type == action_type and action.status in (
            CaseStatus.TO_DO,
            CaseStatus.IN_PROGRESS,
        ):
            return action
    listed = [(a.ref, a.action_type, a.status.value) for a in engine.actions(case_ref)]
    raise DemoFailure(f"case {case_ref} has no open {action_type!r} action: {listed}")


def definition_files(folder: Path) -> list[Path]:
    """The ``.yaml``/``.yml``/``.bpmn`` files of ``folder``, sorted."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in DEFINITION_SUFFIXES)


def fresh_database(db: Path) -> str:
    """Remove ``db`` (and SQLite's WAL side files), create its folder; its SQLAlchemy URL."""
    db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    return f"sqlite:///{db.resolve()}"


def run_demo(
    db: Path = DEFAULT_DB,
    *,
    processes: Path = Path("processes"),
    echo: Callable[[str], None] = print,
    quiet: bool = False,
) -> DemoResult:
    """Run the claim story on a recreated SQLite file ``db``; print it through ``echo``.

    With ``quiet`` only the closing summary is printed. Raises :class:`DemoFailure` when the
    engine does not behave as the story expects, and any ``EngineError`` it did not expect.
    """
    url = fresh_database(db)
    clock = ManualClock(START)
    with Engine(url, clock=clock) as engine:
        story = _Story(engine, clock, echo, quiet)
        story.say(f"caseloom demo: an insurance claim, end to end ({START:%a %Y-%m-%d %H:%M} UTC)")
        story.say(f"database  {db} (recreated)")
        for file in definition_files(processes):
            definition = engine.deploy(file)
            story.say(
                f"deployed  {definition.id:<12} v{definition.version}  "
                f"{len(definition.model.stages)} stages  {definition.model.name:<20}  {file}"
            )
        story.say()
        ref = _claim_story(story)
        story.say()
        story.timeline(ref)
    return _reread(story, db, url, ref)


def _claim_story(story: _Story) -> str:
    """The claim's life; returns its reference."""
    eng = story.engine
    case = story.call(
        eng.create_case,
        "claim",
        by="ann",
        title="Rear bumper, AB-123",
        data=CLAIM_DATA,
        submit=True,
    )
    ref = case.ref
    story.show(ref)
    story.advance(timedelta(minutes=15))
    story.call(eng.start_work, ref, by="bob")
    story.show(ref)
    story.advance(timedelta(minutes=45))
    story.call(eng.complete_action, _open_action(eng, ref, "register").ref, by="bob")
    skipped = ", ".join(f"{k} {v}" for k, v in CLAIM_DATA.items())
    story.say(f"{INDENT}(Fraud screening skipped, Assessment runs: {skipped})")
    story.show(ref)
    story.advance(timedelta(minutes=30))
    story.call(eng.hold, ref, HoldKind.MORE_INFO, by="bob", reason="Customer documents")
    story.show(ref)
    _show_lists(story, "bob")
    try:
        story.call(eng.launch_action, ref, "second_opinion", by="bob")
    except InvalidTransition as refused:
        message = re.split(r" (?=\()", str(refused))
        story.wrapped(f"{INDENT}refused  ", [f"{type(refused).__name__}:", *message], sep=" ")
    else:
        raise DemoFailure(f"launch_action on Waiting case {ref} was accepted (A2, H2)")
    story.advance(timedelta(days=1, hours=3, minutes=30), show=True)
    story.call(eng.case, ref)
    story.show(ref, actions=False)
    story.call(eng.reply, ref, body="Photos and repair quote attached", sender="dana@example.com")
    story.show(ref)
    _show_lists(story, "bob")
    story.advance(timedelta(minutes=5))
    story.call(eng.start_work, ref, by="bob")
    story.show(ref, actions=False)
    story.advance(timedelta(minutes=5))
    story.call(eng.launch_action, ref, "second_opinion", by="bob", instructions="Check the quote")
    story.show(ref)
    story.advance(timedelta(minutes=50))
    story.call(eng.complete_action, _open_action(eng, ref, "second_opinion").ref, by="carol")
    story.advance(timedelta(hours=1))
    assess = _open_action(eng, ref, "assess").ref
    story.call(eng.complete_action, assess, by="bob", data={"approved": 2800})
    story.show(ref)
    for robot_action in ("pay", "notify"):
        story.advance(timedelta(minutes=1))
        story.call(eng.complete_action, _open_action(eng, ref, robot_action).ref, by="robot")
    story.show(ref)
    story.advance(timedelta(minutes=28))
    story.call(eng.resolve, ref, by="bob")
    story.show(ref, actions=False)
    story.advance(timedelta(days=2, hours=1), show=True)
    fired = story.call(eng.tick)
    story.say(f"{INDENT}fired    " + ", ".join(f"{f.kind} {f.case_ref}" for f in fired))
    story.show(ref, actions=False)
    again = story.call(eng.tick)
    story.say(f"{INDENT}fired    {len(again)} timers (each timer fires once)")
    return ref


def _show_lists(story: _Story, user: str) -> None:
    """H8: where the case sits for ``user``."""
    inbox = [c.ref for c in story.engine.inbox(user)]
    held = [c.ref for c in story.engine.responsibilities(user)]
    story.say(f"{INDENT}lists    inbox({user!r}) = {inbox}  responsibilities({user!r}) = {held}")


def _reread(story: _Story, db: Path, url: str, ref: str) -> DemoResult:
    """Durability: a second engine on the same file reads the case without redeploying."""
    story.say()
    story.say(f"a second Engine opens {db}:")
    with Engine(url, clock=ManualClock(story.clock.now())) as second:
        case = second.case(ref)
        actions = second.actions(ref)
        events = len(second.timeline(ref, include_related=True))
        story.say(
            f"{INDENT}case({ref!r}) -> {case.status.value}, {case.title!r}, process "
            f"{case.process} v{case.version}, first resolved by {case.first_resolved_by}"
        )
        story.say(
            f"{INDENT}{len(actions)} actions, {events} timeline events, "
            f"claim definition v{second.definition('claim').version} read from the database"
        )
    if case.status is not CaseStatus.CLOSED:
        raise DemoFailure(f"case {ref} ends {case.status.value}, not Closed")
    story.echo(f"demo: case {ref}: {statuses_text(story.statuses)}")
    story.echo(f"      {events} timeline events in {db}")
    return DemoResult(
        db=db, case_ref=ref, statuses=tuple(story.statuses), reread=case, events=events
    )


def statuses_text(statuses: Sequence[CaseStatus]) -> str:
    """``To Do -> In Progress -> ...``."""
    return " -> ".join(s.value for s in statuses)
