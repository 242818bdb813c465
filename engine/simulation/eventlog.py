"""Event logs of a simulation run: CSV (Prosimos's columns) and XES (IEEE 1849).

CSV: header ``case_id,activity,enable_time,start_time,end_time,resource``, one row per action
that started, in start-time order; times as Prosimos writes them
(``2024-01-01 09:00:00.000000+00:00``: UTC, microseconds, space separator). An empty time
means "not reached before the end of the run".

XES: one trace per case (``concept:name`` = case id), two events per action (lifecycle
``start`` and ``complete``, the latter left out when the action had not ended), with
``concept:name`` (activity), ``org:resource`` and ``time:timestamp``. Written as a text
stream, one case at a time, so large logs need little memory.

:func:`mean_cycle_time_hours` is the one cycle-time measure the benchmark applies to both
Prosimos's and caseloom's CSV logs.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, TextIO
from xml.sax.saxutils import escape

import numpy as np
from numpy.typing import NDArray

from engine.errors import InvalidArgument
from engine.simulation.results import ReplicationLog

CSV_COLUMNS: tuple[str, ...] = (
    "case_id",
    "activity",
    "enable_time",
    "start_time",
    "end_time",
    "resource",
)

OUTCOME_NAMES: dict[int, str] = {1: "failed", 2: "refused", 3: "closed"}
"""``outcome`` attribute written on XES ``complete`` events of actions that did not complete
normally (``ActivityLog.outcome`` codes)."""


class EventRow(NamedTuple):
    """One row of a CSV event log; times are aware datetimes, None when empty."""

    case_id: str
    activity: str
    enable_time: datetime | None
    start_time: datetime | None
    end_time: datetime | None
    resource: str


CHUNK = 20_000
"""Rows formatted at once (bounds the memory the formatted strings take)."""

_SUFFIX = np.frombuffer(b"+00:00", dtype=np.uint8)


def format_times(seconds: NDArray[np.float64], separator: str = " ") -> list[str]:
    """Epoch seconds as ISO 8601 UTC texts with microseconds, the way Prosimos writes them
    (``2024-01-01 09:00:00.000000+00:00``; ``separator="T"`` for XES); nan as ``""``.

    Vectorised (numpy ``datetime64[us]``): a few hundred nanoseconds per time.
    """
    micro = np.round(seconds * 1e6)
    missing = np.isnan(micro)
    stamps = np.where(missing, 0.0, micro).astype(np.int64).view("datetime64[us]")
    text = np.datetime_as_string(stamps, unit="us").astype("S26")
    chars = np.empty((len(text), 32), dtype=np.uint8)
    chars[:, :26] = text.view(np.uint8).reshape(-1, 26)
    chars[:, 10] = ord(separator)
    chars[:, 26:] = _SUFFIX
    result = chars.view("S32").ravel().astype("U32")
    result[missing] = ""
    formatted: list[str] = result.tolist()
    return formatted


def format_time(seconds: float) -> str:
    """One time as :func:`format_times` writes it."""
    return format_times(np.array([seconds], dtype=np.float64))[0]


def _parse_time(text: str, path: Path, line: int) -> datetime | None:
    if not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise InvalidArgument(f"{path}:{line}: bad time {text!r} ({error})") from error
    if value.tzinfo is None:
        raise InvalidArgument(f"{path}:{line}: time {text!r} has no UTC offset")
    return value


def _name(names: list[str], index: int) -> str:
    return names[index] if 0 <= index < len(names) else ""


def case_ids(log: ReplicationLog, prefix: str = "") -> list[str]:
    """The case id written for each case number: a top-level case is its number; a sub-case
    is its parent's id, a dash and its rank among the parent's sub-cases from 1 (SC10:
    ``12-1``, ``12-2``, ``12-1-1``), so a log shows which case each sub-case belongs to."""
    parents = log.cases.parent
    ids: list[str] = []
    children: dict[int, int] = {}
    for number, parent in enumerate(parents):
        if parent < 0:
            ids.append(f"{prefix}{number}")
        else:
            rank = children.get(parent, 0) + 1
            children[parent] = rank
            ids.append(f"{ids[parent]}-{rank}")
    return ids


def _ids_of(log: ReplicationLog, prefix: str) -> list[str]:
    """:func:`case_ids`, also for hand-built logs whose actions name cases not in ``cases``."""
    ids = case_ids(log, prefix)
    acts = log.acts
    highest = max(acts.case) if len(acts.case) else -1
    ids.extend(f"{prefix}{n}" for n in range(len(ids), highest + 1))
    return ids


def _columns(
    log: ReplicationLog,
) -> tuple[
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
]:
    """The event log columns as numpy views (no copy): case, activity, resource, outcome,
    enable, start, end."""
    acts = log.acts
    ints = [np.frombuffer(a, dtype=np.int64) for a in (acts.case, acts.activity, acts.resource)]
    times = [np.frombuffer(a, dtype=np.float64) for a in (acts.enable, acts.start, acts.end)]
    outcome = np.frombuffer(acts.outcome, dtype=np.int64)
    return ints[0], ints[1], ints[2], outcome, times[0], times[1], times[2]


def write_csv(log: ReplicationLog, path: Path | str, *, case_prefix: str = "") -> int:
    """Write the event log of one replication as CSV (rows in start-time order, ties in the
    order the kernel logged them; case ids as :func:`case_ids` gives them); ``case_prefix`` is
    put before every top-level case number (e.g.
    ``"r2-"`` to keep replications apart). Returns the number of rows."""
    case, activity, resource, _, enable, start, end = _columns(log)
    order = np.argsort(start, kind="stable")
    labels, resources = log.activities, log.resources.name
    ids = _ids_of(log, case_prefix)
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for first in range(0, len(order), CHUNK):
            rows = order[first : first + CHUNK]
            writer.writerows(
                zip(
                    [ids[c] for c in case[rows].tolist()],
                    [labels[a] for a in activity[rows].tolist()],
                    format_times(enable[rows]),
                    format_times(start[rows]),
                    format_times(end[rows]),
                    [_name(resources, r) for r in resource[rows].tolist()],
                    strict=True,
                )
            )
    return len(order)


def iter_csv(path: Path | str) -> Iterator[EventRow]:
    """Rows of a CSV event log (ours or Prosimos's: the columns are found by name, extra
    columns are ignored)."""
    source = Path(path)
    with open(source, newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise InvalidArgument(f"{source}: event log without column(s) {', '.join(missing)}")
        for row in reader:
            line = reader.line_num
            yield EventRow(
                case_id=row["case_id"],
                activity=row["activity"],
                enable_time=_parse_time(row["enable_time"], source, line),
                start_time=_parse_time(row["start_time"], source, line),
                end_time=_parse_time(row["end_time"], source, line),
                resource=row["resource"],
            )


def read_csv(path: Path | str) -> list[EventRow]:
    """All rows of a CSV event log (see :func:`iter_csv`)."""
    return list(iter_csv(path))


def case_cycle_times_hours(rows: Iterable[EventRow]) -> dict[str, float]:
    """Per case: hours from its first start to its last end (cases with no start or no end
    are left out)."""
    first: dict[str, datetime] = {}
    last: dict[str, datetime] = {}
    for row in rows:
        if row.start_time is not None:
            seen = first.get(row.case_id)
            if seen is None or row.start_time < seen:
                first[row.case_id] = row.start_time
        if row.end_time is not None:
            seen = last.get(row.case_id)
            if seen is None or row.end_time > seen:
                last[row.case_id] = row.end_time
    return {
        case: (last[case] - start).total_seconds() / 3600.0
        for case, start in first.items()
        if case in last
    }


def mean_cycle_time_hours(rows: Iterable[EventRow]) -> float:
    """Mean over cases of first start -> last end, in hours (nan without any case)."""
    times = case_cycle_times_hours(rows)
    return math.fsum(times.values()) / len(times) if times else math.nan


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


_XES_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="UNKNOWN"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="UNKNOWN"/>
    <string key="lifecycle:transition" value="complete"/>
    <string key="org:resource" value="UNKNOWN"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000000+00:00"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <classifier name="Activity and transition" keys="concept:name lifecycle:transition"/>
"""


