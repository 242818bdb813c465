"""KPIs per replication and their summary over replications (engine.simulation.kpis).

The sample log (tests/sim_logs.py, times in hours after T0, run [0, 48]):

| case | process | arrival | end | due | actions (enable/start/end/processing) | hold | reworks |
|---|---|---|---|---|---|---|---|
| 0 | claim | 0 | 10 | 12 | Register 0/1/3/2, Decide 3/3/8/2 | more_info 2 h, SLA +1 h | 1 |
| 1 | claim | 2 | 6 | 5 | Register 2/2/4/2 | - | 0 |
| 2 | claim | 4 | 24 | - | Register 4/6/7/1 (robot failed), 7/8/10/2 | until 5 h | 2 |
| 3 | claim | 5 | - | - | Register 5/5/5/0 (robot refused) | - | 0 |
| 4 | check (sub-case of 0) | 3 | 5 | - | Inspect 3/3/5/2 | - | 0 |
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from pathlib import Path

import pytest
from sim_logs import LogBuilder, sample_log

from engine.errors import InvalidArgument
from engine.simulation.kpis import (
    KpiTable,
    Scope,
    case_cycle_times_h,
    format_value,
    kpi_bases,
    kpi_info,
    pool_utilisation,
    replication_kpis,
    scopes,
    summarise,
    wip_series,
    wip_stats,
)
from engine.simulation.results import SimulationResult

EXPECTED_CLAIM = {
    "arrived": 4,
    "finished": 3,
    "in_progress": 1,
    "throughput_per_day": 1.5,
    "cycle_time_mean_h": 34 / 3,
    "cycle_time_median_h": 10,
    "cycle_time_p90_h": 18,  # sorted 4, 10, 20: 10 + 0.8 * (20 - 10)
    "waiting_mean_h": 4 / 3,  # 1, 0, 3
    "processing_mean_h": 3,  # 4, 2, 3
    "off_calendar_mean_h": 1,  # 3, 0, 0
    "hold_more_info_mean_h": 2 / 3,
    "hold_until_mean_h": 5 / 3,
    "hold_paused_mean_h": 0,
    "sla_cases": 2,
    "sla_hit_rate": 0.5,
    "hold_more_info_share": 1 / 3,
    "hold_more_info_held_mean_h": 2,
    "hold_more_info_sla_shift_mean_h": 1,
    "hold_more_info_sla_hit_rate": 1.0,
    "hold_until_share": 1 / 3,
    "hold_until_held_mean_h": 5,
    "hold_paused_share": 0,
    "reworks_per_case": 1,
    "robot_failures": 1,
    "robot_refusals": 1,
}
UNDEFINED_CLAIM = ("hold_until_sla_hit_rate", "hold_paused_held_mean_h", "hold_paused_sla_hit_rate")


def test_per_replication_kpis_of_top_level_claims() -> None:
    kpis = replication_kpis(sample_log())
    for base, expected in EXPECTED_CLAIM.items():
        assert kpis[f"{base}[claim]"] == pytest.approx(expected), base
    for base in UNDEFINED_CLAIM:
        assert math.isnan(kpis[f"{base}[claim]"]), base


def test_subcase_only_process_gets_an_all_scope_only() -> None:
    kpis = replication_kpis(sample_log())
    assert "arrived[check]" not in kpis
    assert "arrived[claim/all]" not in kpis
    assert kpis["arrived[check/all]"] == 1
    assert kpis["cycle_time_mean_h[check/all]"] == pytest.approx(2)
    assert kpis["processing_mean_h[check/all]"] == pytest.approx(2)


def test_scopes_top_level_and_all() -> None:
    b = LogBuilder()
    b.process("idle")  # no cases at all: still reported (0 arrived)
    parent = b.case("claim", arrival=0, end=4)
    b.case("claim", arrival=1, end=2, parent=parent)  # claim is also a sub-case of itself
    b.case("check", arrival=1, end=3, parent=parent)
    assert [s.name for s in scopes([b.log])] == ["idle", "claim", "claim/all", "check/all"]
    kpis = replication_kpis(b.log)
    assert kpis["arrived[idle]"] == 0 and math.isnan(kpis["cycle_time_mean_h[idle]"])
    assert kpis["arrived[claim]"] == 1 and kpis["arrived[claim/all]"] == 2
    assert kpis["cycle_time_mean_h[claim/all]"] == pytest.approx(2.5)
    assert Scope("claim", top_level=False).name == "claim/all"


def test_run_kpis_utilisation_wip_and_length() -> None:
    kpis = replication_kpis(sample_log())
    assert kpis["simulated_days"] == pytest.approx(2)
    assert kpis["utilisation[clerks]"] == pytest.approx(12 / 32)
    assert kpis["utilisation[robots]"] == pytest.approx(1 / 48)
    # 1*2 + 2*2 + 3*1 + 4*1 + 3*4 + 2*14 + 1*24 = 77 case-hours over 48 h
    assert kpis["wip_mean"] == pytest.approx(77 / 48)
    assert kpis["wip_max"] == 4


def test_pool_without_available_time_has_undefined_utilisation() -> None:
    b = LogBuilder()
    b.resource("bot_1", "bots", busy=0, available=0)
    assert math.isnan(pool_utilisation(b.log)["bots"])


def test_wip_is_clipped_to_the_run() -> None:
    b = LogBuilder(start=10, end=20)
    b.wip((2, 5), (12, 7), (15, 1), (20, 9), (30, 20))
    times, values = wip_series(b.log)
    assert values.tolist() == [5, 7, 1]
    mean, maximum = wip_stats(b.log)
    assert mean == pytest.approx((5 * 2 + 7 * 3 + 1 * 5) / 10)
    assert maximum == 7
    empty = LogBuilder(start=0, end=10)
    assert wip_stats(empty.log) == (0.0, 0.0)


def test_wip_change_points_out_of_order_are_sorted() -> None:
    b = LogBuilder(start=0, end=4)
    b.wip((2, 3), (0, 1))
    mean, maximum = wip_stats(b.log)
    assert (mean, maximum) == (2.0, 3.0)


def test_no_finished_case_gives_undefined_means_not_errors() -> None:
    b = LogBuilder()
    b.case(arrival=1)
    kpis = replication_kpis(b.log)
    assert kpis["finished[claim]"] == 0 and kpis["in_progress[claim]"] == 1
    for base in ("cycle_time_mean_h", "cycle_time_p90_h", "sla_hit_rate", "waiting_mean_h"):
        assert math.isnan(kpis[f"{base}[claim]"])


def test_hold_columns_must_match_the_cases() -> None:
    log = sample_log()
    log.cases.hold.append(0.0)
    with pytest.raises(InvalidArgument, match="3 per case"):
        replication_kpis(log)


def test_cycle_times_of_a_scope() -> None:
    assert sorted(case_cycle_times_h(sample_log(), Scope("claim")).tolist()) == [4, 10, 20]


def test_every_key_has_a_unit_and_description() -> None:
    for key in replication_kpis(sample_log()):
        info = kpi_info(key)
        assert info.unit and info.description, key
    assert kpi_info("cycle_time_mean_h[claim]").unit == "h"
    assert kpi_info("sla_hit_rate").unit == "share"
    assert "wip_mean" in kpi_bases()
    with pytest.raises(InvalidArgument):
        kpi_info("nonsense[claim]")


def two_replications() -> SimulationResult:
    first = sample_log(1)
    second = LogBuilder(replication=2)
    c = second.case(arrival=0, end=6, due=8)
    second.act(c, "Register", enable=0, start=0, end=6)
    second.case("check", arrival=1, end=2, parent=c)
    second.resource("clerk_1", "clerks", busy=6, available=16)
    second.wip((0, 1), (6, 0))
    return SimulationResult("demo", "base", [first, second.log], wall_seconds=1.5)


def test_summary_mean_ci_min_max_n_over_replications() -> None:
    table = summarise(two_replications())
    row = table["cycle_time_mean_h[claim]"]
    assert row.values == pytest.approx((34 / 3, 6.0))
    assert row.mean == pytest.approx((34 / 3 + 6) / 2)
    s = statistics.stdev([34 / 3, 6.0])
    assert row.half_width == pytest.approx(12.706204736174707 * s / math.sqrt(2))
    assert (row.minimum, row.n) == (6.0, 2)
    assert row.maximum == pytest.approx(34 / 3)
    assert row.unit == "h"
    assert table.replications == 2 and table.variant == "base" and table.scenario == "demo"


def test_summary_leaves_out_undefined_and_missing_values() -> None:
    table = summarise(two_replications())
    until = table["hold_until_held_mean_h[claim]"]  # no until hold in replication 2
    assert until.n == 1 and until.mean == 5 and until.half_width is None
    robots = table["utilisation[robots]"]  # no robot pool in replication 2
    assert robots.n == 1 and math.isnan(robots.values[1])


def test_summary_of_one_replication_has_no_interval() -> None:
    table = summarise(SimulationResult("demo", "base", [sample_log()]))
    assert all(row.half_width is None for row in table)
    assert table["finished[claim]"].mean == 3 and table["finished[claim]"].n == 1


def test_summary_keys_are_in_a_stable_order() -> None:
    keys = summarise(two_replications()).keys()
    assert keys[:4] == ["simulated_days", "utilisation[clerks]", "utilisation[robots]", "wip_mean"]
    assert keys.index("arrived[claim]") < keys.index("cycle_time_mean_h[claim]")
    assert keys.index("robot_refusals[claim]") < keys.index("arrived[check/all]")
    assert keys == summarise(two_replications()).keys()


def test_table_formats_as_text() -> None:
    table = summarise(two_replications())
    text = table.format_table()
    lines = text.splitlines()
    assert lines[0] == "demo [base], 2 replication(s)"
    assert lines[1].split() == ["KPI", "unit", "mean", "±95%", "CI", "min", "max", "n"]
    line = next(x for x in lines if x.startswith("cycle_time_mean_h[claim] "))
    assert line.split()[1:] == ["h", "8.667", "33.883", "6", "11.333", "2"]
    assert len(lines) == len(table) + 2


def test_table_as_json() -> None:
    table = summarise(two_replications())
    document = json.loads(json.dumps(table.as_dict(), allow_nan=False))
    assert document["variant"] == "base" and document["replications"] == 2
    assert document["wall_seconds"] == 1.5
    cycle = document["kpis"]["cycle_time_mean_h[claim]"]
    assert cycle["unit"] == "h" and cycle["n"] == 2
    assert cycle["mean"] == pytest.approx((34 / 3 + 6) / 2)
    assert document["kpis"]["hold_until_held_mean_h[claim]"]["ci_half_width"] is None
    assert document["kpis"]["utilisation[robots]"]["values"][1] is None


def test_table_as_csv(tmp_path: Path) -> None:
    table = summarise(two_replications())
    path = tmp_path / "kpis.csv"
    table.to_csv(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["variant", "kpi", "unit", "mean", "ci_half_width", "min", "max", "n"]
    assert len(rows) == len(table)
    cycle = next(r for r in rows if r["kpi"] == "cycle_time_mean_h[claim]")
    assert float(cycle["mean"]) == pytest.approx((34 / 3 + 6) / 2)
    assert cycle["variant"] == "base" and cycle["n"] == "2"
    until = next(r for r in rows if r["kpi"] == "hold_until_held_mean_h[claim]")
    assert until["ci_half_width"] == ""
    assert table.csv_text() == path.read_text(encoding="utf-8")


def test_table_lookup() -> None:
    table: KpiTable = summarise(two_replications())
    assert "wip_max" in table and "nope" not in table
    with pytest.raises(KeyError):
        table["nope"]
    assert "cycle time" in table["cycle_time_p90_h[claim]"].description


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (math.nan, "-"),
        (None, "-"),
        (3.0, "3"),
        (12345.678, "12,345.7"),
        (250.25, "250.2"),
        (8.66666, "8.667"),
        (0.123456, "0.1235"),
        (math.inf, "inf"),
    ],
)
def test_format_value(value: float | None, text: str) -> None:
    assert format_value(value) == text


def test_H4_sla_shift_and_hit_rate_of_cases_with_more_info_holds() -> None:
    b = LogBuilder()
    b.case(arrival=0, end=10, due=9, hold={"more_info": 3}, sla_paused=2)  # missed
    b.case(arrival=0, end=10, due=11, hold={"more_info": 1}, sla_paused=1)  # met
    b.case(arrival=0, end=4, due=5)  # no hold: not in the hold KPIs
    b.case(arrival=0, hold={"more_info": 8}, sla_paused=6)  # unfinished: left out
    kpis = replication_kpis(b.log)
    assert kpis["hold_more_info_sla_shift_mean_h[claim]"] == pytest.approx(1.5)
    assert kpis["hold_more_info_held_mean_h[claim]"] == pytest.approx(2)
    assert kpis["hold_more_info_mean_h[claim]"] == pytest.approx(4 / 3)
    assert kpis["hold_more_info_share[claim]"] == pytest.approx(2 / 3)
    assert kpis["hold_more_info_sla_hit_rate[claim]"] == pytest.approx(0.5)
    assert kpis["sla_hit_rate[claim]"] == pytest.approx(2 / 3)


def test_S3_S4_robot_refusals_and_failures_are_counted_per_scope() -> None:
    b = LogBuilder()
    parent = b.case(arrival=0)  # unfinished: its actions still count
    child = b.case("check", arrival=0, end=2, parent=parent)
    b.act(parent, "A", enable=0, start=0, end=0, resource="bot_1", outcome=2)
    b.act(parent, "A", enable=0, start=0, end=1, resource="bot_1", outcome=1)
    b.act(parent, "A", enable=1, start=1, end=2, resource="bot_1", outcome=1)
    b.act(child, "B", enable=0, start=0, end=0, resource="bot_1", outcome=2)
    b.act(child, "B", enable=0, start=0, end=1, resource="bot_1", outcome=3)  # closed
    kpis = replication_kpis(b.log)
    assert (kpis["robot_refusals[claim]"], kpis["robot_failures[claim]"]) == (1, 2)
    assert (kpis["robot_refusals[check/all]"], kpis["robot_failures[check/all]"]) == (1, 0)
