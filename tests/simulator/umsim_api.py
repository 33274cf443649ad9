"""The UM REST API surface of umsim: routing, authentication, roles, handlers and the request pipeline.

Everything under ``/api`` is served identically under ``/api/v2``.  The pipeline for one API request is:
count it, apply a matching fault, authenticate, route (404/405), check the role (403), run the handler,
add the configured latency.  Faults come before authentication because they stand for failures of the
network or of a proxy in front of UM, which do not care who is asking.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as _dt
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Awaitable, Callable, Iterable, Mapping
from urllib.parse import quote, urlencode

from aiohttp import web

from umsim_control import Config, ControlChannel, Counters, FaultSet, RuleSet, Sleeper
from umsim_gateway import Gateway
from umsim_http import JSON_TYPE, ApiError, error_response, from_api_error, json_response, read_json_object
from umsim_model import (JOB_RESOURCES, SUCCESS_STATUSES, Job, JobDefaults, JobScript, KeyGen, ResourceKind,
                         ResourceOp, ScriptError, build_jobs, fold_resources, iso, merge_scripts, resource_key)
from umsim_objects import (AGGR_C, CLUSTER_C, DS_C, FIELDS, GATEWAY_C, IGROUP_C, LUNS, PSL_C, SEP_C, SHARES, SVM_C,
                           Plan, World, check_psl, check_sep, discovered_cluster, plan_delete, plan_lun_create,
                           plan_patch, plan_share_create, plan_svm_create, reachable, seed_ops)
from umsim_query import STRING, TIME, dotted, record_predicate, value_matcher
from umsim_store import Store

log = logging.getLogger("umsim")

JOB_ROUTE = "/management-server/jobs/{key}"
# Rediscovery of a datasource: starts a job but answers 200 {"operationId": ...}.
DISCOVER_ROUTE = "/management-server/admin/datasources/{key}/discover"
JOB_FILTERS = ("key", "name", "type", "state", "status", "submit_time", "complete_time", "parent_job_key")
PAGING_PARAMS = ("max_records", "offset", "order_by")
#: Query parameters UM clients commonly send that do not change what we answer.
IGNORED_PARAMS = ("fields", "return_records", "return_timeout", "poll_timeout")
MAX_RECORDS = 1000
DEFAULT_JOB_PAGE = 20
MAX_POLL_TIMEOUT = 120


# ---------------------------------------------------------------------------------------------------
# Users and roles
# ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class User:
    name: str
    password: str
    role: str

    def may(self, method: str, rel_path: str) -> bool:
        """UM RBAC as the spec simplifies it: reads for all, writes by role."""
        if method in ("GET", "HEAD"):
            return True
        if self.role == "Application Administrator":
            return True
        if self.role == "Storage Administrator":
            return rel_path.startswith("/storage-provider/")
        return False


def default_users(env: Mapping[str, str]) -> dict[str, User]:
    """The three built-in users; passwords overridable from the environment."""
    return {u.name: u for u in (
        User("operator", env.get("UMSIM_OPERATOR_PASSWORD", "Operator-pass-1"), "Operator"),
        User("storage_admin", env.get("UMSIM_STORAGE_ADMIN_PASSWORD", "Storage-pass-1"), "Storage Administrator"),
        User("admin", env.get("UMSIM_ADMIN_PASSWORD", "Admin-pass-1"), "Application Administrator"),
    )}


# ---------------------------------------------------------------------------------------------------
# Routing
# ---------------------------------------------------------------------------------------------------

@dataclass
class Call:
    """One routed API request, handed to a handler."""

    request: web.BaseRequest
    prefix: str              # "/api" or "/api/v2", used for links that must keep the caller's version
    rel: str                 # path relative to the prefix
    params: dict[str, str]   # values of {placeholders}
    user: User


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


@dataclass
class Route:
    template: str
    segments: tuple[str, ...]
    methods: dict[str, Handler]


@dataclass
class RouteMatch:
    route: Route
    params: dict[str, str]

    def handler(self, method: str) -> Handler | None:
        methods = self.route.methods
        return methods.get(method) or (methods.get("GET") if method == "HEAD" else None)


class Router:
    """Template routes (``{key}`` = one path segment); route names feed the counters."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, template: str, methods: dict[str, Handler]) -> None:
        self.routes.append(Route(template, tuple(s for s in template.split("/") if s), methods))

    def match(self, rel: str) -> RouteMatch | None:
        parts = [s for s in rel.split("/") if s]
        for route in self.routes:
            if len(route.segments) != len(parts):
                continue
            params: dict[str, str] = {}
            for seg, part in zip(route.segments, parts):
                if seg.startswith("{"):
                    params[seg[1:-1]] = part
                elif seg != part:
                    break
            else:
                return RouteMatch(route, params)
        return None


