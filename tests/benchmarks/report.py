# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turns results.json into docs/performance.md (tables) and docs/performance.png (chart).

    python tests/benchmarks/report.py [results.json] [--doc docs/performance.md] [--chart docs/performance.png]

Re-renders without measuring again. The prose on why a target is missed, and what would close it, lives in
MISSES below: it is shown only for targets that the results say were missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

SCENARIO_TITLES = {
    "s1": "1. Noticing the end of one job",
    "s2": "2. Many jobs",
    "s3": "3. Listing",
    "s4": "4. Per-task overhead",
    "s5": "5. The simulator itself",
    "s6": "6. Standard polling that knows when to look",
}
METRIC_NAMES = {
    "lag_s": "lag after the job ended",
    "gets": "GETs of the job",
    "polls": "module's own request count",
    "wall_s": "wall time",
    "excess_s": "after the longest job",
    "requests": "requests",
    "longest_s": "longest job",
    "peak_rss_mib": "peak RSS (process tree)",
    "playbook_s": "whole playbook",
    "cpu_s": "CPU time (process tree)",
    "task_s": "time per task",
    "ratio": "ratio",
    "p50_ms": "answer delay p50",
    "p99_ms": "answer delay p99",
    "max_ms": "answer delay max",
    "held": "requests held at once",
}

# Why a target is missed and what would close it, by target id prefix. Shown only when missed.
MISSES: dict[str, str] = {
    "s6.": (
        "**Cause (plugins/module_utils/_estimate.py `next_gap`, `_waiter.py` `_gap`).** The plan looks where the "
        "type's past jobs ended: a bell around each recent duration, grouped in modes; the next look is where the "
        "lag of waiting, given that the job still runs, reaches what one look is worth (LOOK_WORTH, 0.2 s), so lag "
        "and GETs trade against each other through that constant, the width of the bells (KERNEL_SHARE, "
        "NEIGHBOURS) and the insurance (AGE_SHARE, AGE_MIN). On a busy machine the controller's own work after the "
        "answer (module exit, action plugin, ansible-playbook) adds to the waiter's lag, while the delay: 1 loop "
        "makes fewer GETs than one a second. **What would close it:** re-run on a quiet machine (the even case "
        "checks the delay: 1 loop's rate); then tune LOOK_WORTH."),
    "s1.longpoll.gets": (
        "**Cause (plugins/plugin_utils/_wait_action.py with plugins/module_utils/_waiter.py `_long_poll`).** The "
        "um_job_wait action plugin waits in slices of `progress_interval` (default 30 s) so that it can print "
        "progress lines: each slice is a new module run with `timeout` = 30 s. Inside a slice the waiter "
        "long-polls with `poll_timeout` = min(long_poll_timeout, time left) = 29 s; when that poll comes back "
        "with the job still running, less than 1 s of the slice is left, so `_long_poll` takes its 'too little "
        "time' branch: one plain GET, then a pause until the slice ends. A 60 s wait therefore costs 3 GETs (2 in "
        "the first slice, 1 in the last) and two module starts, where one 60 s long poll would do; the "
        "`long_poll_timeout` of 60 s is never used while `progress_interval` is shorter. The diagnostic row "
        "(`progress_interval: 0`, no slicing) shows 1 GET. **What would close it:** (1) in `_long_poll`, when "
        "less than 1 s is left, sleep to the deadline instead of sending a plain GET (the long poll that just "
        "returned is the current state); (2) when the server is known to honour long polling, let a slice last "
        "`long_poll_timeout` (or print the progress line from the long poll's answer inside one module run) so "
        "that each request is held for the whole period the user set. (1) was tried and withdrawn: without that last "
        "GET, a wait under a fault that outlasts its timeout can end without having seen the fault, and then "
        "cannot say what went wrong (the reliability suite caught it). With `progress_interval` of 0 or at "
        "least `long_poll_timeout`, a 60 s wait costs 1 GET; the target as set stays missed while progress "
        "lines are wanted every 30 s."),
    "s1.longpoll.lag": (
        "**Cause.** The simulator answers the held request within milliseconds of the job's end (scenario 5); the "
        "lag is the controller's work after that: the module builds and prints its result and exits, the action "
        "plugin (um_job_wait always runs through it) turns the slice's result into the task result, and "
        "ansible-playbook processes it, 50-80 ms on a quiet 2-core machine and several times that on a busy one. "
        "**What would close it:** re-run `make bench` where nothing else runs; beyond that, less work after the "
        "answer (the action plugin re-summarises the module's result)."),
    "s1.nolongpoll": (
        "**Cause (plugins/module_utils/_estimate.py `next_gap`).** In this scenario the 10 s and the 60 s jobs are "
        "of the same type, so that type's history holds both durations (two modes). The plan looks on each mode "
        "and sparsely between them (issue 22); what is left is load: the delay: 1 loop's GETs are spaced by 1 s "
        "plus its task's own time, so on a busy machine it makes fewer GETs, and the waiter's lag grows with the "
        "controller's work after the answer. **What would close it:** re-run on a quiet machine."),
    "s2.excess": (
        "**Cause.** With many keys the waiter long-polls one job and, each time that poll returns, reads all the "
        "others with list requests (50 keys each); the job it holds on is the latest submitted, which for jobs "
        "started together is not the one that ends last, so the last job's end is seen by a list request or "
        "a later long poll. **What would close it:** hold on the job whose `task_reports` show the least "
        "progress, or long-poll several jobs at once (one request per job, or a list long poll)."),
    "s2.requests": (
        "**Cause.** Each time the held job ends, every other pending key is read again (one list request per "
        "50 keys), so requests grow with N times the number of rounds. **What would close it:** read only the "
        "keys that can have ended (e.g. hold on the job that ends last, known from task progress), or filter "
        "the list on `state=completed|aborted`."),
    "s3.speed": (
        "**Cause.** Fetching is not the cost: the reference row reads all 10 pages in a fraction of a second. "
        "um_job_info returns all 10,000 jobs (about 13 MB of JSON, 400,000 strings with their task reports) in "
        "one result; `AnsibleModule.exit_json` then scrubs `no_log` values (the password) from every string "
        "(`remove_values`) and JSON-encodes it, about two thirds of the module's time in a profile, and the "
        "controller decodes and tags the whole result again. The uri loop pays the same per page, plus one module "
        "start per page and about 15 s for `set_fact` to template 10,000 records into one list, which is all "
        "of its handicap. **What would close it:** return fewer strings, e.g. a `fields` option (the API's own "
        "`fields` parameter) or list records without `task_reports` and `_links` unless asked; every stage "
        "above scales with the number of strings returned."),
    "s3.memory": (
        "**Cause.** um_job_info holds every page in the module and returns all records as one result, so the module "
        "and the controller each hold the whole list at the end, while the uri loop holds one page per module "
        "run. **What would close it:** return fewer fields per job, or stream pages to the controller."),
    "s4.ratio": (
        "**Cause (start-up of the module).** A um_job_info task costs more than a uri task because its module "
        "imports `requests` (and with it urllib3, charset_normalizer, idna, certifi) and builds two sessions with "
        "retry adapters, where `ansible.builtin.uri` uses `ansible.module_utils.urls` (urllib from the standard "
        "library). **What would close it:** import `requests` lazily (only when a request is sent) and build one "
        "session; or use `ansible.module_utils.urls` for the single-GET path."),
    "s5.p99": (
        "**Cause (tests/simulator/umsim_api.py, `get_job`/`_hold`).** When all 1000 held requests' jobs end at the "
        "same instant, the simulator's single event loop wakes every one of them at once and answers them one "
        "after the other: each answer is rendered (the job's JSON with its task reports), written and "
        "TLS-encrypted, about 0.13 ms each, so the last one leaves about 130 ms after the end. It is the server, "
        "not the client: with two client processes of 500 requests each, the answers still arrive over the same "
        "~130-230 ms, and over plain HTTP p99 drops only to ~100 ms (TLS is about a quarter of the cost). When the "
        "ends are spread over a second, as real jobs' are, p99 is a few ms (the other row). **What would close "
        "it:** render a finished job's JSON once and reuse it (the list route already caches it, the single-job "
        "route does not), and serve from two processes (SO_REUSEPORT) so both cores share a burst. It is not "
        "the bottleneck of scenarios 1-4, which never hold more than a few dozen requests at once (see the "
        "table below)."),
}


