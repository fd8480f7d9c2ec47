"""Real HTTP requests against a running service, and what their answers must hold.

A request is data (method, path, JSON body, raw body or a file's bytes, headers); the answer is
checked for its status, for values at dotted JSON paths (``project.name``,
``projects[*].name`` for "one of"), and for the SHA-256 of its body; values
can be saved (``header:X-Subject-Token``, ``json:project.id``) for later
requests. A failure shows the exact request and response.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+|\*)\]")


@dataclass(frozen=True)
class Request:
    name: str
    method: str
    path: str
    json: Any = None
    body: str | None = None
    # A local file sent as the body (a guest kernel uploaded to glance).
    body_file: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    status: int = 200
    expect: tuple[tuple[str, Any], ...] = ()
    body_sha256: str | None = None
    # Text the body must contain (an HTML page: a link, a form field).
    body_contains: str | None = None
    # Another service of the run whose API is asked (placement), not the checked one's.
    on: str | None = None
    save: tuple[tuple[str, str], ...] = ()
    # Other containers whose log tails a failure shows (nova-compute behind nova's API).
    logs: tuple[str, ...] = ()
    # Values that end the retrying at once as a failure (a server gone to ERROR).
    fail_when: tuple[tuple[str, Any], ...] = ()
    # Seconds to keep asking until the answer holds (a queue still being
    # declared behind the API, an index still being built); 0: ask once.
    retry: float = 0


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    problems: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def send(base_url: str, request: Request, timeout: float = 60) -> Answer:
    """Send ``request`` (already rendered) to ``base_url``; the answer, whatever its status."""
    headers = dict(request.headers)
    data = None
    if request.json is not None:
        data = json.dumps(request.json).encode()
        headers.setdefault("Content-Type", "application/json")
    elif request.body is not None or request.body_file is not None:
        data = request.body.encode() if request.body is not None else _read(request.body_file)
        headers.setdefault("Content-Type", "application/octet-stream")
    outgoing = urllib.request.Request(
        base_url + request.path, data=data, headers=headers, method=request.method
    )
    try:
        with urllib.request.urlopen(outgoing, timeout=timeout) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as err:
        return Answer(err.code, dict(err.headers), err.read())


def verify(request: Request, answer: Answer) -> list[str]:
    """What in ``answer`` differs from what ``request`` expects (empty when all holds)."""
    problems = []
    if answer.status != request.status:
        problems.append(f"expected status {request.status}, got {answer.status}")
        return problems
    if request.body_sha256 is not None:
        digest = hashlib.sha256(answer.body).hexdigest()
        if digest != request.body_sha256:
            problems.append(f"body sha256 {digest}, expected {request.body_sha256}")
    text = request.body_contains
    if text is not None and text not in answer.body.decode(errors="replace"):
        problems.append(f"the body does not contain {text!r}")
    if request.expect:
        try:
            data = answer.json()
        except ValueError:
            return [*problems, "expected a JSON body"]
        for path, expected in request.expect:
            found = lookup(data, path)
            if "[*]" in path:
                if not any(_same(value, expected) for value in found):
                    problems.append(f"{path}: {expected!r} is not among {found!r}")
            elif not found or not _same(found[0], expected):
                got = found[0] if found else "nothing"
                problems.append(f"{path}: expected {expected!r}, got {got!r}")
    return problems


def hopeless(request: Request, answer: Answer) -> str | None:
    """The ``fail_when`` value ``answer`` holds (asking again will not help), or None."""
    if not request.fail_when:
        return None
    try:
        data = answer.json()
    except ValueError:
        return None
    for path, value in request.fail_when:
        if any(_same(found, value) for found in lookup(data, path)):
            return f"{path} is {value!r}"
    return None


def saved(request: Request, answer: Answer) -> dict[str, str]:
    """The values ``request`` saves from ``answer`` (header:NAME or json:PATH)."""
    values = {}
    for name, source in request.save:
        kind, _, where = source.partition(":")
        if kind == "header":
            lowered = {k.lower(): v for k, v in answer.headers.items()}
            value = lowered.get(where.lower())
        else:
            found = lookup(answer.json(), where)
            value = None if not found else str(found[0])
        if value is None:
            raise LookupError(f"save {name}: nothing at {source}")
        values[name] = value
    return values


def lookup(data: Any, path: str) -> list[Any]:
    """The values at a dotted path; ``[*]`` fans out over a list."""
    values = [data]
    for key, index in _SEGMENT.findall(path):
        following = []
        for value in values:
            if key and isinstance(value, dict) and key in value:
                following.append(value[key])
            elif index == "*" and isinstance(value, list):
                following.extend(value)
            elif index and index != "*" and isinstance(value, list) and int(index) < len(value):
                following.append(value[int(index)])
        values = following
    return values


def describe(base_url: str, request: Request, answer: Answer | None) -> str:
    """The exact request and response, for a failure report."""
    lines = [f"> {request.method} {base_url}{request.path}"]
    lines += [f"> {k}: {_masked(k, v)}" for k, v in request.headers]
    if request.json is not None:
        lines.append(f"> {json.dumps(request.json)[:1000]}")
    if answer is not None:
        lines.append(f"< {answer.status}")
        lines.append(f"< {answer.body[:2000].decode(errors='replace')}")
    return "\n".join(lines)


def _read(path: str | None) -> bytes:
    assert path is not None
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise ValueError(f"body_file {path}: {err.strerror}") from err


def _same(found: Any, expected: Any) -> bool:
    return found == expected or str(found) == str(expected)


def _masked(header: str, value: str) -> str:
    return f"{value[:8]}..." if header.lower() == "x-auth-token" else value
