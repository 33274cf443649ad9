"""The fixed inventory umsim starts with: clusters, SVMs, aggregates, igroups, service levels, policies.

Keys are deterministic (the same in every state dir and on every start) so tests, demos and the docs can
name them; ``docs/simulator-spec.md`` lists them.  The seed is deliberately small: start-up stays fast and
listings stay readable.  Keys have UM's shape (``<cluster uuid>:type=<type>,uuid=<uuid>``), with ``:``,
``=`` and ``,`` that clients must quote in paths.
"""

from __future__ import annotations

from typing import Any

CLUSTER1_UUID = "4ea7a442-86d1-11e0-ae1c-000000000001"
CLUSTER2_UUID = "4ea7a442-86d1-11e0-ae1c-000000000002"


def obj_key(cluster_uuid: str, kind: str, uuid: str) -> str:
    return f"{cluster_uuid}:type={kind},uuid={uuid}"


def _cluster(uuid: str, name: str, ip: str) -> dict[str, Any]:
    return {"key": obj_key(uuid, "cluster", uuid), "uuid": uuid, "name": name, "management_ip": ip,
            "version": {"full": "NetApp Release 9.14.1", "generation": 9, "major": 14, "minor": 1},
            "isSanOptimized": False, "is_san_optimized": False, "location": "lab", "contact": "storage team",
            "nodes": [{"name": f"{name}-01"}, {"name": f"{name}-02"}]}


CLUSTERS: list[dict[str, Any]] = [
    _cluster(CLUSTER1_UUID, "cluster1", "198.51.100.11"),
    _cluster(CLUSTER2_UUID, "cluster2", "198.51.100.12"),
]


def _svm(cluster: dict[str, Any], n: int, name: str) -> dict[str, Any]:
    uuid = f"{cluster['uuid'][:-12]}{n:012d}".replace("-ae1c-", "-5e1c-")
    return {"key": obj_key(cluster["uuid"], "vserver", uuid), "uuid": uuid, "name": name,
            "cluster_key": cluster["key"]}


SVMS: list[dict[str, Any]] = [
    _svm(CLUSTERS[0], 101, "svm1"),
    _svm(CLUSTERS[0], 102, "svm2"),
    _svm(CLUSTERS[1], 201, "svm1"),   # the same name on another cluster: identity needs the cluster too
]


def _aggr(cluster: dict[str, Any], n: int) -> dict[str, Any]:
    uuid = f"{cluster['uuid'][:-12]}{n:012d}".replace("-ae1c-", "-a661-")
    return {"key": obj_key(cluster["uuid"], "aggregate", uuid), "uuid": uuid, "name": f"aggr{n % 10}",
            "cluster_key": cluster["key"]}


AGGREGATES: list[dict[str, Any]] = [_aggr(CLUSTERS[0], 1), _aggr(CLUSTERS[0], 2), _aggr(CLUSTERS[1], 11)]


def _igroup(svm: dict[str, Any], n: int, name: str, os_type: str) -> dict[str, Any]:
    cluster_uuid = svm["key"].split(":", 1)[0]
    uuid = f"{cluster_uuid[:-12]}{n:012d}".replace("-ae1c-", "-16f0-")
    return {"key": obj_key(cluster_uuid, "lun_igroup", uuid), "uuid": uuid, "name": name, "os_type": os_type,
            "protocol": "iscsi", "svm_key": svm["key"]}


IGROUPS: list[dict[str, Any]] = [
    _igroup(SVMS[0], 1, "ig_linux", "linux"),
    _igroup(SVMS[0], 2, "ig_windows", "windows"),
    _igroup(SVMS[2], 3, "ig_linux", "linux"),
]

PSL_KEY_PREFIX = "1b9e84ba-3f1c-4fa8-9f5c-00000000000"


def _psl(n: int, name: str, description: str, expected: int, peak: int, floor: int, latency: float) -> dict[str, Any]:
    return {"key": f"{PSL_KEY_PREFIX}{n}", "name": name, "description": description,
            "iops": {"absolute_min_iops": floor, "expected_iops_per_tb": expected, "peak_iops_per_tb": peak,
                     "peak_iops_allocation_policy": "allocated_space"},
            "latency": {"expected": latency}, "system_defined": True,
            "create_time": "2026-01-01T00:00:00.000+00:00", "update_time": "2026-01-01T00:00:00.000+00:00"}


PSLS: list[dict[str, Any]] = [
    _psl(1, "Extreme", "For the most demanding workloads, lowest latency", 6144, 12288, 1000, 1.0),
    _psl(2, "Performance", "For databases and virtualised applications", 2048, 4096, 500, 2.0),
    _psl(3, "Value", "For high capacity workloads such as file shares and backups", 128, 512, 75, 17.0),
]

SEP_KEY_PREFIX = "6c1e0f5a-2b7d-4c3e-8a9b-00000000000"


def _sep(n: int, name: str, description: str, thin: bool, dedup: str, compression: str) -> dict[str, Any]:
    return {"key": f"{SEP_KEY_PREFIX}{n}", "name": name, "description": description,
            "space_thin_provisioned": thin, "deduplication": dedup, "compression": compression,
            "system_defined": True, "create_time": "2026-01-01T00:00:00.000+00:00",
            "update_time": "2026-01-01T00:00:00.000+00:00"}


SEPS: list[dict[str, Any]] = [
    _sep(1, "Default", "Thin provisioned, background deduplication", True, "background", "none"),
    _sep(2, "Thin Provisioned Compressed", "Thin provisioned, inline deduplication and compression", True,
         "inline", "inline"),
]
