"""Hypothesis strategies generating valid caseloom definitions.

:func:`process_models` draws whole :class:`~engine.model.ProcessModel` values that a YAML
definition could produce (and that the BPMN reader accepts): 1-5 stages of 1-4 actions with at
least one action in the flow, unique ids, optional conditions from a small safe grammar,
parallel stages, manual-only actions, robots, sub-case steps, due rules, every case setting
(0-3 schedules (C1) among them), 0-2 calendars and 0-3 data fields (V16). Texts include
XML-special characters and non-ASCII letters.

The smaller strategies (:func:`idents`, :func:`texts`, :func:`conditions`, :func:`due_rules`,
:func:`calendars`, :func:`case_settings`, :func:`data_fields`, :func:`schedules`) are public
so other tests can reuse them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from hypothesis import strategies as st

from engine.model import (
    DATA_FIELD_TYPES,
    ActionDef,
    CalendarDef,
    CaseSettings,
    DataField,
    DueRule,
    DueUnit,
    EmailRoute,
    ProcessModel,
    RecordsCount,
    ScheduleDef,
    StageDef,
    WorkingPeriod,
)

__all__ = [
    "action_defs",
    "calendars",
    "case_settings",
    "conditions",
    "data_fields",
    "due_rules",
    "idents",
    "process_models",
    "schedules",
    "texts",
    "working_periods",
]

XML_SPECIAL = "<&>\"'é"
_ALPHABET = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ 0123456789-_.,;:/()[]{}#%?!=+*@")
    + list(XML_SPECIAL)
    + ["\n", "\t", "ß", "ü", "€", "日", "本", "\u00a0", "😀"]
)
# Single code point ranges (no category filter: that makes drawing slow); all are XML chars.
_ANY_CHAR = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0xA0, max_codepoint=0x24F),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF),
    st.characters(min_codepoint=0x1F600, max_codepoint=0x1F64F),
)
_NAMES = ("amount", "a", "b", "kind", "risk_score", "prior_claims", "urgent", "status")
_WORDS = ("x", "y", "new", "open", "é", "<&>", 'say "hi"', "it's")
TIMEZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo")
REGIONS: tuple[tuple[str | None, str | None], ...] = (
    (None, None),
    ("FR", None),
    ("GB", "ENG"),
    ("US", None),
    ("US", "CA"),
    ("DE", "BY"),
)


def idents() -> st.SearchStrategy[str]:
    """Ids matching ``^[a-z][a-z0-9_]*$``."""
    return st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)


def texts(min_size: int = 1, max_size: int = 24) -> st.SearchStrategy[str]:
    """Free text: XML-special characters, whitespace, non-ASCII, astral characters."""
    return st.text(_ALPHABET | _ANY_CHAR, min_size=min_size, max_size=max_size)


def _atoms() -> st.SearchStrategy[str]:
    names = st.sampled_from(_NAMES)
    ops = st.sampled_from([">", ">=", "<", "<=", "==", "!="])
    return st.one_of(
        st.builds(lambda n, o, v: f"{n} {o} {v}", names, ops, st.integers(-10, 100_000)),
        names,
        st.builds(lambda n, w: f"{n} == {w!r}", names, st.sampled_from(_WORDS)),
        st.builds(
            lambda n, ws: f"{n} in {ws!r}",
            names,
            st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3),
        ),
    )


def conditions() -> st.SearchStrategy[str]:
    """Conditions of a small safe grammar: ``amount > 1000``, ``a and not b``, ``kind in [..]``."""
    return st.recursive(
        _atoms(),
        lambda inner: st.one_of(
            st.builds(lambda x, y: f"{x} and {y}", inner, inner),
            st.builds(lambda x, y: f"{x} or {y}", inner, inner),
            st.builds(lambda x: f"not {x}", inner),
            st.builds(lambda x: f"({x})", inner),
        ),
        max_leaves=4,
    )


def due_rules(*, working: bool | None = None) -> st.SearchStrategy[DueRule]:
    """Rules in normal form (minutes never whole hours); ``working`` fixes the flag."""
    flags = st.booleans() if working is None else st.just(working)
    return st.one_of(
        st.builds(
            DueRule,
            st.integers(1, 5000).filter(lambda n: n % 60 != 0),
            st.just(DueUnit.MINUTES),
            flags,
        ),
        st.builds(DueRule, st.integers(1, 5000), st.just(DueUnit.HOURS), flags),
        st.builds(DueRule, st.integers(1, 3650), st.just(DueUnit.DAYS), flags),
    )


def _clock(minutes: int) -> time:
    return time(0) if minutes == 24 * 60 else time(minutes // 60, minutes % 60)


# Strategies built once: building them inside composites on every draw is slow.
_TEXT = texts()
_TEXT0 = texts(min_size=0)
_OPT_TEXT = st.none() | _TEXT
_OPT_TEXT0 = st.none() | _TEXT0
_OPT_LONG_TEXT = st.none() | texts(min_size=0, max_size=60)
_OPT_DUE = st.none() | due_rules()
_OPT_WALL_DUE = st.none() | due_rules(working=False)
_UNIQUE_TEXTS = st.lists(_TEXT, max_size=3, unique=True).map(tuple)
_IDENT = idents()
_BOOL = st.booleans()
_OPT_CONDITION = st.none() | conditions()
_WALL_DUE = due_rules(working=False)
_UTC_DATETIMES = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)
)


@st.composite
def working_periods(draw: st.DrawFn) -> WorkingPeriod:
    """A period with its end after its start (an end at ``24:00`` is ``time(0)``)."""
    start = draw(st.integers(0, 23 * 60 + 59))
    end = draw(st.integers(start + 1, 24 * 60))
    return WorkingPeriod(draw(st.integers(0, 6)), _clock(start), _clock(end))


@st.composite
def calendars(draw: st.DrawFn, name: str | None = None) -> CalendarDef:
    """A calendar with at least one working period, holidays, optional country."""
    country, subdivision = draw(st.sampled_from(REGIONS))
    days = draw(st.lists(st.dates(date(2020, 1, 1), date(2035, 12, 31)), max_size=3, unique=True))
    return CalendarDef(
        name=name if name is not None else draw(_IDENT),
        timezone=draw(st.sampled_from(TIMEZONES)),
        periods=tuple(draw(st.lists(working_periods(), min_size=1, max_size=4))),
        holidays=tuple(sorted(days)),
        country=country,
        subdivision=subdivision,
    )


def schedules() -> st.SearchStrategy[ScheduleDef]:
    """A schedule (C1): a wall-clock interval, a first instant in UTC (microseconds and all),
    maybe a title."""
    return st.builds(ScheduleDef, _WALL_DUE, _UTC_DATETIMES, _OPT_TEXT)


_SCHEDULES = st.lists(schedules(), max_size=3).map(tuple)


@st.composite
def case_settings(
    draw: st.DrawFn, calendar_names: tuple[str, ...] = (), subcases: tuple[str, ...] = ()
) -> CaseSettings:
    """Every case setting; ``calendar`` is one of ``calendar_names``, ``office`` or None."""
    mailboxes = draw(st.lists(_TEXT, max_size=2, unique=True))
    return CaseSettings(
        due=draw(_OPT_DUE),
        calendar=draw(st.sampled_from((None, "office", *calendar_names))),
        add_wait_time_to_due_date=draw(_BOOL),
        allow_title_edit=draw(_BOOL),
        allow_due_date_override=draw(_BOOL),
        feedback_window=draw(_OPT_WALL_DUE),
        send_automated_emails=draw(_BOOL),
        records_count=draw(st.sampled_from(RecordsCount)),
        more_info_reasons=draw(_UNIQUE_TEXTS),
        subcases=subcases,
        defect_categories=draw(_UNIQUE_TEXTS),
        sop_url=draw(_OPT_TEXT),
        email_routes=tuple(EmailRoute(mailbox, draw(_BOOL), draw(_BOOL)) for mailbox in mailboxes),
        calendar_required=draw(_BOOL),
        keep_with_me=draw(_BOOL),
        keep_actions_with_me=draw(_BOOL),
        queue=draw(_OPT_TEXT),
        required_contacts=draw(_UNIQUE_TEXTS),
        schedules=draw(_SCHEDULES),
    )


@st.composite
def action_defs(
    draw: st.DrawFn, action_id: str, *, in_flow: bool | None = None, subcases: tuple[str, ...] = ()
) -> ActionDef:
    """An action: in the flow or manual-only, maybe a robot, maybe a sub-case step."""
    flow = draw(_BOOL) if in_flow is None else in_flow
    subcase = None
    if flow and subcases and draw(st.integers(0, 3)) == 0:
        subcase = draw(st.sampled_from(subcases))
    return ActionDef(
        id=action_id,
        title=draw(_TEXT0),
        instructions=draw(_OPT_LONG_TEXT),
        due=draw(_OPT_DUE),
        manual_launch=True if not flow else draw(_BOOL),
        flow=flow,
        robot=False if subcase is not None else draw(_BOOL),
        queue=draw(_OPT_TEXT),
        sop_url=draw(_OPT_TEXT),
        subcase=subcase,
    )


@st.composite
def data_fields(draw: st.DrawFn, name: str | None = None) -> DataField:
    """A smart-card data field (V16), named ``name`` or a drawn id."""
    return DataField(
        name=name if name is not None else draw(_IDENT),
        type=draw(st.sampled_from(DATA_FIELD_TYPES)),
        label=draw(_OPT_TEXT),
        required=draw(_BOOL),
    )


@st.composite
def process_models(draw: st.DrawFn) -> ProcessModel:
    """A valid process model (see the module docs)."""
    calendar_names = tuple(draw(st.lists(_IDENT, max_size=2, unique=True)))
    field_names = draw(st.lists(_IDENT, max_size=3, unique=True))
    subcases = tuple(draw(st.lists(_IDENT, max_size=2, unique=True)))
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=5))
    ids = draw(st.lists(_IDENT, min_size=sum(sizes), max_size=sum(sizes), unique=True))
    names = draw(st.lists(_TEXT, min_size=len(sizes), max_size=len(sizes), unique=True))
    stages = []
    for name, size in zip(names, sizes, strict=True):
        own, ids = ids[:size], ids[size:]
        in_flow = draw(st.integers(0, size - 1))  # at least this one is in the flow
        actions = tuple(
            draw(action_defs(ident, in_flow=True if i == in_flow else None, subcases=subcases))
            for i, ident in enumerate(own)
        )
        stages.append(
            StageDef(
                name=name,
                actions=actions,
                condition=draw(_OPT_CONDITION),
                parallel=draw(_BOOL),
            )
        )
    return ProcessModel(
        id=draw(_IDENT),
        version=draw(st.integers(1, 1000)),
        name=draw(_TEXT),
        customer=draw(_OPT_TEXT0),
        contract=draw(_OPT_TEXT0),
        service=draw(_OPT_TEXT0),
        settings=draw(case_settings(calendar_names, subcases)),
        stages=tuple(stages),
        calendars=tuple(draw(calendars(name)) for name in calendar_names),
        data_fields=tuple(draw(data_fields(name)) for name in field_names),
    )
