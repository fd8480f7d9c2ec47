"""``inv build --check-reproducible``: build twice with nothing cached, and compare.

The selection is built twice with ``--no-cache`` (every step of the graph
runs each time, the shared images included), and each image's
ID (its config digest: labels, history, dates and every layer's digest) is
compared with the first build's; with ``--push``, the manifest digest each
push left in the registry. Where they differ, both images are read back
(``docker save``) and the report names what differs: a config field, or a
layer's file by path and by what (content, mtime, mode, owner, tar headers, only in one),
or that a layer holds the same files in another order.

BuildKit's cache mounts (uv's wheel cache, apt's archives) are not cleared:
they are shared by every build on the engine. A wheel built from an sdist is
then built once, not twice; bench/reproducible.py prunes them for a cold
comparison.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from imageforge.config.manifest import Pair
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.image import registry
from imageforge.image.build import BuildOptions, build_services
from imageforge.report import CheckReport, Finding

# Per file of a layer: what a rebuild must reproduce.
_FIELDS = ("type", "mode", "owner", "mtime", "size", "content", "headers")
_SHOWN = 20  # differing files named per layer; the rest are counted


def check_reproducible(
    forge: Forge, pairs: Sequence[Pair], options: BuildOptions
) -> list[CheckReport]:
    """Build ``pairs``, build them again from nothing cached, and report each image.

    Local builds compare image IDs; pushed ones (``options.push``) the
    manifest digests the registry holds after each push, and where those
    differ, the two images pulled back by digest.
    """
    identify = _manifest_digest if options.push else docker.image_id
    # Both builds cold: a first build answered from the cache would hand on
    # layers some earlier build wrote, and BuildKit does not always write the
    # same tar (the order of a layer's entries depends on how it computed the
    # diff then: lexically, or folder by folder).
    cold = replace(forge, buildx_args=(*forge.buildx_args, "--no-cache"))
    built = build_services(cold, pairs, replace(options, force=True))
    first = {r.reference: identify(r.reference) for r in built}
    summary = forge.build_dir / "summary-rebuild.json"
    rebuilt = build_services(cold, pairs, replace(options, force=True, summary_json=summary))
    what = "manifest digest" if options.push else "image ID"
    reports = []
    for result in rebuilt:
        before, after = first.get(result.reference), identify(result.reference)
        report = CheckReport(result.reference, f"{result.reference}: built twice, with no cache")
        if before and before == after:
            report.findings.append(Finding(what, True, f"{after} both times"))
        elif before and after:
            report.findings.append(Finding(what, False, f"{before}, then {after}"))
            a, b = (
                _local(result.reference, before, options.push),
                _local(result.reference, after, options.push),
            )
            for line in differences(a, b):
                report.findings.append(Finding("differs", False, line))
            if not options.push:  # dangling now: the rebuild has its tags
                docker.run(["image", "rm", before], check=False)
        else:
            report.findings.append(Finding(what, False, f"{result.reference} is not here"))
        reports.append(report)
    return reports


def _manifest_digest(reference: str) -> str | None:
    return str(registry.manifest_of(reference)["digest"])


def _local(reference: str, identity: str, pushed: bool) -> str:
    """A local name of the image ``identity`` names: its ID, or pulled back by digest."""
    if not pushed:
        return identity
    by_digest = f"{registry.repository_of(reference)}@{identity}"
    docker.run(["pull", "--quiet", by_digest])
    return by_digest


def differences(first: str, second: str) -> list[str]:
    """What differs between two local images: config fields, then each layer's files by path."""
    config_a, layers_a = image_contents(first)
    config_b, layers_b = image_contents(second)
    found = [
        f"config {name}: {_short(config_a.get(name))} vs {_short(config_b.get(name))}"
        for name in sorted(set(config_a) | set(config_b))
        if name != "rootfs" and config_a.get(name) != config_b.get(name)
    ]
    if len(layers_a) != len(layers_b):
        found.append(f"{len(layers_a)} layers vs {len(layers_b)}")
    for index, (files_a, files_b) in enumerate(zip(layers_a, layers_b, strict=False)):
        paths = [p for p in sorted(set(files_a) | set(files_b)) if files_a.get(p) != files_b.get(p)]
        for path in paths[:_SHOWN]:
            found.append(
                f"layer {index + 1}: /{path}: {_what_differs(files_a.get(path), files_b.get(path))}"
            )
        if len(paths) > _SHOWN:
            found.append(f"layer {index + 1}: {len(paths) - _SHOWN} more files differ")
        if not paths and list(files_a) != list(files_b):
            found.append(f"layer {index + 1}: the same files, in another order")
    if not found and config_a.get("rootfs") != config_b.get("rootfs"):
        found.append("the layers' digests differ, and nothing the report reads does")
    return found


def image_contents(image: str) -> tuple[dict, list[dict[str, dict[str, object]]]]:
    """An image's config, and per layer each file's type, mode, owner, mtime, size and digest."""
    with tempfile.TemporaryDirectory(prefix="forge-reproducible-") as folder:
        archive_path = Path(folder) / "image.tar"
        docker.run(["save", "--output", str(archive_path), image])
        with tarfile.open(archive_path) as archive:
            manifest = json.load(_member(archive, "manifest.json"))[0]
            config = json.load(_member(archive, manifest["Config"]))
            layers = [_layer_files(_member(archive, name)) for name in manifest["Layers"]]
    return config, layers


def _layer_files(handle) -> dict[str, dict[str, object]]:
    files: dict[str, dict[str, object]] = {}
    with tarfile.open(fileobj=handle, mode="r|") as layer:
        for member in layer:
            content = member.linkname
            if member.isfile():
                data = layer.extractfile(member)
                content = hashlib.sha256(data.read() if data else b"").hexdigest()
            files[member.name.lstrip("./")] = {
                "type": member.type.decode(),
                "mode": oct(member.mode),
                "owner": f"{member.uid}:{member.gid}",
                "mtime": member.mtime,
                "size": member.size,
                "content": content,
                # What else the tar says of it: extended attributes (PAX
                # records: overlayfs' opaque marks, capabilities), names, device.
                "headers": json.dumps(
                    [
                        sorted(member.pax_headers.items()),
                        member.uname,
                        member.gname,
                        member.devmajor,
                        member.devminor,
                    ]
                ),
            }
    return files


def _member(archive: tarfile.TarFile, name: str):
    handle = archive.extractfile(name)
    if handle is None:
        raise ForgeError(f"docker save wrote no {name}")
    return handle


def _what_differs(a: dict | None, b: dict | None) -> str:
    if a is None or b is None:
        return "only in the " + ("second" if a is None else "first")
    changed = [name for name in _FIELDS if a[name] != b[name]]
    detail = ", ".join(
        f"mtime {a['mtime']} vs {b['mtime']}" if name == "mtime" else name for name in changed
    )
    return detail


def _short(value: object) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."
