# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Provisioning benchmark: N file shares by aiqum.jobs.um_file_share beside the same by hand (um_request and the
waiter), serial both; with wait, and with wait: false plus one um_job_wait; then the same play again, which must
change nothing. Reports wall time of the measured tasks and UM requests per item (the simulator's counters).

    python tests/benchmarks/provision_bench.py [--items 50] [--job 0.2] [--out FILE] [--collections DIR]

Each contender runs against its own fresh simulator, so its counters are its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing as t
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

# pylint: disable=wrong-import-position
from bench import ensure_collection  # noqa: E402
from harness import ROOT, Runner, Simulator, log  # noqa: E402

CONTENDERS = {
    "module": ("provision_module.yml", True, "um_file_share loop (wait)"),
    "by_hand": ("provision_by_hand.yml", True, "by hand: lookups, GET + um_request POST with wait, per item"),
    "module_nowait": ("provision_module.yml", False, "um_file_share loop (wait: false) + one um_job_wait"),
    "by_hand_nowait": ("provision_by_hand.yml", False, "by hand: lookups, GET + um_request POST, + one um_job_wait"),
}


def writes(counters: dict[str, t.Any]) -> int:
    return sum(n for route, n in counters["by_route"].items() if route.split(" ", 1)[0] in ("POST", "PATCH", "DELETE"))


def one(runner: Runner, work: Path, name: str, items: int, job: float) -> dict[str, t.Any]:
    playbook, wait_each, label = CONTENDERS[name]
    sim = Simulator(work / "sims" / f"{name}-{uuid.uuid4().hex[:6]}")
    try:
        sim.ctl("POST", "/rules", [{"method": "POST", "path": "/storage-provider/file-shares",
                                    "job": {"duration": job}}])
        names = [f"bench_{name}_{i:03d}" for i in range(items)]
        extra = dict(sim.connection_vars(), items=names, wait_each=wait_each)
        out: dict[str, t.Any] = {"contender": name, "label": label, "items": items, "job_seconds": job}
        for phase in ("first", "again"):
            sim.reset_counters()
            res = runner.playbook(f"{name}-{phase}", playbook, extra)
            counters = sim.counters()
            total = counters["total"]
            out[phase] = {"rc": res.rc, "seconds": res.span("Measured"), "requests": total,
                          "requests_per_item": round(total / items, 2), "writes": writes(counters),
                          "by_route": counters["by_route"], "log": str(res.log_file)}
            log(f"{name} {phase}: rc {res.rc}, {out[phase]['seconds']} s, {total} requests "
                f"({out[phase]['requests_per_item']} per item), {out[phase]['writes']} writes")
        return out
    finally:
        sim.stop()


def table(results: list[dict[str, t.Any]]) -> str:
    lines = ["| contender | items | first run: s | requests/item | writes | again: s | requests/item | writes |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        f, a = r["first"], r["again"]
        lines.append(f"| {r['label']} | {r['items']} | {f['seconds'] or float('nan'):.1f} | {f['requests_per_item']} | "
                     f"{f['writes']} | {a['seconds'] or float('nan'):.1f} | {a['requests_per_item']} | {a['writes']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=50)
    p.add_argument("--job", type=float, default=0.2, help="seconds each creation job takes on the simulator")
    p.add_argument("--only", help="comma-separated contenders: " + ",".join(CONTENDERS))
    p.add_argument("--out", default=str(HERE / "results" / "provision.json"))
    p.add_argument("--collections", help="collections path holding aiqum.jobs (default: a fresh copy)")
    p.add_argument("--work", default=str(ROOT / "build" / "bench" / "work-provision"))
    args = p.parse_args(argv)
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    runner = Runner(work, ensure_collection(args.collections, work))
    names = [n.strip() for n in (args.only or ",".join(CONTENDERS)).split(",") if n.strip()]
    results = [one(runner, work, name, args.items, args.job) for name in names]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"results": results}, indent=1) + "\n")
    print(table(results))
    failed = [f"{r['contender']} {phase}" for r in results for phase in ("first", "again") if r[phase]["rc"] != 0]
    if failed:
        log(f"runs that failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
