# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark suite's entry point (run by `make bench` through scripts/bench.sh).

    python tests/benchmarks/bench.py [--profile full|smoke] [--only s1,s2,s3,s4,s5] [--runs N]
                                     [--out results.json] [--doc performance.md] [--chart performance.png]
                                     [--collections DIR] [--work DIR]

Runs the comparisons against the bundled simulator and writes the results as JSON, then the table
(docs/performance.md) and the chart (docs/performance.png) from that JSON (tests/benchmarks/report.py).
`--profile smoke` runs the same harness end to end with tiny sizes in about 1.5 minutes: CI uses it to check
that the harness works; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import shutil
import signal
import sys
import time
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

# pylint: disable=wrong-import-position
import report  # noqa: E402
import scenarios  # noqa: E402
from harness import ROOT, Runner, git_info, load_now, log, machine_info  # noqa: E402

SCHEMA = 1
SCENARIOS = ("s1", "s2", "s3", "s4", "s5", "s6")

PROFILES: dict[str, dict[str, t.Any]] = {
    # What `make bench` runs: every figure the median of 5 runs. About 25-30 minutes on 2 cores.
    "full": {
        "runs": 5,
        "s1": {"durations": [10, 60], "gap": 2.5, "diagnostic": True},
        "s2": {"sizes": [10, 100, 500], "spread": [5, 20], "uri_delay": 5, "loop_measure": 100, "loop_steady": 40},
        "s3": {"jobs": 10000, "page": 1000},
        "s4": {"pairs": 10},
        "s5": {"polls": 1000, "duration": 10},
        "s6": {"durations": [8, 9, 10, 11, 12], "spread": 0.05, "history": 4, "gap": 1.5,
               "even": {"durations": [8, 9, 10, 11, 12], "history": 12, "range": [8, 12]},
               "mixed": {"durations": [10, 60], "history": [[6, [9.5, 10.5]], [5, [57, 63]]]},
               "long": 600, "long_spread": 0.10, "history_long": 5, "long_runs": 1},
    },
    # The CI smoke: every contender and code path (the loops' extrapolation too), twice, at toy sizes.
    "smoke": {
        "runs": 2,
        "s1": {"durations": [3], "gap": 0.5, "diagnostic": False},
        "s2": {"sizes": [3, 16], "spread": [1, 2], "uri_delay": 1, "loop_measure": 3, "loop_steady": 8},
        "s3": {"jobs": 50, "page": 20},
        "s4": {"pairs": 1},
        "s5": {"polls": 20, "duration": 2},
        "s6": {"durations": [3], "spread": 0.05, "history": 3, "gap": 0.5,
               "even": {"durations": [3], "history": 4, "range": [2.5, 3.5]},
               "mixed": {"durations": [3, 8], "history": [[2, [2.8, 3.2]], [2, [7.6, 8.4]]]},
               "long": 12, "long_spread": 0.10, "history_long": 5, "long_runs": 1},
    },
}


