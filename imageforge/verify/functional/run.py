"""``inv functional``: prove an image serves its real API against real backing services.

One run: a private Docker network; the backing services its functional.yaml
asks for (MariaDB, RabbitMQ, memcached), health-checked; the images it
requires (keystone, as the identity service, bootstrapped with an admin);
then the service itself, as a deployment runs it: its config files, its
database migrations and other setup as the service user, its API under the
image's WSGI server. Then real requests, asserted on their content. Every
step is a row (pass or fail, seconds); a failure shows the service's log tail
and the exact request and response. Everything is removed afterwards, also on
failure and Ctrl-C.
"""

from __future__ import annotations

import tempfile
import time
import urllib.error
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from imageforge.config.manifest import Pair
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.image.build import BuildOptions, build_service
from imageforge.report import CheckReport, Finding
from imageforge.verify.functional import api, backing
from imageforge.verify.functional.parts import CommandCheck, Part
from imageforge.verify.functional.spec import (
    Functional,
    Serve,
    functional_path,
    load_functional,
)
from imageforge.verify.functional.stack import Container, Stack, private_stack
from imageforge.verify.service import current_image

ADMIN_PASSWORD = "forge-admin-secret"
SERVICE_PASSWORD = "forge-service-secret"
IDENTITY = "keystone"
# keystone's bootstrap creates it (images/keystone/functional.yaml).
REGION = "RegionOne"
SERVER_LOG = "/tmp/forge-server.log"
SERVER_PID = "/tmp/forge-server.pid"
READY_TIMEOUT = 120


class Stop(Exception):
    """A step failed; the run ends and the report says why."""


def run_functional(
    forge: Forge,
    pair: Pair,
    options: BuildOptions,
    *,
    build: bool = False,
    backing_images: Mapping[str, str] | None = None,
) -> CheckReport:
    """Run ``pair``'s functional.yaml; the report says what passed."""
    release, service = pair.release, pair.project
    spec = load_service(forge, service)
    chain = [load_service(forge, name) for name in spec.requires if name != service] + [spec]
    others = {p.image for p in spec.parts if p.image and p.image != service}
    names = [part.service for part in chain] + sorted(others)
    images = release_images(forge, release, names, options, build=build, where=spec.path)
    report = CheckReport(
        f"{service}/{release}", f"{service} {release}: {images[service]}", column="STEP"
    )
    names = sorted({name for part in chain for name in part.backing})
    for part in chain:
        backing.require_known(list(part.backing), part.path)
    base = forge.base_image or forge.manifest.release(release).base_image
    backing_refs = backing.images_for(forge, names, base, backing_images or {})
    started = time.monotonic()
    with private_stack() as stack, tempfile.TemporaryDirectory(prefix="forge-fn-") as scratch:
        run = Run(stack, Path(scratch), report, forge.log)
        try:
            run.backing(names, backing_refs)
            for part in chain:
                if part.serve is not None:
                    run.service(part, part.serve, images[part.service], is_subject=part is spec)
            if spec.serve is None:  # its containers are the check: its users first
                run.values.update(run.prepare(spec))
            for container in spec.parts:
                run.part(container, images[container.image or service], spec)
            run.checks(spec)
        except Stop:
            pass
    report.seconds = time.monotonic() - started
    return report


def release_images(
    forge: Forge,
    release: str,
    names: list[str],
    options: BuildOptions,
    *,
    build: bool,
    where: Path,
) -> dict[str, str]:
    """Each named image of ``release`` as built (built first with ``build``)."""
    images = {}
    in_release = {s.name for s in forge.manifest.release(release).services}
    for name in dict.fromkeys(names):
        if name not in in_release:
            raise ForgeError(f"{where}: image {name} is not built for release {release}")
        pair = Pair(release, name)
        if build:
            build_service(forge, pair, options)
        images[name], _inputs = current_image(forge, pair, options)
    return images