def split_api_path(path: str) -> tuple[str, str] | None:
    """``/api/v2/x`` -> (``/api/v2``, ``/x``); ``/api/x`` -> (``/api``, ``/x``); else None."""
    for prefix in ("/api/v2", "/api"):
        if path == prefix or path.startswith(prefix + "/"):
            return prefix, path[len(prefix):] or "/"
    return None


# ---------------------------------------------------------------------------------------------------
# Query helpers: UM's filter syntax and paging
# ---------------------------------------------------------------------------------------------------

def parse_paging(query: Mapping[str, str], default_max: int | None) -> tuple[int | None, int]:
    """max_records (1..1000) and offset (>= 0); 400 with the parameter as target otherwise."""
    max_records: int | None = default_max
    if "max_records" in query:
        raw = query["max_records"].strip()
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_RECORDS:
            raise ApiError(400, "invalid_parameter",
                           f"max_records must be an integer from 1 to {MAX_RECORDS}; got '{raw}'.", "max_records")
        max_records = int(raw)
    offset = 0
    if "offset" in query:
        raw = query["offset"].strip()
        if not raw.isdigit():
            raise ApiError(400, "invalid_parameter", f"offset must be an integer >= 0; got '{raw}'.", "offset")
        offset = int(raw)
    return max_records, offset


