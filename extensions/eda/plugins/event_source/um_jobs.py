# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aiqum.jobs.um_jobs: an ansible-rulebook event source with one event per Unified Manager job that ends.

The watermark (what is new, what was seen) lives in plugins/plugin_utils/_job_watch.py and the job table
in plugins/module_utils/_table.py; this file only reads options, lists jobs (in a thread: the client is
synchronous) and puts events on the queue.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
import typing as t
from pathlib import Path

from ansible.module_utils.parsing.convert_bool import boolean

DOCUMENTATION = r"""
---
short_description: Receive an event for each Unified Manager job that ends.
description:
  - An ansible-rulebook event source plugin that watches the job list of NetApp Active IQ Unified Manager
    and puts one event on the queue for each job that ends (and, with O(include_started), for each job that
    starts), whoever started it: a playbook, UM's own schedules, another tool or a person in the UI.
  - Each look is one request for the jobs that ended, newest first and filtered by Unified Manager itself
    (a second one when O(include_started) is on); further pages are read only when more jobs ended since the
    last look than fit on one page.
  - No event is lost or repeated across pages, jobs that end in the same second, failed requests (the source
    retries with a growing delay and logs why) and, with O(state_file), a restart of the rulebook.
  - A first start (no O(state_file), or one that does not exist yet) reports only jobs that end from then on,
    unless O(replay_window) asks for the recent past too.
  - The outcome of each job is read by the same table as M(aiqum.jobs.um_job_wait).
options:
  hostname:
    description:
      - Host name or IP address of the Unified Manager server, without a scheme, path or port.
      - If not set, the value of the E(UM_HOSTNAME) environment variable is used.
    type: str
    required: true
  username:
    description:
      - User for HTTP Basic authentication. An Operator (read only) is enough.
      - If not set, the value of the E(UM_USERNAME) environment variable is used.
    type: str
    required: true
  password:
    description:
      - Password of O(username). It is never logged.
      - If not set, the value of the E(UM_PASSWORD) environment variable is used.
    type: str
    required: true
  http_port:
    description:
      - TCP port of the Unified Manager REST API. Defaults to 443.
      - If not set, the value of the E(UM_HTTP_PORT) environment variable is used.
    type: int
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate. Keep this on; give a private CA in O(ca_path).
      - If not set, the value of the E(UM_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate(s) that signed the server's certificate.
      - If not set, the value of the E(UM_CA_PATH) environment variable is used.
    type: path
  request_timeout:
    description:
      - Seconds to wait for the connection and for each answer of a single request.
      - If not set, the value of the E(UM_REQUEST_TIMEOUT) environment variable is used.
    type: float
    default: 30
  interval:
    description:
      - Seconds between two looks at the job list.
    type: float
    default: 15
  type:
    description:
      - Only jobs of these types, for example V(provision_lun_create). Matched by Unified Manager.
      - A value may use V(*) as a wildcard; several values are alternatives.
    type: list
    elements: str
  name:
    description:
      - Only jobs with these names, for example V(Create LUN). Wildcards and alternatives as for O(type).
    type: list
    elements: str
  status:
    description:
      - Only jobs that end with these values of the job's C(status) field (V(normal), V(warning),
        V(partial_failures), V(error)). Applies to end events only.
      - Leave it unset to receive every outcome and choose in the rule's condition instead; an aborted job's
        C(status) is not V(aborted).
    type: list
    elements: str
  parent_job_key:
    description:
      - Only child jobs of these parent jobs. Wildcards and alternatives as for O(type).
    type: list
    elements: str
  include_started:
    description:
      - Also put an event on the queue for each job that starts (its C(submit_time) is new).
      - This costs a second request per look.
    type: bool
    default: false
  state_file:
    description:
      - JSON file that keeps the watermark between runs, written atomically after each look that found
        something. With it, a restart of the rulebook reports the jobs that ended while it was stopped and
        repeats none.
      - Without it, each start reports only what ends from then on.
    type: path
  replay_window:
    description:
      - On a first start (no O(state_file) yet), also report jobs that ended this many seconds before the start.
      - V(0) reports only what ends from the start on.
    type: float
    default: 0
  lookback:
    description:
      - Seconds before the newest job seen that each look reads again, so that jobs which appear in the list a
        little after their C(complete_time), or end in the same second, are not missed. Jobs read again are
        never reported twice.
    type: float
    default: 60
  page_size:
    description:
      - Records per request (Unified Manager accepts up to 1000).
    type: int
    default: 200
  max_retry_delay:
    description:
      - After failed looks the delay doubles from O(interval) up to this many seconds.
    type: float
    default: 120
  fail_on_partial_failures:
    description:
      - Whether a job that ends with V(partial_failures) counts as failed (C(failed) and C(action) in the event).
    type: bool
    default: false
  warn_on_warning:
    description:
      - Whether a job that ends with V(warning) gets C(action=warn) (otherwise C(ok)).
    type: bool
    default: true
notes:
  - "Each event holds one key, C(um_job), with: C(event) (V(ended) or V(started)), C(key), C(name), C(type),
    C(state), C(status), C(outcome) (V(normal), V(warning), V(partial_failures), V(error), V(aborted) or
    V(unknown)), C(action) (V(ok), V(warn) or V(fail), as M(aiqum.jobs.um_job_wait) would do), C(failed),
    C(submit_time), C(complete_time), C(parent_job_key), C(outputs) (the job's C(job_results) as a dict),
    C(failure_reasons) (one line per failed task), C(message) and C(job) (the record as listed)."
  - Events come in the order the jobs ended; start events of a look come before its end events.
  - The state file is written after the events of a look are on the queue. If the rulebook is killed
    between the two, the jobs of that look are reported again on the next start (never lost).
requirements:
  - "requests >= 2.30 and urllib3 >= 2 (Python libraries) where ansible-rulebook runs"
"""