def ensure_collection(explicit: str | None, work: Path) -> str:
    """A collections path holding aiqum.jobs: --collections, ANSIBLE_COLLECTIONS_PATH, or a fresh copy."""
    for candidate in (explicit, os.environ.get("ANSIBLE_COLLECTIONS_PATH")):
        for path in (candidate or "").split(os.pathsep):
            if path and (Path(path) / "ansible_collections" / "aiqum" / "jobs" / "galaxy.yml").exists():
                return str(Path(path).resolve())
    target = work / "collections" / "ansible_collections" / "aiqum" / "jobs"
    log(f"laying a copy of the collection under {target}")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in ("galaxy.yml", "meta", "plugins", "playbooks", "README.md", "LICENSE"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif src.exists():
            shutil.copy2(src, target / name)
    return str(work / "collections")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", choices=sorted(PROFILES), default="full")
    p.add_argument("--only", help="comma-separated scenarios to run (default all): " + ",".join(SCENARIOS))
    p.add_argument("--runs", type=int, help="runs per figure (default: the profile's; at least 5 for real figures)")
    p.add_argument("--out", default=str(HERE / "results" / "results.json"))
    p.add_argument("--doc", default=str(ROOT / "docs" / "performance.md"), help="markdown table; '' to skip")
    p.add_argument("--chart", default=str(ROOT / "docs" / "performance.png"), help="PNG chart; '' to skip")
    p.add_argument("--collections", help="collections path holding aiqum.jobs (default: ANSIBLE_COLLECTIONS_PATH)")
    p.add_argument("--work", help="scratch directory (default build/bench/work-PROFILE)")
    p.add_argument("--merge", action="store_true",
                   help="keep the other scenarios of the existing --out file (same profile and runs) and replace only "
                        "those run now, so a partial run (--only) updates its part of the results and the page")
    args = p.parse_args(argv)

    profile = copy.deepcopy(PROFILES[args.profile])
    if args.runs:
        profile["runs"] = args.runs
    only = [s.strip() for s in (args.only or ",".join(SCENARIOS)).split(",") if s.strip()]
    bad = [s for s in only if s not in SCENARIOS]
    if bad:
        p.error(f"unknown scenario(s): {', '.join(bad)}")
    work = Path(args.work or ROOT / "build" / "bench" / f"work-{args.profile}").resolve()
    if (work / "runs").exists():
        shutil.rmtree(work / "runs")
    work.mkdir(parents=True, exist_ok=True)
    collections = ensure_collection(args.collections, work)

    ctx = scenarios.Context(work=work, runner=Runner(work, collections), runs=profile["runs"])

    def on_term(signum: int, _frame: t.Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_term)

    results: dict[str, t.Any] = {
        "schema": SCHEMA,
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "profile": args.profile,
        "runs_per_figure": profile["runs"],
        "config": profile,
        "machine": machine_info(),
        "git": git_info(),
        "load_before": load_now(),
        "scenarios": {},
        "simulator_load": [],
    }
    log(f"profile {args.profile}, {profile['runs']} runs per figure, scenarios {','.join(only)}; work dir {work}")
    started = time.monotonic()
    try:
        out = results["scenarios"]
        if "s1" in only or "s2" in only:
            p1 = profile["s1"] if "s1" in only else dict(profile["s1"], durations=[])
            p2 = profile["s2"] if "s2" in only else dict(profile["s2"], sizes=[])
            s1_runs, s2_one, load_a = scenarios.phase_a(ctx, p1, p2)
            results["simulator_load"].append(load_a)
            if "s1" in only:
                out["s1"] = scenarios.scenario1(s1_runs, p1)
            if "s2" in only:
                loops, load_b = scenarios.phase_b(ctx, p2)
                results["simulator_load"].append(load_b)
                out["s2"] = scenarios.scenario2(s2_one, loops, p2)
        if "s3" in only:
            log("scenario 3: listing")
            out["s3"] = scenarios.scenario3(ctx, profile["s3"])
            results["simulator_load"].append(out["s3"].pop("sim_cpu"))
        if "s4" in only:
            log("scenario 4: per-task overhead")
            out["s4"] = scenarios.scenario4(ctx, profile["s4"])
            results["simulator_load"].append(out["s4"].pop("sim_cpu"))
        if "s5" in only:
            log("scenario 5: the simulator under 1000 long polls")
            out["s5"] = scenarios.scenario5(ctx, profile["s5"])
        if "s6" in only:
            log("scenario 6: standard polling that knows when to look")
            out["s6"] = scenarios.scenario6(ctx, profile["s6"])
            results["simulator_load"].append(out["s6"].pop("sim_cpu"))
    except KeyboardInterrupt:
        log("interrupted: stopping what this run started")
        ctx.runner.end_all()
        raise
    finally:
        ctx.stop_all()
    results["duration_s"] = round(time.monotonic() - started, 1)
    results["load_after"] = load_now()
    out_path = Path(args.out)
    if args.merge and out_path.exists():
        merge_earlier(results, json.loads(out_path.read_text()), only)
    results["targets"] = [tg for s in results["scenarios"].values() for tg in s.get("targets", [])]

    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n")
    tmp.replace(out_path)
    log(f"results: {out_path} ({results['duration_s']:.0f} s)")
    if args.doc:
        report.write_markdown(results, Path(args.doc), chart=Path(args.chart) if args.chart else None)
        log(f"table: {args.doc}")
    if args.chart:
        report.write_chart(results, Path(args.chart))
        log(f"chart: {args.chart}")
    met = sum(1 for tg in results["targets"] if tg["met"])
    log(f"targets met: {met} of {len(results['targets'])}")
    return 0


def merge_earlier(results: dict[str, t.Any], earlier: dict[str, t.Any], only: list[str]) -> None:
    """Keep the scenarios of an earlier run that this run did not measure; refuse to mix profiles or run counts."""
    if earlier.get("profile") != results["profile"] or earlier.get("runs_per_figure") != results["runs_per_figure"]:
        raise SystemExit(f"--merge: the earlier results are of profile {earlier.get('profile')} with "
                         f"{earlier.get('runs_per_figure')} runs; this run is {results['profile']} with "
                         f"{results['runs_per_figure']}: run the same, or run every scenario")
    kept = {name: data for name, data in (earlier.get("scenarios") or {}).items() if name not in only}
    results["scenarios"] = dict(sorted({**kept, **results["scenarios"]}.items()))
    results["simulator_load"] = [load for load in earlier.get("simulator_load") or []
                                 if not any(f"scenario {n[1:]}" in str(load.get("phase", "")) for n in only)] \
        + results["simulator_load"]
    results["merged"] = {"measured_now": only, "kept_from": earlier.get("generated"),
                         "kept_git": (earlier.get("git") or {}).get("commit")}
    log(f"merged: kept {', '.join(sorted(kept)) or 'nothing'} from the run of {earlier.get('generated')}")


if __name__ == "__main__":
    sys.exit(main())
