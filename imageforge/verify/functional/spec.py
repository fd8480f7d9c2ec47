"""``images/<service>/functional.yaml``: how a service runs and what its API must answer.

Data, like smoke.yaml, so adding a service adds a file, not code::

    backing: [mariadb, memcached]      # started first, health-checked
    requires: [keystone]               # other images of the release, run first
    database: glance                   # a database and a user, {database_url}
                                       # (or a list: each {database_url_NAME})
    files:                             # written by the forge, mounted read-only
      /etc/glance/glance-api.conf: |
        [database]
        connection = {database_url}
    setup:                             # in order, as the service user
      - {name: database migrations, command: [glance-manage, db_sync]}
    serve:                             # the API under the image's WSGI server
      command: [gunicorn, --bind, "0.0.0.0:9292", "glance.wsgi.api:application"]
      port: 9292
      ready: /
      background: [[heat-engine]]      # other processes, started first
    checks:                            # real requests, asserted on their content
      - name: image created
        request: POST /v2/images
        headers: {X-Auth-Token: "{token}"}
        json: {name: forge-check}
        status: 201
        expect: {name: forge-check}
        save: {image_id: "json:id"}

An image without an HTTP API says ``containers:`` instead of ``serve:``, and its
checks are commands (parts.py). Strings may use ``{name}`` for the run's values (database_url, database_name,
database_user, database_password, rabbit_url, keystone_url, admin_password,
service_password, token, admin_project_id, and what earlier checks saved); a
literal brace is written twice. A mistake names the file, line and key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from imageforge.config.yamlnodes import Document, load_document
from imageforge.verify.functional.api import Request
from imageforge.verify.functional.fields import only, optional_string, strings
from imageforge.verify.functional.parts import (
    CommandCheck,
    Part,
    load_command_check,
    load_logs,
    load_parts,
    load_volumes,
)

_TOP = {
    "backing",
    "requires",
    "database",
    "messaging",
    "files",
    "setup",
    "serve",
    "volumes",
    "containers",
    "checks",
}
_SERVE = {"command", "port", "ready", "background"}
_CHECK = {
    "name",
    "request",
    "json",
    "body",
    "body_file",
    "headers",
    "status",
    "expect",
    "body_sha256",
    "body_contains",
    "on",
    "save",
    "fail_when",
    "logs",
    "retry",
}
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}


@dataclass(frozen=True)
class Step:
    name: str
    command: tuple[str, ...]


@dataclass(frozen=True)
class Serve:
    command: tuple[str, ...]
    port: int
    ready: str
    # Other processes the API needs, started first in the same container
    # (heat-engine behind heat-api).
    background: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Functional:
    service: str
    path: Path
    # None when the image serves no HTTP API and its containers are the check (ovn).
    serve: Serve | None
    backing: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    # The first is {database_url}; each is {database_url_NAME}; one user owns all.
    databases: tuple[str, ...] = ()
    # A RabbitMQ user for the service ({rabbit_url}).
    messaging: bool = False
    files: tuple[tuple[str, str], ...] = ()
    setup: tuple[Step, ...] = ()
    # Named volumes of the run, and containers of release images (parts.py).
    volumes: tuple[str, ...] = ()
    parts: tuple[Part, ...] = ()
    checks: tuple[Request | CommandCheck, ...] = ()


def functional_path(root: Path, service: str) -> Path:
    return root / "images" / service / "functional.yaml"


def load_functional(
    path: Path,
    service: str,
    *,
    extra: frozenset[str] = frozenset(),
    requires: tuple[str, ...] | None = None,
) -> Functional:
    """Read a functional.yaml; a mistake names the file, line and key.

    ``extra`` are further top-level keys a caller reads itself (cloud.yaml's
    services and order); ``requires``, when given, stands for the key.
    """
    document = load_document(path)
    data = document.data
    if not isinstance(data, dict):
        raise document.error((), "expected a mapping (backing, setup, serve, checks, ...)")
    # The forge reads plain scalars as text; a JSON body needs YAML's own types
    # (resource_provider_generation: 0 is a number to the API).
    typed = yaml.safe_load(path.read_text())
    if not isinstance(data.get("checks", []), list):
        raise document.error(("checks",), "expected a list of checks")
    only(document, (), data, _TOP | extra)
    typed_checks = typed.get("checks") or []
    if "serve" not in data and "containers" not in data:
        raise document.error(
            (), "missing serve (how the API runs) or containers (what runs, step by step)"
        )
    volumes = load_volumes(document, data.get("volumes"))
    files = tuple(load_files(document, ("files",), data.get("files", {})))
    parts = load_parts(document, data.get("containers"), volumes, tuple(t for t, _ in files))
    if requires is None:
        requires = strings(document, ("requires",), data.get("requires", []))
    serve = load_serve(document, ("serve",), data["serve"]) if "serve" in data else None
    return Functional(
        service=service,
        path=path,
        serve=serve,
        backing=strings(document, ("backing",), data.get("backing", [])),
        requires=requires,
        databases=_databases(document, data.get("database")),
        messaging=data.get("messaging", False) is True,
        files=files,
        setup=load_setup(document, ("setup",), data.get("setup", [])),
        volumes=volumes,
        parts=parts,
        checks=tuple(
            _any_check(document, i, c, typed_checks[i], parts, serve, requires)
            for i, c in enumerate(data.get("checks", []))
        ),
    )


def _any_check(
    document: Document,
    index: int,
    check: Any,
    typed: Any,
    parts: tuple[Part, ...],
    serve: Serve | None,
    requires: tuple[str, ...],
) -> Request | CommandCheck:
    """A command run in one of the run's containers, or a request to a served API."""
    where = ("checks", str(index))
    if isinstance(check, dict) and ("command" in check or "in" in check):
        return load_command_check(document, where, check, parts, requires)
    request = _check(document, index, check, typed)
    names = [part.name for part in parts] + list(requires)
    request = replace(request, logs=load_logs(document, where, check.get("logs"), names))
    if request.on is not None and request.on not in requires:
        raise document.error(
            (*where, "on"), f"{request.on}: not among requires ({', '.join(requires) or 'none'})"
        )
    if serve is None and request.on is None:
        raise document.error(where, "a request needs serve: or on: (or write in: and command:)")
    return request


