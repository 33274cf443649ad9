"""The object model of umsim: what UM's collections hold, how a write is checked, how a record reads back.

Writes and reads differ as they do on UM: a POST names ``performance_service_level.key``, the record shows
``assigned_performance_service_level {key, name, ...}``; a LUN is created with its base name and listed by
its path ``/vol/<volume>/<name>``; every record carries ``svm`` and ``cluster`` as ``{key, name, uuid}``.
Records are stored in an internal form (keys of what they refer to) and rendered when read, so a renamed
service level shows its new name everywhere.

Changes made by jobs are ``ResourceOp`` rows effective at the job's end (see umsim_model): the object
appears, changes or disappears when its job completes.  Synchronous collections (service levels,
efficiency policies, datasources) write ops effective at once.
"""

from __future__ import annotations

import ipaddress
import uuid as _uuid
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote

from umsim_http import ApiError
from umsim_model import ResourceOp, fold_resources, iso
from umsim_query import BOOL, NUMBER, STRING, TIME
from umsim_seed import AGGREGATES, CLUSTERS, IGROUPS, PSLS, SEPS, SVMS, obj_key

LUNS = "/storage-provider/luns"
SHARES = "/storage-provider/file-shares"
SVM_C = "/datacenter/svm/svms"
CLUSTER_C = "/datacenter/cluster/clusters"
AGGR_C = "/datacenter/storage/aggregates"
IGROUP_C = "/datacenter/protocols/san/igroups"
PSL_C = "/storage-provider/performance-service-levels"
SEP_C = "/storage-provider/storage-efficiency-policies"
DS_C = "/admin/datasources/clusters"
GATEWAY_C = "/gateways"

OS_TYPES = ("aix", "hpux", "hyper_v", "linux", "netware", "openvms", "solaris", "solaris_efi", "vmware", "windows",
            "windows_2008", "windows_gpt", "xen")
ACL_PERMISSIONS = ("no_access", "read", "change", "full_control")
BLOCK = 4096
TB = 1024 ** 4

_REF = {"key": STRING, "name": STRING, "uuid": STRING}
_PSL_REF = {"key": STRING, "name": STRING, "expected_iops": NUMBER, "peak_iops": NUMBER}


def _fields(**groups: Any) -> dict[str, str]:
    """Flatten {"svm": _REF, "name": STRING} into {"svm.key": ..., "name": ...}."""
    out: dict[str, str] = {}
    for name, kind in groups.items():
        if isinstance(kind, dict):
            out.update({f"{name}.{sub}": k for sub, k in _fields(**kind).items()})
        else:
            out[name] = kind
    return out


#: Filterable fields per collection (dotted) and their kinds; a filter on another field answers 400.
FIELDS: dict[str, dict[str, str]] = {
    LUNS: _fields(key=STRING, uuid=STRING, name=STRING, os_type=STRING, operational_state=STRING,
                  svm=_REF, cluster=_REF, volume=_REF, space={"size": NUMBER},
                  assigned_performance_service_level=_PSL_REF, recommended_performance_service_level=_PSL_REF,
                  assigned_storage_efficiency_policy={"key": STRING, "name": STRING},
                  lun_maps={"logical_unit_number": NUMBER}),
    SHARES: _fields(key=STRING, uuid=STRING, name=STRING, svm=_REF, cluster=_REF, space={"size": NUMBER},
                    mountpoint=STRING, assigned_performance_service_level=_PSL_REF,
                    recommended_performance_service_level=_PSL_REF,
                    assigned_storage_efficiency_policy={"key": STRING, "name": STRING}),
    SVM_C: _fields(key=STRING, uuid=STRING, name=STRING, cluster=_REF, state=STRING, subtype=STRING,
                   language=STRING, nfs={"enabled": BOOL}, cifs={"enabled": BOOL, "name": STRING},
                   iscsi={"enabled": BOOL}, fcp={"enabled": BOOL}, nvme={"enabled": BOOL}),
    CLUSTER_C: _fields(key=STRING, uuid=STRING, name=STRING, management_ip=STRING, location=STRING,
                       contact=STRING, version={"full": STRING, "generation": NUMBER, "major": NUMBER,
                                                "minor": NUMBER}),
    AGGR_C: _fields(key=STRING, uuid=STRING, name=STRING, cluster=_REF, state=STRING, type=STRING,
                    node={"name": STRING}),
    IGROUP_C: _fields(key=STRING, uuid=STRING, name=STRING, os_type=STRING, protocol=STRING, svm=_REF,
                      cluster=_REF),
    PSL_C: _fields(key=STRING, name=STRING, description=STRING, system_defined=BOOL, workload_count=NUMBER,
                   create_time=TIME, update_time=TIME, latency={"expected": NUMBER},
                   iops={"absolute_min_iops": NUMBER, "expected_iops_per_tb": NUMBER, "peak_iops_per_tb": NUMBER,
                         "peak_iops_allocation_policy": STRING}, space={"used": NUMBER, "available": NUMBER}),
    SEP_C: _fields(key=STRING, name=STRING, description=STRING, system_defined=BOOL, workload_count=NUMBER,
                   create_time=TIME, update_time=TIME, space_thin_provisioned=BOOL, compression=STRING,
                   deduplication=STRING),
    DS_C: _fields(key=STRING, name=STRING, address=STRING, port=NUMBER, protocol=STRING, username=STRING,
                  status=STRING, operation={"type": STRING, "state": STRING, "start_time": TIME,
                                            "end_time": TIME}),
    GATEWAY_C: _fields(uuid=STRING, name=STRING, ip_address=STRING, type=STRING),
}


