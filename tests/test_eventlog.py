"""Event logs: CSV in Prosimos's format, XES read back by pm4py (engine.simulation.eventlog)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from sim_logs import T0, LogBuilder, sample_log

from engine.errors import InvalidArgument
from engine.simulation import eventlog
from engine.simulation.eventlog import (
    CSV_COLUMNS,
    EventRow,
    case_cycle_times_hours,
    case_ids,
    format_time,
    iter_csv,
    mean_cycle_time_hours,
    read_csv,
    write_csv,
    write_xes,
)

XES = "{http://www.xes-standard.org/}"


def utc(hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2024, 1, 1, hour, minute, second, micro, tzinfo=UTC)


def test_times_are_written_like_prosimos() -> None:
    assert format_time(T0) == "2024-01-01 09:00:00.000000+00:00"
    assert format_time(T0 + 0.123456) == "2024-01-01 09:00:00.123456+00:00"
    assert format_time(T0 + 86400 * 31 + 3599.5) == "2024-02-01 09:59:59.500000+00:00"
    assert format_time(math.nan) == ""


def test_csv_header_and_rows_in_start_order(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    assert write_csv(sample_log(), path) == 7
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "case_id,activity,enable_time,start_time,end_time,resource"
    assert lines[1] == (
        "0,Register,2024-01-01 09:00:00.000000+00:00,2024-01-01 10:00:00.000000+00:00,"
        "2024-01-01 12:00:00.000000+00:00,clerk_1"
    )
    order = [line.split(",")[0] + ":" + line.split(",")[1] for line in lines[1:]]
    # starts 1, 2, 3 (Inspect logged before Decide), 3, 5, 6, 8
    assert order == [
        "0:Register",
        "1:Register",
        "0-1:Inspect",
        "0:Decide",
        "3:Register",
        "2:Register",
        "2:Register",
    ]


def test_csv_case_prefix_and_missing_values(tmp_path: Path) -> None:
    b = LogBuilder()
    c = b.case(arrival=0)
    b.act(c, "Register", enable=0, start=1, end=math.nan, resource="clerk_1", processing=0.5)
    b.log.acts.resource[0] = -1  # no resource recorded
    path = tmp_path / "log.csv"
    write_csv(b.log, path, case_prefix="r2-")
    line = path.read_text(encoding="utf-8").splitlines()[1]
    assert line == (
        "r2-0,Register,2024-01-01 09:00:00.000000+00:00,2024-01-01 10:00:00.000000+00:00,,"
    )


def test_csv_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    write_csv(sample_log(), path)
    rows = read_csv(path)
    assert len(rows) == 7
    assert rows[3] == EventRow("0", "Decide", utc(12), utc(12), utc(17), "clerk_1")
    assert all(r.start_time is not None and r.start_time.tzinfo is not None for r in rows)


def test_csv_round_trip_keeps_microseconds_and_empty_times(tmp_path: Path) -> None:
    b = LogBuilder()
    c = b.case(arrival=0)
    b.act(c, "A", enable=0, start=0.5, end=math.nan, processing=0)
    b.log.acts.start[0] = T0 + 1.000001
    path = tmp_path / "log.csv"
    write_csv(b.log, path)
    [row] = read_csv(path)
    assert row.start_time == utc(9, 0, 1, 1)
    assert row.end_time is None


PROSIMOS_LOG = """case_id,activity,enable_time,start_time,end_time,resource
0,Check,2024-01-01 09:00:00.000000+00:00,2024-01-01 09:00:00.000000+00:00,\
2024-01-01 09:40:00.000000+00:00,Clerk_1
1,Check,2024-01-01 09:30:00.500000+00:00,2024-01-01 09:30:00.500000+00:00,\
2024-01-01 10:10:00.000000+00:00,Clerk_1
0,Offer,2024-01-01 09:40:00.000000+00:00,2024-01-01 10:00:00.000000+00:00,\
2024-01-01 10:30:00.000000+00:00,Officer_1
1,Offer,2024-01-01 10:10:00.000000+00:00,2024-01-01 10:30:00.000000+00:00,\
2024-01-01 11:30:00.500000+00:00,Officer_1
"""


def test_mean_cycle_time_of_a_prosimos_log(tmp_path: Path) -> None:
    path = tmp_path / "prosimos.csv"
    path.write_text(PROSIMOS_LOG, encoding="utf-8")
    rows = read_csv(path)
    assert case_cycle_times_hours(rows) == {"0": 1.5, "1": 2.0}
    assert mean_cycle_time_hours(rows) == pytest.approx(1.75)
    assert mean_cycle_time_hours(iter_csv(path)) == pytest.approx(1.75)


def test_mean_cycle_time_of_our_log_matches_first_start_to_last_end(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    write_csv(sample_log(), path)
    # case 0: 1 -> 8; 1: 2 -> 4; 2: 6 -> 10; 3: 5 -> 5; 4: 3 -> 5
    assert mean_cycle_time_hours(read_csv(path)) == pytest.approx((7 + 2 + 4 + 0 + 2) / 5)


def test_mean_cycle_time_leaves_out_cases_without_an_end() -> None:
    rows = [
        EventRow("a", "X", None, utc(9), utc(10), ""),
        EventRow("b", "X", None, utc(9), None, ""),
        EventRow("c", "X", None, None, None, ""),
    ]
    assert case_cycle_times_hours(rows) == {"a": 1.0}
    assert math.isnan(mean_cycle_time_hours([]))


def test_read_csv_refuses_a_file_without_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("case,activity,start\n1,A,2024-01-01 09:00:00\n", encoding="utf-8")
    with pytest.raises(InvalidArgument, match="enable_time, start_time, end_time"):
        read_csv(path)


@pytest.mark.parametrize("time", ["yesterday", "2024-01-01 09:00:00"])
def test_read_csv_refuses_bad_or_naive_times(tmp_path: Path, time: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(",".join(CSV_COLUMNS) + f"\n1,A,,{time},,r\n", encoding="utf-8")
    with pytest.raises(InvalidArgument, match=r"bad\.csv:2"):
        read_csv(path)


def parse_xes(path: Path) -> list[tuple[str, list[dict[str, str]]]]:
    """(trace name, [event attributes]) of an XES file, read with lxml."""
    root = etree.parse(str(path)).getroot()
    traces = []
    for trace in root.iter(f"{XES}trace"):
        name = trace.find(f"{XES}string")
        assert name is not None and name.get("key") == "concept:name"
        events = [
            {str(a.get("key")): str(a.get("value")) for a in event}
            for event in trace.iter(f"{XES}event")
        ]
        traces.append((str(name.get("value")), events))
    return traces


def test_xes_traces_and_events_in_time_order(tmp_path: Path) -> None:
    path = tmp_path / "log.xes"
    assert write_xes(sample_log(), path, name="demo", case_prefix="r1-") == 14
    traces = parse_xes(path)
    assert [name for name, _ in traces] == [
        "r1-0",
        "r1-1",
        "r1-2",
        "r1-3",
        "r1-0-1",
    ]  # a sub-case is named after its parent (SC10)
    case0 = traces[0][1]
    assert [(e["concept:name"], e["lifecycle:transition"]) for e in case0] == [
        ("Register", "start"),
        ("Register", "complete"),
        ("Decide", "start"),
        ("Decide", "complete"),
    ]
    assert case0[3]["time:timestamp"] == "2024-01-01T17:00:00.000000+00:00"
    assert case0[3]["org:resource"] == "clerk_1"
    refused = traces[3][1]  # zero-length: start still before complete
    assert [e["lifecycle:transition"] for e in refused] == ["start", "complete"]
    assert refused[1]["outcome"] == "refused" and "outcome" not in refused[0]
    assert traces[2][1][1]["outcome"] == "failed"


def test_xes_interleaves_parallel_actions_and_skips_missing_ends(tmp_path: Path) -> None:
    b = LogBuilder()
    c = b.case(arrival=0)
    b.act(c, 'Check "A" & <B>', enable=0, start=0, end=3)
    b.act(c, "Other", enable=0, start=1, end=2, resource="clerk_2")
    b.act(c, "Late", enable=2, start=2, end=math.nan)
    path = tmp_path / "log.xes"
    assert write_xes(b.log, path) == 5
    [(_, events)] = parse_xes(path)
    assert [(e["concept:name"], e["lifecycle:transition"]) for e in events] == [
        ('Check "A" & <B>', "start"),
        ("Other", "start"),
        ("Other", "complete"),
        ("Late", "start"),
        ('Check "A" & <B>', "complete"),
    ]


def test_xes_is_the_same_whatever_the_chunk_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = tmp_path / "whole.xes"
    write_xes(sample_log(), whole)
    monkeypatch.setattr(eventlog, "CHUNK", 2)
    chunked = tmp_path / "chunked.xes"
    write_xes(sample_log(), chunked)
    csv_chunked = tmp_path / "chunked.csv"
    write_csv(sample_log(), csv_chunked)
    monkeypatch.undo()
    csv_whole = tmp_path / "whole.csv"
    write_csv(sample_log(), csv_whole)
    assert chunked.read_text(encoding="utf-8") == whole.read_text(encoding="utf-8")
    assert csv_chunked.read_text(encoding="utf-8") == csv_whole.read_text(encoding="utf-8")


# pm4py 2.7 warns (UserWarning) on every read that the optional `r4pm` accelerator is not
# installed; nothing to do with the file we wrote.
@pytest.mark.filterwarnings("ignore:Install the optional requirement:UserWarning")
def test_pm4py_reads_the_xes(tmp_path: Path) -> None:
    import pm4py  # type: ignore[import-untyped]

    path = tmp_path / "log.xes"
    write_xes(sample_log(), path, name="demo")
    frame = pm4py.read_xes(str(path))
    assert len(frame) == 14
    assert frame["case:concept:name"].nunique() == 5
    decide = frame[
        (frame["case:concept:name"] == "0")
        & (frame["concept:name"] == "Decide")
        & (frame["lifecycle:transition"] == "complete")
    ]
    assert decide["time:timestamp"].iloc[0].to_pydatetime() == utc(17)
    assert set(frame["org:resource"]) == {"clerk_1", "clerk_2", "robot_1"}


def test_empty_log_writes_headers_only(tmp_path: Path) -> None:
    log = LogBuilder().log
    assert write_csv(log, tmp_path / "log.csv") == 0
    assert read_csv(tmp_path / "log.csv") == []
    assert write_xes(log, tmp_path / "log.xes") == 0
    assert parse_xes(tmp_path / "log.xes") == []


def test_SC10_sub_cases_are_named_after_their_parent() -> None:
    b = LogBuilder()
    top = b.case(arrival=0)
    other = b.case(arrival=1)
    first = b.case("check", arrival=2, parent=top)
    b.case("check", arrival=3, parent=other)
    b.case("check", arrival=4, parent=top)
    b.case("check", arrival=5, parent=first)
    assert case_ids(b.log) == ["0", "1", "0-1", "1-1", "0-2", "0-1-1"]
    assert case_ids(b.log, "r2-") == ["r2-0", "r2-1", "r2-0-1", "r2-1-1", "r2-0-2", "r2-0-1-1"]