def _databases(document: Document, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(
        isinstance(n, str) and n.replace("_", "").isalnum() for n in names
    ):
        raise document.error(("database",), "expected a database name or a list of them")
    return tuple(names)


def load_serve(document: Document, where: tuple[str, ...], serve: Any) -> Serve:
    if not isinstance(serve, dict):
        raise document.error(where, "expected a mapping: command, port, ready")
    only(document, where, serve, _SERVE)
    port = str(serve.get("port"))
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise document.error((*where, "port"), f"expected a port number (1-65535), got {port}")
    ready = serve.get("ready", "/")
    if not isinstance(ready, str) or not ready.startswith("/"):
        raise document.error((*where, "ready"), "expected a path starting with /")
    command = strings(document, (*where, "command"), serve.get("command"), empty=False)
    background = serve.get("background", [])
    if not isinstance(background, list):
        raise document.error((*where, "background"), "expected a list of commands")
    others = tuple(
        strings(document, (*where, "background", str(i)), c, empty=False)
        for i, c in enumerate(background)
    )
    return Serve(command, int(port), ready, others)


def load_setup(document: Document, at: tuple[str, ...], steps: Any) -> tuple[Step, ...]:
    if not isinstance(steps, list):
        raise document.error(at, "expected a list of {name, command}")
    found = []
    for index, step in enumerate(steps):
        where = (*at, str(index))
        if not isinstance(step, dict):
            raise document.error(where, "expected a mapping: name, command")
        only(document, where, step, {"name", "command"})
        name = optional_string(document, (*where, "name"), step.get("name"))
        if name is None:
            raise document.error((*where, "name"), "expected a string")
        command = strings(document, (*where, "command"), step.get("command"), empty=False)
        found.append(Step(name, command))
    return tuple(found)


def load_files(document: Document, where: tuple[str, ...], files: Any) -> list[tuple[str, str]]:
    if not isinstance(files, dict):
        raise document.error(where, "expected a mapping of absolute path: content")
    for target, text in files.items():
        if not target.startswith("/") or not isinstance(text, str):
            raise document.error((*where, target), "expected an absolute path and its text")
        # The path becomes docker's --volume SOURCE:TARGET:ro; a ':' would change the mount.
        if ":" in target or "," in target or any(part == ".." for part in target.split("/")):
            raise document.error(
                (*where, target), "expected a plain absolute path (no ':', ',' or '..')"
            )
    return sorted(files.items())


def _check(document: Document, index: int, check: Any, typed: Any) -> Request:
    where = ("checks", str(index))
    if not isinstance(check, dict):
        raise document.error(where, f"expected a mapping ({', '.join(sorted(_CHECK))})")
    only(document, where, check, _CHECK)
    name = optional_string(document, (*where, "name"), check.get("name"))
    request = check.get("request")
    method, _, target = str(request).partition(" ")
    if name is None:
        raise document.error((*where, "name"), "expected a string")
    if method not in _METHODS or not target.startswith("/"):
        raise document.error((*where, "request"), "expected METHOD /path, e.g. GET /v3/projects")
    retry = str(check.get("retry", 0))
    if not retry.isdigit():
        raise document.error((*where, "retry"), "expected seconds to keep asking (a number)")
    status = check.get("status", 200)
    if not str(status).isdigit():
        raise document.error((*where, "status"), "expected an HTTP status (a number)")
    mappings = {}
    for key in ("headers", "expect", "save", "fail_when"):
        value = check.get(key, {})
        if not isinstance(value, dict):
            raise document.error((*where, key), "expected a mapping")
        mappings[key] = tuple((str(k), v) for k, v in value.items())
    for name_, source in mappings["save"]:
        if not str(source).startswith(("header:", "json:")):
            raise document.error((*where, "save", name_), "expected header:NAME or json:PATH")
    return Request(
        name=name,
        method=method,
        path=target,
        json=typed.get("json") if isinstance(typed, dict) else None,
        body=check.get("body"),
        body_file=optional_string(document, (*where, "body_file"), check.get("body_file")),
        headers=tuple((k, str(v)) for k, v in mappings["headers"]),
        status=int(status),
        expect=mappings["expect"],
        body_sha256=check.get("body_sha256"),
        body_contains=optional_string(
            document, (*where, "body_contains"), check.get("body_contains")
        ),
        on=optional_string(document, (*where, "on"), check.get("on")),
        save=tuple((k, str(v)) for k, v in mappings["save"]),
        fail_when=mappings["fail_when"],
        retry=int(retry),
    )