def _fmt(v: t.Any, unit: str) -> str:
    if v is None:
        return "n/a"
    if unit in ("GETs", "requests"):
        return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"
    if unit == "x":
        return f"{v:.3f}"
    if unit == "ms":
        return f"{v:.1f}"
    if unit == "MiB":
        return f"{v:.0f}"
    if unit == "s":
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return f"{v:g}"


def _met(v: bool | None) -> str:
    return "" if v is None else ("**yes**" if v else "**NO**")


def write_markdown(results: dict[str, t.Any], path: Path, chart: Path | None = None) -> None:
    m = results["machine"]
    lines: list[str] = []
    add = lines.append
    add("# Performance")
    add("")
    add("<!-- Generated by tests/benchmarks/report.py from tests/benchmarks/results/results.json: "
        "edit the generator, not this file. -->")
    add("")
    add("Waiting is the product, so its cost is measured against what users do today, side by side in one run, "
        "against the bundled simulator (`tests/simulator/`). Regenerate everything with **`make bench`** "
        "(`scripts/bench.sh`, about 25-30 minutes; best on a quiet machine). Every figure is the median of "
        f"{results['runs_per_figure']} runs, with min and max.")
    add("")
    merged = results.get("merged")
    if merged:
        now = [s[1:] for s in merged["measured_now"]]
        which = f"Scenario {now[0]} was" if len(now) == 1 else f"Scenarios {', '.join(now)} were"
        add(f"{which} measured in the run below; the others "
            f"are kept from the run of {merged.get('kept_from')} (commit `{str(merged.get('kept_git') or '?')[:12]}`) "
            "(`scripts/bench.sh --only ... --merge`).")
        add("")
    if results.get("profile") != "full":
        add(f"> **These figures come from the `{results['profile']}` profile: they check the harness only and mean "
            "nothing.**")
        add("")
    add("## Machine and run")
    add("")
    add("| | |")
    add("|---|---|")
    add(f"| machine | `{m['hostname']}` |")
    add(f"| CPU | {m['cpu_model']}, {m['cores']} cores |")
    add(f"| RAM | {m['ram_gib']} GiB |")
    add(f"| OS | {m['os']} |")
    add(f"| Python | {m['python']} |")
    add(f"| ansible-core | {m['ansible_core']} |")
    add(f"| requests | {m['requests']} |")
    g = results.get("git") or {}
    commit = (g.get("commit") or "unknown")[:12]
    add(f"| collection | commit `{commit}`{' with local changes under plugins/' if g.get('plugins_dirty') else ''} |")
    add(f"| run | {results['generated']}, profile `{results['profile']}`, {results['runs_per_figure']} runs per "
        f"figure, {results['duration_s'] / 60:.1f} min |")
    lb, la = results.get("load_before") or {}, results.get("load_after") or {}
    add(f"| machine load | before: load average {lb.get('load1')} / CPU {lb.get('cpu_percent')} %; after: "
        f"{la.get('load1')} / {la.get('cpu_percent')} % |")
    add("")
    if chart is not None:
        rel = chart.name if chart.parent == path.parent else str(chart)
        add(f"![Benchmark results at a glance]({rel})")
        add("")

    targets = results.get("targets") or []
    add("## Targets")
    add("")
    add("| scenario | case | target | result | met? |")
    add("|---|---|---|---|---|")
    for tg in targets:
        add(f"| {tg['scenario'][1]} | {tg['case']} | {tg['text']} | {tg['detail']} | {_met(tg['met'])} |")
    met = sum(1 for tg in targets if tg["met"])
    add("")
    add(f"{met} of {len(targets)} targets met. Each miss is explained, with what would close it, under its scenario.")
    add("")
    highlights = _highlights(results)
    if highlights:
        add("## What the figures say")
        add("")
        lines.extend(highlights)
        add("")
    add(HOW_TO_RUN)
    add("")

    for sid, title in SCENARIO_TITLES.items():
        sc = results["scenarios"].get(sid)
        if not sc:
            continue
        add(f"## {title}")
        add("")
        add(SCENARIO_TEXT[sid])
        add("")
        add("| case | contender | metric | median | min | max | target | met? |")
        add("|---|---|---|---|---|---|---|---|")
        notes: list[str] = []
        for f in sc["figures"]:
            unit = f["unit"]
            metric = f"{METRIC_NAMES.get(f['metric'], f['metric'])} ({unit})"
            note = ""
            if f.get("note"):
                if f["note"] not in notes:
                    notes.append(f["note"])
                note = f" [{notes.index(f['note']) + 1}]"
            add(f"| {f['case']} | {f['contender']}{note} | {metric} | {_fmt(f['median'], unit)} | "
                f"{_fmt(f['min'], unit)} | {_fmt(f['max'], unit)} | {f['target'] or ''} | {_met(f['met'])} |")
        add("")
        for i, n in enumerate(notes, 1):
            add(f"[{i}] {n}")
        if notes:
            add("")
        extra = _extras(sid, sc)
        if extra:
            lines.extend(extra)
            add("")
        missed = [tg for tg in sc.get("targets", []) if tg["met"] is False]
        shown: set[str] = set()
        for tg in missed:
            for prefix, text in MISSES.items():
                if tg["id"].startswith(prefix) and prefix not in shown:
                    shown.add(prefix)
                    add(f"**Missed: {tg['text']}** ({tg['case']}: {tg['detail']}).")
                    add("")
                    add(text)
                    add("")

    add("## The simulator is not the bottleneck")
    add("")
    add("CPU time the simulator processes used while each phase ran (from /proc, via psutil):")
    add("")
    add("| phase | wall (s) | simulator CPU (s) | share of one core |")
    add("|---|---|---|---|")
    for ld in results.get("simulator_load") or []:
        share = ld["sim_cpu_s"] / ld["wall_s"] if ld.get("wall_s") else None
        add(f"| {ld['phase']} | {ld['wall_s']:.0f} | {ld['sim_cpu_s']:.1f} | "
            f"{'n/a' if share is None else f'{share * 100:.1f} %'} |")
    add("")
    add("Scenario 5 shows how fast it answers held requests under far more load than scenarios 1-4 put on it.")
    add("")
    add(METHOD)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip() + "\n")


