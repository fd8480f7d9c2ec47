"""``inv outdated``: the OS packages of an image that its apt sources now serve newer.

The content key skips an image whose inputs did not change, so a Debian
security fix never reaches an image by itself. This asks, in a container of
the image, its own apt sources (the base's main, updates and security
suites) for what they serve now, and lists each package with a newer version:
installed, available, and whether the newer one comes from a security suite.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from imageforge.config.manifest import Pair
from imageforge.context import Forge, ca_bundle
from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.image.build import BuildOptions
from imageforge.report import CheckReport, Finding
from imageforge.verify.service import current_image

# apt's "apt list --upgradable":
#   libssl3/oldstable-security 3.0.17-1~deb12u3 amd64 [upgradable from: 3.0.15-1~deb12u1]
_UPGRADABLE = re.compile(
    r"^(?P<package>[^/\s]+)/(?P<suites>\S+) (?P<available>\S+) \S+ "
    r"\[upgradable from: (?P<installed>[^\]]+)\]$"
)
_SCRIPT = (
    'ca=""; [ -s /run/cacert ] && ca="-o Acquire::https::CAInfo=/run/cacert"; '
    "apt-get -q $ca update >/dev/null 2>/tmp/update.err || { cat /tmp/update.err >&2; exit 3; }; "
    "apt list --upgradable 2>/dev/null"
)


@dataclass(frozen=True)
class Outdated:
    package: str
    installed: str
    available: str
    # Where the newer version comes from: "oldstable-security", "bookworm-updates", ...
    suites: tuple[str, ...]

    @property
    def security(self) -> bool:
        return any(suite.endswith("-security") for suite in self.suites)


def parse_upgradable(text: str) -> list[Outdated]:
    """Each upgradable package apt lists (its "Listing..." line and noise are skipped)."""
    found = []
    for line in text.splitlines():
        match = _UPGRADABLE.match(line.strip())
        if match:
            found.append(
                Outdated(
                    match["package"],
                    match["installed"],
                    match["available"],
                    tuple(match["suites"].split(",")),
                )
            )
    return found


def outdated_packages(image: str) -> list[Outdated]:
    """What ``image``'s apt sources serve newer than it has installed."""
    mounts = []
    bundle = ca_bundle()
    if bundle is not None:  # apt behind a TLS proxy
        mounts = ["--volume", f"{bundle}:/run/cacert:ro"]
    proc = docker.run(
        ["run", "--rm", "--user", "root", "--entrypoint", "sh", *mounts, image, "-c", _SCRIPT],
        check=False,
    )
    if proc.returncode != 0:
        words = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ForgeError(f"{image}: its apt sources could not be read: {words}")
    return parse_upgradable(proc.stdout)


def outdated_report(forge: Forge, pair: Pair, options: BuildOptions) -> CheckReport:
    """One row per outdated package of ``pair``'s current image; one passing row if none."""
    image, _inputs = current_image(forge, pair, options)
    found = outdated_packages(image)
    return report(f"{pair.project}/{pair.release}", image, found)


def report(name: str, image: str, found: Sequence[Outdated]) -> CheckReport:
    security = sum(item.security for item in found)
    heading = f"{image}: {len(found)} outdated OS packages ({security} security updates)"
    result = CheckReport(name, heading, column="PACKAGE")
    for item in sorted(found, key=lambda o: (not o.security, o.package)):
        kind = "security update" if item.security else "update"
        detail = (
            f"{item.installed} installed, {item.available} from {','.join(item.suites)} ({kind})"
        )
        result.findings.append(Finding(item.package, False, detail))
    if not found:
        result.findings.append(Finding("OS packages", True, "as new as the apt sources serve"))
    return result
