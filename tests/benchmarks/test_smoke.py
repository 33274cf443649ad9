# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CI smoke of the benchmark harness: it runs end to end at toy sizes and writes well-formed results.

    python -m pytest tests/benchmarks -q

No figure and no target is asserted here: on a shared CI machine they mean nothing. The figures come from
`make bench`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

# pylint: disable=wrong-import-position
from harness import percentile, stagger, summary  # noqa: E402

FIGURE_KEYS = {"scenario", "case", "contender", "metric", "unit", "runs", "median", "min", "max", "n", "target", "met"}
TARGET_KEYS = {"id", "scenario", "case", "text", "met", "detail"}


def test_summary_and_percentile() -> None:
    assert summary([3.0, None, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}
    assert summary([None]) == {"median": None, "min": None, "max": None, "n": 0}
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 99) == 99.0 and percentile(values, 50) == 50.0 and percentile(values, 100) == 100.0


def test_stagger_keeps_starts_and_ends_apart() -> None:
    lengths = [60, 10, 60, 10, 20, 20, 60]
    offsets = stagger(lengths, 2.5)
    assert offsets == sorted(offsets) and offsets[0] == 0
    events = [x for off, d in zip(offsets, lengths) for x in (off, off + d)]
    for i, a in enumerate(events):
        for b in events[i + 1:]:
            assert abs(a - b) >= 2.5 - 1e-9


def test_harness_end_to_end(tmp_path: Path) -> None:
    out, doc, chart = tmp_path / "results.json", tmp_path / "performance.md", tmp_path / "performance.png"
    cmd = [sys.executable, str(HERE / "bench.py"), "--profile", "smoke", "--out", str(out), "--doc", str(doc),
           "--chart", str(chart), "--work", str(tmp_path / "work")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=dict(os.environ), check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]

    results = json.loads(out.read_text())
    assert results["schema"] == 1 and results["profile"] == "smoke"
    runs = results["runs_per_figure"]
    assert runs == 2
    for key in ("hostname", "cpu_model", "cores", "ram_gib", "python", "ansible_core"):
        assert results["machine"][key], key
    assert set(results["scenarios"]) == {"s1", "s2", "s3", "s4", "s5", "s6"}
    contenders = {sid: {f["contender"] for f in sc["figures"]} for sid, sc in results["scenarios"].items()}
    assert len(contenders["s1"]) == 5 and len(contenders["s2"]) == 4 and len(contenders["s3"]) == 3
    for sid, sc in results["scenarios"].items():
        assert sc["figures"], sid
        for f in sc["figures"]:
            assert FIGURE_KEYS <= set(f), f
            # Scenario 6 pools the job lengths of a case in one figure (the mixed case has two lengths per run).
            assert len(f["runs"]) <= runs * (2 if sid == "s6" else 1), f
            if f["n"]:
                assert f["min"] <= f["median"] <= f["max"], f
            assert f["met"] in (True, False, None)
        for tg in sc["targets"]:
            assert TARGET_KEYS <= set(tg) and isinstance(tg["met"], bool), tg
    # Every contender actually ran. Scenario 1 runs may be set aside as invalid on a loaded machine (the
    # playbook started too slowly for a short job), so its check is on the runs themselves.
    s1_runs = results["scenarios"]["s1"]["runs"]
    assert {r["contender"] for r in s1_runs} == {"wait_lp", "wait_ignore", "uri_d5", "uri_d1", "vendor"}
    assert all(r["rc"] == 0 and r["lag"] is not None and r["gets"] >= 1 for r in s1_runs), s1_runs
    # Scenario 6 (issues 11 and 22): every contender ran its cases, and the waiter's count includes the history
    # request.
    s6_runs = results["scenarios"]["s6"]["runs"]
    assert {(r["case"], r["contender"]) for r in s6_runs} == {
        ("short", c) for c in ("wait_est", "wait_plain", "uri_d1", "uri_d5")} | {
        (case, c) for case in ("even", "mixed") for c in ("wait_est", "uri_d1", "uri_d5")} | {
        ("long", c) for c in ("wait_est", "wait_plain", "uri_d10")}
    assert all(r["rc"] == 0 and r["gets"] >= 1 for r in s6_runs), s6_runs
    assert {r["duration"] for r in s6_runs if r["case"] == "mixed"} == {3, 8}
    assert {tg["id"] for tg in results["scenarios"]["s6"]["targets"]} <= {
        f"s6.{case}.{what}" for case in ("short", "even", "mixed") for what in ("lag", "gets")} | {
        "s6.even.count", "s6.long.lag", "s6.long.gets"}
    for sid in ("s2", "s3", "s4"):
        for f in results["scenarios"][sid]["figures"]:
            if f["metric"] in ("lag_s", "wall_s", "task_s"):
                assert f["n"] >= 1, f"{sid} {f['case']} {f['contender']} {f['metric']} has no value"
    assert results["targets"] and all(tg["id"] for tg in results["targets"])
    assert results["simulator_load"] and all(ld["wall_s"] > 0 for ld in results["simulator_load"])
    # The loops were stopped early at the larger size and extrapolated.
    s2 = results["scenarios"]["s2"]
    assert any(f.get("estimated") for f in s2["figures"]), "no extrapolated loop figure"

    text = doc.read_text()
    assert "| case | contender | metric | median | min | max | target | met? |" in text
    assert "## Machine and run" in text and results["machine"]["cpu_model"] in text
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000


def test_provision_benchmark_end_to_end(tmp_path: Path) -> None:
    """Issue 19's benchmark at a toy size: every contender runs twice against its own simulator; the second run of
    each changes nothing and costs lookups only (one list request per item, no write)."""
    items = 3
    out = tmp_path / "provision.json"
    cmd = [sys.executable, str(HERE / "provision_bench.py"), "--items", str(items), "--job", "0.05", "--out", str(out),
           "--work", str(tmp_path / "work")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=dict(os.environ), check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = json.loads(out.read_text())["results"]
    assert [r["contender"] for r in results] == ["module", "by_hand", "module_nowait", "by_hand_nowait"]
    for r in results:
        first, again = r["first"], r["again"]
        assert first["rc"] == 0 and again["rc"] == 0, r
        assert first["writes"] == items, r  # one POST per file share, whoever sends it
        assert again["writes"] == 0, r
        if r["contender"].startswith("module"):
            assert again["requests"] == items, r  # one list request per unchanged share
        assert first["seconds"] is not None and first["requests_per_item"] > 0, r
    assert "| contender | items |" in proc.stdout
