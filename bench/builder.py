"""Builder benchmark: load + validate + compile 100 definitions.

Prints the time as a ratio to bare SpiffWorkflow parsing of the same compiled BPMN, both
measured in this run (best of several repeats, to damp noise). Usage:

    .venv/bin/python bench/builder.py [--count 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser

from engine.builder.loader import load_source


def synthetic_yaml(index: int) -> bytes:
    """A definition with 3-6 stages of 1-4 actions, conditions, a parallel stage, due rules."""
    stages = 3 + index % 4
    lines = [
        f"id: bench_{index}",
        f"name: Benchmark process {index}",
        "version: 1",
        "due: 3 working days",
        "calendar: office",
        "add_wait_time_to_due_date: true",
        "feedback_window: 2d",
        "more_info_reasons: [Customer documents]",
        "stages:",
    ]
    for s in range(stages):
        lines.append(f"  - name: Stage {s + 1}")
        if s % 2 == 1:
            lines.append(f"    condition: amount > {s * 100} and kind in ['a', 'b']")
        if s == 2:
            lines.append("    parallel: true")
        lines.append("    actions:")
        for a in range(1 + (index + s) % 4):
            extra = ", robot: true" if a == 2 else ""
            lines.append(
                f"      - {{id: s{s}_a{a}, title: Action {a} of stage {s}, due: {a + 1}h{extra}}}"
            )
        lines.append(
            f"      - {{id: s{s}_manual, title: Manual, manual_launch: true, flow: false}}"
        )
    return ("\n".join(lines) + "\n").encode()


def best_of(repeat: int, fn: Callable[[], None]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    sources = [(synthetic_yaml(i), f"bench_{i}.yaml") for i in range(args.count)]
    compiled = [(load_source(data, name).definition) for data, name in sources]

    def caseloom_load() -> None:
        for data, name in sources:
            load_source(data, name)

    def spiff_parse() -> None:
        for definition in compiled:
            p = BpmnParser()
            p.add_bpmn_str(definition.bpmn, definition.source)
            p.get_spec(definition.id)

    ours = best_of(args.repeat, caseloom_load)
    bare = best_of(args.repeat, spiff_parse)
    print(f"definitions:                          {args.count}")
    print(
        f"caseloom load+validate+compile+parse: {ours * 1000:8.1f} ms "
        f"({ours / args.count * 1000:.2f} ms each)"
    )
    print(
        f"bare SpiffWorkflow parse (same BPMN): {bare * 1000:8.1f} ms "
        f"({bare / args.count * 1000:.2f} ms each)"
    )
    print(f"ratio caseloom / bare SpiffWorkflow:  {ours / bare:8.2f}x")


if __name__ == "__main__":
    main()
