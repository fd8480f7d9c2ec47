"""The OS package lock: the exact Debian packages each built image installed.

Most of an image's packages are known only once it is built (its libraries'
packages come from the build's library scan), so they are read from the
image itself, from its dpkg database, right after the build, and kept in
``build/packages/<release>.json`` beside the digest lock (build/published):

    {"keystone": {"image": "sha256:...", "inputs": "...", "key": "...",
                  "suite": "bookworm", "packages": {"libssl3": "3.0.17-1~deb12u3", ...}}}

The content key of the next build takes, for each recorded package, the
version the distribution serves now (image.aptindex), so an update of one
package rebuilds exactly the images that contain it; offline, the recorded
versions stand. ``key`` is the key the image answers to once recorded: the
one a plan computes from this record while the index is unchanged.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from imageforge.config.manifest import Pair
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.host.files import file_lock, under, write_atomically
from imageforge.image import aptindex
from imageforge.image.key import final_key

_READ = ("/var/lib/dpkg/status", "/etc/os-release")


def lock_path(forge: Forge, release: str) -> Path:
    return under(forge.build_dir / "packages", f"{release}.json")


def entry_name(service: str, platform: str | None) -> str:
    """keystone; keystone@linux/arm64 for one platform of several."""
    return f"{service}@{platform}" if platform else service


def read_lock(path: Path) -> dict[str, dict]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as err:
        raise ForgeError(f"{path}: not a package lock ({err}); delete it and build again") from err
    for name, entry in data.items() if isinstance(data, dict) else [("", None)]:
        packages = entry.get("packages") if isinstance(entry, dict) else None
        if not isinstance(packages, dict) or not all(isinstance(v, str) for v in packages.values()):
            where = f" at {name!r}" if name else ""
            raise ForgeError(
                f"{path}: not a package lock{where} (expected each image's object with "
                '"packages": {name: version}); delete it and build again'
            )
    return data


def recorded(forge: Forge, release: str, name: str) -> dict | None:
    return read_lock(lock_path(forge, release)).get(name)


def installed_packages(image: str) -> tuple[str, dict[str, str]]:
    """(suite codename, {package: version}) of ``image``, read from its files, nothing run."""
    created = docker.run(["create", image, "true"], check=False)
    if created.returncode != 0:
        raise ForgeError(f"{image}: cannot read its packages ({docker.last_words(created.stderr)})")
    container = created.stdout.strip()
    try:
        texts = {path: _copy_out(container, path) for path in _READ}
    finally:
        docker.run(["rm", "--force", container], check=False)
    return _codename(texts["/etc/os-release"]), parse_status(texts["/var/lib/dpkg/status"])


def parse_status(text: str) -> dict[str, str]:
    """{package: version} of what dpkg's status file says is installed."""
    found: dict[str, str] = {}
    for stanza in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " "
        )
        if fields.get("Status", "").endswith(" installed") and "Package" in fields:
            found[fields["Package"]] = fields.get("Version", "")
    return found


def served_for(forge: Forge, entry: dict) -> dict[str, str]:
    """Each recorded package at the version the index serves now (recorded when unknown or offline)."""
    packages: dict[str, str] = entry.get("packages", {})
    if forge.offline:
        return dict(packages)
    files = aptindex.suite_files(aptindex.index_files(forge), entry.get("suite", ""))
    served = aptindex.served_versions(files, forge.cache)
    return {name: served.get(name, version) for name, version in packages.items()}


def key_for(forge: Forge, input_key: str, entry: dict | None, *, pinned: bool = False) -> str:
    """The content key of an image whose inputs give ``input_key`` and whose lock entry is ``entry``.

    Offline, or with its packages pinned to the record, the record stands: the
    key it gave, while the inputs are those it was made for.
    """
    if entry is None:
        return input_key
    stands = forge.offline or pinned
    if stands and entry.get("inputs") == input_key and entry.get("key"):
        return str(entry["key"])
    return final_key(input_key, entry.get("packages", {}) if pinned else served_for(forge, entry))


def pins(forge: Forge, pairs: Sequence[Pair]) -> dict[str, str]:
    """Every package the lock records for the images of ``pairs``, at its recorded version.

    One version per package: images recorded on different days may disagree,
    and one build cannot pin both.
    """
    chosen: dict[str, tuple[str, str]] = {}
    for pair in pairs:
        lock = read_lock(lock_path(forge, pair.release))
        for name, entry in lock.items():
            if name.split("@", 1)[0] != pair.project:
                continue
            for package, version in entry.get("packages", {}).items():
                known = chosen.setdefault(package, (version, f"{name} ({pair.release})"))
                if known[0] != version:
                    raise ForgeError(
                        f"--pin-packages: {package} is recorded at {known[0]} for {known[1]} "
                        f"and at {version} for {name} ({pair.release}); pin them in two builds"
                    )
    if not chosen:
        raise ForgeError(
            "--pin-packages: the package lock records none of these images; build them once first"
        )
    return {package: version for package, (version, _) in chosen.items()}


@dataclass(frozen=True)
class Record:
    image: str  # the image's ID
    inputs: str  # its inputs' key (its label)
    key: str  # the key it answers to: the inputs' with its packages as served when recorded
    suite: str  # its distribution's codename
    packages: dict[str, str]


def record(forge: Forge, release: str, name: str, entry: Record) -> Path:
    path = lock_path(forge, release)
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.with_name(f".{path.name}.lock")):
        current = read_lock(path)
        current[name] = asdict(entry)
        write_atomically(path, json.dumps(current, indent=2, sort_keys=True) + "\n")
    return path


def _copy_out(container: str, path: str) -> str:
    proc = docker.run_bytes(["cp", "--follow-link", f"{container}:{path}", "-"])
    with tarfile.open(fileobj=io.BytesIO(proc), mode="r:") as archive:
        member = next((m for m in archive if m.isfile()), None)
        handle = archive.extractfile(member) if member else None
        return handle.read().decode("utf-8", "replace") if handle else ""


def _codename(os_release: str) -> str:
    for line in os_release.splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return ""