def _write_trace(
    stream: TextIO, case_id: str, rows: list[tuple[str, str, str, int, str, str]]
) -> int:
    """One trace; ``rows``: (label, resource, start, outcome, end, ...) already escaped and
    formatted, in start order."""
    events: list[tuple[str, int, int]] = []  # time text (sorts as time), position, transition
    for position, row in enumerate(rows):
        events.append((row[2], position, 0))
        if row[4]:
            events.append((row[4], position, 1))
    events.sort()
    parts = ["  <trace>\n", f'    <string key="concept:name" value="{_attr(case_id)}"/>\n']
    for time, position, transition in events:
        label, resource, _start, outcome, _end, _case = rows[position]
        parts.append("    <event>\n")
        parts.append(f'      <string key="concept:name" value="{label}"/>\n')
        if resource:
            parts.append(f'      <string key="org:resource" value="{resource}"/>\n')
        kind = "complete" if transition else "start"
        parts.append(f'      <string key="lifecycle:transition" value="{kind}"/>\n')
        parts.append(f'      <date key="time:timestamp" value="{time}"/>\n')
        outcome_name = OUTCOME_NAMES.get(outcome)
        if transition and outcome_name:
            parts.append(f'      <string key="outcome" value="{outcome_name}"/>\n')
        parts.append("    </event>\n")
    parts.append("  </trace>\n")
    stream.write("".join(parts))
    return len(events)


def write_xes(
    log: ReplicationLog, path: Path | str, *, case_prefix: str = "", name: str = ""
) -> int:
    """Write the event log of one replication as XES 1.0 (IEEE 1849): traces in case-number
    order, events in time order within a trace (start before complete at equal times).
    ``name`` becomes the log's ``concept:name``. Streams one case at a time; returns the
    number of events."""
    case, activity, resource, outcome, _, start, end = _columns(log)
    order = np.lexsort((start, case))
    labels = [_attr(label) for label in log.activities]
    resources = [_attr(name) for name in log.resources.name]
    ids = [_attr(case_id) for case_id in _ids_of(log, case_prefix)]
    written = 0
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(_XES_HEADER)
        if name:
            stream.write(f'  <string key="concept:name" value="{_attr(name)}"/>\n')
        group: list[tuple[str, str, str, int, str, str]] = []
        for first in range(0, len(order), CHUNK):
            rows = order[first : first + CHUNK]
            for row in zip(
                [labels[a] for a in activity[rows].tolist()],
                [_name(resources, r) for r in resource[rows].tolist()],
                format_times(start[rows], "T"),
                outcome[rows].tolist(),
                format_times(end[rows], "T"),
                [ids[c] for c in case[rows].tolist()],
                strict=True,
            ):
                if group and group[0][5] != row[5]:
                    written += _write_trace(stream, group[0][5], group)
                    group = []
                group.append(row)
        if group:
            written += _write_trace(stream, group[0][5], group)
        stream.write("</log>\n")
    return written
