#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: um_cluster
short_description: Add a cluster to Unified Manager, wait for its discovery, or remove it
version_added: 0.3.0
description:
  - Makes the datasource of an ONTAP cluster in Active IQ Unified Manager match the task, by the cluster's
    management O(address). Sends only what differs, and reports C(changed=false) when nothing does.
  - Adds the cluster with one C(POST), then waits until UM's record of it (its C(operation)) shows that the
    discovery ended, and with O(wait) until UM lists the cluster in C(/datacenter/cluster/clusters), so that the
    storage modules (M(aiqum.jobs.um_file_share), M(aiqum.jobs.um_lun)) can use it in the next task.
  - A discovery that fails (UM cannot reach or log in to the cluster) fails the task with UM's C(status_message).
    An existing datasource whose last discovery failed is not reported as fine either; fix the cause and run with
    O(rediscover=true).
  - Removes the datasource with O(state=absent), and with O(wait) waits until UM no longer lists it.
author:
  - aiqum.jobs maintainers (@aiqum)
extends_documentation_fragment:
  - aiqum.jobs.connection
  - aiqum.jobs.attributes
attributes:
  check_mode:
    description: Reads only; reports what would change (RV(plan)) and sends no write, and waits for nothing.
    support: full
  diff_mode:
    description: Before and after as UM reads the datasource back; the password shows as a placeholder.
    support: full