SCENARIO_TEXT = {
    "s1": ("A job of 10 s and one of 60 s is started, then the contender: **lag** is the time from the job's "
           "end on the server (its `complete_time`) to the moment the waiting task returned (a callback plugin "
           "stamps the controller's clock, the same clock), and **GETs** are the requests for that job the "
           "simulator counted. Contenders: `um_job_wait` against a server that honours long polling and one "
           "that ignores it (`--long-poll ignore`), with every option at its default; the hand-written "
           "`ansible.builtin.uri` loop with `until`/`retries` and `delay: 5` or `delay: 1`; and the vendor "
           "sample clients' way, a Python `requests` loop that sleeps 1 s between GETs."),
    "s2": ("N jobs are created at once with durations spread over 5-20 s (the same seeded durations for every "
           "contender), then the playbook starts. **Wall time** runs from the jobs' submission to the task's "
           "return; **after the longest job** is the task's return minus the end of the longest job; "
           "**requests** are every `/api` request the simulator counted in the run. The two loops are "
           "CPU-bound (one module run per key) and run side by side, one per core; the one-task contender runs "
           "on the staggered timeline of scenario 1."),
    "s3": ("10,000 finished jobs in the simulator. **Wall time** is from the start of the first listing task to "
           "the return of the last one (the uri way includes joining the pages into one list, which users need "
           "to use the result); **peak RSS** is the highest summed RSS of the `ansible-playbook` process tree "
           "(controller, workers, module), sampled every 20 ms. The reference row is a plain Python loop "
           "without Ansible: the floor set by the simulator and the network stack. Where the time goes: in a "
           "profile of the module at 10,000 jobs, fetching and decoding the 10 pages is about a tenth of the "
           "module's time and `AnsibleModule.exit_json` (scrubbing `no_log` values from each of ~400,000 strings, "
           "then encoding ~13 MB of JSON) about 85 %; the controller then decodes and tags the result again."),
    "s4": ("One job read by key, by `ansible.builtin.uri` and by `aiqum.jobs.um_job_info`, as separate tasks in "
           "turns (after one warm-up pair); a task's time runs from its start to its result on the controller."),
    "s6": ("On a server that ignores long polling (so um_job_wait polls), in one run: jobs of 8, 9, 10, 11 and "
           "12 s, each of a type that has run a few times before (4 finished jobs within +-5 % of its duration); "
           "the same durations, each of a type whose 12 finished jobs are spread evenly over 8-12 s; a type whose "
           "history mixes 10 s and 60 s jobs (6 of 9.5-10.5 s, then the newest 5 of 57-63 s), then one job of "
           "each length; and one job of 10 minutes whose type's 5 recent durations vary by +-10 %. um_job_wait "
           "reads up to 20 recent durations once (one list request per type and wait, counted in its GETs) and "
           "plans its looks from them as a distribution: a few looks where past jobs ended, sparse between. "
           "Beside it: the same waiter on a job whose type has no history and no task reports (the pace without "
           "an estimate), and the `uri` loops with `delay: 1` and `delay: 5` (short and mixed jobs) or a fixed "
           "`delay: 10` (the long job). **Lag** and **GETs** as in scenario 1; the waiter's GETs are its own "
           "request count (`polls`), the loops' are the simulator's count for the job. The targets are on the "
           "mean over every valid run of the case; rows per duration follow. The even case also checks that its "
           "delay: 1 loop made about one GET a second (so that a starved baseline cannot make a weak plan look "
           "good)."),
    "s5": ("1000 jobs and one long poll (`poll_timeout=60`) per job on its own HTTPS connection, from a separate "
           "aiohttp client process; the simulator's gauge must show all 1000 held before the first job ends. "
           "The answer delay is the time from the job's end to the arrival of the answer's headers. Each run "
           "uses the same simulator, with jobs of its own."),
}