EXAMPLES = r"""
- name: React to Unified Manager jobs that fail
  hosts: localhost
  sources:
    - name: Jobs that end on Unified Manager
      aiqum.jobs.um_jobs:
        hostname: um.example.com
        username: eda_operator
        password: "{{ um_password }}"
        ca_path: /etc/pki/um-ca.pem
        interval: 30
        type: [provision_lun_create, "provision_file_share_*"]
        state_file: /var/lib/eda/um_jobs.json
  rules:
    - name: A job failed
      condition: event.um_job.event == "ended" and event.um_job.failed == true
      action:
        run_playbook:
          name: aiqum.jobs.on_job_failure
"""

if t.TYPE_CHECKING:
    from ansible_collections.aiqum.jobs.plugins.module_utils._client import UMClient


def _collection_imports() -> dict[str, t.Any]:
    """The collection's client, job table and watermark.

    ansible-rulebook runs this file by path, so `ansible_collections` is importable only when its parent
    folder is on sys.path: add the one this file lives under if the first import fails.
    """
    try:
        from ansible_collections.aiqum.jobs.plugins.module_utils import _errors, _options, _report, _retry, _table
        from ansible_collections.aiqum.jobs.plugins.plugin_utils import _job_watch
    except ImportError:
        here = Path(globals().get("__file__") or ".").resolve()
        if len(here.parents) < 8 or here.parents[6].name != "ansible_collections":
            raise
        sys.path.append(str(here.parents[7]))
        from ansible_collections.aiqum.jobs.plugins.module_utils import _errors, _options, _report, _retry, _table
        from ansible_collections.aiqum.jobs.plugins.plugin_utils import _job_watch
    return {"options": _options, "errors": _errors, "table": _table, "report": _report, "retry": _retry,
            "watch": _job_watch}


LOG = logging.getLogger("aiqum.jobs.um_jobs")
SOURCE = "aiqum.jobs.um_jobs"
FILTERS = ("type", "name", "status", "parent_job_key")


class OptionError(ValueError):
    """An option of the source is unusable; the message names it and says what to give."""


def _bool(name: str, value: t.Any) -> bool:
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise OptionError(f"{name} must be true or false; got {str(value)[:40]!r}") from None


def _number(name: str, value: t.Any, kind: type, low: float, high: float) -> t.Any:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = kind(value)
    except (TypeError, ValueError):
        raise OptionError(f"{name} must be a number from {low:g} to {high:g}; got {str(value)[:40]!r}") from None
    if not low <= number <= high:
        raise OptionError(f"{name} must be a number from {low:g} to {high:g}; got {number}")
    return number


def _filter(name: str, value: t.Any) -> str | None:
    if value is None or value == "" or value == []:
        return None  # also what a rulebook variable that defaults to '' gives
    items = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for item in items:
        text = str(item).strip() if isinstance(item, (str, int, float)) and not isinstance(item, bool) else None
        if not text or any(c in text for c in "&#\r\n"):
            raise OptionError(f"{name} must be a string or a list of strings such as 'provision_lun_create' "
                              f"(with * as a wildcard); got {str(item)[:40]!r}")
        out.append(text)
    return "|".join(out) if out else None