def round_size(size: int) -> int:
    """UM may round a size up; the simulator rounds to a 4 KiB multiple so clients must allow for it."""
    return -(-size // BLOCK) * BLOCK


def bad(message: str, target: str, code: str = "invalid_parameter", status: int = 400) -> ApiError:
    return ApiError(status, code, message, target)


def _link(prefix: str, collection: str, key: str) -> dict[str, Any]:
    return {"self": {"href": f"{prefix}{collection}/{quote(key, safe='')}"}}


def _obj(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad(f"'{name}' must be an object, e.g. {{\"key\": \"...\"}}.", name)
    return value


def _key_of(body: dict[str, Any], name: str, required: bool) -> str | None:
    value = _obj(body, name)
    if value is None:
        if required:
            raise bad(f"'{name}.key' is required.", f"{name}.key")
        return None
    extra = sorted(set(value) - {"key", "name", "uuid", "_links", "name_tag"})
    if extra:
        raise bad(f"'{name}' does not take {', '.join(extra)}; give '{name}.key'.", f"{name}.{extra[0]}")
    key = value.get("key")
    if key is None and not required:
        return None
    if not isinstance(key, str) or not key:
        raise bad(f"'{name}.key' must be a non-empty string.", f"{name}.key")
    return key


def _size(body: dict[str, Any], required: bool) -> int | None:
    space = _obj(body, "space")
    if space is None:
        if required:
            raise bad("'space.size' (bytes) is required.", "space.size")
        return None
    extra = sorted(set(space) - {"size"})
    if extra:
        raise bad(f"'space' takes only 'size' (in bytes); '{extra[0]}' is not a field.", f"space.{extra[0]}")
    size = space.get("size")
    if isinstance(size, float) and size.is_integer():
        size = int(size)  # a client that computes sizes in floating point sends 1.0737418240E10
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise bad("'space.size' must be a positive integer (bytes).", "space.size")
    return size


def _name(body: dict[str, Any], what: str) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad(f"'name' (the {what}'s name) is required.", "name")
    if "/" in name:
        raise bad(f"'name' must not hold '/': give the {what}'s base name.", "name")
    return name


def _unknown(body: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise bad(f"Unknown field(s): {', '.join(extra)}.", extra[0])


@dataclass
class Plan:
    """What a job-starting write will do: the change when the job succeeds, or why its job will fail."""

    op: str                      # create | patch | delete
    key: str
    body: dict[str, Any]
    failure: str | None = None   # the job ends in error with this failure_reason
    results: tuple[tuple[str, str], ...] = ()


class World:
    """The objects visible at one instant (seeds plus what ops made), with lookups by key."""

    def __init__(self, ops_for: Callable[[str], list[ResourceOp]], now: float) -> None:
        self.now = now
        self.luns = fold_resources(ops_for(LUNS), now)
        self.shares = fold_resources(ops_for(SHARES), now)
        self.svms = {s["key"]: s for s in SVMS}
        self.svms.update(fold_resources(ops_for(SVM_C), now))
        self.psls = {p["key"]: p for p in PSLS}
        self.psls.update(fold_resources(ops_for(PSL_C), now))
        self.seps = {p["key"]: p for p in SEPS}
        self.seps.update(fold_resources(ops_for(SEP_C), now))
        self.datasources = fold_resources(ops_for(DS_C), now)
        self.clusters: dict[str, dict[str, Any]] = {}
        for ds in self.datasources.values():
            cluster = ds.get("cluster")
            if cluster and ds.get("reachable") and now >= ds["discover_end"] and not ds.get("deleting_since"):
                self.clusters[cluster["key"]] = cluster
        self.aggregates = {a["key"]: a for a in AGGREGATES}
        self.igroups = {i["key"]: i for i in IGROUPS}
        self.volumes: dict[str, dict[str, Any]] = {}
        for share in self.shares.values():
            self.volumes[share["key"]] = {"key": share["key"], "uuid": share["uuid"], "name": share["name"],
                                          "svm_key": share["svm_key"]}
        for lun in self.luns.values():
            self.volumes.setdefault(lun["volume"]["key"], {**lun["volume"], "svm_key": lun["svm_key"]})

    # -- references -------------------------------------------------------------------------------
    def cluster_of(self, key: str) -> dict[str, Any]:
        known = self.clusters.get(key) or next((c for c in CLUSTERS if c["key"] == key), None)
        return known or {"key": key, "name": None, "uuid": key.split(":", 1)[0]}

    def ref(self, obj: dict[str, Any], collection: str, prefix: str) -> dict[str, Any]:
        return {"key": obj["key"], "name": obj.get("name"), "uuid": obj.get("uuid"),
                "_links": _link(prefix, collection, obj["key"])}

    def svm_ref(self, svm_key: str, prefix: str) -> dict[str, Any]:
        svm = self.svms.get(svm_key) or {"key": svm_key, "name": None, "uuid": None}
        return self.ref(svm, SVM_C, prefix)

    def cluster_ref_of_svm(self, svm_key: str, prefix: str) -> dict[str, Any]:
        svm = self.svms.get(svm_key)
        cluster = self.cluster_of(svm["cluster_key"] if svm else svm_key.split(":", 1)[0])
        return self.ref(cluster, CLUSTER_C, prefix)

    def psl_ref(self, key: str | None, size: int) -> dict[str, Any]:
        psl = self.psls.get(key or "")
        if psl is None:
            return {"key": None, "name": "Unassigned"}
        iops = psl["iops"]
        tb = size / TB
        return {"key": psl["key"], "name": psl["name"],
                "expected_iops": max(iops["absolute_min_iops"], int(iops["expected_iops_per_tb"] * tb)),
                "peak_iops": max(iops["absolute_min_iops"], int(iops["peak_iops_per_tb"] * tb))}

    def sep_ref(self, key: str | None) -> dict[str, Any]:
        sep = self.seps.get(key or "")
        return {"key": None, "name": "Unassigned"} if sep is None else {"key": sep["key"], "name": sep["name"]}

    def workload_count(self, field: str, key: str) -> int:
        return sum(1 for o in (*self.luns.values(), *self.shares.values()) if o.get(field) == key)

    # -- rendering --------------------------------------------------------------------------------
    def render(self, collection: str, obj: dict[str, Any], prefix: str) -> dict[str, Any]:
        return {LUNS: self._render_luns, SHARES: self._render_file_shares, SVM_C: self._render_svms,
                CLUSTER_C: self._render_clusters, AGGR_C: self._render_aggregates, IGROUP_C: self._render_igroups,
                PSL_C: self._render_performance_service_levels, SEP_C: self._render_storage_efficiency_policies,
                DS_C: self._render_datasource, GATEWAY_C: self._render_gateway}[collection](obj, prefix)

    def records(self, collection: str, prefix: str) -> list[dict[str, Any]]:
        source = {LUNS: self.luns, SHARES: self.shares, SVM_C: self.svms, CLUSTER_C: self.clusters,
                  AGGR_C: self.aggregates, IGROUP_C: self.igroups, PSL_C: self.psls, SEP_C: self.seps,
                  DS_C: self.datasources, GATEWAY_C: self.clusters}[collection]
        return [self.render(collection, o, prefix) for o in source.values()]

    def _storage(self, obj: dict[str, Any], prefix: str, collection: str) -> dict[str, Any]:
        size = obj["size"]
        psl = self.psl_ref(obj.get("psl_key"), size)
        return {"key": obj["key"], "uuid": obj["uuid"], "name": obj["name"],
                "svm": self.svm_ref(obj["svm_key"], prefix),
                "cluster": self.cluster_ref_of_svm(obj["svm_key"], prefix),
                "space": {"size": size},
                "assigned_performance_service_level": psl,
                "recommended_performance_service_level": dict(psl),
                "assigned_storage_efficiency_policy": self.sep_ref(obj.get("sep_key")),
                "_links": _link(prefix, collection, obj["key"])}

    def _render_luns(self, obj: dict[str, Any], prefix: str) -> dict[str, Any]:
        rec = self._storage(obj, prefix, LUNS)
        vol = obj["volume"]
        rec["name"] = f"/vol/{vol['name']}/{obj['name']}"
        rec["volume"] = {"key": vol["key"], "name": vol["name"], "uuid": vol["uuid"]}
        rec["os_type"] = obj["os_type"]
        rec["operational_state"] = obj.get("operational_state", "online")
        rec["lun_maps"] = [{"igroup": self.ref(self.igroups.get(m["igroup_key"]) or {"key": m["igroup_key"]},
                                               IGROUP_C, prefix),
                            "logical_unit_number": m["logical_unit_number"]} for m in obj.get("lun_maps", [])]
        return rec

    def _render_file_shares(self, obj: dict[str, Any], prefix: str) -> dict[str, Any]:
        rec = self._storage(obj, prefix, SHARES)
        rec["mountpoint"] = obj.get("mountpoint") or f"/{obj['name']}"
        rec["operational_state"] = obj.get("operational_state", "online")
        rec["access_control"] = obj.get("access_control", {})
        return rec

    def _render_svms(self, obj: dict[str, Any], prefix: str) -> dict[str, Any]:
        cluster = self.cluster_of(obj["cluster_key"])
        extras = {k: v for k, v in obj.items() if k not in ("key", "uuid", "name", "cluster_key", "cluster")}
        rec = {"key": obj["key"], "uuid": obj["uuid"], "name": obj["name"],
               "cluster": self.ref(cluster, CLUSTER_C, prefix), "state": "running", "subtype": "default",
               "language": "c.utf_8", "ipspace": {"name": "Default"},
               "nfs": {"enabled": True}, "cifs": {"enabled": False}, "iscsi": {"enabled": True},
               "fcp": {"enabled": False}, "nvme": {"enabled": False},
               "aggregates": [self.ref(a, AGGR_C, prefix) for a in self.aggregates.values()
                              if a["cluster_key"] == obj["cluster_key"]]}
        rec.update(extras)
        rec["_links"] = _link(prefix, SVM_C, obj["key"])
        return rec

    def _render_clusters(self, obj: dict[str, Any], prefix: str) -> dict[str, Any]:
        return {**obj, "storage_capacity": {"total": 40 * TB, "used": 12 * TB, "available": 28 * TB},
                "_links": _link(prefix, CLUSTER_C, obj["key"])}

    def _render_aggregates(self, obj: dict[str, Any], prefix: str) -> dict[str, Any]:
        cluster = self.cluster_of(obj["cluster_key"])
        return {"key": obj["key"], "uuid": obj["uuid"], "name": obj["name"],
                "cluster": self.ref(cluster, CLUSTER_C, prefix), "node": {"name": f"{cluster['name']}-01"},
                "state": "online", "type": "ssd",
                "space": {"block_storage": {"size": 20 * TB, "used": 6 * TB, "available": 14 * TB}},
                "_links": _link(prefix, AGGR_C, obj["key"])}

    def _render_igroups(self, obj: dict[str, Any], prefix: str) -> dict[str, Any]:
        return {"key": obj["key"], "uuid": obj["uuid"], "name": obj["name"], "os_type": obj["os_type"],
                "protocol": obj["protocol"], "initiators": [], "svm": self.svm_ref(obj["svm_key"], prefix),
                "cluster": self.cluster_ref_of_svm(obj["svm_key"], prefix),
                "_links": _link(prefix, IGROUP_C, obj["key"])}

    def _render_performance_service_levels(self, obj: dict[str, Any], prefix: str) -> dict[str, Any]:
        used = sum(o["size"] for o in (*self.luns.values(), *self.shares.values()) if o.get("psl_key") == obj["key"])
        return {**{k: v for k, v in obj.items()}, "workload_count": self.workload_count("psl_key", obj["key"]),
                "space": {"used": used, "available": 28 * TB - used},
                "_links": _link(prefix, PSL_C, obj["key"])}

    def _render_storage_efficiency_policies(self, obj: dict[str, Any], prefix: str) -> dict[str, Any]:
        return {**obj, "workload_count": self.workload_count("sep_key", obj["key"]),
                "_links": _link(prefix, SEP_C, obj["key"])}

    def _render_gateway(self, obj: dict[str, Any], prefix: str) -> dict[str, Any]:
        return {"uuid": obj["uuid"], "name": obj["name"], "ip_address": obj.get("management_ip"), "type": "ONTAP",
                "_links": {"self": {"href": f"{prefix}/gateways/{obj['uuid']}"}}}

    def _render_datasource(self, obj: dict[str, Any], prefix: str) -> dict[str, Any]:
        now = self.now
        op: dict[str, Any]
        if obj.get("deleting_since") is not None:
            op = {"type": "deletion", "state": "in_progress", "start_time": iso(obj["deleting_since"])}
            status, message = "normal", "Removing the cluster from Unified Manager"
        elif now < obj["discover_end"]:
            op = {"type": "discovery", "state": "in_progress", "start_time": iso(obj["created"])}
            status, message = "normal", "Discovery in progress"
        elif obj.get("reachable"):
            op = {"type": "discovery", "state": "completed", "start_time": iso(obj["created"]),
                  "end_time": iso(obj["discover_end"]), "last_success_time": iso(obj["discover_end"])}
            status, message = "normal", "Cluster discovered and monitored"
        else:
            op = {"type": "discovery", "state": "failed", "start_time": iso(obj["created"]),
                  "end_time": iso(obj["discover_end"]), "last_failure_time": iso(obj["discover_end"])}
            status, message = "error", (f"Cannot reach {obj['address']}:{obj['port']}: connection timed out."
                                        " Check the address and that the cluster's HTTPS port is open.")
        discovered = obj.get("reachable") and now >= obj["discover_end"]
        name = obj["cluster"]["name"] if discovered else obj["address"]
        rec = {"key": obj["key"], "name": name, "address": obj["address"], "port": obj["port"],
               "protocol": obj["protocol"], "username": obj["username"], "operation": op, "status": status,
               "status_message": message, "_links": _link(prefix, DS_C, obj["key"])}
        if discovered:
            rec["cluster_health_status"] = "ok"
        return rec

    # -- identity ---------------------------------------------------------------------------------
    def find_named(self, objs: dict[str, dict[str, Any]], svm_key: str, name: str,
                   skip: str | None = None) -> dict[str, Any] | None:
        for obj in objs.values():
            if obj["svm_key"] == svm_key and obj["name"] == name and obj["key"] != skip:
                return obj
        return None


# ---------------------------------------------------------------------------------------------------
# Checking writes (400 before any job) and planning what the job does
# ---------------------------------------------------------------------------------------------------

def _check_psl(world: World, body: dict[str, Any], required: bool) -> str | None:
    key = _key_of(body, "performance_service_level", required)
    if key is not None and key not in world.psls:
        raise bad(f"No performance service level with key '{key}'.", "performance_service_level.key",
                  code="entity_not_found")
    return key


def _check_sep(world: World, body: dict[str, Any]) -> str | None:
    key = _key_of(body, "storage_efficiency_policy", False)
    if key is not None and key not in world.seps:
        raise bad(f"No storage efficiency policy with key '{key}'.", "storage_efficiency_policy.key",
                  code="entity_not_found")
    return key


def _check_svm(world: World, key: str | None) -> dict[str, Any] | None:
    if key is not None and key not in world.svms:
        raise bad(f"No SVM with key '{key}'.", "svm.key", code="entity_not_found")
    return world.svms.get(key or "")


def _check_aggregate(world: World, body: dict[str, Any], svm: dict[str, Any]) -> str | None:
    key = _key_of(body, "aggregate", False)
    if key is None:
        return None
    aggr = world.aggregates.get(key)
    if aggr is None:
        raise bad(f"No aggregate with key '{key}'.", "aggregate.key", code="entity_not_found")
    if aggr["cluster_key"] != svm["cluster_key"]:
        raise bad(f"Aggregate '{aggr['name']}' is not on the SVM's cluster.", "aggregate.key")
    return key


def _check_lun_maps(world: World, raw: Any, svm_key: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise bad("'lun_maps' must be a list of {igroup: {key}, logical_unit_number}.", "lun_maps")
    maps = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("igroup"), dict):
            raise bad(f"lun_maps[{i}] must be {{igroup: {{key}}, logical_unit_number?}}.", f"lun_maps[{i}]")
        _unknown(item, {"igroup", "logical_unit_number"})
        key = item["igroup"].get("key")
        igroup = world.igroups.get(key) if isinstance(key, str) else None
        if igroup is None:
            raise bad(f"No igroup with key '{key}'.", f"lun_maps[{i}].igroup.key", code="entity_not_found")
        if igroup["svm_key"] != svm_key:
            raise bad(f"igroup '{igroup['name']}' is not in the LUN's SVM.", f"lun_maps[{i}].igroup.key")
        lun_id = item.get("logical_unit_number", i)
        if isinstance(lun_id, str) and lun_id.isdigit():
            lun_id = int(lun_id)
        if isinstance(lun_id, bool) or not isinstance(lun_id, int) or not 0 <= lun_id <= 4095:
            raise bad("logical_unit_number must be an integer 0..4095.", f"lun_maps[{i}].logical_unit_number")
        maps.append({"igroup_key": key, "logical_unit_number": lun_id})
    return maps


def _check_access_control(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise bad("'access_control' must be an object with 'acl' and/or 'export_policy'.", "access_control")
    _unknown(raw, {"acl", "export_policy", "active_directory_mapping"})
    out: dict[str, Any] = {}
    if "acl" in raw:
        acl = raw["acl"]
        if not isinstance(acl, list):
            raise bad("'access_control.acl' must be a list of {user_or_group, permission}.", "access_control.acl")
        out["acl"] = []
        for i, entry in enumerate(acl):
            if (not isinstance(entry, dict) or not isinstance(entry.get("user_or_group"), str)
                    or str(entry.get("permission", "")).lower() not in ACL_PERMISSIONS):
                raise bad(f"access_control.acl[{i}] needs user_or_group and a permission among "
                          f"{', '.join(ACL_PERMISSIONS)}.", f"access_control.acl[{i}]")
            out["acl"].append({"user_or_group": entry["user_or_group"], "permission": entry["permission"].lower()})
    if "export_policy" in raw:
        policy = raw["export_policy"]
        if not isinstance(policy, dict):
            raise bad("'access_control.export_policy' must be an object.", "access_control.export_policy")
        _unknown(policy, {"key", "name", "name_tag", "id", "rules"})
        if "rules" in policy and not isinstance(policy["rules"], list):
            raise bad("'access_control.export_policy.rules' must be a list.", "access_control.export_policy.rules")
        out["export_policy"] = dict(policy)
    if "active_directory_mapping" in raw:
        out["active_directory_mapping"] = raw["active_directory_mapping"]
    return out


def plan_lun_create(world: World, body: dict[str, Any], at_end: World, new_key: Callable[[str, str], str]) -> Plan:
    _unknown(body, {"name", "os_type", "space", "performance_service_level", "storage_efficiency_policy", "svm",
                    "volume", "aggregate", "lun_maps", "description"})
    name = _name(body, "LUN")
    os_type = body.get("os_type")
    if not isinstance(os_type, str) or os_type.lower() not in OS_TYPES:
        raise bad(f"'os_type' is required, one of {', '.join(OS_TYPES)}.", "os_type")
    size = _size(body, True)
    psl = _check_psl(world, body, True)
    sep = _check_sep(world, body)
    svm = _check_svm(world, _key_of(body, "svm", False))
    volume_in = _obj(body, "volume") or {}
    volume_key = volume_in.get("key")
    name_tag = volume_in.get("name_tag")
    if volume_key is not None:
        vol = world.volumes.get(volume_key)
        if vol is None:
            raise bad(f"No volume with key '{volume_key}'.", "volume.key", code="entity_not_found")
        if svm is not None and vol["svm_key"] != svm["key"]:
            raise bad("'volume.key' is not in the SVM given by 'svm.key'.", "volume.key")
        svm = world.svms[vol["svm_key"]]
        volume = {"key": vol["key"], "uuid": vol["uuid"], "name": vol["name"]}
    elif svm is None:
        raise bad("'svm.key' or 'volume.key' is required.", "svm.key")
    else:
        if name_tag is not None and (not isinstance(name_tag, str) or not name_tag):
            raise bad("'volume.name_tag' must be a non-empty string.", "volume.name_tag")
        cluster_uuid = svm["key"].split(":", 1)[0]
        vol_uuid = str(_uuid.uuid4())
        volume = {"key": obj_key(cluster_uuid, "volume", vol_uuid), "uuid": vol_uuid,
                  "name": f"AIQUM_{name_tag or name}"}
    assert svm is not None
    aggregate = _check_aggregate(world, body, svm)
    maps = _check_lun_maps(world, body["lun_maps"], svm["key"]) if "lun_maps" in body else []
    key = new_key(svm["key"].split(":", 1)[0], "lun")
    record = {"key": key, "uuid": key.rsplit("uuid=", 1)[1], "name": name, "svm_key": svm["key"], "volume": volume,
              "size": round_size(size), "os_type": os_type.lower(), "psl_key": psl, "sep_key": sep,
              "operational_state": "online", "lun_maps": maps, "aggregate_key": aggregate}
    failure = None
    if at_end.find_named(at_end.luns, svm["key"], name):
        failure = f"A LUN named '{name}' already exists in SVM '{svm['name']}'."
    return Plan("create", key, record, failure, (("lunKey", key), ("volumeKey", volume["key"])))


def plan_share_create(world: World, body: dict[str, Any], at_end: World, new_key: Callable[[str, str], str]) -> Plan:
    _unknown(body, {"name", "space", "performance_service_level", "storage_efficiency_policy", "svm", "aggregate",
                    "mountpoint", "access_control", "description", "operational_state"})
    name = _name(body, "file share")
    size = _size(body, True)
    psl = _check_psl(world, body, True)
    sep = _check_sep(world, body)
    svm = _check_svm(world, _key_of(body, "svm", True))
    assert svm is not None
    aggregate = _check_aggregate(world, body, svm)
    mountpoint = body.get("mountpoint")
    if mountpoint is not None and (not isinstance(mountpoint, str) or not mountpoint.startswith("/")):
        raise bad("'mountpoint' must be a path starting with '/'.", "mountpoint")
    access = _check_access_control(body["access_control"]) if "access_control" in body else {}
    key = new_key(svm["key"].split(":", 1)[0], "volume")
    record = {"key": key, "uuid": key.rsplit("uuid=", 1)[1], "name": name, "svm_key": svm["key"],
              "size": round_size(size), "psl_key": psl, "sep_key": sep, "mountpoint": mountpoint or f"/{name}",
              "access_control": access, "aggregate_key": aggregate}
    failure = None
    if at_end.find_named(at_end.shares, svm["key"], name):
        failure = f"A file share named '{name}' already exists in SVM '{svm['name']}'."
    return Plan("create", key, record, failure, (("fileshareKey", key), ("volumeKey", key)))


LUN_PATCH = ("space", "performance_service_level", "storage_efficiency_policy", "operational_state", "lun_maps")
SHARE_PATCH = ("space", "performance_service_level", "storage_efficiency_policy", "access_control",
               "operational_state")


def plan_patch(world: World, collection: str, key: str, body: dict[str, Any]) -> Plan:
    objs = world.luns if collection == LUNS else world.shares
    noun = "LUN" if collection == LUNS else "file share"
    current = objs.get(key)
    if current is None:
        raise ApiError(404, "entity_not_found", f"No {noun} with key '{key}'.", "key")
    allowed = LUN_PATCH if collection == LUNS else SHARE_PATCH
    given = sorted(body)
    unknown = [g for g in given if g not in allowed]
    if unknown:
        raise bad(f"A {noun} PATCH takes one of {', '.join(allowed)}; '{unknown[0]}' cannot be changed.", unknown[0])
    if len(given) != 1:
        raise bad(f"A {noun} PATCH changes exactly one attribute per call; got {len(given)}"
                  f" ({', '.join(given) or 'none'}). Send one PATCH per attribute.", "body")
    attr = given[0]
    change: dict[str, Any]
    failure = None
    results = ((("lunKey" if collection == LUNS else "fileshareKey"), key),)
    if attr == "space":
        size = round_size(_size(body, True) or 0)
        if size < current["size"]:
            failure = (f"The size of {noun} '{current['name']}' cannot be reduced from {current['size']} to "
                       f"{size} bytes.")
        change = {"size": size}
    elif attr == "performance_service_level":
        change = {"psl_key": _check_psl(world, body, True)}
    elif attr == "storage_efficiency_policy":
        change = {"sep_key": _check_sep(world, body)}
    elif attr == "operational_state":
        state = body["operational_state"]
        if state not in ("online", "offline"):
            raise bad("'operational_state' must be online or offline.", "operational_state")
        change = {"operational_state": state}
    elif attr == "lun_maps":
        change = {"lun_maps": _check_lun_maps(world, body["lun_maps"], current["svm_key"])}
    else:
        access = _check_access_control(body["access_control"])
        parts = [p for p in ("acl", "export_policy") if p in access]
        if len(parts) != 1:
            raise bad("A file share PATCH changes one attribute: give either access_control.acl or "
                      "access_control.export_policy, not both.", "access_control")
        change = {"access_control": {**current.get("access_control", {}), **access}}
    return Plan("patch", key, change, failure, results)


def plan_delete(world: World, collection: str, key: str) -> Plan:
    objs = world.luns if collection == LUNS else world.shares
    if key not in objs:
        noun = "LUN" if collection == LUNS else "file share"
        raise ApiError(404, "entity_not_found", f"No {noun} with key '{key}'.", "key")
    return Plan("delete", key, {}, None, (((("lunKey" if collection == LUNS else "fileshareKey")), key),))


def plan_svm_create(world: World, body: dict[str, Any], at_end: World, new_key: Callable[[str, str], str]) -> Plan:
    name = _name(body, "SVM")
    cluster_key = _key_of(body, "cluster", True)
    cluster = world.clusters.get(cluster_key or "")
    if cluster is None:
        raise bad(f"No cluster with key '{cluster_key}'.", "cluster.key", code="entity_not_found")
    key = new_key(cluster["uuid"], "vserver")
    extras = {k: v for k, v in body.items() if k not in ("key", "name", "cluster", "uuid", "_links", "password")}
    record = {"key": key, "uuid": key.rsplit("uuid=", 1)[1], "name": name, "cluster_key": cluster["key"], **extras}
    failure = None
    if any(s["name"] == name and s["cluster_key"] == cluster["key"] for s in at_end.svms.values()):
        failure = f"An SVM named '{name}' already exists on cluster '{cluster['name']}'."
    return Plan("create", key, record, failure, (("svmKey", key),))


def seed_ops() -> list[ResourceOp]:
    """The seeded clusters' datasources, written once into a new state dir (discovered long ago)."""
    return [ResourceOp(DS_C, c["key"], "create",
                       {"key": c["key"], "address": c["management_ip"], "port": 443, "protocol": "https",
                        "username": "admin", "created": SEED_TIME, "discover_end": SEED_TIME, "reachable": True,
                        "cluster": c}, SEED_TIME) for c in CLUSTERS]


SEED_TIME = 1767225600.0  # 2026-01-01T00:00:00Z: when the seeded clusters were discovered


# ---------------------------------------------------------------------------------------------------
# Synchronous configuration: service levels, efficiency policies, datasources
# ---------------------------------------------------------------------------------------------------

def _int_field(value: Any, target: str, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise bad(f"'{target}' must be an integer >= {low}.", target)
    return value


def check_psl(body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """A performance service level's writable fields; with ``current`` (PATCH) missing ones are kept."""
    _unknown(body, {"name", "description", "iops", "latency"})
    base = current or {}
    out: dict[str, Any] = {}
    if "name" in body or current is None:
        out["name"] = _name(body, "performance service level")
    if "description" in body:
        if not isinstance(body["description"], str):
            raise bad("'description' must be a string.", "description")
        out["description"] = body["description"]
    elif current is None:
        out["description"] = ""
    iops_in = _obj(body, "iops") or {}
    _unknown({f"iops.{k}": v for k, v in iops_in.items()},
             {"iops.absolute_min_iops", "iops.expected_iops_per_tb", "iops.peak_iops_per_tb",
              "iops.peak_iops_allocation_policy"})
    iops = dict(base.get("iops", {}))
    for name in ("absolute_min_iops", "expected_iops_per_tb", "peak_iops_per_tb"):
        if name in iops_in:
            iops[name] = _int_field(iops_in[name], f"iops.{name}", 1 if name != "absolute_min_iops" else 0)
        elif name not in iops:
            raise bad(f"'iops.{name}' is required.", f"iops.{name}")
    policy = iops_in.get("peak_iops_allocation_policy", iops.get("peak_iops_allocation_policy", "allocated_space"))
    if policy not in ("used_space", "allocated_space"):
        raise bad("'iops.peak_iops_allocation_policy' must be used_space or allocated_space.",
                  "iops.peak_iops_allocation_policy")
    iops["peak_iops_allocation_policy"] = policy
    if iops["expected_iops_per_tb"] > iops["peak_iops_per_tb"]:
        raise bad("'iops.expected_iops_per_tb' cannot be above 'iops.peak_iops_per_tb'.", "iops.expected_iops_per_tb")
    out["iops"] = iops
    latency_in = _obj(body, "latency")
    if latency_in is not None:
        _unknown({f"latency.{k}": v for k, v in latency_in.items()}, {"latency.expected"})
        expected = latency_in.get("expected")
        if isinstance(expected, bool) or not isinstance(expected, (int, float)) or expected <= 0:
            raise bad("'latency.expected' must be a number of milliseconds > 0.", "latency.expected")
        out["latency"] = {"expected": expected}
    elif current is None:
        raise bad("'latency.expected' is required.", "latency.expected")
    else:
        out["latency"] = dict(base["latency"])
    return out


EFFICIENCY = ("inline", "background", "none")


def check_sep(body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """A storage efficiency policy's writable fields; with ``current`` (PATCH) missing ones are kept."""
    _unknown(body, {"name", "description", "compression", "deduplication", "space_thin_provisioned"})
    out: dict[str, Any] = {}
    if "name" in body or current is None:
        out["name"] = _name(body, "storage efficiency policy")
    if "description" in body or current is None:
        description = body.get("description", "")
        if not isinstance(description, str):
            raise bad("'description' must be a string.", "description")
        out["description"] = description
    for name in ("compression", "deduplication"):
        if name in body or current is None:
            value = body.get(name, "none")
            if value not in EFFICIENCY:
                raise bad(f"'{name}' must be one of {', '.join(EFFICIENCY)}.", name)
            out[name] = value
    if "space_thin_provisioned" in body or current is None:
        thin = body.get("space_thin_provisioned", True)
        if not isinstance(thin, bool):
            raise bad("'space_thin_provisioned' must be true or false.", "space_thin_provisioned")
        out["space_thin_provisioned"] = thin
    return out


#: Addresses that cannot be reached: discovery of them fails (documented in the spec, for tests).
UNREACHABLE_NETWORK = ipaddress.ip_network("192.0.2.0/24")   # TEST-NET-1
UNREACHABLE_SUFFIX = ".invalid"


def reachable(address: str) -> bool:
    try:
        return ipaddress.ip_address(address) not in UNREACHABLE_NETWORK
    except ValueError:
        return not address.lower().rstrip(".").endswith(UNREACHABLE_SUFFIX)


def discovered_cluster(address: str) -> dict[str, Any]:
    """The cluster found behind a datasource address (the same address gives the same cluster)."""
    for cluster in CLUSTERS:
        if cluster["management_ip"] == address:
            return cluster
    cuuid = str(_uuid.uuid5(_uuid.NAMESPACE_URL, f"umsim-cluster:{address.lower()}"))
    try:
        ipaddress.ip_address(address)
        name = "cluster-" + address.replace(".", "-").replace(":", "-")
    except ValueError:
        name = address.split(".", 1)[0]
    return {"key": obj_key(cuuid, "cluster", cuuid), "uuid": cuuid, "name": name, "management_ip": address,
            "version": {"full": "NetApp Release 9.14.1", "generation": 9, "major": 14, "minor": 1},
            "isSanOptimized": False, "is_san_optimized": False, "location": "", "contact": "",
            "nodes": [{"name": f"{name}-01"}]}