HOW_TO_RUN = """## Running it

| what | command |
|---|---|
| everything (about 25 minutes), writes results.json, this page and the chart | `make bench` |
| some scenarios only, elsewhere | `scripts/bench.sh --only s1,s3 --out /tmp/r.json --doc /tmp/p.md --chart /tmp/p.png` |
| more runs per figure | `scripts/bench.sh --runs 9` |
| re-render this page and the chart from results.json | `.venv/bin/python tests/benchmarks/report.py` |
| the CI smoke of the harness (toy sizes, about 1.5 minutes, no figure asserted) | `.venv/bin/python -m pytest tests/benchmarks -q` |

Each run's playbook output and timing lines stay under `build/bench/work-full/runs/`."""


def _highlights(results: dict[str, t.Any]) -> list[str]:
    """A few sentences from the figures themselves (so they stay true when the figures change)."""
    out: list[str] = []

    def med(sid: str, case_prefix: str, contender_prefix: str, metric: str) -> float | None:
        for f in (results["scenarios"].get(sid) or {}).get("figures", []):
            if f["case"].startswith(case_prefix) and f["contender"].startswith(contender_prefix) and f["metric"] == metric:
                return f["median"]
        return None

    lp, d5, d1 = (med("s1", "60 s", "um_job_wait, long polling honoured", "lag_s"),
                  med("s1", "60 s", "uri until/retries, delay: 5", "lag_s"), med("s1", "60 s", "uri until/retries, delay: 1", "lag_s"))
    g_lp, g_d1 = med("s1", "60 s", "um_job_wait, long polling honoured", "gets"), med("s1", "60 s", "uri until/retries, delay: 1", "gets")
    if None not in (lp, d5, d1, g_lp, g_d1):
        out.append(f"- **One job, 60 s:** with long polling um_job_wait returns {lp * 1000:.0f} ms after the job ends, "
                   f"with {g_lp:.0f} GETs; the usual uri loop returns {d5:.1f} s (delay: 5) or {d1:.1f} s (delay: 1) "
                   f"after it, the latter with {g_d1:.0f} GETs.")
    one, loop, uri = (med("s2", "N=500", "one um_job_wait", "wall_s"), med("s2", "N=500", "loop of um_job_wait", "wall_s"),
                      med("s2", "N=500", "loop of uri", "wall_s"))
    longest = med("s2", "N=500", "longest job", "longest_s")
    if None not in (one, loop, uri, longest):
        out.append(f"- **500 jobs of 5-20 s:** one um_job_wait task with every key returns {one:.1f} s after "
                   f"submission (the longest job: {longest:.1f} s); a loop of one task per key needs about "
                   f"{loop:.0f} s (um_job_wait) or {uri:.0f} s (uri): the loop pays a module start per key.")
    info, uri3, raw = (med("s3", "", "um_job_info", "wall_s"), med("s3", "", "uri loop", "wall_s"),
                       med("s3", "", "reference", "wall_s"))
    if None not in (info, uri3, raw):
        out.append(f"- **Listing 10,000 jobs:** um_job_info takes {info:.1f} s, the uri loop {uri3:.1f} s, a plain "
                   f"Python loop {raw:.2f} s: the cost is Ansible handling a result of 10,000 jobs, not the API "
                   "(see scenario 3).")
    means = (results["scenarios"].get("s6") or {}).get("means") or {}
    m_lag, m_gets = means.get("mixed.wait_est.lag"), means.get("mixed.wait_est.gets")
    m_d1, m_d1g, m_d5g = means.get("mixed.uri_d1.lag"), means.get("mixed.uri_d1.gets"), means.get("mixed.uri_d5.gets")
    if None not in (m_lag, m_gets, m_d1, m_d1g, m_d5g):
        out.append(f"- **No long polling, a type whose jobs take 10 s or 60 s:** um_job_wait finds one job of each "
                   f"{m_lag:.2f} s after its end with {m_gets:.1f} GETs on the mean (history included); the delay: 1 "
                   f"loop {m_d1:.2f} s with {m_d1g:.1f} GETs, the delay: 5 loop {m_d5g:.1f} GETs.")
    ratio = med("s4", "", "um_job_info / uri", "ratio")
    if ratio is not None:
        out.append(f"- **Per task:** um_job_info costs {ratio:.2f}x a uri GET of the same URL.")
    return out


