"""``inv audit``: known vulnerabilities in the Python packages of each image.

What an image ships is its venv; what it was resolved against is its
constraints. Both are listed (name, version) and asked, in one batch, of an
OSV querybatch endpoint (FORGE_VULN_URL; OSV's own by default). A package
with known vulnerabilities is a failing row naming their IDs.

No answer is never a pass: with FORGE_OFFLINE, or when the service cannot be
reached or answers something else than OSV's format, the task says so and
exits non-zero. A silent "no known vulnerabilities" would be a false pass.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass

from imageforge.config.manifest import Pair
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.image.build import BuildOptions
from imageforge.report import CheckReport, Finding
from imageforge.verify.service import current_image

_LIST_VENV = (
    "import importlib.metadata as m, json; "
    "print(json.dumps(sorted({(d.metadata['Name'], d.version) for d in m.distributions()})))"
)


class NoVulnerabilityData(ForgeError):
    """The vulnerability service gave no usable answer: nothing can be said to pass."""


@dataclass(frozen=True)
class Vulnerable:
    name: str
    version: str
    ids: tuple[str, ...]


def constraint_pins(text: str) -> set[tuple[str, str]]:
    """(name, version) of each ``name===version`` line (markers dropped, comments skipped)."""
    pins = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "===" in line:
            name, _, version = line.partition("===")
            pins.add((name.strip(), version.split(";", 1)[0].strip()))
    return pins


def venv_packages(image: str) -> set[tuple[str, str]]:
    """(name, version) of every distribution the image's python sees."""
    proc = docker.run(
        ["run", "--rm", "--entrypoint", "python3", image, "-c", _LIST_VENV], check=False
    )
    if proc.returncode != 0:
        raise ForgeError(
            f"{image}: could not list its Python packages: {proc.stderr.strip()[-300:]}"
        )
    return {(name, version) for name, version in json.loads(proc.stdout)}


def query(
    url: str, packages: Iterable[tuple[str, str]], *, offline: bool = False, timeout: float = 60
) -> list[Vulnerable]:
    """Ask ``url`` (OSV querybatch) about ``packages``; NoVulnerabilityData when it cannot."""
    asked = sorted(set(packages))
    if offline:
        raise NoVulnerabilityData(
            "FORGE_OFFLINE is set: no vulnerability data can be read, so nothing is said to pass"
        )
    body = {
        "queries": [
            {"package": {"name": name, "ecosystem": "PyPI"}, "version": version}
            for name, version in asked
        ]
    }
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
    except (urllib.error.URLError, OSError, ssl.SSLError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise NoVulnerabilityData(
            f"{url}: no vulnerability data ({reason}); nothing is said to pass"
        ) from err
    return parse_answer(url, asked, answer)


def parse_answer(url: str, asked: list[tuple[str, str]], answer: object) -> list[Vulnerable]:
    """OSV's batch answer: one result per query, in order; anything else is no data."""
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list) or len(results) != len(asked):
        raise NoVulnerabilityData(
            f"{url}: expected {len(asked)} results in OSV's querybatch format; nothing is said to pass"
        )
    found = []
    for (name, version), result in zip(asked, results, strict=True):
        vulns = result.get("vulns", []) if isinstance(result, dict) else None
        if not isinstance(vulns, list):
            raise NoVulnerabilityData(
                f"{url}: a result without a vulns list; nothing is said to pass"
            )
        if vulns:
            found.append(Vulnerable(name, version, tuple(sorted(str(v.get("id")) for v in vulns))))
    return found


def audit_report(forge: Forge, pair: Pair, options: BuildOptions) -> CheckReport:
    image, inputs = current_image(forge, pair, options)
    packages = venv_packages(image)
    if inputs.constraints is not None:
        packages |= constraint_pins(inputs.constraints.content)
    found = query(forge.vulnerability_url, packages, offline=forge.offline)
    return report(f"{pair.project}/{pair.release}", image, len(packages), found)


def report(name: str, image: str, asked: int, found: list[Vulnerable]) -> CheckReport:
    heading = f"{image}: {asked} Python packages asked, {len(found)} with known vulnerabilities"
    result = CheckReport(name, heading, column="PACKAGE")
    for item in found:
        result.findings.append(Finding(f"{item.name} {item.version}", False, ", ".join(item.ids)))
    if not found:
        result.findings.append(Finding("Python packages", True, "no known vulnerabilities"))
    return result