def read_options(args: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """Check the source's arguments and return them typed; the connection options (with their UM_* variables) are
    read by the collection's one option reader, as for the modules and the lookup."""
    reader = _collection_imports()["options"]
    connection_names = set(reader.NAMES) | {a for o in reader.OPTIONS for a in o.aliases}
    known = {"interval", "include_started", "state_file", "replay_window", "lookback", "page_size",
             "max_retry_delay", "fail_on_partial_failures", "warn_on_warning", *FILTERS}
    # ansible-rulebook adds its own keys (eda_feedback_queue, ...); ignore those, refuse our typos.
    unknown = sorted(k for k in args if k not in known | connection_names and not str(k).startswith("eda_"))
    if unknown:
        raise OptionError(f"unknown option(s) {', '.join(map(str, unknown))} for {SOURCE}: the options are "
                          f"{', '.join(sorted(known | set(reader.NAMES)))}")
    try:
        connection = reader.read_connection({k: v for k, v in args.items() if k in connection_names})
    except _collection_imports()["errors"].UMConfigError as exc:
        raise OptionError(str(exc)) from None

    def arg(name: str) -> t.Any:
        value = args.get(name)
        return None if value is None or (isinstance(value, str) and not value.strip()) else value

    opts: dict[str, t.Any] = {"connection": connection}
    for name, default, kind, low, high in (
            ("interval", 15.0, float, 0.2, 86400), ("replay_window", 0.0, float, 0, 366 * 86400),
            ("lookback", 60.0, float, 0, 86400), ("page_size", 200, int, 1, 1000),
            ("max_retry_delay", 120.0, float, 0.2, 86400)):
        value = arg(name)
        opts[name] = default if value is None else _number(name, value, kind, low, high)
    for name, default in (("include_started", False), ("fail_on_partial_failures", False),
                          ("warn_on_warning", True)):
        value = arg(name)
        opts[name] = default if value is None else _bool(name, value)
    state_file = arg("state_file")
    opts["state_file"] = None if state_file is None else os.path.abspath(os.path.expanduser(str(state_file)))
    if opts["state_file"] and not os.path.isdir(os.path.dirname(opts["state_file"])):
        raise OptionError(f"state_file {opts['state_file']}: its folder does not exist; create it or give "
                          "another path")
    opts["filters"] = {name: _filter(name, args.get(name)) for name in FILTERS}
    return opts


class _SecretFilter(logging.Filter):
    """Masks the source's secrets (the password, in every form a server may echo it) in every log record."""

    def __init__(self, secrets: t.Any) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = self.secrets.mask(text)
        if record.exc_info:
            masked += "\n" + self.secrets.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = None
        if masked != text or record.args:
            record.msg, record.args = masked, None
        return True


class Source:
    """The marks, the client and how one look turns into events; asyncio only in main()."""

    def __init__(self, opts: t.Mapping[str, t.Any], client: UMClient, mods: t.Mapping[str, t.Any],
                 clock: t.Callable[[], float] = time.time) -> None:
        self.opts = opts
        self.client = client
        self.table = mods["table"]
        self.report = mods["report"]
        self.watch = mods["watch"]
        self.errors = mods["errors"]
        self.retry_rule = mods["retry"]
        self.path = self.table.JOBS_PATH
        lookback = opts["lookback"]
        self.marks = {"ended": self.watch.Mark("complete_time", lookback, clock=clock)}
        if opts["include_started"]:
            self.marks["started"] = self.watch.Mark("submit_time", lookback, clock=clock)
        saved = self.watch.load_state(opts["state_file"]) if opts["state_file"] else None
        if saved is not None:
            for kind, mark in list(self.marks.items()):
                if isinstance(saved.get(kind), dict):
                    try:
                        self.marks[kind] = self.watch.Mark.from_dict(saved[kind], mark.time_field, lookback,
                                                                     clock)
                    except ValueError as exc:
                        raise self.watch.StateError(
                            f"state file {opts['state_file']} is damaged ({exc}): delete it to start from now") from None
                elif opts["replay_window"]:
                    mark.replay(opts["replay_window"])
            LOG.info("resuming from state file %s", opts["state_file"])
        elif opts["replay_window"]:
            for mark in self.marks.values():
                mark.replay(opts["replay_window"])

    def params(self, kind: str) -> dict[str, t.Any]:
        query = {k: v for k, v in self.opts["filters"].items() if v is not None}
        if kind == "ended":
            query["state"] = "|".join(self.table.ENDED_STATE_WORDS)
            query["order_by"] = "complete_time desc"
        else:
            query.pop("status", None)  # a starting job's status says nothing yet
            query["order_by"] = "submit_time desc"
        query["max_records"] = self.opts["page_size"]
        return query

    def look(self, kind: str) -> t.Any:
        """One look (blocking: run it in a thread). Raises the client's errors; then the mark has not moved.

        For end events, a listed job counts only when the job table says it ended (the same rule as
        um_job_wait): a prose WARNING without a complete_time is still running and is not marked as seen."""
        records = self.client.iter_records(self.path, params=self.params(kind))
        if kind == "ended":
            records = (r for r in records if not isinstance(r, dict) or self.table.ended(r))
        return self.marks[kind].look(records)

    def event(self, kind: str, job: dict) -> dict[str, t.Any]:
        table, report = self.table, self.report
        verdict = table.classify(job)
        outcome = action = None
        if kind == "ended":
            outcome = verdict.outcome if verdict.terminal else self.table.UNKNOWN
            action = table.action_for(outcome, self.opts["fail_on_partial_failures"], self.opts["warn_on_warning"])
        reasons = table.failure_reasons(job)
        if kind == "ended":
            message = f"job {report.describe(job)} ended: {outcome}"
            if reasons:
                message += "; " + "; ".join(reasons)
        else:
            message = f"job {report.describe(job)} started"
        return {"um_job": {
            "event": kind, "key": job.get("key"), "name": job.get("name"), "type": job.get("type"),
            "state": verdict.state, "status": verdict.status, "outcome": outcome, "action": action,
            "failed": action == "fail", "submit_time": job.get("submit_time"),
            "complete_time": job.get("complete_time"), "parent_job_key": job.get("parent_job_key"),
            "outputs": table.results_of(job), "failure_reasons": reasons, "message": message, "job": job,
        }}

    def state(self) -> dict[str, t.Any]:
        return {"source": SOURCE, **{kind: mark.to_dict() for kind, mark in self.marks.items()}}

    def retry(self, exc: BaseException, ever_ok: bool, failures: int) -> t.Any:
        """Whether to look again after the client's error `exc`, and when: the collection's one retry rule
        (the modules' waiter asks the same), paced from `interval` up to `max_retry_delay`."""
        decision = self.retry_rule.decide(exc, failures, "GET", bool(getattr(exc, "sent", False)),
                                          auth_worked=ever_ok, auth_failures=self.auth_failures,
                                          base=self.opts["interval"], cap=self.opts["max_retry_delay"])
        if decision.retry and getattr(exc, "status", None) == 401:
            self.auth_failures += 1
        return decision

    auth_failures = 0


async def main(queue: asyncio.Queue[t.Any], args: dict[str, t.Any]) -> None:
    """Look at UM's job list every `interval` seconds and put one event per job that ended."""
    mods = _collection_imports()
    watch, errors = mods["watch"], mods["errors"]
    try:
        opts = read_options(args)
        connection = opts["connection"]
        LOG.addFilter(_SecretFilter(connection.secrets))
        for warning in connection.warnings():
            LOG.warning("%s", warning)
        client = connection.client()
        source = Source(opts, client, mods)
    except (OptionError, watch.StateError, errors.UMError) as exc:
        # One line that says what to do; ansible-rulebook then stops with this source's error.
        raise SystemExit(f"{SOURCE}: {exc}") from None
    pacer = watch.Pacer(opts["interval"], opts["max_retry_delay"], time.monotonic)
    ever_ok = False
    unreadable: dict[str, int] = {}
    saved = source.state() if opts["state_file"] and os.path.exists(opts["state_file"]) else None
    kinds = ["started", "ended"] if opts["include_started"] else ["ended"]
    LOG.info("watching jobs on %s every %gs", client.origin, opts["interval"])
    try:
        while True:
            pacer.starting()
            try:
                for kind in kinds:
                    found = await asyncio.to_thread(source.look, kind)
                    for job in found.new:
                        await queue.put(source.event(kind, job))
                    if found.unreadable and found.unreadable != unreadable.get(kind):  # once, not every look
                        LOG.warning("skipped %d listed job(s) without a readable key or %s",
                                    found.unreadable, source.marks[kind].time_field)
                    unreadable[kind] = found.unreadable
                    if found.baseline:
                        LOG.info("first look (%s jobs): %d job(s) already there are not reported", kind, found.read)
                    state = source.state()
                    if opts["state_file"] and state != saved:
                        await asyncio.to_thread(watch.save_state, opts["state_file"], state)
                        saved = state
            except watch.StateError as exc:
                raise SystemExit(f"{SOURCE}: {exc}") from None
            except errors.UMError as exc:
                # Only the client's errors are looked at again; anything else is a fault of this source and ends
                # it below, with its traceback in the log.
                reason = connection.secrets.mask(str(exc))
                decision = source.retry(exc, ever_ok, pacer.failures + 1)
                if not decision.retry:
                    raise SystemExit(f"{SOURCE}: {reason}") from None
                pacer.failed()
                delay = decision.delay
                LOG.warning("look %d failed: %s; nothing is lost, next look in %.1fs", pacer.failures,
                            reason.rstrip("."), delay)
                await asyncio.sleep(delay)
                continue
            except Exception:
                LOG.exception("%s stopped on an unexpected error (a fault of the event source: please report it)",
                              SOURCE)
                raise
            if pacer.failures:
                LOG.warning("Unified Manager answers again after %d failed look(s); what ended meanwhile "
                            "is reported now", pacer.failures)
            ever_ok = True
            source.auth_failures = 0  # a source runs for weeks: each recovery earns its own few tries
            await asyncio.sleep(pacer.ok())
    finally:
        client.close()