METHOD = """## Method

- **Harness.** `tests/benchmarks/bench.py` (entry point), `scenarios.py` (the comparisons), `harness.py`
  (simulators, runs, timing, memory), `report.py` (this page and the chart), playbooks under
  `tests/benchmarks/playbooks/`, the timing callback `tests/benchmarks/callback_plugins/bench_timing.py`,
  `vendor_poll.py` (the vendor-style loop) and `longpoll_load.py` (scenario 5's client). Results:
  `tests/benchmarks/results/results.json` (every run's values, the machine, the load before and after).
- **Clock.** The simulator stamps `complete_time` from the wall clock of this machine; the callback plugin
  stamps the controller's wall clock when each result arrives, so lag = return - end with no clock offset.
  ansible-playbook's own start-up never counts: every job is started first, and a run only counts if its
  waiting task began at least 0.5 s before the job ended.
- **Overlap.** Scenario 1 and the one-task runs of scenario 2 wait on I/O, so they run concurrently on one
  timeline where no run starts or ends within 2.5 s of another's start or end (a start costs ~1-2 s of CPU,
  an end is the measured moment; a waiting ansible-playbook uses 0-3 % of a core). Counters stay per run:
  GETs by job key, and each scenario 2 run has a simulator of its own. The per-key loops of scenario 2 are
  CPU-bound (one module run per key): they run one at a time, with nothing else.
- **Loops: one run gives every N.** A loop runs its items in order and item k never waits for a later key,
  so the first N items of one loop over 500 keys are a loop over N keys; the jobs are created with the same
  seed as the one-task contender's, so the first 10 (100) of them are the same 10 (100) jobs. Wall time for
  N is when the N-th item returned (a loop of N items returns a few ms later), requests are the GETs of the
  first N keys (counted by key).
- **The one reduction.** A loop over 500 keys takes minutes per run (0.3-0.5 s per key, times 500, times 5
  runs, times 2 loops). To keep `make bench` within ~30 minutes each loop is stopped after 140 items, when
  every job has long ended and the loop only pays its per-key cost; N=500 is then extrapolated from the
  seconds and requests per key measured after the longest job ended. Each run checks the estimator: from
  the first half of its steady items it predicts when its last item returned (shown under scenario 2).
  Extrapolated figures are marked (hatched in the chart).
- **Load.** Figures that end in a few hundred ms (lags, scenario 4) and the uri loops' GET counts depend on
  the machine being quiet: on a busy 2-core machine (other test suites running, load average 3-11) an
  earlier run measured long-poll lags of 0.25-0.42 s and a delay: 1 loop slowed to fewer GETs than the
  waiter. The load before and after the run is in the table at the top; commit figures from a quiet machine.
- **Memory.** Peak of the summed RSS of the playbook's process tree; pages shared by forked workers count
  once per process, the same for both contenders.
- **CI.** `python -m pytest tests/benchmarks -q` runs the harness end to end at toy sizes (`--profile
  smoke`, about 1.5 minutes) and checks only that results are well formed; no figure is asserted.
"""


