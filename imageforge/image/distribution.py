"""Images with no git source: the distribution's packages, at the versions it serves.

libvirt's image is libvirtd and QEMU as the base distribution packages them,
as Atmosphere's libvirtd image is (releases.yaml: ``build: distribution``).
What stands for its source is the list of its packages with the exact
versions the distribution's archive serves for the base image, asked of apt
in a container of that base image and kept under build/distribution/ for a
day (offline, for as long as it is there). The export is a folder holding
that list (``packages.txt``, ``name=version`` per line):

* the Dockerfile installs exactly those versions;
* the content key follows them, so a security update in the archive changes
  the list and the image is built again, and nothing else does;
* the image's version and tags are those of ``version_from``
  (libvirt-daemon-system 9.0.0-4+deb12u2 gives the tag 9.0.0-4-deb12u2).
"""

from __future__ import annotations

import hashlib
import json
import shlex
import time
from pathlib import Path

from imageforge.config.manifest import Pair
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.host.files import under, write_atomically
from imageforge.image.key import base_identity
from imageforge.image.plan import CA_SECRET_ID
from imageforge.patches.export import Export

PACKAGES_FILE = "packages.txt"
# How long an answer of the archive is taken as current.
FRESH_SECONDS = 24 * 3600


def distribution_export(forge: Forge, pair: Pair, base_image: str) -> Export:
    """The export of a ``build: distribution`` image: its packages at their versions."""
    service = forge.manifest.release(pair.release).service(pair.project)
    assert service.version_from is not None
    versions = served_versions(forge, base_image, service.runtime_packages)
    text = "".join(f"{name}={versions[name]}\n" for name in service.runtime_packages)
    tree = under(forge.build_dir / "sources", pair.release, pair.project)
    tree.mkdir(parents=True, exist_ok=True)
    listing = tree / PACKAGES_FILE
    if not listing.is_file() or listing.read_text() != text:
        write_atomically(listing, text)
    version = versions[service.version_from]
    forge.log(f"{pair}: {service.version_from} {version} from {base_image}'s archive")
    return Export(
        project=pair.project,
        release=pair.release,
        repo="",
        ref=version,
        commit="",
        version=version,
        package=service.version_from,
        tree=tree,
        tree_digest=hashlib.sha256(text.encode()).hexdigest(),
        python=False,
    )


def served_versions(forge: Forge, base_image: str, packages: tuple[str, ...]) -> dict[str, str]:
    """The version of each of ``packages`` that ``base_image``'s apt would install now."""
    digest = hashlib.sha256(json.dumps([base_identity(base_image), packages]).encode()).hexdigest()
    answer = forge.build_dir / "distribution" / f"{digest[:24]}.json"
    try:
        kept = json.loads(answer.read_text())
        if forge.offline or time.time() - kept["asked"] < FRESH_SECONDS:
            return dict(kept["versions"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if forge.offline:
        raise ForgeError(
            f"{base_image}: the versions of {', '.join(packages)} are not known yet, and "
            "FORGE_OFFLINE forbids asking the archive"
        )
    versions = _ask_apt(forge, base_image, packages)
    answer.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(answer, json.dumps({"asked": time.time(), "versions": versions}) + "\n")
    return versions


def _ask_apt(forge: Forge, base_image: str, packages: tuple[str, ...]) -> dict[str, str]:
    ca = f"-o Acquire::https::CAInfo=/run/secrets/{CA_SECRET_ID}" if forge.ca_bundle else ""
    script = (
        f"apt-get {ca} update -qq >/dev/null && "
        f"apt-cache policy {' '.join(shlex.quote(p) for p in packages)}"
    )
    args = ["run", "--rm"]
    if forge.ca_bundle:
        args += ["--volume", f"{Path(forge.ca_bundle).resolve()}:/run/secrets/{CA_SECRET_ID}:ro"]
    proc = docker.run([*args, base_image, "sh", "-c", script], check=False, timeout=300)
    if proc.returncode != 0:
        raise ForgeError(
            f"{base_image}: apt could not say which versions it serves: "
            f"{(proc.stderr or proc.stdout).strip()[-300:]}"
        )
    versions = parse_policy(proc.stdout)
    missing = [p for p in packages if versions.get(p, "(none)") == "(none)"]
    if missing:
        raise ForgeError(f"{base_image}: the archive has no {', '.join(missing)}")
    return {p: versions[p] for p in packages}


def parse_policy(text: str) -> dict[str, str]:
    """``apt-cache policy`` output as package: candidate version."""
    found: dict[str, str] = {}
    package = None
    for line in text.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            package = line[:-1]
        elif package and line.strip().startswith("Candidate:"):
            found[package] = line.split(":", 1)[1].strip()
    return found