def parse_order_by(raw: str | None, fields: Iterable[str], default: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """``field [asc|desc]``, comma separated; returns [(field, descending)]."""
    if raw is None or not raw.strip():
        return default
    allowed = set(fields)
    out = []
    for part in raw.split(","):
        words = part.split()
        if not words or len(words) > 2 or words[0] not in allowed or (
                len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ApiError(400, "invalid_parameter",
                           f"order_by must be '<field> [asc|desc]' with a field among {', '.join(sorted(allowed))};"
                           f" got '{raw}'.", "order_by")
        out.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return out


def collection_links(total: int, offset: int, count: int, max_records: int | None, base: str,
                     query: Mapping[str, str], raw_query: str) -> dict[str, Any]:
    """``_links`` of a UM collection; ``next`` keeps every other query parameter and advances the offset."""
    links: dict[str, Any] = {"self": {"href": base + (f"?{raw_query}" if raw_query else "")}}
    end = offset + count
    if max_records is not None and end < total:
        items = [(k, v) for k, v in query.items() if k not in ("max_records", "offset")]
        items += [("max_records", str(max_records)), ("offset", str(end))]
        links["next"] = {"href": base + "?" + urlencode(items, quote_via=quote, safe="*:,")}
    return links


def _job_sort_key(name: str, now: float) -> Callable[[Job], Any]:
    if name == "submit_time":
        return attrgetter("submit")
    if name == "complete_time":
        return lambda j: (0, j.end) if j.terminal(now) else (1, 0.0)
    if name == "state":
        return lambda j: j.state_at(now).casefold()
    if name == "status":
        return lambda j: j.status_at(now).casefold()
    if name == "parent_job_key":
        return lambda j: j.parent_key or ""
    return lambda j: getattr(j, name).casefold()


def _job_predicate(name: str, expr: str, now: float) -> Callable[[Job], bool]:
    """Filter predicate for one job field (UM's query syntax, see umsim_query)."""
    get: Callable[[Job], str | None] = {
        "key": attrgetter("key"), "name": attrgetter("name"), "type": attrgetter("type"),
        "state": lambda j: j.state_at(now), "status": lambda j: j.status_at(now),
        "submit_time": attrgetter("submit_iso"), "complete_time": lambda j: j.complete_time_at(now),
        "parent_job_key": attrgetter("parent_key"),
    }[name]
    match = value_matcher(expr, TIME if name in ("submit_time", "complete_time") else STRING, name)
    return lambda j: match(get(j))


# ---------------------------------------------------------------------------------------------------
# The simulator core
# ---------------------------------------------------------------------------------------------------

class Simulator:
    """Holds the state and serves every request (low-level aiohttp handler, our own routing)."""

    def __init__(self, store: Store, config: Config, users: dict[str, User]) -> None:
        self.store = store
        self.config = config
        self.users = users
        self.keygen = KeyGen(store.host_id, store.has)
        if store.fresh:
            store.add((), seed_ops())
        self.counters = Counters()
        self.faults = FaultSet()
        self.rules = RuleSet()
        self.sleeper = Sleeper()
        self.control = ControlChannel(self)
        self.gateway = Gateway(self)
        self.router = Router()
        self._build_routes()

    # -- routes ------------------------------------------------------------------------------------
    def _build_routes(self) -> None:
        r = self.router
        r.add("/management-server/jobs", {"GET": self.list_jobs})
        r.add(JOB_ROUTE, {"GET": self.get_job})
        r.add("/admin/backup", {"POST": self.start_backup})
        for kind in JOB_RESOURCES:
            modelled = kind.collection in (LUNS, SHARES)
            lister = self._object_lister(kind.collection) if kind.collection in FIELDS else self._lister(kind)
            getter = (self._object_getter(kind.collection, kind.noun) if kind.collection in FIELDS
                      else self._getter(kind))
            create = (self._object_starter(kind, "create") if kind.collection in (LUNS, SHARES, SVM_C)
                      else self._starter(kind, "create"))
            r.add(kind.collection, {"GET": lister, "POST": create})
            r.add(kind.collection + "/{key}", {
                "GET": getter,
                "PATCH": self._object_starter(kind, "modify") if modelled else self._starter(kind, "modify"),
                "DELETE": self._object_starter(kind, "delete") if modelled else self._starter(kind, "delete")})
        for collection, noun in ((CLUSTER_C, "cluster"), (AGGR_C, "aggregate"), (IGROUP_C, "igroup")):
            r.add(collection, {"GET": self._object_lister(collection)})
            r.add(collection + "/{key}", {"GET": self._object_getter(collection, noun)})
        for collection, noun in ((PSL_C, "performance service level"), (SEP_C, "storage efficiency policy")):
            create, patch, delete = self._catalog_handlers(collection, noun)
            r.add(collection, {"GET": self._object_lister(collection), "POST": create})
            r.add(collection + "/{key}", {"GET": self._object_getter(collection, noun), "PATCH": patch,
                                          "DELETE": delete})
        r.add(DS_C, {"GET": self._object_lister(DS_C), "POST": self.create_datasource})
        r.add(DS_C + "/{key}", {"GET": self._object_getter(DS_C, "datasource"), "PATCH": self.patch_datasource,
                                "DELETE": self.delete_datasource})
        r.add(GATEWAY_C, {"GET": self._object_lister(GATEWAY_C)})
        for template, methods in self.gateway.routes().items():
            r.add(template, methods)
        r.add(DISCOVER_ROUTE, {"POST": self.rediscover_datasource})
        r.add("/storage-provider/data-placement", {"POST": self.data_placement})

    # -- entry point -------------------------------------------------------------------------------
    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        try:
            if path == "/_umsim" or path.startswith("/_umsim/"):
                return await self.control.handle(request, path[len("/_umsim"):] or "/")
            split = split_api_path(path)
            if split is None:
                raise ApiError(404, "not_found", f"Nothing at {path}; the API is under /api.", "path")
            return await self.handle_api(request, *split)
        except ApiError as exc:
            return from_api_error(exc)
        except Exception:  # a bug in the simulator must still answer in UM's shape
            log.exception("internal error on %s %s", request.method, path)
            return error_response(500, "internal_error", "umsim internal error (see its stderr).")

    async def handle_api(self, request: web.BaseRequest, prefix: str, rel: str) -> web.StreamResponse:
        method = request.method
        match = self.router.match(rel)
        self.counters.request(f"{method} {match.route.template if match else '(unknown)'}")
        if match is not None and match.route.template == JOB_ROUTE and method in ("GET", "HEAD"):
            self.counters.by_job[match.params["key"]] += 1

        fault = self.faults.take(method, rel)
        kind = fault.kind if fault else None
        if kind == "drop":
            return self._drop(request)
        if kind == "status":
            status = fault.params["status"]
            headers = {}
            if "retry_after" in fault.params:
                headers["Retry-After"] = f"{fault.params['retry_after']:g}"
            response: web.StreamResponse = error_response(
                status, "simulated_fault", f"umsim injected HTTP {status} (fault #{fault.id}).", headers=headers)
        elif kind == "malformed":
            response = web.Response(body=b'{"job": {"key": "truncated', status=200, content_type="application/json")
        elif kind == "unauthorized":
            response = self._unauthorized()
        else:
            try:
                # A slow server still carries out what it has received; only its answer is late.
                response = await self._process(request, prefix, rel, match)
            except ApiError as exc:
                response = from_api_error(exc)
            except ConnectionResetError:
                return self._drop(request)  # the client gave up while its request was being read
            except Exception:
                log.exception("internal error on %s %s", method, request.path)
                response = error_response(500, "internal_error", "umsim internal error (see its stderr).")
            if kind == "slow":
                await self.sleeper.sleep(fault.params["delay"])
            if kind == "repeat_next" and isinstance(response, web.Response) and response.status == 200:
                response = self._repeat_next(request, response)
        if self.config.latency > 0:
            await self.sleeper.sleep(self.config.latency)
        if kind == "drop_after":
            return self._drop(request)
        self.counters.by_status[str(response.status)] += 1
        if kind in ("trickle", "endless") and isinstance(response, web.Response):
            return await self._trickle(request, response, fault.params["delay"], endless=kind == "endless")
        return response

    # The longest an `endless` answer streams, so that a client which never gives up cannot hold it for ever.
    ENDLESS_CAP = 300.0

    async def _trickle(self, request: web.BaseRequest, response: web.Response, delay: float,
                       endless: bool) -> web.StreamResponse:
        """Send the answer's body a byte every `delay` seconds (`trickle`), or its body and then blanks every
        `delay` seconds in a chunked stream that does not end (`endless`, up to ENDLESS_CAP or shutdown)."""
        body = bytes(response.body or b"")
        stream = web.StreamResponse(status=response.status, headers={"Content-Type": JSON_TYPE})
        if endless:
            stream.enable_chunked_encoding()
        else:
            stream.content_length = len(body)
        try:
            await stream.prepare(request)
            if endless:
                await stream.write(body)
                started = time.monotonic()
                while not self.sleeper.stopping and time.monotonic() - started < self.ENDLESS_CAP:
                    await stream.write(b" ")
                    await self.sleeper.sleep(delay)
            else:
                for i in range(len(body)):
                    await stream.write(body[i:i + 1])
                    await self.sleeper.sleep(delay)
            await stream.write_eof()
        except (ConnectionResetError, ConnectionError, RuntimeError):
            self.counters.dropped += 1  # the client gave up on the answer
        return stream

    @staticmethod
    def _repeat_next(request: web.BaseRequest, response: web.Response) -> web.Response:
        """A listing whose next link points at the page just served: a client that follows it as given loops."""
        try:
            data = json.loads(bytes(response.body or b"{}"))
        except ValueError:
            return response
        if not isinstance(data, dict) or "records" not in data:
            return response
        data.setdefault("_links", {})["next"] = {"href": request.path_qs}
        return json_response(data)

    def _drop(self, request: web.BaseRequest) -> web.StreamResponse:
        """Close the connection without a byte of answer (the response object is never written)."""
        self.counters.dropped += 1
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)

    @staticmethod
    def _unauthorized() -> web.Response:
        return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="umsim"'})

    def _authenticate(self, request: web.BaseRequest) -> User | None:
        header = request.headers.get("Authorization", "")
        scheme, _sep, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            name, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user = self.users.get(name)
        if not sep or user is None or not secrets.compare_digest(password.encode(), user.password.encode()):
            return None
        return user

    async def _process(self, request: web.BaseRequest, prefix: str, rel: str,
                       match: RouteMatch | None) -> web.StreamResponse:
        user = self._authenticate(request)
        if user is None:
            return self._unauthorized()
        if match is None:
            raise ApiError(404, "not_found", f"No such API resource: {prefix}{rel}", "path")
        handler = match.handler(request.method)
        if handler is None:
            allowed = ", ".join(match.route.methods)
            raise ApiError(405, "method_not_allowed",
                           f"{request.method} is not allowed on {prefix}{match.route.template}; allowed: {allowed}.",
                           "method", headers={"Allow": allowed})
        if not user.may(request.method, rel):
            raise ApiError(403, "forbidden", f"User '{user.name}' (role {user.role}) is not authorized to "
                           f"{request.method} {prefix}{match.route.template}.")
        return await handler(Call(request, prefix, rel, match.params, user))

    # -- jobs --------------------------------------------------------------------------------------
    async def get_job(self, call: Call) -> web.Response:
        query = call.request.query
        key = call.params["key"]
        hold: int | None = None
        if "poll_timeout" in query:
            mode = self.config.long_poll
            raw = query["poll_timeout"].strip()
            if mode == "reject":
                raise ApiError(400, "invalid_parameter", "Unknown query parameter 'poll_timeout'.", "poll_timeout")
            if mode == "honour":
                if not raw.isdigit() or not 1 <= int(raw) <= MAX_POLL_TIMEOUT:
                    raise ApiError(400, "invalid_parameter",
                                   f"poll_timeout must be an integer from 1 to {MAX_POLL_TIMEOUT}; got '{raw}'.",
                                   "poll_timeout")
                hold = int(raw)
        job = self.store.get(key)
        if job is None:
            raise ApiError(404, "not_found", f"Job with key '{key}' not found.", "key")
        if hold is not None:
            await self._hold(job, hold)
        return web.Response(body=job.render_json(time.time(), self.store.get), content_type=JSON_TYPE)

    async def _hold(self, job: Job, seconds: int) -> None:
        """Long poll: sleep until exactly the job's planned end (or the timeout), not in a polling loop."""
        deadline = time.time() + seconds
        self.counters.long_polls_open += 1
        try:
            while not self.sleeper.stopping:
                now = time.time()
                if job.terminal(now) or now >= deadline:
                    return
                await self.sleeper.sleep_until(min(job.end, deadline) if now < job.end else deadline)
        finally:
            self.counters.long_polls_open -= 1

    async def list_jobs(self, call: Call) -> web.Response:
        query = call.request.query
        max_records, offset = parse_paging(query, DEFAULT_JOB_PAGE)
        order = parse_order_by(query.get("order_by"), JOB_FILTERS, [("submit_time", True)])
        now = time.time()
        jobs: list[Job] = self.store.ordered
        for name in JOB_FILTERS:  # one tight pass per filter; 10,000 jobs take a few ms
            if name in query:
                jobs = list(filter(_job_predicate(name, query[name], now), jobs))
        # Ties keep creation order in the primary direction (newest first for desc): sort by seq first,
        # then stable sorts from the last order_by field to the first.
        jobs = list(reversed(jobs)) if order[0][1] else list(jobs)
        for name, desc in reversed(order):
            jobs.sort(key=_job_sort_key(name, now), reverse=desc)
        page = jobs[offset:offset + max_records] if max_records is not None else jobs[offset:]
        links = collection_links(len(jobs), offset, len(page), max_records, f"{call.prefix}/management-server/jobs",
                                 query, call.request.rel_url.raw_query_string)
        rest = json.dumps({"num_records": len(page), "total_records": len(jobs), "_links": links},
                          separators=(",", ":")).encode()
        # Splice pre-serialized records (cached per finished job) into the envelope.
        records = b",".join(j.render_json(now, self.store.get) for j in page)
        return web.Response(body=b'{"records":[' + records + b"]," + rest[1:], content_type=JSON_TYPE)

    # -- job-starting endpoints --------------------------------------------------------------------
    def _script(self, call: Call, body: dict[str, Any] | None) -> JobScript:
        """Rule (first match) merged with the X-UMSim-Job header, the header winning field by field."""
        header_raw = None
        header = call.request.headers.get("X-UMSim-Job")
        if header is not None:
            try:
                header_raw = json.loads(header)
            except ValueError:
                raise ApiError(400, "invalid_parameter", "The X-UMSim-Job header is not valid JSON.",
                               "X-UMSim-Job") from None
            if not isinstance(header_raw, dict):
                raise ApiError(400, "invalid_parameter", "The X-UMSim-Job header must be a JSON object.",
                               "X-UMSim-Job")
        rule_raw = self.rules.find(call.request.method, call.rel, body)
        try:
            return JobScript.parse(merge_scripts(rule_raw, header_raw))
        except ScriptError as exc:
            raise ApiError(400, "invalid_parameter", exc.message, exc.target) from None

    def _create_job(self, call: Call, body: dict[str, Any] | None, defaults: JobDefaults,
                    change: Callable[[Job], ResourceOp] | None, script: JobScript | None = None) -> Job:
        """Create the job (and the resource change it will make when it succeeds); return it."""
        script = script or self._script(call, body)
        jobs = build_jobs(script, defaults, self.keygen, time.time())
        job = jobs[0]
        ops = [change(job)] if change is not None else []
        self.store.add(jobs, ops)
        self.counters.jobs_created += 1
        return job

    def _start(self, call: Call, body: dict[str, Any] | None, defaults: JobDefaults,
               change: Callable[[Job], ResourceOp] | None, script: JobScript | None = None) -> web.Response:
        """Create the job; answer 202 with its key and link, the shape most job-starting calls use."""
        job = self._create_job(call, body, defaults, change, script)
        href = f"/api/management-server/jobs/{job.key}"
        return json_response({"job": {"key": job.key, "_links": {"self": {"href": href}}}}, status=202)

    @staticmethod
    def _delete_body(call: Call) -> dict[str, Any]:
        force = call.request.query.get("force")
        if force is not None and force.lower() not in ("true", "false"):
            raise ApiError(400, "invalid_parameter", "force must be true or false.", "force")
        return {}

    def _starter(self, kind: ResourceKind, action: str) -> Handler:
        """Job-starting writes of collections kept as written (access endpoints; SVM PATCH/DELETE)."""
        verb = {"create": "Create", "modify": "Modify", "delete": "Delete"}[action]
        op_name = {"create": "create", "modify": "patch", "delete": "delete"}[action]

        async def start(call: Call) -> web.Response:
            body = self._delete_body(call) if action == "delete" else await read_json_object(call.request)
            key = call.params.get("key") or resource_key(self.store.cluster_uuid, kind)
            defaults = JobDefaults(name=f"{verb} {kind.noun}", type=f"{kind.type_stem}_{action}", verb=verb,
                                   noun=kind.noun, result_name=kind.result_name, result_value=key)
            stored = {k: v for k, v in body.items() if k not in ("key", "password", "_links")}
            if action == "create":
                stored = {"key": key, **stored}

            def change(job: Job) -> ResourceOp:
                ok = job.final_state == "completed" and job.status in SUCCESS_STATUSES
                return ResourceOp(kind.collection, key, op_name, stored, job.end if ok else None, job.key)

            return self._start(call, body, defaults, change)

        return start

    def world(self, at: float | None = None) -> World:
        return World(self.store.ops_for, time.time() if at is None else at)

    @staticmethod
    def _new_key(cluster_uuid: str, kind: str) -> str:
        return f"{cluster_uuid}:type={kind},uuid={uuid.uuid4()}"

    def _object_starter(self, kind: ResourceKind, action: str) -> Handler:
        """Writes of the object model (LUNs, file shares, SVM creation): checked, then a job that does them.

        A body UM would refuse answers 400 and starts nothing.  A write that UM accepts but cannot carry
        out (a duplicate name, a size that would shrink) starts a job that ends in error with the reason in
        task_reports[].failure_reason, and changes nothing.
        """
        verb = {"create": "Create", "modify": "Modify", "delete": "Delete"}[action]

        async def start(call: Call) -> web.Response:
            body = self._delete_body(call) if action == "delete" else await read_json_object(call.request)
            script = self._script(call, body)
            now = time.time()
            world = self.world(now)
            plan: Plan
            if action == "create":
                planner = {LUNS: plan_lun_create, SHARES: plan_share_create, SVM_C: plan_svm_create}[kind.collection]
                plan = planner(world, body, self.world(now + script.duration), self._new_key)
            elif action == "modify":
                plan = plan_patch(world, kind.collection, call.params["key"], body)
            else:
                plan = plan_delete(world, kind.collection, call.params["key"])
            defaults = JobDefaults(name=f"{verb} {kind.noun}", type=f"{kind.type_stem}_{action}", verb=verb,
                                   noun=kind.noun)
            if plan.failure is not None:
                script = dataclasses.replace(script, status="error", state="completed", results=None, tasks=(
                    {"name": f"Validate {kind.noun} request", "description": f"Check the request to {verb.lower()}"
                     f" the {kind.noun}", "status": "normal"},
                    {"name": f"{verb} {kind.noun}", "description": f"{verb} the {kind.noun} on the cluster",
                     "status": "error", "failure_reason": plan.failure}))
            elif (script.results is None and script.state == "completed"
                  and script.status in SUCCESS_STATUSES):
                script = dataclasses.replace(script, results=tuple({"name": n, "value": v} for n, v in plan.results))

            def change(job: Job) -> ResourceOp:
                ok = job.final_state == "completed" and job.status in SUCCESS_STATUSES
                return ResourceOp(kind.collection, plan.key, plan.op, plan.body, job.end if ok else None, job.key)

            return self._start(call, body, defaults, change, script)

        return start

    async def start_backup(self, call: Call) -> web.Response:
        # A backup needs no parameters, so an empty body is accepted here (and only here).
        body = await read_json_object(call.request, allow_empty=True)
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d%H%M%S")
        defaults = JobDefaults(name="Backup", type="backup_create", verb="Create", noun="backup",
                               result_name="backupFileName", result_value=f"UM_9.16.0.N_backup_{stamp}.7z")
        return self._start(call, body, defaults, None)

    # -- reading collections -----------------------------------------------------------------------
    def _objects(self, kind: ResourceKind, prefix: str) -> list[dict[str, Any]]:
        """Collections kept as written (access endpoints)."""
        objs = fold_resources(self.store.ops_for(kind.collection), time.time())
        return [{**obj, "_links": {"self": {"href": f"{prefix}{kind.collection}/{quote(k, safe='')}"}}}
                for k, obj in objs.items()]

    @staticmethod
    def _page(call: Call, records: list[dict[str, Any]], base: str,
              fields: Mapping[str, str] | None) -> web.Response:
        """Filters (UM's query syntax on dotted fields), order_by, paging and the envelope of a collection."""
        query = call.request.query
        max_records, offset = parse_paging(query, None)
        for name in query:
            if name in PAGING_PARAMS or name in IGNORED_PARAMS:
                continue
            if fields is None:
                m = value_matcher(query[name], STRING, name)
                records = [r for r in records if m(r.get(name) if not isinstance(r.get(name), (dict, list)) else None)]
                continue
            if name not in fields:
                raise ApiError(400, "invalid_parameter",
                               f"'{name}' is not a field of {base}; fields: {', '.join(sorted(fields))}.", name)
            pred = record_predicate(name, query[name], fields[name])
            records = [r for r in records if pred(r)]
        allowed = set(fields) if fields is not None else {k for r in records for k in r} | {"key", "name"}
        order = parse_order_by(query.get("order_by"), allowed, [])

        def sort_key(name: str) -> Callable[[dict[str, Any]], Any]:
            def key(r: dict[str, Any]) -> Any:
                value = dotted(r, name)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    return (0, value, "")
                return (1 if value is not None else 2, 0, str(value).casefold() if value is not None else "")
            return key

        for name, desc in reversed(order):
            records.sort(key=sort_key(name), reverse=desc)
        page = records[offset:offset + max_records] if max_records is not None else records[offset:]
        links = collection_links(len(records), offset, len(page), max_records, base, query,
                                 call.request.rel_url.raw_query_string)
        return json_response({"records": page, "num_records": len(page), "total_records": len(records),
                              "_links": links})

    def _lister(self, kind: ResourceKind) -> Handler:
        async def list_resources(call: Call) -> web.Response:
            return self._page(call, self._objects(kind, call.prefix), f"{call.prefix}{kind.collection}", None)
        return list_resources

    def _getter(self, kind: ResourceKind) -> Handler:
        async def get_resource(call: Call) -> web.Response:
            key = call.params["key"]
            for obj in self._objects(kind, call.prefix):
                if obj["key"] == key:
                    return json_response(obj)
            raise ApiError(404, "not_found", f"{kind.noun} with key '{key}' not found.", "key")
        return get_resource

    def _object_lister(self, collection: str) -> Handler:
        async def list_objects(call: Call) -> web.Response:
            records = self.world().records(collection, call.prefix)
            return self._page(call, records, f"{call.prefix}{collection}", FIELDS[collection])
        return list_objects

    def _object_getter(self, collection: str, noun: str) -> Handler:
        async def get_object(call: Call) -> web.Response:
            key = call.params["key"]
            for record in self.world().records(collection, call.prefix):
                if record.get("key") == key:
                    return json_response(record)
            raise ApiError(404, "entity_not_found", f"No {noun} with key '{key}'.", "key")
        return get_object

    # -- datasources (synchronous; discovery runs in the background, derived from time) -------------
    def _datasource(self, key: str) -> dict[str, Any]:
        ds = self.world().datasources.get(key)
        if ds is None:
            raise ApiError(404, "entity_not_found", f"No datasource with key '{key}'.", "key")
        return ds

    async def create_datasource(self, call: Call) -> web.Response:
        """201 with the datasource at once; its operation shows the discovery, which ends after a while."""
        body = await read_json_object(call.request)
        extra = sorted(set(body) - {"address", "port", "protocol", "username", "password"})
        if extra:
            raise ApiError(400, "invalid_parameter", f"Unknown field(s): {', '.join(extra)}.", extra[0])
        address = body.get("address")
        if not isinstance(address, str) or not address.strip():
            raise ApiError(400, "invalid_parameter", "'address' (cluster management address) is required.",
                           "address")
        live = self.world().datasources.values()
        if any(o["address"] == address and not o.get("deleting_since") for o in live):
            raise ApiError(409, "conflict", f"A datasource for '{address}' already exists.", "address")
        for name in ("username", "password"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise ApiError(400, "invalid_parameter", f"'{name}' is required.", name)
        port = body.get("port", 443)
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ApiError(400, "invalid_parameter", "'port' must be an integer 1..65535.", "port")
        if body.get("protocol", "https") != "https":
            raise ApiError(400, "invalid_parameter", "'protocol' must be https.", "protocol")
        now = time.time()
        cluster = discovered_cluster(address)
        record = {"key": cluster["key"], "address": address, "port": port, "protocol": "https",
                  "username": body["username"], "created": now, "discover_end": now + self.config.discovery,
                  "reachable": reachable(address), "cluster": cluster}
        self.store.add((), [ResourceOp(DS_C, record["key"], "create", record, now)])
        return json_response(self.world(now).render(DS_C, record, call.prefix), status=201)

    async def patch_datasource(self, call: Call) -> web.Response:
        """Only the credentials change; the password is never read back."""
        ds = self._datasource(call.params["key"])
        body = await read_json_object(call.request)
        extra = sorted(set(body) - {"username", "password"})
        if extra:
            raise ApiError(400, "invalid_parameter",
                           f"Only username and password of a datasource can change; not {', '.join(extra)}.",
                           extra[0])
        if not body:
            raise ApiError(400, "invalid_parameter", "Give 'username' and/or 'password' to change.", "body")
        for name, value in body.items():
            if not isinstance(value, str) or not value:
                raise ApiError(400, "invalid_parameter", f"'{name}' must be a non-empty string.", name)
        now = time.time()
        change = {"username": body["username"]} if "username" in body else {}
        self.store.add((), [ResourceOp(DS_C, ds["key"], "patch", change, now)])
        return json_response(self.world(now).render(DS_C, {**ds, **change}, call.prefix))

    async def delete_datasource(self, call: Call) -> web.Response:
        """200 at once; the record shows the deletion in progress, then it (and its cluster) is gone."""
        ds = self._datasource(call.params["key"])
        if ds.get("deleting_since") is not None:
            raise ApiError(409, "conflict", "The datasource is already being removed.", "key")
        now = time.time()
        self.store.add((), [ResourceOp(DS_C, ds["key"], "patch", {"deleting_since": now}, now),
                            ResourceOp(DS_C, ds["key"], "delete", {}, now + self.config.discovery)])
        return json_response(self.world(now).render(DS_C, {**ds, "deleting_since": now}, call.prefix))

    async def rediscover_datasource(self, call: Call) -> web.Response:
        """Rediscovery starts a job but answers 200 {"operationId": <job key>}, not 202 {"job": ...}, as UM does."""
        body = await read_json_object(call.request, allow_empty=True)
        key = call.params["key"]
        ds = self.world().datasources.get(key)
        if ds is None:
            raise ApiError(404, "not_found", f"Datasource with key '{key}' not found.", "key")
        name = self.world().render(DS_C, ds, call.prefix)["name"]
        defaults = JobDefaults(name=f"Discover cluster {name}", type="datasource_discover",
                               verb="Discover", noun="cluster")
        job = self._create_job(call, body, defaults, None)
        return json_response({"operationId": job.key}, status=200)

    # -- performance service levels and storage efficiency policies (synchronous) ------------------
    def _catalog_handlers(self, collection: str, noun: str) -> tuple[Handler, Handler, Handler]:
        check = check_psl if collection == PSL_C else check_sep

        def current(world: World) -> dict[str, dict[str, Any]]:
            return world.psls if collection == PSL_C else world.seps

        def same_name(world: World, name: str, skip: str | None) -> None:
            if any(o["name"].casefold() == name.casefold() and o["key"] != skip for o in current(world).values()):
                raise ApiError(409, "conflict", f"A {noun} named '{name}' already exists.", "name")

        def guarded(world: World, key: str, verb: str) -> dict[str, Any]:
            obj = current(world).get(key)
            if obj is None:
                raise ApiError(404, "entity_not_found", f"No {noun} with key '{key}'.", "key")
            if obj.get("system_defined"):
                raise ApiError(400, "system_defined", f"'{obj['name']}' is a system-defined {noun}: it cannot be"
                               f" {verb}; make a new one instead.", "key")
            field = "psl_key" if collection == PSL_C else "sep_key"
            count = world.workload_count(field, key)
            if count:
                raise ApiError(409, "in_use", f"'{obj['name']}' is in use by {count} workload(s): it cannot be"
                               f" {verb} until none uses it.", "key")
            return obj

        async def create(call: Call) -> web.Response:
            body = await read_json_object(call.request)
            world = self.world()
            record = check(body, None)
            same_name(world, record["name"], None)
            stamp = iso(world.now)
            record = {"key": str(uuid.uuid4()), **record, "system_defined": False, "create_time": stamp,
                      "update_time": stamp}
            self.store.add((), [ResourceOp(collection, record["key"], "create", record, world.now)])
            return json_response(self.world(world.now).render(collection, record, call.prefix), status=201)

        async def patch(call: Call) -> web.Response:
            body = await read_json_object(call.request)
            world = self.world()
            obj = guarded(world, call.params["key"], "changed")
            change = check(body, obj)
            if "name" in body:
                same_name(world, change["name"], obj["key"])
            change = {k: v for k, v in change.items() if k in body or k in ("iops", "latency")}
            change["update_time"] = iso(world.now)
            self.store.add((), [ResourceOp(collection, obj["key"], "patch", change, world.now)])
            return json_response(self.world(world.now).render(collection, {**obj, **change}, call.prefix))

        async def delete(call: Call) -> web.Response:
            world = self.world()
            obj = guarded(world, call.params["key"], "deleted")
            self.store.add((), [ResourceOp(collection, obj["key"], "delete", {}, world.now)])
            return json_response({})

        return create, patch, delete

    async def data_placement(self, call: Call) -> web.Response:
        """202 with an aggregate recommendation: a 202 that is *not* a job, clients must not wait on it."""
        body = await read_json_object(call.request)
        # The recommendation is the seeded cluster1's aggr1 (umsim_seed), so its key can be used in writes.
        world = self.world()
        first = next(iter(world.aggregates.values()))
        aggregate = {**world.render(AGGR_C, first, "/api"),
                     "requested": {k: v for k, v in body.items() if k != "password"}}
        return json_response(aggregate, status=202)