def _extras(sid: str, sc: dict[str, t.Any]) -> list[str]:
    out: list[str] = []
    if sid == "s2" and sc.get("estimator_check"):
        out.append("Check of the extrapolation, run by run: the time of the loop's last measured item, predicted from "
                   "the first half of its items after the longest job ended, and as measured:")
        out.append("")
        out.append("| contender | items | measured (s from submit) | predicted (s) | error |")
        out.append("|---|---|---|---|---|")
        for c in sc["estimator_check"]:
            err = (c["estimated_s"] - c["actual_s"]) / c["actual_s"] * 100 if c["actual_s"] else 0.0
            out.append(f"| {c['contender']} | {c['items']} | {c['actual_s']} | {c['estimated_s']} | {err:+.1f} % |")
        out.append("")
    return out


# ---------------------------------------------------------------------------------------------
# The chart
# ---------------------------------------------------------------------------------------------

def _figs(results: dict[str, t.Any], sid: str) -> list[dict[str, t.Any]]:
    return (results["scenarios"].get(sid) or {}).get("figures") or []


def _pick(figs: list[dict], **kw: t.Any) -> list[dict]:
    return [f for f in figs if all(f.get(k) == v for k, v in kw.items())]


def _status(results: dict[str, t.Any], prefix: str) -> str:
    tg = [x for x in results.get("targets") or [] if x["id"].startswith(prefix)]
    if not tg:
        return ""
    return "target met" if all(x["met"] for x in tg) else "target MISSED"


def _bars(ax: t.Any, groups: list[str], series: dict[str, list[dict | None]], colors: dict[str, str],
          log: bool = False, hatch_estimated: bool = False) -> None:
    import numpy as np  # pylint: disable=import-outside-toplevel
    n = max(1, len(series))
    width = 0.8 / n
    x = np.arange(len(groups))
    for i, (label, figs) in enumerate(series.items()):
        meds = [f["median"] if f and f["median"] is not None else 0 for f in figs]
        lo = [max(0.0, m - (f["min"] if f and f["min"] is not None else m)) for m, f in zip(meds, figs)]
        hi = [max(0.0, (f["max"] if f and f["max"] is not None else m) - m) for m, f in zip(meds, figs)]
        bars = ax.bar(x + (i - (n - 1) / 2) * width, meds, width, yerr=[lo, hi], capsize=3, label=label,
                      color=colors.get(label), edgecolor="black", linewidth=0.5)
        for b, f in zip(bars, figs):
            if f and f["median"] is not None:
                txt = _short(f["median"], f["unit"])
                ax.annotate(txt, (b.get_x() + b.get_width() / 2, f["max"] if f["max"] is not None else b.get_height()),
                            ha="center", va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")
            if hatch_estimated and f and f.get("estimated"):
                b.set_hatch("//")
    ax.set_xticks(x)
    ax.set_xticklabels(groups)
    if log:
        from matplotlib.ticker import FuncFormatter, LogLocator  # pylint: disable=import-outside-toplevel
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _pos: ""))
    tops = [f["max"] for figs in series.values() for f in figs if f and f["max"] is not None]
    if tops:
        # Head-room for the legend and the value labels.
        ax.set_ylim(top=max(tops) * (6 if log else 1.3))
    ax.grid(axis="y", alpha=0.3)


def _short(v: float, unit: str) -> str:
    if unit in ("GETs", "requests"):
        return f"{v:.0f}"
    if unit == "ms":
        return f"{v:.0f}"
    if unit == "MiB":
        return f"{v:.0f}"
    return f"{v:.2f}" if v < 10 else f"{v:.0f}"


# Short names for the chart's axes (full names are in the tables).
SHORT = {
    "um_job_wait, long polling honoured": "um_job_wait\nlong poll",
    "um_job_wait, server ignores long polling": "um_job_wait\nno long poll",
    "uri until/retries, delay: 5": "uri loop\ndelay 5",
    "uri until/retries, delay: 1": "uri loop\ndelay 1",
    "Python requests loop, sleep 1 s": "Python loop\nsleep 1 s",
    "um_job_wait, long polling, progress_interval: 0 (diagnostic)": "diagnostic:\nlong poll,\nprogress 0",
    "one um_job_wait task with keys": "one um_job_wait task (keys)",
    "loop of um_job_wait, one per key": "loop of um_job_wait per key",
    "loop of uri until/retries (delay: 5), one per key": "loop of uri until (delay 5) per key",
    "um_job_info, every page": "um_job_info\nall pages",
    "uri loop over offsets (1000 a page) + set_fact": "uri loop over\noffsets + set_fact",
    "reference: Python requests over offsets (no Ansible)": "reference:\nPython requests",
}

PALETTE = ["#1b9e77", "#66c2a5", "#d95f02", "#fc8d62", "#7570b3", "#a6a6a6", "#e7298a"]


