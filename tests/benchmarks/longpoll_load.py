# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario 5 client: hold many long polls on the simulator and time the answers when the jobs end.

    python longpoll_load.py --url URL [--ca CA] --polls 1000 --duration 10 [--spread 0]

Creates `polls` jobs through the control channel (all submitted at once, each lasting `duration` s, or
`duration`..`duration+spread` s), opens one connection and one `GET .../jobs/{key}?poll_timeout=60` per job,
checks on the simulator's gauge that every request is held before the first job ends, then records for each
answer the delay between the job's end (its complete_time, on the simulator's clock, which is this machine's
clock) and the moment the answer's headers arrived. Prints one JSON object with the figures.

The client runs in its own process so that its CPU use is not the harness's. Answers are timestamped on
arrival of their headers, before any body is read or parsed, so client-side work is kept out of the figure as
far as one event loop allows.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import resource
import ssl
import sys
import time

import aiohttp


def _pct(values: list[float], pct: float) -> float | None:
    vals = sorted(values)
    if not vals:
        return None
    return vals[min(len(vals), max(1, math.ceil(pct / 100.0 * len(vals)))) - 1]


async def run(args: argparse.Namespace) -> dict:
    ctx: ssl.SSLContext | bool = ssl.create_default_context(cafile=args.ca) if args.ca else False
    conn = aiohttp.TCPConnector(limit=0, ssl=ctx, force_close=True)
    auth = {"Authorization": aiohttp.encode_basic_auth(args.user, args.password)}
    timeout = aiohttp.ClientTimeout(total=args.duration + args.spread + 90)
    out: dict = {"polls": args.polls, "duration": args.duration, "spread": args.spread}
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as session:
        body: dict = {"count": args.polls, "job": {"duration": args.duration, "status": "normal"}}
        if args.spread:
            body["spread"] = [args.duration, args.duration + args.spread]
            body["seed"] = args.seed
        async with session.post(f"{args.url}/_umsim/jobs", json=body) as resp:
            keys = (await resp.json())["keys"]
        created = time.time()

        async def one(key: str) -> tuple[float | None, bytes | None, str | None]:
            try:
                async with session.get(f"{args.url}/api/management-server/jobs/{key}", params={"poll_timeout": "60"},
                                       headers=auth) as resp:
                    arrived = time.time()
                    data = await resp.read()
                    if resp.status != 200:
                        return None, None, f"HTTP {resp.status}"
                    return arrived, data, None
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                return None, None, type(exc).__name__

        tasks = [asyncio.create_task(one(k)) for k in keys]
        peak = 0
        all_held_after = None
        first_end = created + args.duration
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10),
                                         connector=aiohttp.TCPConnector(ssl=ctx)) as ctl:
            while time.time() < first_end - 0.3:
                async with ctl.get(f"{args.url}/_umsim/counters") as resp:
                    held = (await resp.json())["long_polls_open"]
                peak = max(peak, held)
                if held >= args.polls:
                    all_held_after = time.time() - created
                    break
                await asyncio.sleep(0.05)
        results = await asyncio.gather(*tasks)
    lat: list[float] = []
    errors: dict[str, int] = {}
    not_done = 0
    for arrived, data, err in results:
        if err is not None:
            errors[err] = errors.get(err, 0) + 1
            continue
        job = json.loads(data)
        if job.get("state") != "completed" or not job.get("complete_time"):
            not_done += 1
            continue
        end = dt.datetime.fromisoformat(job["complete_time"]).timestamp()
        lat.append((arrived - end) * 1000.0)
    out.update({
        "held_peak": peak,
        "all_held": peak >= args.polls,
        "all_held_after_s": None if all_held_after is None else round(all_held_after, 3),
        "answered": len(lat),
        "not_completed": not_done,
        "errors": errors,
        "latency_ms": {"p50": _pct(lat, 50), "p90": _pct(lat, 90), "p99": _pct(lat, 99),
                       "max": max(lat) if lat else None, "min": min(lat) if lat else None},
    })
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--url", required=True)
    p.add_argument("--ca")
    p.add_argument("--user", default="operator")
    p.add_argument("--password", default="Operator-pass-1")
    p.add_argument("--polls", type=int, default=1000)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--spread", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, args.polls * 2 + 256))
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    print(json.dumps(asyncio.run(run(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
