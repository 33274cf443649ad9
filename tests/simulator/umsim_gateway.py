"""ONTAP through UM's API gateway: ``/gateways/{cluster_uuid}/<ONTAP path>``.

A few ONTAP endpoints are enough to test clients of ONTAP's asynchronous calls: volume create, modify and
delete answer 202 with ONTAP's own job object (not UM's), which runs ``queued`` -> ``running`` (optionally
``paused``) -> ``success`` or ``failure`` and is forgotten a while after it ends (ONTAP keeps it about 300 s;
``/_umsim/config`` ``ontap_job_retention`` shortens that for tests).  ``return_timeout`` (0..120) holds the
call until the work ends and then answers 201/200, as ONTAP does.

Error bodies differ on purpose, as on a real system: UM answers an unknown gateway cluster with its own
error (``code`` a word such as ``entity_not_found``, ``target`` ``cluster_uuid``); ONTAP answers an unknown
job with ONTAP's (``code`` a number in a string, ``"4"``, ``message`` "entry doesn't exist").  Every answer
through the gateway carries the cluster's ``Date`` header, shifted by the cluster's clock skew
(``/_umsim/config`` ``clock_skew``).

Gateway state (ONTAP jobs, volumes made through the gateway) lives in memory: a restart forgets it, as a
real cluster forgets its jobs.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import json
import math
import time
import uuid as _uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from umsim_http import ApiError, json_response, read_json_object
from umsim_query import STRING, value_matcher

if TYPE_CHECKING:  # pragma: no cover - typing only
    from umsim_api import Call, Simulator

ONTAP_SCRIPT_FIELDS = ("duration", "state", "message", "code", "queued", "paused")
ONTAP_JOB_FIELDS = ("uuid", "description", "state", "message", "code", "start_time", "end_time", "_links")
MAX_RETURN_TIMEOUT = 120


class OntapError(ApiError):
    """An error in ONTAP's shape: numeric code as a string, message, optional target."""


def ontap_error(status: int, code: str, message: str, target: str | None = None) -> OntapError:
    return OntapError(status, code, message, target)


def ontap_time(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).isoformat()


@dataclass
class OntapJob:
    """One ONTAP job; like UM's jobs in the simulator, its state is worked out from the time it is read."""

    uuid: str
    cluster_uuid: str
    description: str
    created: float
    start: float            # end of the queued phase
    end: float
    outcome: str            # success | failure
    message: str
    code: int
    paused: tuple[float, float] | None = None   # (from, to) epochs of a paused phase
    on_success: Any = None  # what the job does when it succeeds (a callable run once, at read time)
    applied: bool = False

    def state_at(self, now: float) -> str:
        if now >= self.end:
            return self.outcome
        if now < self.start:
            return "queued"
        if self.paused and self.paused[0] <= now < self.paused[1]:
            return "paused"
        return "running"

    def render(self, now: float, skew: float, fields: tuple[str, ...] = ONTAP_JOB_FIELDS) -> dict[str, Any]:
        state = self.state_at(now)
        doc: dict[str, Any] = {"uuid": self.uuid, "description": self.description, "state": state}
        if state in ("success", "failure"):
            doc["message"], doc["code"] = self.message, self.code
        else:
            doc["message"] = {"queued": "Queued", "paused": "Paused by the cluster"}.get(state, "In progress")
            doc["code"] = 0
        if state != "queued":
            doc["start_time"] = ontap_time(self.start + skew)
        if state in ("success", "failure"):
            doc["end_time"] = ontap_time(self.end + skew)
        doc["_links"] = {"self": {"href": f"/api/gateways/{self.cluster_uuid}/cluster/jobs/{self.uuid}"}}
        return {k: v for k, v in doc.items() if k in fields or k == "uuid"}