def write_chart(results: dict[str, t.Any], path: Path) -> None:
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    fig, axes = plt.subplots(3, 4, figsize=(22, 16.5))
    m = results["machine"]
    fig.suptitle(f"aiqum.jobs benchmarks; median of {results['runs_per_figure']} runs, bars/whiskers = min..max; "
                 f"{m['cpu_model']}, {m['cores']} cores, {m['ram_gib']} GiB, Python {m['python']}, "
                 f"ansible-core {m['ansible_core']}; profile {results['profile']}, {results['generated'][:10]}",
                 fontsize=12)
    s1 = _figs(results, "s1")
    cases1 = list(dict.fromkeys(f["case"] for f in s1))
    contenders1 = list(dict.fromkeys(f["contender"] for f in s1))
    colors1 = {c: ["#4c72b0", "#dd8452", "#55a868"][i % 3] for i, c in enumerate(cases1)}
    for ax, metric, title, prefix in ((axes[0][0], "lag_s", "1. Lag after the job ended (s, log)", "s1.longpoll.lag"),
                                      (axes[0][1], "gets", "1. GETs of the job (log)", "s1.longpoll.gets")):
        series = {k: [next(iter(_pick(s1, case=k, contender=c, metric=metric)), None) for c in contenders1]
                  for k in cases1}
        _bars(ax, [SHORT.get(c, _wrap(c, 14)) for c in contenders1], series, colors1, log=True)
        ax.set_title(f"{title}\nlong poll: {_status(results, prefix)}; no long poll: "
                     f"{_status(results, 's1.nolongpoll')}", fontsize=10)
        ax.legend(fontsize=8, loc="upper left")
        if metric == "lag_s":
            ax.axhline(0.1, color="red", linestyle="--", linewidth=1)
            ax.text(0.99, 0.1, "target 0.1 s (long poll) ", color="red", fontsize=8, ha="right", va="bottom",
                    transform=ax.get_yaxis_transform())

    s2 = _figs(results, "s2")
    cases2 = list(dict.fromkeys(f["case"] for f in s2))
    contenders2 = [c for c in dict.fromkeys(f["contender"] for f in s2) if c != "longest job"]
    colors2 = {c: PALETTE[(i * 2) % len(PALETTE)] for i, c in enumerate(contenders2)}
    ax = axes[0][2]
    series = {c: [next(iter(_pick(s2, case=k, contender=c, metric="wall_s")), None) for k in cases2] for c in contenders2}
    series["longest job"] = [next(iter(_pick(s2, case=k, contender="longest job")), None) for k in cases2]
    colors2["longest job"] = "#cccccc"
    _bars(ax, cases2, series, colors2, log=True, hatch_estimated=True)
    ax.set_title(f"2. Wall time from submit (s, log; hatched = extrapolated)\nwithin 1 s of longest job: "
                 f"{_status(results, 's2.excess')}", fontsize=10)
    ax.legend([SHORT.get(c, c) for c in series], fontsize=8, loc="upper left")
    ax = axes[0][3]
    per_job = {}
    for c in contenders2:
        row = []
        for k in cases2:
            f = next(iter(_pick(s2, case=k, contender=c, metric="requests")), None)
            n = int(k.split("=")[1])
            row.append(None if not f or f["median"] is None else dict(f, median=f["median"] / n,
                                                                      min=f["min"] / n, max=f["max"] / n, unit="x"))
        per_job[c] = row
    _bars(ax, cases2, per_job, colors2, hatch_estimated=True)
    ax.set_title(f"2. Requests per job\nno faster growth than N: {_status(results, 's2.requests')}", fontsize=10)

    s3 = _figs(results, "s3")
    contenders3 = list(dict.fromkeys(f["contender"] for f in s3))
    colors3 = {c: PALETTE[(i * 2 + 1) % len(PALETTE)] for i, c in enumerate(contenders3)}
    ax = axes[1][0]
    for i, c in enumerate(contenders3):
        f = next(iter(_pick(s3, contender=c, metric="wall_s")), None)
        _bars_single(ax, i, f, colors3[c])
    ax.set_xticks(range(len(contenders3)))
    ax.set_xticklabels([SHORT.get(c, _wrap(c)) for c in contenders3], fontsize=8)
    ax.set_title(f"3. Listing {s3[0]['case'] if s3 else ''}: wall time (s)\n>= 3x faster: "
                 f"{_status(results, 's3.speed')}", fontsize=10)
    ax = axes[1][1]
    mem3 = [c for c in contenders3 if _pick(s3, contender=c, metric="peak_rss_mib")]
    for i, c in enumerate(mem3):
        _bars_single(ax, i, next(iter(_pick(s3, contender=c, metric="peak_rss_mib"))), colors3[c])
    ax.set_xticks(range(len(mem3)))
    ax.set_xticklabels([SHORT.get(c, _wrap(c)) for c in mem3], fontsize=8)
    ax.set_title(f"3. Listing: peak RSS of the playbook's processes (MiB)\nlower memory: "
                 f"{_status(results, 's3.memory')}", fontsize=10)

    s4 = _figs(results, "s4")
    ax = axes[1][2]
    bars4 = [f for f in s4 if f["metric"] == "task_s"]
    for i, f in enumerate(bars4):
        _bars_single(ax, i, f, PALETTE[i * 2])
    ax.set_xticks(range(len(bars4)))
    ax.set_xticklabels([_wrap(f["contender"]) for f in bars4], fontsize=8)
    ratio = next(iter(_pick(s4, metric="ratio")), None)
    rtxt = "n/a" if not ratio or ratio["median"] is None else f"{ratio['median']:.2f}"
    ax.set_title(f"4. Time per task (s)\nratio {rtxt} (target <= 1.1): {_status(results, 's4.ratio')}", fontsize=10)

    s5 = _figs(results, "s5")
    ax = axes[1][3]
    cases5 = list(dict.fromkeys(f["case"] for f in s5))
    series5 = {metric: [next(iter(_pick(s5, case=k, metric=metric)), None) for k in cases5]
               for metric in ("p50_ms", "p99_ms", "max_ms")}
    _bars(ax, [_wrap(k.split(", ", 1)[-1], 22) for k in cases5], series5,
          {"p50_ms": "#66c2a5", "p99_ms": "#fc8d62", "max_ms": "#a6a6a6"})
    ax.axhline(100, color="red", linestyle="--", linewidth=1)
    ax.legend(["p99 target 100 ms", "p50", "p99", "max"], fontsize=8, loc="upper right")
    ax.set_title(f"5. Simulator: answers to {results['config']['s5']['polls']} held long polls (ms after the job end)\n"
                 f"p99 < 100 ms: {_status(results, 's5.p99')}", fontsize=10)
    _s6_panels(results, axes[2])
    for row in axes:
        for a in row:
            a.tick_params(labelsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


S6_SHORT = {
    "um_job_wait, server ignores long polling, the job's type has run before": "um_job_wait (no long poll, history)",
    "uri until/retries, delay: 1": "uri loop delay 1",
    "uri until/retries, delay: 5": "uri loop delay 5",
}


def _s6_panels(results: dict[str, t.Any], row: t.Any) -> None:
    """Scenario 6 without long polling: the mixed history (10 s and 60 s jobs of one type) and the even one (8-12 s),
    lag and GETs of um_job_wait beside the uri loops, per job length and on the mean (where the targets are)."""
    sc = results["scenarios"].get("s6") or {}
    figs = sc.get("figures") or []
    means = sc.get("means") or {}
    contenders = list(S6_SHORT)
    colors = dict(zip(contenders, ("#1b9e77", "#d95f02", "#7570b3")))
    keys = {contenders[0]: "wait_est", contenders[1]: "uri_d1", contenders[2]: "uri_d5"}
    for (case_id, title), (ax_lag, ax_gets) in zip((("mixed", "6. History mixing 10 s and 60 s jobs"),
                                                    ("even", "6. History spread evenly over 8-12 s")),
                                                   ((row[0], row[1]), (row[2], row[3]))):
        tail = f" ({case_id} history)"
        groups = list(dict.fromkeys(f["case"] for f in figs if f["case"].endswith(tail)))
        labels = [g.replace(tail, "") for g in groups] + ["mean (target)"]
        for ax, metric, what in ((ax_lag, "lag_s", "lag after the job ended (s)"), (ax_gets, "gets", "GETs")):
            series: dict[str, list[dict | None]] = {}
            for c in contenders:
                rowf: list[dict | None] = [next(iter(_pick(figs, case=g, contender=c, metric=metric)), None)
                                           for g in groups]
                mean = means.get(f"{case_id}.{keys[c]}.{'lag' if metric == 'lag_s' else 'gets'}")
                rowf.append(None if mean is None else {"median": mean, "min": mean, "max": mean,
                                                       "unit": "s" if metric == "lag_s" else "GETs"})
                series[S6_SHORT[c]] = rowf
            _bars(ax, labels, series, {S6_SHORT[c]: colors[c] for c in contenders})
            prefix = f"s6.{case_id}.{'lag' if metric == 'lag_s' else 'gets'}"
            ax.set_title(f"{title}: {what}\n(no long polling; bars = median per job, mean over all) "
                         f"{_status(results, prefix)}", fontsize=10)
            ax.legend(fontsize=8, loc="upper left")


def _bars_single(ax: t.Any, i: int, f: dict | None, color: str) -> None:
    if not f or f["median"] is None:
        return
    lo = f["median"] - f["min"]
    hi = f["max"] - f["median"]
    b = ax.bar([i], [f["median"]], 0.6, yerr=[[lo], [hi]], capsize=4, color=color, edgecolor="black", linewidth=0.5)
    ax.annotate(_short(f["median"], f["unit"]), (b[0].get_x() + b[0].get_width() / 2, f["median"]), ha="center",
                va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
    ax.grid(axis="y", alpha=0.3)


def _wrap(text: str, width: int = 18) -> str:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if len(cur) + len(w) + 1 > width and cur:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    lines.append(cur)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="?", default=str(HERE / "results" / "results.json"))
    p.add_argument("--doc", default=str(ROOT / "docs" / "performance.md"))
    p.add_argument("--chart", default=str(ROOT / "docs" / "performance.png"))
    args = p.parse_args(argv)
    results = json.loads(Path(args.results).read_text())
    write_markdown(results, Path(args.doc), chart=Path(args.chart) if args.chart else None)
    if args.chart:
        write_chart(results, Path(args.chart))
    return 0


if __name__ == "__main__":
    sys.exit(main())
