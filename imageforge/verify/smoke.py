"""Smoke checks: per-service checks kept as data, plus the policy every image must pass.

``images/<service>/smoke.yaml`` lists commands and what they must answer;
``{version}`` stands for the upstream version. The policy checks run in every
image: the service user, no build tools or headers, a consistent venv, every
pinned distribution at its pin, and every installed file that a patch changed
byte-identical to the patched source. Checks run with no network; a failure
names the check, the command, what was expected and what came back.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from imageforge.config.yamlnodes import load_document
from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.host.process import last_words
from imageforge.patches.export import Export
from imageforge.report import CheckReport, Finding
from imageforge.verify.runner import ImageRunner, probe, probe_runner

SERVICE_UID = "42424"
BUILD_TOOLS = ("gcc", "cc", "c++", "make", "git", "uv")
NOLOGIN_SHELLS = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false")
# The only places a world-writable entry belongs (sticky scratch folders).
WORLD_WRITABLE_OK = ("/tmp", "/var/tmp", "/run/lock")
# Found as root, so unreadable folders hide nothing; -xdev keeps to the image's
# own files (not /proc, /sys or the probe mount).
_SETUID_FILES = "find / -xdev -type f -perm /6000 2>/dev/null; true"
_WORLD_WRITABLE = (
    "find / -xdev "
    + " ".join(f"-path {p} -prune -o" for p in WORLD_WRITABLE_OK)
    + " ! -type l -perm -0002 -print 2>/dev/null; true"
)
_CHECK_KEYS = {"name", "command", "exit", "stdout", "stdout_contains"}


@dataclass(frozen=True)
class Check:
    name: str
    command: tuple[str, ...]
    exit: int = 0
    stdout: str | None = None
    stdout_contains: str | None = None


def load_checks(path: Path) -> list[Check]:
    """Read a smoke.yaml; a mistake names the file, line and key."""
    document = load_document(path)
    data = document.data
    if (
        not isinstance(data, dict)
        or set(data) != {"checks"}
        or not isinstance(data["checks"], list)
    ):
        raise document.error((), "expected a mapping with one key, checks: a list of checks")
    checks = []
    for index, entry in enumerate(data["checks"]):
        where = ("checks", str(index))
        if not isinstance(entry, dict):
            raise document.error(
                where, "expected a mapping (name, command, exit, stdout, stdout_contains)"
            )
        for key in entry:
            if key not in _CHECK_KEYS:
                raise document.error(
                    (*where, key),
                    f"unknown key (expected one of: {', '.join(sorted(_CHECK_KEYS))})",
                )
        command = entry.get("command")
        if (
            not isinstance(command, list)
            or not command
            or not all(isinstance(c, str) for c in command)
        ):
            raise document.error((*where, "command"), "expected a non-empty list of strings")
        if not isinstance(entry.get("name"), str):
            raise document.error((*where, "name"), "expected a string")
        exit_code = entry.get("exit", "0")
        if not str(exit_code).isdigit():
            raise document.error((*where, "exit"), "expected an exit status (a number)")
        for key in ("stdout", "stdout_contains"):
            if key in entry and not isinstance(entry[key], str):
                raise document.error((*where, key), "expected a string")
        checks.append(
            Check(
                name=entry["name"],
                command=tuple(command),
                exit=int(exit_code),
                stdout=entry.get("stdout"),
                stdout_contains=entry.get("stdout_contains"),
            )
        )
    return checks


def run_check(runner: ImageRunner, check: Check, version: str) -> Finding:
    command = tuple(part.replace("{version}", version) for part in check.command)
    status, out, err = runner.run(command)
    shown = shlex.join(command)
    if status != check.exit:
        said = _tail(err or out)
        return Finding(
            check.name, False, f"`{shown}`: expected exit {check.exit}, got {status}: {said}"
        )
    if check.stdout is not None:
        expected = check.stdout.replace("{version}", version)
        if out != expected:
            return Finding(
                check.name, False, f"`{shown}`: expected output {expected!r}, got {_tail(out)!r}"
            )
    if check.stdout_contains is not None:
        expected = check.stdout_contains.replace("{version}", version)
        if expected not in out:
            return Finding(
                check.name,
                False,
                f"`{shown}`: expected output containing {expected!r}, got {_tail(out)!r}",
            )
    return Finding(check.name, True)


def policy_checks(
    runner: ImageRunner, exports: Sequence[Export], has_constraints: bool, *, python: bool = True
) -> list[Finding]:
    """The image policy; the venv checks only where there is a venv (python images)."""
    results = [
        _expect(runner, "runs as UID 42424", ("id", "-u"), SERVICE_UID),
        _expect(runner, "runs as GID 42424", ("id", "-g"), SERVICE_UID),
        _login_shell(runner),
        _expect(
            runner,
            "no compiler, make, git or uv",
            ("sh", "-c", f"for t in {' '.join(BUILD_TOOLS)}; do command -v $t; done; true"),
            "",
        ),
        _expect(
            runner,
            "no Python headers",
            ("sh", "-c", "ls /usr/include/python3*/Python.h 2>/dev/null; true"),
            "",
        ),
        _none_found(runner, "no setuid or setgid file", _SETUID_FILES),
        _none_found(
            runner,
            f"no world-writable file outside {', '.join(WORLD_WRITABLE_OK)}",
            _WORLD_WRITABLE,
        ),
    ]
    if not python:  # built from C: no venv, and no python in the image to probe with
        return results
    results.append(_probe(runner, "venv is consistent", ("consistency",)))
    if has_constraints:
        results.append(
            _probe(
                runner,
                "installed versions match the pins",
                ("pins", "/forge-check/constraints.txt"),
            )
        )
    results.append(_patched(runner, exports))
    return results


def smoke_image(
    image: str,
    version: str,
    checks: list[Check],
    exports: Sequence[Export],
    constraints: str | None,
    *,
    python: bool = True,
) -> list[Finding]:
    """Every service check and policy check against ``image``."""
    with probe_runner(image, exports, constraints) as runner:
        results = [run_check(runner, check, version) for check in checks]
        return results + policy_checks(runner, exports, constraints is not None, python=python)


def image_facts(image: str) -> tuple[int, int]:
    """Size in bytes and number of layers."""
    size = int(docker.run(["image", "inspect", "--format", "{{.Size}}", image]).stdout)
    layers = json.loads(
        docker.run(["image", "inspect", "--format", "{{json .RootFS.Layers}}", image]).stdout
    )
    return size, len(layers)


def report(name: str, image: str, results: list[Finding]) -> CheckReport:
    size, layers = image_facts(image)
    return CheckReport(name, f"{image}: {size / 1e6:.1f} MB, {layers} layers", results)


def _expect(runner: ImageRunner, name: str, command: tuple[str, ...], expected: str) -> Finding:
    status, out, err = runner.run(command)
    if status != 0 or out != expected:
        got = out if status == 0 else f"exit {status}: {_tail(err or out)}"
        return Finding(name, False, f"`{shlex.join(command)}`: expected {expected!r}, got {got!r}")
    return Finding(name, True)


def _none_found(runner: ImageRunner, name: str, script: str) -> Finding:
    """A check that a root-run ``find`` lists nothing; on failure, what it listed."""
    status, out, err = runner.run(("sh", "-c", script), user="0")
    if status != 0:
        return Finding(name, False, f"exit {status}: {_tail(err or out)}")
    found = sorted(out.split())
    if found:
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        return Finding(name, False, f"found {', '.join(found[:5])}{more}")
    return Finding(name, True)


def _login_shell(runner: ImageRunner) -> Finding:
    command = ("sh", "-c", "getent passwd $(id -u) | cut -d: -f7")
    status, out, err = runner.run(command)
    if status != 0 or out not in NOLOGIN_SHELLS:
        return Finding(
            "no login shell",
            False,
            f"`{shlex.join(command)}`: expected one of {', '.join(NOLOGIN_SHELLS)}, got {out or _tail(err)!r}",
        )
    return Finding("no login shell", True)


def _probe(runner: ImageRunner, name: str, args: tuple[str, ...]) -> Finding:
    try:
        problems = probe(runner, *args)
    except ForgeError as err:
        return Finding(name, False, str(err))
    if problems:
        return Finding(name, False, f"expected none, got: {'; '.join(problems)}")
    return Finding(name, True)


def _patched(runner: ImageRunner, exports: Sequence[Export]) -> Finding:
    name = "patched files are the installed ones"
    if not any(e.patches for e in exports):
        return Finding(name, True, "no patches applied")
    compared: list[str] = []
    for export in exports:
        paths = list(export.patched_files)
        if not paths:
            continue
        try:
            found = probe(runner, "patched", f"/forge-check/trees/{export.project}", *paths)
        except ForgeError as err:
            return Finding(name, False, str(err))
        if found["problems"]:
            problems = "; ".join(found["problems"])
            return Finding(name, False, f"expected the patched files, got: {problems}")
        compared += [f"{export.project}:{p}" for p in found["compared"]]
    if not compared:
        return Finding(
            name,
            True,
            "no patched file is installed (tests or docs only, or a patched library this image does not use)",
        )
    return Finding(name, True, f"{len(compared)} files identical")


def _tail(text: str) -> str:
    return last_words(text, limit=200, default="")