def parse_backing_images(values: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``NAME=IMAGE`` options as a mapping; a malformed or unknown one is an error."""
    found = {}
    for value in values:
        name, _, image = value.partition("=")
        if not image or name not in backing.BACKINGS:
            raise ForgeError(
                f"--backing-image {value}: expected NAME=IMAGE with NAME one of "
                f"{', '.join(backing.BACKINGS)}"
            )
        found[name] = image
    return found


def load_service(forge: Forge, service: str) -> Functional:
    path = functional_path(forge.root, service)
    if not path.is_file():
        raise ForgeError(f"{service}: no functional check ({path} is missing)")
    return load_functional(path, service)


class Run:
    """One run's state: its stack, values for templates, and the report it fills."""

    def __init__(
        self, stack: Stack, scratch: Path, report: CheckReport, log: Callable[[str], None]
    ) -> None:
        self.stack = stack
        self.scratch = scratch
        self.report = report
        self.log = log
        self.containers: dict[str, Container] = {}
        self.urls: dict[str, str] = {}
        # Text values, and in a cloud each service's own ({nova[rabbit_url]}).
        self.values: dict[str, Any] = {
            "admin_password": ADMIN_PASSWORD,
            "service_password": SERVICE_PASSWORD,
            "keystone_url": f"http://{IDENTITY}:5000",
        }

    # -- steps -----------------------------------------------------------------

    def step(
        self,
        name: str,
        action: Callable[[], str | None],
        log_of: str | None = None,
        also: tuple[str, ...] = (),
    ) -> None:
        """Run one step; a row in the report; on failure, stop with the log tail."""
        started = time.monotonic()
        try:
            detail = action() or ""
            ok = True
        except (ForgeError, OSError, LookupError, ValueError, _Failed) as err:
            detail, ok = str(err), False
        self.report.findings.append(Finding(name, ok, detail, time.monotonic() - started))
        self.log(f"{'pass' if ok else 'FAIL'}  {name}")
        if not ok:
            # The asked service's log, and those of the services behind it
            # (a server that fails to build: nova-compute's, libvirt's).
            for owner in dict.fromkeys((log_of, *also)):
                if owner and owner in self.containers:
                    tail = self._server_log(self.containers[owner])
                    self.report.notes.append(f"log of {owner} (last lines):\n{tail}")
            raise Stop

    def backing(self, names: list[str], images: Mapping[str, str]) -> None:
        for name in names:
            self.containers[name] = backing.start(self.stack, name, images[name])
        for name in names:
            container = self.containers[name]
            self.step(f"{name} ready", partial(self._ready, container, name))

    def service(
        self, spec: Functional, serve: Serve, image: str, *, is_subject: bool
    ) -> dict[str, Any]:
        """Start one API service; its template values (its database URL, its bus user)."""
        name = spec.service
        values = self.prepare(spec)
        mounts = self._files(spec, values)
        container = self.stack.start(
            name,
            image,
            ("infinity",),
            entrypoint="sleep",
            files=mounts,
            publish=(serve.port,),
        )
        self.containers[name] = container
        for setup in spec.setup:
            command = tuple(render(part, values, spec.path) for part in setup.command)
            self.step(f"{name}: {setup.name}", partial(self._exec, container, command), name)
        self.step(
            f"{name}: API answers GET {serve.ready}",
            lambda: self._serve(spec, serve, container, values),
            name,
        )
        if name == IDENTITY:
            self.step("keystone: admin token", self._admin_token, name)
        if is_subject:
            self.values.update(values)
        return values

    def prepare(self, spec: Functional) -> dict[str, Any]:
        """A service's database, message bus user and keystone user; its template values."""
        name = spec.service
        values = dict(self.values, service=name)
        if spec.databases:
            # One user (the first database's name) owns them all, as deployments do.
            user = spec.databases[0]
            values["database_name"] = values["database_user"] = user
            values["database_password"] = backing.DATABASE_PASSWORD
            for index, database in enumerate(spec.databases):
                url = (
                    f"mysql+pymysql://{user}:{backing.DATABASE_PASSWORD}"
                    f"@mariadb/{database}?charset=utf8"
                )
                values[f"database_url_{database}"] = url
                if index == 0:
                    values["database_url"] = url
            self.step(
                f"{name}: database {', '.join(spec.databases)} created",
                lambda: self._databases(spec.databases, user),
            )
        if spec.messaging:
            values["rabbit_url"] = f"rabbit://{name}:{backing.RABBIT_PASSWORD}@rabbitmq:5672/"
            self.step(
                f"{name}: message bus user",
                lambda: backing.add_rabbit_user(self.stack, self.containers["rabbitmq"], name),
            )
        if name != IDENTITY and IDENTITY in self.urls:
            self.step(f"{name}: service user in keystone", lambda: self._service_user(name))
            values["token"] = self.values["admin_token"]
        return values

    def part(self, part: Part, image: str, spec: Functional) -> None:
        """Start one of the run's containers and take its steps in order."""
        values = dict(self.values, service=spec.service)
        mounts = self._files(spec, values, part.name, only=part.files)
        container = self.stack.start(
            part.name,
            image,
            ("infinity",),
            entrypoint="sleep",
            user=part.user,
            cap_add=part.cap_add,
            devices=part.devices,
            volumes=part.volumes,
            files=mounts,
            init=part.init,
            network_of=self.containers[part.network] if part.network else None,
        )
        self.containers[part.name] = container
        for index, step in enumerate(part.steps):
            command = tuple(render(word, values, spec.path) for word in step.command)
            if step.start:
                action = partial(self._start, container, command, index)
            else:
                action = partial(self._exec, container, command, step.retry)
            self.step(f"{part.name}: {step.name}", action, part.name)

    def checks(self, spec: Functional) -> None:
        for check in spec.checks:
            if isinstance(check, CommandCheck):
                action = partial(self._command_check, check, spec)
                self.step(check.name, action, check.container, check.logs)
            else:
                on = check.on or spec.service
                action = partial(self._request, self.urls[on], check, spec)
                self.step(check.name, action, on, check.logs)

    # -- helpers ---------------------------------------------------------------

    def _databases(self, databases: tuple[str, ...], user: str) -> None:
        for database in databases:
            backing.create_database(self.stack, self.containers["mariadb"], database, user)

    def _ready(self, container: Container, name: str) -> str:
        return f"ready after {backing.wait_ready(self.stack, container, name):.1f} s"

    def _files(
        self,
        spec: Functional,
        values: dict[str, Any],
        owner: str = "",
        only: tuple[str, ...] | None = None,
    ) -> list[tuple[Path, str]]:
        """The spec's files (``only`` those, when given), rendered with ``values``."""
        mounts = []
        self.scratch.chmod(0o755)
        for index, (target, text) in enumerate(spec.files):
            if only is not None and target not in only:
                continue  # another container's: its values may not exist yet
            local = self.scratch / f"{owner or spec.service}-{index}-{Path(target).name}"
            local.write_text(render(text, values, spec.path))
            local.chmod(0o644)  # read by the service user
            mounts.append((local, target))
        return mounts

    def _exec(self, container: Container, command: tuple[str, ...], retry: int = 0) -> str:
        """Run ``command`` to its end (again, for up to ``retry`` seconds) until it exits 0."""
        deadline = time.monotonic() + retry
        while True:
            status, out, err = self.stack.exec(container, command)
            if status == 0:
                return ""
            if time.monotonic() >= deadline:
                tail = "\n".join((err or out).splitlines()[-15:])
                raise _Failed(f"`{' '.join(command)}` exited {status}:\n{tail}")
            time.sleep(0.5)

    def _start(self, container: Container, command: tuple[str, ...], index: int) -> str:
        """Start a daemon detached; its output goes where a failure's log tail looks."""
        log = f"/tmp/forge-background-{index}.log"
        self.stack.exec(
            container, ("sh", "-c", f'exec "$@" > {log} 2>&1', "sh", *command), detach=True
        )
        return f"output in {log}"

    def _command_check(self, check: CommandCheck, spec: Functional) -> str:
        """Run the check's command until its output holds (for up to ``retry`` seconds)."""
        command = tuple(render(word, self.values, spec.path) for word in check.command)
        # What earlier steps saved may be expected: "neutron-{network_id}".
        check = replace(
            check,
            stdout=None if check.stdout is None else render(check.stdout, self.values, spec.path),
            stdout_contains=None
            if check.stdout_contains is None
            else render(check.stdout_contains, self.values, spec.path),
        )
        container = self.containers[check.container]
        deadline = time.monotonic() + check.retry
        while True:
            status, out, err = self.stack.exec(container, command)
            problem = _output_problem(status, out, err, check)
            if problem is None:
                return out.splitlines()[-1] if out else ""
            if time.monotonic() >= deadline:
                raise _Failed(f"`{' '.join(command)}`: {problem}")
            time.sleep(1)

    def _serve(
        self, spec: Functional, serve: Serve, container: Container, values: dict[str, str]
    ) -> str:
        for index, other in enumerate(serve.background):
            rendered = [render(part, values, spec.path) for part in other]
            log = f"/tmp/forge-background-{index}.log"
            self.stack.exec(
                container, ("sh", "-c", f'exec "$@" > {log} 2>&1', "sh", *rendered), detach=True
            )
        command = [render(part, values, spec.path) for part in serve.command]
        script = f'echo $$ > {SERVER_PID}; exec "$@" > {SERVER_LOG} 2>&1'
        self.stack.exec(container, ("sh", "-c", script, "sh", *command), detach=True)
        base_url = f"http://127.0.0.1:{self.stack.port(container, serve.port)}"
        self.urls[spec.service] = base_url
        started = time.monotonic()
        while time.monotonic() - started < READY_TIMEOUT:
            try:
                answer = api.send(base_url, api.Request("ready", "GET", serve.ready), 5)
                if answer.status < 500:
                    return f"{base_url}{serve.ready}: {answer.status}"
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            alive, _, _ = self.stack.exec(container, ("sh", "-c", f"kill -0 $(cat {SERVER_PID})"))
            if alive != 0:
                raise _Failed(f"`{' '.join(command)}` exited before answering")
            time.sleep(0.5)
        raise _Failed(f"no answer on {base_url}{serve.ready} within {READY_TIMEOUT} s")

    def _admin_token(self) -> None:
        token, answer = self._token("admin", ADMIN_PASSWORD, "admin")
        self.values["admin_token"] = token
        # APIs with the project in their URLs (cinder's /v3/{project_id}/...).
        self.values["admin_project_id"] = answer.json()["token"]["project"]["id"]

    def catalog(self, entries: tuple[tuple[str, str], ...]) -> None:
        """Register services and their endpoints in keystone, as a deployment does.

        Services then find each other as a cloud's clients do: nova finds
        glance, neutron and placement in the token's catalog, neutron finds nova.
        """
        for kind, url in entries:
            self.step(f"keystone: {kind} endpoint {url}", partial(self._endpoint, kind, url))

    def _endpoint(self, kind: str, url: str) -> str:
        headers = (("X-Auth-Token", self.values["admin_token"]),)
        service = _ask(
            self.urls[IDENTITY],
            api.Request(
                kind,
                "POST",
                "/v3/services",
                json={"service": {"type": kind, "name": kind}},
                headers=headers,
                status=201,
            ),
        ).json()["service"]
        for interface in ("public", "internal", "admin"):
            endpoint = {
                "service_id": service["id"],
                "interface": interface,
                "url": url,
                "region_id": REGION,
            }
            request = api.Request(
                kind,
                "POST",
                "/v3/endpoints",
                json={"endpoint": endpoint},
                headers=headers,
                status=201,
            )
            _ask(self.urls[IDENTITY], request)
        return f"service {service['id']}"

    def _token(self, user: str, password: str, project: str) -> tuple[str, api.Answer]:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": user, "domain": {"id": "default"}, "password": password}
                    },
                },
                "scope": {"project": {"name": project, "domain": {"id": "default"}}},
            }
        }
        request = api.Request("token", "POST", "/v3/auth/tokens", json=body, status=201)
        answer = _ask(self.urls[IDENTITY], request)
        lowered = {k.lower(): v for k, v in answer.headers.items()}
        return lowered["x-subject-token"], answer

    def _service_user(self, name: str) -> None:
        """Project service, user ``name`` in it with the admin role, as deployments do."""
        token = self.values["admin_token"]
        headers = (("X-Auth-Token", token),)

        def call(method: str, path: str, json: Any = None, status: int = 201) -> Any:
            request = api.Request(name, method, path, json=json, headers=headers, status=status)
            return _ask(self.urls[IDENTITY], request).json()

        projects = call("GET", "/v3/projects?name=service", status=200)["projects"]
        project = (
            projects[0]
            if projects
            else call(
                "POST", "/v3/projects", {"project": {"name": "service", "domain_id": "default"}}
            )["project"]
        )
        user = call(
            "POST",
            "/v3/users",
            {"user": {"name": name, "password": SERVICE_PASSWORD, "domain_id": "default"}},
        )["user"]
        role = call("GET", "/v3/roles?name=admin", status=200)["roles"][0]
        call(
            "PUT", f"/v3/projects/{project['id']}/users/{user['id']}/roles/{role['id']}", status=204
        )

    def _request(self, base_url: str, check: api.Request, spec: Functional) -> str:
        rendered = _rendered(check, self.values, spec.path)
        answer = _ask(base_url, rendered)
        self.values.update(api.saved(rendered, answer))
        return f"{rendered.method} {rendered.path}: {answer.status}"

    def _server_log(self, container: Container) -> str:
        """The API's log tail, and the background processes' (their errors explain the API's)."""
        script = 'for f in /tmp/forge-background-*.log; do [ -f $f ] && { echo "== $f"; tail -n 20 $f; }; done; true'
        _status, others, _err = self.stack.exec(container, ("sh", "-c", script))
        status, out, _err = self.stack.exec(container, ("tail", "-n", "40", SERVER_LOG))
        server = out if status == 0 and out else self.stack.logs(container)
        return f"{others}\n== {SERVER_LOG}\n{server}" if others else server


