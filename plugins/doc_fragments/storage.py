# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the declarative storage modules, mirrored by STORAGE_ARGSPEC in plugins/module_utils/_provision.py."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  name:
    description:
      - Name of the object. With O(svm) (and O(cluster)) it is the object's identity.
    type: str
    required: true
  svm:
    description:
      - Name of the SVM (storage VM) that holds the object.
    type: str
    required: true
  cluster:
    description:
      - Name of the cluster of O(svm). Needed only when SVMs of that name exist on several clusters.
      - Without it, an existing object is found when only one SVM of that name holds one of that name.
    type: str
  size:
    description:
      - Size in O(size_unit). Required to create.
      - On an existing object a larger size grows it (a C(PATCH) of C(space.size)). A smaller one is refused before
        anything is sent, because UM cannot shrink it.
      - Compared in bytes with a tolerance of 1 MiB or 0.01 percent of the size, whichever is larger, since UM may
        round a size up.
    type: float
  size_unit:
    description:
      - Unit of O(size); 1024-based (V(gb) is 1024^3 bytes).
    type: str
    choices: [bytes, kb, mb, gb, tb]
    default: gb
  performance_service_level:
    description:
      - Performance service level, by name (for example V(Value)) or key. Required to create.
      - Compared with the level UM shows as assigned (C(assigned_performance_service_level), its name or key).
    type: str
  storage_efficiency_policy:
    description:
      - Storage efficiency policy, by name or key.
      - Compared with the policy UM shows as assigned (C(assigned_storage_efficiency_policy)).
    type: str
  state:
    description:
      - V(present) creates the object or brings it to the options given; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait for each job to end. A change that takes several steps always waits for every step but the last.
      - With V(false), the last step's job is not waited for; its key is returned in RV(job_key) for
        M(aiqum.jobs.um_job_wait).
    type: bool
    default: true
  timeout:
    description:
      - Seconds the whole task may take, every lookup, step and wait included. The task never waits longer.
      - On timeout the task fails, returning the key of the job still running in RV(pending).
    type: float
    default: 3600
  poll_interval:
    description:
      - First interval in seconds between polls of a job when the server does not hold requests.
    type: float
    default: 1
  max_poll_interval:
    description:
      - The interval between polls never grows past this many seconds.
    type: float
    default: 30
  long_poll:
    description:
      - Whether to ask the server to hold each poll until the job ends, as in M(aiqum.jobs.um_job_wait).
    type: str
    choices: [auto, always, never]
    default: auto
  long_poll_timeout:
    description:
      - Longest time in seconds the server may hold one long-poll request (1 to 120).
    type: int
    default: 60
  fail_on_partial_failures:
    description:
      - Fail the task when a job ends with status C(partial_failures). By default the task only warns.
    type: bool
    default: false
  warn_on_warning:
    description:
      - Warn when a job ends with status C(warning).
    type: bool
    default: true
  progress_interval:
    description:
      - While a step's job runs, print a line at least every this many seconds, naming the step (for example
        V(step 2 of 3, performance_service_level (Value -> Extreme))) and the job's state, tasks done and time
        elapsed. V(0) (or less) turns progress lines off.
      - Lines appear in C(ansible-playbook) output and in AWX/Tower job output. Not under C(async).
    type: float
    default: 30
notes:
  - Options left out are not managed. Each name (SVM, cluster, service level, efficiency policy) is resolved
    before anything is written; an unknown one fails the task, naming it and what exists, with nothing sent.
  - UM changes one attribute per C(PATCH). Changes are sent one at a time in the order size, performance service
    level, storage efficiency policy (then LUN maps), each job waited before the next, and the object read again
    after each. A step whose job ends well but whose read-back still shows the old value fails; nothing is ever
    sent twice in one run. A failed step names what had already changed.
  - A run that changes nothing sends one list request (plus a lookup only for a name that differs from UM's).
  - Diff mode shows before and after as UM reads them back.
"""
