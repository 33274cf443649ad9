"""Persistence for umsim: SQLite file ``STATE/umsim.sqlite`` with an in-memory index on top.

Jobs and resource changes are immutable once written, so the whole data set is loaded at start and
kept in memory; SQLite is only the durable copy that lets a restarted simulator (same state dir) carry
on where it stopped.  Reads never touch the database, which keeps list pages over 10,000 jobs fast.
"""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from pathlib import Path
from typing import Iterable

from umsim_model import Job, ResourceOp

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS resource_ops (
    seq INTEGER PRIMARY KEY, collection TEXT NOT NULL, key TEXT NOT NULL, op TEXT NOT NULL,
    body TEXT NOT NULL, effective REAL, job_key TEXT);
"""


class Store:
    """Jobs (by key and in creation order) and per-collection resource changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(str(path))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.jobs: dict[str, Job] = {}
        self.ordered: list[Job] = []          # creation order (seq ascending)
        self.ops: dict[str, list[ResourceOp]] = {}
        self._next_seq = 1
        self._next_op_seq = 1
        #: True when this state dir is new: the simulator then writes its seed (see umsim_seed).
        self.fresh = self.db.execute("SELECT 1 FROM meta WHERE k = 'host_id'").fetchone() is None
        self.host_id = int(self._meta("host_id", lambda: str(random.SystemRandom().randrange(2**60, 2**64))))
        self.cluster_uuid = self._meta("cluster_uuid", lambda: str(uuid.uuid4()))
        self._load()

    def _meta(self, name: str, make) -> str:
        row = self.db.execute("SELECT v FROM meta WHERE k = ?", (name,)).fetchone()
        if row:
            return row[0]
        value = make()
        self.db.execute("INSERT INTO meta (k, v) VALUES (?, ?)", (name, value))
        self.db.commit()
        return value

    def _load(self) -> None:
        for seq, data in self.db.execute("SELECT seq, data FROM jobs ORDER BY seq"):
            job = Job.from_record(seq, json.loads(data))
            self.jobs[job.key] = job
            self.ordered.append(job)
            self._next_seq = seq + 1
        for seq, coll, key, op, body, eff, job_key in self.db.execute(
                "SELECT seq, collection, key, op, body, effective, job_key FROM resource_ops ORDER BY seq"):
            self.ops.setdefault(coll, []).append(ResourceOp(coll, key, op, json.loads(body), eff, job_key, seq))
            self._next_op_seq = seq + 1

    # -- queries -----------------------------------------------------------------------------------
    def get(self, key: str) -> Job | None:
        return self.jobs.get(key)

    def has(self, key: str) -> bool:
        return key in self.jobs

    def ops_for(self, collection: str) -> list[ResourceOp]:
        return self.ops.get(collection, [])

    # -- writes ------------------------------------------------------------------------------------
    def add(self, jobs: Iterable[Job] = (), ops: Iterable[ResourceOp] = ()) -> None:
        """Insert jobs and resource changes in one transaction and commit (durable before we answer)."""
        new_jobs, new_ops = list(jobs), list(ops)
        seq, op_seq = self._next_seq, self._next_op_seq
        job_rows = []
        for job in new_jobs:
            job.seq = seq
            seq += 1
            job_rows.append((job.seq, job.key, json.dumps(job.to_record(), separators=(",", ":"))))
        op_rows = []
        for op in new_ops:
            op.seq = op_seq
            op_seq += 1
            op_rows.append((op.seq, op.collection, op.key, op.op, json.dumps(op.body), op.effective, op.job_key))
        with self.db:
            if job_rows:
                self.db.executemany("INSERT INTO jobs (seq, key, data) VALUES (?, ?, ?)", job_rows)
            if op_rows:
                self.db.executemany("INSERT INTO resource_ops (seq, collection, key, op, body, effective, job_key)"
                                    " VALUES (?, ?, ?, ?, ?, ?, ?)", op_rows)
        # Index only after the commit succeeded, so memory never shows what the disk does not have.
        self._next_seq, self._next_op_seq = seq, op_seq
        for job in new_jobs:
            self.jobs[job.key] = job
            self.ordered.append(job)
        for op in new_ops:
            self.ops.setdefault(op.collection, []).append(op)

    def close(self) -> None:
        self.db.commit()
        self.db.close()