@dataclass
class Gateway:
    """ONTAP jobs and the volumes made through the gateway, per cluster uuid."""

    sim: "Simulator"
    jobs: dict[str, OntapJob] = field(default_factory=dict)
    volumes: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    # -- helpers ----------------------------------------------------------------------------------
    def cluster(self, call: "Call") -> dict[str, Any]:
        cuuid = call.params["cluster_uuid"]
        for cluster in self.sim.world().clusters.values():
            if cluster["uuid"] == cuuid:
                return cluster
        raise ApiError(404, "entity_not_found",
                       f"No cluster with uuid '{cuuid}' is reachable through the API gateway (GET /gateways).",
                       "cluster_uuid")

    def skew(self, cluster: dict[str, Any]) -> float:
        table = self.sim.config.clock_skew
        return table.get(cluster["uuid"], table.get(cluster["name"], 0.0))

    def answer(self, cluster: dict[str, Any], body: Any, status: int = 200) -> web.Response:
        now = time.time() + self.skew(cluster)
        return json_response(body, status=status, headers={"Date": email.utils.formatdate(now, usegmt=True)})

    def _apply(self, now: float) -> None:
        """Carry out what succeeded jobs do (volumes appear/change/go) once their end has passed."""
        retention = self.sim.config.ontap_job_retention
        for key, job in list(self.jobs.items()):
            if now >= job.end and not job.applied:
                job.applied = True
                if job.outcome == "success" and job.on_success is not None:
                    job.on_success()
            if now >= job.end + retention:
                del self.jobs[key]

    @staticmethod
    def _script(call: "Call") -> dict[str, Any]:
        raw = call.request.headers.get("X-UMSim-Ontap-Job")
        if raw is None:
            return {}
        try:
            script = json.loads(raw)
        except ValueError:
            raise ApiError(400, "invalid_parameter", "The X-UMSim-Ontap-Job header is not valid JSON.",
                           "X-UMSim-Ontap-Job") from None
        if not isinstance(script, dict) or set(script) - set(ONTAP_SCRIPT_FIELDS):
            raise ApiError(400, "invalid_parameter", "X-UMSim-Ontap-Job must be an object with fields among "
                           f"{', '.join(ONTAP_SCRIPT_FIELDS)}.", "X-UMSim-Ontap-Job")
        for name in ("duration", "queued", "paused"):
            value = script.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ApiError(400, "invalid_parameter", f"X-UMSim-Ontap-Job '{name}' must be a number >= 0.",
                               "X-UMSim-Ontap-Job")
        if script.get("state", "success") not in ("success", "failure"):
            raise ApiError(400, "invalid_parameter", "X-UMSim-Ontap-Job 'state' must be success or failure.",
                           "X-UMSim-Ontap-Job")
        return script

    def _return_timeout(self, call: "Call") -> int:
        raw = call.request.query.get("return_timeout", "0").strip()
        if not raw.isdigit() or int(raw) > MAX_RETURN_TIMEOUT:
            raise ontap_error(400, "262179", f"\"{raw}\" is an invalid value for field \"return_timeout\" "
                              f"(<integer 0..{MAX_RETURN_TIMEOUT}>)", "return_timeout")
        return int(raw)

    async def _start(self, call: "Call", cluster: dict[str, Any], description: str, failure: str | None,
                     on_success: Any, created_status: int) -> web.Response:
        script = self._script(call)
        hold = self._return_timeout(call)
        now = time.time()
        queued = float(script.get("queued", 0.0))
        duration = float(script.get("duration", 1.0))
        paused_for = float(script.get("paused", 0.0))
        start = now + queued
        end = start + duration + paused_for
        paused = (start + duration / 2, start + duration / 2 + paused_for) if paused_for else None
        outcome = "failure" if failure or script.get("state") == "failure" else "success"
        message = failure or script.get("message") or ("success" if outcome == "success" else "Job failed")
        code = int(script.get("code", 0 if outcome == "success" else 917927))
        job = OntapJob(str(_uuid.uuid4()), cluster["uuid"], description, now, start, end, outcome, str(message), code,
                       paused, on_success if outcome == "success" else None)
        self.jobs[job.uuid] = job
        self.sim.counters.jobs_created += 1
        ref = {"job": {"uuid": job.uuid, "_links": job.render(now, 0, ("_links",))["_links"]}}
        if hold:
            deadline = now + hold
            while not self.sim.sleeper.stopping and time.time() < min(end, deadline):
                await self.sim.sleeper.sleep_until(min(end, deadline))
            if time.time() >= end:
                self._apply(time.time())
                if outcome == "failure":
                    raise ontap_error(400, str(code), message)
                return self.answer(cluster, ref, status=created_status)
        return self.answer(cluster, ref, status=202)

    # -- handlers ---------------------------------------------------------------------------------
    def routes(self) -> dict[str, dict[str, Any]]:
        base = "/gateways/{cluster_uuid}"
        return {base + "/cluster/jobs": {"GET": self._dated(self.list_gateway_jobs)},
                base + "/cluster/jobs/{uuid}": {"GET": self._dated(self.get_gateway_job)},
                base + "/storage/volumes": {"GET": self._dated(self.list_volumes),
                                            "POST": self._dated(self.create_volume)},
                base + "/storage/volumes/{uuid}": {"PATCH": self._dated(self.change_volume),
                                                   "DELETE": self._dated(self.change_volume)}}

    def _dated(self, handler: Any) -> Any:
        """ONTAP's errors come from the cluster too: they carry its Date (UM's own 404 does not)."""
        async def run(call: "Call") -> web.Response:
            try:
                return await handler(call)
            except OntapError as exc:
                cluster = self.cluster(call)
                exc.headers["Date"] = email.utils.formatdate(time.time() + self.skew(cluster), usegmt=True)
                raise
        return run

    async def list_gateway_jobs(self, call: "Call") -> web.Response:
        cluster = self.cluster(call)
        now = time.time()
        self._apply(now)
        query = call.request.query
        raw_fields = query.get("fields")
        fields: tuple[str, ...] = ("uuid", "_links")
        if raw_fields:
            fields = ONTAP_JOB_FIELDS if raw_fields.strip() == "*" else tuple(
                f.strip() for f in raw_fields.split(",")) + ("uuid", "_links")
            unknown = [f for f in fields if f not in ONTAP_JOB_FIELDS]
            if unknown:
                raise ontap_error(400, "262197", f"Unexpected argument \"{unknown[0]}\".", "fields")
        jobs = [j for j in self.jobs.values() if j.cluster_uuid == cluster["uuid"]]
        for name in query:
            if name in ("fields", "max_records", "return_timeout", "order_by", "return_records"):
                continue
            if name not in ("uuid", "state", "description", "code"):
                raise ontap_error(400, "262197", f"Unexpected argument \"{name}\".", name)
            match = value_matcher(query[name], STRING, name)
            jobs = [j for j in jobs if match(j.render(now, 0, ONTAP_JOB_FIELDS).get(name))]
        skew = self.skew(cluster)
        records = [j.render(now, skew, fields) for j in jobs]
        href = f"/api/gateways/{cluster['uuid']}/cluster/jobs"
        return self.answer(cluster, {"records": records, "num_records": len(records),
                                     "_links": {"self": {"href": href}}})

    async def get_gateway_job(self, call: "Call") -> web.Response:
        cluster = self.cluster(call)
        now = time.time()
        self._apply(now)
        job = self.jobs.get(call.params["uuid"])
        if job is None or job.cluster_uuid != cluster["uuid"]:
            raise ontap_error(404, "4", "entry doesn't exist", "uuid")
        return self.answer(cluster, job.render(now, self.skew(cluster)))

    def _svm_of(self, cluster: dict[str, Any], body: dict[str, Any], call: "Call") -> dict[str, Any]:
        svm_in = body.get("svm") or {}
        name = svm_in.get("name") if isinstance(svm_in, dict) else None
        uuid = svm_in.get("uuid") if isinstance(svm_in, dict) else None
        name = name or call.request.headers.get("X-Dot-SVM-Name")
        uuid = uuid or call.request.headers.get("X-Dot-SVM-UUID")
        for svm in self.sim.world().svms.values():
            if svm["cluster_key"] == cluster["key"] and (svm["name"] == name or svm["uuid"] == uuid):
                return svm
        raise ontap_error(400, "2621462", f"SVM \"{name or uuid}\" does not exist.", "svm.name")

    async def list_volumes(self, call: "Call") -> web.Response:
        cluster = self.cluster(call)
        self._apply(time.time())
        vols = self.volumes.get(cluster["uuid"], {})
        records = [{"uuid": v["uuid"], "name": v["name"],
                    "_links": {"self": {"href": f"/api/gateways/{cluster['uuid']}/storage/volumes/{v['uuid']}"}}}
                   for v in vols.values()]
        name = call.request.query.get("name")
        if name is not None:
            match = value_matcher(name, STRING, "name")
            records = [r for r in records if match(r["name"])]
        return self.answer(cluster, {"records": records, "num_records": len(records),
                                     "_links": {"self": {"href": f"/api/gateways/{cluster['uuid']}/storage/volumes"}}})

    async def create_volume(self, call: "Call") -> web.Response:
        cluster = self.cluster(call)
        body = await read_json_object(call.request)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise ontap_error(400, "2", "Missing value for required field \"name\".", "name")
        svm = self._svm_of(cluster, body, call)
        vols = self.volumes.setdefault(cluster["uuid"], {})
        self._apply(time.time())
        failure = None
        if any(v["name"] == name and v["svm_uuid"] == svm["uuid"] for v in vols.values()):
            failure = f"Duplicate volume name {name}."
        vol = {"uuid": str(_uuid.uuid4()), "name": name, "svm_uuid": svm["uuid"], "size": body.get("size")}
        return await self._start(call, cluster, f"POST /api/storage/volumes/{vol['uuid']}", failure,
                                 lambda: vols.__setitem__(vol["uuid"], vol), 201)

    async def change_volume(self, call: "Call") -> web.Response:
        cluster = self.cluster(call)
        vols = self.volumes.setdefault(cluster["uuid"], {})
        self._apply(time.time())
        vol = vols.get(call.params["uuid"])
        if vol is None:
            raise ontap_error(404, "917927", f"Volume \"{call.params['uuid']}\" does not exist.", "uuid")
        if call.request.method == "DELETE":
            return await self._start(call, cluster, f"DELETE /api/storage/volumes/{vol['uuid']}", None,
                                     lambda: vols.pop(vol["uuid"], None), 200)
        body = await read_json_object(call.request)
        return await self._start(call, cluster, f"PATCH /api/storage/volumes/{vol['uuid']}", None,
                                 lambda: vol.update({k: v for k, v in body.items() if k in ("name", "size")}), 200)