class _Failed(Exception):
    """A step's own failure, with what to show."""


def _output_problem(status: int, out: str, err: str, check: CommandCheck) -> str | None:
    """What is wrong with a command check's result, or None when it holds."""
    if status != 0:
        tail = "\n".join((err or out).splitlines()[-10:])
        return f"exited {status}:\n{tail}"
    if check.stdout is not None and out != check.stdout:
        return f"expected output {check.stdout!r}, got {out[-400:]!r}"
    if check.stdout_contains is not None and check.stdout_contains not in out:
        return f"expected output containing {check.stdout_contains!r}, got {out[-400:]!r}"
    return None


def _ask(base_url: str, request: api.Request) -> api.Answer:
    """Send ``request`` (again, for up to its ``retry`` seconds) until its answer holds.

    A failure carries the problems and the exact request and response.
    """
    deadline = time.monotonic() + request.retry
    while True:
        try:
            answer = api.send(base_url, request)
        except OSError as err:
            raise _Failed(f"{err}\n{api.describe(base_url, request, None)}") from err
        problems = api.verify(request, answer)
        if not problems:
            return answer
        hopeless = api.hopeless(request, answer)
        if hopeless:
            raise _Failed(f"{hopeless}\n{api.describe(base_url, request, answer)}")
        if time.monotonic() >= deadline:
            raise _Failed(f"{'; '.join(problems)}\n{api.describe(base_url, request, answer)}")
        time.sleep(1)


def render(text: str, values: Mapping[str, str], where: Path) -> str:
    """``text`` with ``{name}`` replaced by the run's values; an unknown name is an error."""
    try:
        return text.format_map(values)
    except KeyError as err:
        known = ", ".join(sorted(values))
        raise ForgeError(
            f"{where}: {{{err.args[0]}}} is not a value of this run ({known})"
        ) from err
    except (ValueError, IndexError) as err:
        raise ForgeError(f"{where}: {text[:60]!r}: {err} (write a literal brace as {{{{)") from err


def _rendered(check: api.Request, values: Mapping[str, str], where: Path) -> api.Request:
    def deep(value: Any) -> Any:
        if isinstance(value, str):
            return render(value, values, where)
        if isinstance(value, dict):
            return {k: deep(v) for k, v in value.items()}
        if isinstance(value, list):
            return [deep(v) for v in value]
        return value

    return replace(
        check,
        path=render(check.path, values, where),
        json=deep(check.json),
        body=deep(check.body),
        body_file=deep(check.body_file),
        headers=tuple((k, render(v, values, where)) for k, v in check.headers),
        expect=tuple((k, deep(v)) for k, v in check.expect),
        body_sha256=deep(check.body_sha256),
        body_contains=deep(check.body_contains),
    )