options:
  address:
    description:
      - Management address of the cluster (host name or IP address), as UM shows it in the datasource's C(address).
      - Host names are compared without regard to case (and to a trailing dot).
    type: str
    required: true
  port:
    description:
      - HTTPS port of the cluster. Set only when the datasource is added; a different port on an existing datasource
        fails the task, saying so, with nothing sent.
    type: int
    default: 443
  protocol:
    description:
      - Protocol UM talks to the cluster with. Set only when the datasource is added; a different protocol on an
        existing datasource fails the task, saying so, with nothing sent.
      - UM adds ONTAP clusters over HTTPS; a server that takes only V(https) refuses V(http) with its own reason.
    type: str
    choices: [https, http]
    default: https
  cluster_username:
    description:
      - User name UM logs in to the cluster with. Required to add the cluster.
      - Compared with the datasource's C(username); a change sends O(cluster_password) with it.
    type: str
  cluster_password:
    description:
      - Password of O(cluster_username). Required to add the cluster, and to change the user name.
      - UM never shows it back, so it is not compared; see O(update_password). It never appears in the task's
        output, diff or trace.
    type: str
  update_password:
    description:
      - V(on_create) sends the password only when the datasource is added (or with a new user name).
      - V(always) sends it on every run to an existing datasource, and then reports C(changed=true).
    type: str
    choices: [on_create, always]
    default: on_create
  rediscover:
    description:
      - Ask UM to discover the existing cluster again (the call answers with a job, which is waited for), then wait
        for the datasource's discovery to end. Reports C(changed=true).
      - Not sent when this run added the datasource (its discovery has just begun).
    type: bool
    default: false
  state:
    description:
      - V(present) adds the cluster or brings the datasource to the options given; V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - With V(true), after the discovery ended, wait until UM lists the cluster in its datacenter (or, for
        O(state=absent), until UM no longer lists the datasource).
      - The end of the discovery (the datasource's C(operation)) is awaited either way.
    type: bool
    default: true
  timeout:
    description:
      - Seconds the whole task may take, every lookup, write and wait included. The task never waits longer; on
        timeout it fails, naming what it was waiting for.
    type: float
    default: 3600
  poll_interval:
    description: First interval in seconds between looks at the datasource (and at a rediscovery's job).
    type: float
    default: 1
  max_poll_interval:
    description: The interval between looks never grows past this many seconds.
    type: float
    default: 30
  long_poll:
    description: Whether to ask the server to hold each poll of a rediscovery's job, as in M(aiqum.jobs.um_job_wait).
    type: str
    choices: [auto, always, never]
    default: auto
  long_poll_timeout:
    description: Longest time in seconds the server may hold one long-poll request (1 to 120).
    type: int
    default: 60
  fail_on_partial_failures:
    description: Fail the task when the rediscovery's job ends with status C(partial_failures).
    type: bool
    default: false
  warn_on_warning:
    description: Warn when the rediscovery's job ends with status C(warning).
    type: bool
    default: true
notes:
  - UM takes a datasource's port and protocol (HTTPS) only when it is added; only the user name and password of an
    existing one can change.
  - UM's datasource list has no filters; the module lists the datasources and matches O(address) itself.
seealso:
  - module: aiqum.jobs.um_performance_service_level
  - module: aiqum.jobs.um_file_share
"""

EXAMPLES = r"""
- name: Add cluster1 to UM and wait until UM lists it
  aiqum.jobs.um_cluster:
    hostname: um.example.com
    username: admin
    password: "{{ um_password }}"
    address: cluster1.example.com
    cluster_username: admin
    cluster_password: "{{ cluster_password }}"
  register: added

- name: Show the cluster's name as UM lists it
  ansible.builtin.debug:
    msg: "{{ added.name }} ({{ added.key }})"

- name: Send a new password, and discover the cluster again
  aiqum.jobs.um_cluster:
    address: cluster1.example.com
    cluster_username: admin
    cluster_password: "{{ new_cluster_password }}"
    update_password: always
    rediscover: true

- name: Remove it from UM
  aiqum.jobs.um_cluster:
    address: cluster1.example.com
    state: absent
"""

RETURN = r"""
key:
  description: Key of the cluster (UM's datasource key is the key of the cluster behind it); V(null) when absent.
  returned: always
  type: str
name:
  description: Name of the cluster as UM lists it once discovered (before that, UM shows the address).
  returned: when O(state=present)
  type: str
datasource:
  description:
    - The datasource as UM lists it after the change (C(key), C(name), C(address), C(port), C(protocol),
      C(username), C(operation), C(status), C(status_message)), never the password; V(null) when absent.
  returned: always
  type: dict
cluster:
  description: The cluster as C(/datacenter/cluster/clusters) lists it (with O(wait)); V(null) otherwise.
  returned: when O(state=present)
  type: dict
jobs:
  description: The rediscovery's job as last seen (with C(step) V(rediscover)), else empty.
  returned: always
  type: list
  elements: dict
outputs:
  description: What the rediscovery's job produced (its C(job_results)) as a dict of name to value.
  returned: always
  type: dict
plan:
  description: The steps this run took (or in check mode would take), each with C(step), C(method), C(path), and for
    a change C(before) and C(after).
  returned: always
  type: list
  elements: dict
"""

import ipaddress
import typing as t

from ansible_collections.aiqum.jobs.plugins.module_utils import _declare as d
from ansible_collections.aiqum.jobs.plugins.module_utils import _module, _provision
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConfigError, UMError
from ansible_collections.aiqum.jobs.plugins.module_utils._paths import encode_segment
from ansible_collections.aiqum.jobs.plugins.module_utils._poll import poll_until
from ansible_collections.aiqum.jobs.plugins.module_utils._text import one_line

DATASOURCES = "/admin/datasources/clusters"
REDISCOVER = "/management-server/admin/datasources/{key}/discover"
NOUN = "cluster datasource"


def same_address(a: t.Any, b: t.Any) -> bool:
    """Host names without regard to case or a trailing dot; IP addresses by value (::1 is 0:0:0:0:0:0:0:1)."""
    def norm(value: t.Any) -> str:
        text = str(value or "").strip().rstrip(".")
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            return text.casefold()
    return a is not None and b is not None and norm(a) == norm(b)


def identity(wanted: dict) -> str:
    return f"{NOUN} '{wanted['address']}'"


def operation(record: dict | None) -> dict:
    op = d.dig(record, "operation")
    return op if isinstance(op, dict) else {}


def being_removed(record: dict) -> bool:
    return str(operation(record).get("type", "")).lower() == "deletion"


def discovery_running(record: dict | None) -> bool:
    op = operation(record)
    return str(op.get("type", "")).lower() == "discovery" and str(op.get("state", "")).lower() == "in_progress"


def discovery_ended(record: dict | None, fresh: bool) -> bool:
    """Whether the datasource's discovery is over. One this run started (an addition, a rediscovery) is over when
    its operation says discovery completed or failed (or a later operation, such as a health poll, completed); an
    existing one, when no discovery runs."""
    if not fresh:
        return not discovery_running(record)
    op = operation(record)
    kind, state = str(op.get("type", "")).lower(), str(op.get("state", "")).lower()
    if kind == "discovery":
        return state in ("completed", "failed")
    return kind not in ("", "deletion") and state == "completed"


def discovery_failed(record: dict | None) -> bool:
    op = operation(record)
    return str(op.get("type", "")).lower() == "discovery" and str(op.get("state", "")).lower() == "failed"


def op_shown(record: dict | None) -> str:
    op = operation(record)
    return f"operation {op.get('type')} {op.get('state')}" if op else "no operation"


def find(engine: d.Engine, wanted: dict) -> dict | None:
    """The datasource of this address: UM's list has no filters, so all of them, matched here. One that UM is
    removing counts as gone for state=absent; for present, the task cannot go on until it is."""
    records = [r for r in engine.list(DATASOURCES) if same_address(r.get("address"), wanted["address"])]
    live = [r for r in records if not being_removed(r)]
    if wanted["state"] == "present" and records and not live:
        raise UMConfigError(f"UM is still removing the {NOUN} for '{one_line(wanted['address'], 80)}': run the task "
                            "again once it is gone; nothing was sent")
    return d.find_one(engine, live, identity(wanted), lambda r: f"{r.get('address')} ({r.get('key')})")


def read_one(engine: d.Engine, key: str) -> dict | None:
    """A datasource by key (UM's list has no key filter); one being removed counts as gone."""
    for record in engine.list(DATASOURCES, after_write=True):
        if record.get("key") == key:
            return None if being_removed(record) else record
    return None


def with_password(value: t.Any, engine: d.Engine) -> dict:
    """A new user name goes with its password."""
    password = engine.wanted.get("cluster_password")
    if password is None:
        raise UMConfigError(f"{identity(engine.wanted)}: to change cluster_username give cluster_password too; "
                            "nothing was sent")
    return {"username": value, "password": password}


def create_body(_engine: d.Engine, wanted: dict) -> dict:
    return {"address": wanted["address"]}


def shape(record: dict) -> dict:
    return {"address": record.get("address"), "name": record.get("name"), "cluster_password": d.SECRET_SHOWN}


def fields(update_password: str) -> list[d.Field]:
    password = d.Field("cluster_password", "password", None, d.PATCH if update_password == "always" else d.CREATE_ONLY,
                       order=20, secret=True, required_to_create=True, always=update_password == "always")
    return [
        d.Field("port", "port", "port", d.IMMUTABLE, same=d.same_number),
        d.Field("protocol", "protocol", "protocol", d.IMMUTABLE),
        d.Field("cluster_username", "username", "username", d.PATCH, order=10, required_to_create=True,
                patch_body=with_password),
        password,
    ]


def kind(update_password: str) -> d.Kind:
    return d.Kind(noun=NOUN, collection=DATASOURCES, result_name="datasource", fields=fields(update_password),
                  find=find, identity=identity, create_body=create_body, identity_shape=shape, read_one=read_one)


REDISCOVERY = d.Field("rediscover", "rediscover", None, d.PATCH, shown=lambda _v: "discovered",
                      wanted_shown=lambda _v: "discovered again")


def wanted_of(params: dict) -> dict:
    address = params["address"]
    if not isinstance(address, str) or not address.strip() or address != address.strip():
        raise UMConfigError("address is empty or begins or ends with white space: give the cluster's management "
                            "address (host name or IP address)")
    return {"address": address, "name": address, "state": params["state"], "port": params["port"],
            "protocol": params["protocol"], "cluster_username": params["cluster_username"],
            "cluster_password": params["cluster_password"]}


def run(um: _module.UMModule) -> dict:
    p = um.params
    if p["cluster_password"] is not None:
        um.hide_secrets({"password": p["cluster_password"]})
    wanted = wanted_of(p)
    waits = _provision.waits(um)
    probe = _module.JobWaiter(um.client(), um.wait_options(), server_seen=True)
    engine = _provision.engine_of(um, kind(p["update_password"]), waits)
    outcome, diff = engine.run(wanted, state=p["state"], wait=True)
    notes: list[str] = []
    if p["state"] == "present":
        created = bool(outcome.plan) and outcome.plan[0]["step"] == "create"
        if p["rediscover"] and not created and outcome.key:
            step = d.Step("rediscover", "POST", REDISCOVER.format(key=encode_segment(outcome.key)), None, REDISCOVERY,
                          True, None)
            outcome.plan.append(step.as_dict())
            outcome.changed = True
            if not um.check_mode:
                engine.send(step, outcome)
        if not um.check_mode and outcome.key:
            fresh = created or bool(p["rediscover"])
            outcome.record = watch(engine, outcome, probe, lambda r: discovery_ended(r, fresh),
                                   f"the discovery of {identity(wanted)} to end", changed=outcome.changed)
        if discovery_failed(outcome.record) and not (um.check_mode and p["rediscover"]):
            message = d.dig(outcome.record, "status_message") or "UM gives no reason"
            reason = one_line(message, 400).rstrip(".")
            raise UMError(f"discovery of {identity(wanted)} failed: {reason}. Fix the cause (address, port, "
                          "credentials, network), then run with rediscover: true",
                          changed=outcome.changed, key=outcome.key, datasource=outcome.record, jobs=outcome.jobs)
        if not um.check_mode and diff.get("after") and outcome.record is not None:
            diff["after"] = engine.shape(outcome.record, wanted)
    cluster = None
    if not um.check_mode and p["wait"] and outcome.key:
        if p["state"] == "present":
            cluster = watch(engine, outcome, probe, lambda c: c is not None,
                            f"UM to list the cluster of {identity(wanted)} in {d.CLUSTERS}", changed=outcome.changed,
                            fetch=lambda: listed_cluster(engine, wanted["address"], outcome.record))
            notes.append(f"UM lists cluster '{cluster.get('name')}'")
        elif outcome.changed:
            watch(engine, outcome, probe, lambda r: r is None, f"UM to finish removing {identity(wanted)}",
                  changed=True, fetch=lambda: listed(engine, outcome.key))
    result = _provision.result(um, engine, wanted, outcome, diff)
    if p["state"] == "present":
        result["cluster"] = cluster
        name = (cluster or {}).get("name") or d.dig(outcome.record, "name")
        result["name"] = name
        if cluster and isinstance(cluster.get("key"), str):
            result["key"] = cluster["key"]
        if notes:
            result["msg"] += "; " + "; ".join(notes)
    return result


def listed(engine: d.Engine, key: str) -> dict | None:
    """The datasource of this key as UM lists it, whatever its operation (a removal ends when it is gone)."""
    return next((r for r in engine.list(DATASOURCES, after_write=True) if r.get("key") == key), None)


def listed_cluster(engine: d.Engine, address: str, datasource: dict | None) -> dict | None:
    """The cluster UM lists for this datasource: by management address; else (an address given as a host name,
    listed as an IP address) by the datasource's key, or by the name the datasource shows once discovered."""
    records = engine.list(d.CLUSTERS, after_write=True)
    key = d.dig(datasource, "key")
    name = d.dig(datasource, "name")
    if same_address(name, d.dig(datasource, "address")):
        name = None  # UM shows the address until the discovery ended
    for match in (lambda r: same_address(r.get("management_ip"), address), lambda r: key and r.get("key") == key,
                  lambda r: name and r.get("name") == name):
        found = next((r for r in records if match(r)), None)
        if found is not None:
            return found
    return None


def watch(engine: d.Engine, outcome: t.Any, probe: t.Any, done: t.Callable[[t.Any], bool], what: str,
          changed: bool, fetch: t.Callable[[], t.Any] | None = None) -> t.Any:
    """Poll (the datasource by default) until `done`, within the task's deadline, at the waiter's pace."""
    opts = probe.opts
    try:
        return poll_until(fetch or (lambda: listed(engine, t.cast(str, outcome.key))), done, what, probe.clock,
                          probe.sleep, engine.waits.deadline, first=opts.poll_interval,
                          ceiling=opts.max_poll_interval, seen=op_shown if fetch is None else None)
    except UMError as exc:
        exc.details.update(changed=changed, key=outcome.key, datasource=outcome.record, jobs=outcome.jobs)
        raise


def main() -> None:
    spec: dict[str, dict[str, t.Any]] = {
        "address": {"type": "str", "required": True},
        "port": {"type": "int", "default": 443},
        "protocol": {"type": "str", "default": "https", "choices": ["https", "http"]},
        "cluster_username": {"type": "str"},
        "cluster_password": {"type": "str", "no_log": True},
        "update_password": {"type": "str", "default": "on_create", "choices": ["on_create", "always"],
                            "no_log": False},
        "rediscover": {"type": "bool", "default": False},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }
    spec["wait"] = _provision.STORAGE_ARGSPEC["wait"]
    spec.update({k: v for k, v in _module.WAIT_ARGSPEC.items()
                 if k in ("timeout", "poll_interval", "max_poll_interval", "long_poll", "long_poll_timeout",
                          "fail_on_partial_failures", "warn_on_warning")})
    um = _module.UMModule(spec)
    um.run(run)


if __name__ == "__main__":
    main()
