"""Flow storage benchmark: per-step cost of ``FlowRunner.dumps`` + ``loads`` (no spec, parsed
spec objects re-attached) against SpiffWorkflow's own ``serialize_json`` + ``deserialize_json``
(spec embedded and rebuilt on every load), on the same workflow at every step of a run.

Prints both per-step costs and their ratio (best of several repeats, to damp noise). Usage:

    .venv/bin/python bench/flow_serialize.py [--stages 6] [--repeat 5] [--rounds 20]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

from engine.builder.loader import load_source
from engine.runtime.flow import FlowRunner
from engine.spiff_script import install_safe_engine


def synthetic_yaml(stages: int) -> bytes:
    """A process of ``stages`` stages of 3 actions; odd stages have a condition, every third
    stage is parallel and holds a robot."""
    lines = ["id: bench_flow", "name: Flow benchmark", "version: 1", "stages:"]
    for s in range(stages):
        lines.append(f"  - name: Stage {s + 1}")
        if s % 2 == 1:
            lines.append("    condition: amount > 100")
        if s % 3 == 2:
            lines.append("    parallel: true")
        lines.append("    actions:")
        for a in range(3):
            robot = ", robot: true" if s % 3 == 2 and a == 1 else ""
            lines.append(f"      - {{id: s{s}_a{a}, title: Action {a} of stage {s}{robot}}}")
    return ("\n".join(lines) + "\n").encode()


def snapshots(flow: FlowRunner, data: dict[str, object]) -> list[BpmnWorkflow]:
    """The workflow at every step of a run (each a restored copy, taken before the step)."""
    wf = flow.start(data)
    taken = []
    while not flow.is_finished(wf):
        taken.append(flow.loads(flow.dumps(wf)))
        flow.complete(wf, flow.ready_steps(wf)[0].task_id, data)
    taken.append(wf)
    return taken


def best_of(repeat: int, fn: Callable[[], None]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stages", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    definition = load_source(synthetic_yaml(args.stages), "bench_flow.yaml").definition
    flow = FlowRunner(definition)
    data: dict[str, object] = {"amount": 500, "customer": {"name": "Jane Doe", "tier": "gold"}}
    workflows = snapshots(flow, data)
    serializer = BpmnWorkflowSerializer()

    def ours() -> None:
        for _ in range(args.rounds):
            for wf in workflows:
                flow.loads(flow.dumps(wf))

    def stock() -> None:
        for _ in range(args.rounds):
            for wf in workflows:
                install_safe_engine(serializer.deserialize_json(serializer.serialize_json(wf)))

    steps = len(workflows) * args.rounds
    mine = best_of(args.repeat, ours) / steps
    bare = best_of(args.repeat, stock) / steps
    mine_size = sum(len(flow.dumps(wf)) for wf in workflows) / len(workflows)
    bare_size = sum(len(serializer.serialize_json(wf)) for wf in workflows) / len(workflows)
    print(f"steps per run:                         {len(workflows)}")
    print(
        f"FlowRunner dumps+loads (no spec):      {mine * 1e6:8.0f} us/step ({mine_size:,.0f} bytes)"
    )
    print(
        f"SpiffWorkflow serialize+deserialize:   {bare * 1e6:8.0f} us/step ({bare_size:,.0f} bytes)"
    )
    print(f"ratio FlowRunner / SpiffWorkflow:      {mine / bare:8.2f}x")


if __name__ == "__main__":
    main()
