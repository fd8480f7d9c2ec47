"""The digest lock: what a push published, by digest, per release.

``build/published/<release>.json`` maps each pushed service to its image
reference, manifest digest, the digest of each platform when the push was a
manifest list, its tags, its content key and the sha256 of its SBOM when one was written.
Deployments pin by these digests; a list of several platforms keeps each
platform's own digest too, since a digest of one platform is a known trap.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host.files import file_lock, under, write_atomically
from imageforge.image.registry import manifest_of, platform_digests


def lock_path(forge: Forge, release: str) -> Path:
    return under(forge.build_dir / "published", f"{release}.json")


def record_push(
    forge: Forge,
    release: str,
    service: str,
    reference: str,
    tags: tuple[str, ...],
    sboms: dict[str, Path] | None = None,
    key: str = "",
) -> Path:
    """Add (or replace) ``service``'s entry in the release's digest lock; returns the file."""
    manifest = manifest_of(reference)
    entry: dict = {"reference": reference, "digest": manifest["digest"], "tags": list(tags)}
    platforms = platform_digests(manifest)
    if platforms:
        entry["platforms"] = platforms
    if key:
        entry["key"] = key
    for platform, sbom in (sboms or {}).items():
        digest = hashlib.sha256(sbom.read_bytes()).hexdigest()
        if platform:  # one SBOM per platform of a manifest list
            entry.setdefault("platform_sbom_sha256", {})[platform] = digest
        else:
            entry["sbom_sha256"] = digest
    path = lock_path(forge, release)
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.with_name(f".{path.name}.lock")):
        current = read_lock(path)
        current[service] = entry
        write_atomically(path, json.dumps(current, indent=2, sort_keys=True) + "\n")
    forge.log(f"{service} ({release}): {manifest['digest']} recorded in {path}")
    return path


def read_lock(path: Path) -> dict[str, dict]:
    """The digest lock's entries; a missing file is empty, a damaged one is one line."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as err:
        raise ForgeError(
            f"{path}: not a digest lock ({err}); restore it from version control or delete it "
            "and push again"
        ) from err
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ForgeError(
            f"{path}: not a digest lock (expected an object of service entries); restore it "
            "from version control or delete it and push again"
        )
    return data
