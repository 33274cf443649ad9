# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the figures of a reliability run (build/reliability/results.json) into the table of docs/reliability.md.

    python tests/reliability/render_report.py [results.json]

Only the part between the `figures:start` and `figures:end` markers of docs/reliability.md is replaced.
A run with AIQUM_RELIABILITY_UPDATE_DOC=1 does this itself at its end.
"""

from __future__ import annotations

import json
import re
import sys
import typing as t
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = ROOT / "docs" / "reliability.md"
START = "<!-- figures:start (written by tests/reliability/render_report.py) -->"
END = "<!-- figures:end -->"
SECTIONS = ["wait under faults (client + waiter)", "wait under faults (um_job_wait task)", "nothing started twice",
            "bad input", "hostile server", "secrets", "load"]


# A file of the machine that ran the suite (a temporary CA file...) is shown as <tmp>/<file name>, so that the
# shipped page names no development machine. API paths (/management-server/...) are left alone.
_LOCAL_PATH = re.compile(r"(?<![\w.:/])/(?:work|home|root|tmp|var|private|Users)/(?:[\w.+@-]+/)*([\w.+@-]+)")


def portable(text: str) -> str:
    return _LOCAL_PATH.sub(r"<tmp>/\1", text)


def table(data: dict[str, t.Any]) -> str:
    lines = [
        f"Run of {data.get('generated', '?')}: seed {data.get('seed')}, whole suite {data.get('suite_seconds')} s.",
        "",
        "| section | fault or case | trials | right outcomes | wrong outcomes | time bound | within bound | notes |",
        "|---|---|---:|---:|---:|---|---:|---|",
    ]
    rows = sorted(data.get("rows", []), key=lambda r: (SECTIONS.index(r["section"]) if r["section"] in SECTIONS
                                                       else len(SECTIONS), r["section"]))
    for row in rows:
        notes = portable(str(row["notes"])).replace("|", "/")
        lines.append(f"| {row['section']} | {row['case']} | {row['trials']} | {row['right']} | {row['wrong']} | "
                     f"{row['time_bound']} | {row['within_bound']}/{row['trials']} | {notes} |")
    scan = data.get("secret_scan") or {}
    if scan:
        sources = ", ".join(f"{k}: {v}" for k, v in sorted((scan.get("sources") or {}).items()))
        lines += ["", f"Secret scan: {scan.get('items')} outputs ({scan.get('chars')} characters; {sources}) "
                      f"searched for each password, its HTTP Basic form and 'Authorization': "
                      f"{len(scan.get('findings') or [])} found."]
    cases = (data.get("extra") or {}).get("bad_input_cases") or []
    if cases:
        lines += ["", "Bad-input cases and what the task said (one Ansible task each):", "",
                  "| case | module | expected | message (first 160 characters) |", "|---|---|---|---|"]
        for c in cases:
            msg = portable(" ".join(str(c.get("msg") or "(task succeeded)").split()))[:160].replace("|", "\\|")
            lines.append(f"| {c['case']} | {c['module']} | {c['expect'].replace('|', '/')} | {msg} |")
    hostile = (data.get("extra") or {}).get("hostile_cases") or []
    if hostile:
        lines += ["", "Hostile-server cases and what the task reported (one Ansible task each):", "",
                  "| case | module | expected | sent | changed | right | message (first 160 characters) |",
                  "|---|---|---|---|---|---|---|"]
        for c in hostile:
            msg = " ".join(str(c.get("msg") or "(task succeeded)").split())[:160].replace("|", "\\|")
            lines.append(f"| {c['case']} | {c['module']} | {c['expect'].replace('|', '/')} | {c.get('sent')} | "
                         f"{c.get('changed')} | {'yes' if c.get('right') else 'NO'} | {msg} |")
    return "\n".join(lines) + "\n"


def update_doc(data: dict[str, t.Any], doc: Path = DOC) -> None:
    text = doc.read_text() if doc.exists() else f"# Reliability\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    doc.write_text(f"{head}{START}\n{table(data)}{END}{tail}")


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else ROOT / "build" / "reliability" / "results.json"
    update_doc(json.loads(path.read_text()))
    print(f"updated {DOC} from {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
