"""Runs INSIDE an image (with the image's python3) to inspect its venv; prints JSON.

Only the standard library and ``packaging`` (mounted beside this file by the
forge, since a venv need not contain it) are used.

    python3 probe.py consistency             missing or conflicting requirements
    python3 probe.py pins CONSTRAINTS        installed versions that differ from the pins
    python3 probe.py patched TREE PATH...    installed copies of patched files that differ
    python3 probe.py dists                   every distribution: name, version, license, dist-info
"""

import hashlib
import json
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name


def installed():
    found: dict = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonicalize_name(name), dist)
    return found


def consistency():
    dists = installed()
    problems = []
    for _key, dist in sorted(dists.items()):
        for text in dist.requires or []:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            other = dists.get(canonicalize_name(requirement.name))
            if other is None:
                problems.append(
                    f"{dist.metadata['Name']} requires {requirement}, which is not installed"
                )
            elif not requirement.specifier.contains(other.version, prereleases=True):
                problems.append(
                    f"{dist.metadata['Name']} requires {requirement}, but {other.metadata['Name']} {other.version} is installed"
                )
    return problems


# The distribution's bindings (releases.yaml's bindings), linked here by
# install-runtime: their version is the distribution's on purpose (it matches
# its libvirt and librados), so the constraints' PyPI pin does not apply.
BINDINGS = "/usr/local/lib/forge-bindings/"


def pins(constraints):
    dists = {
        name: dist
        for name, dist in installed().items()
        if not str(getattr(dist, "_path", "")).startswith(BINDINGS)
    }
    problems = []
    for line in Path(constraints).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.marker and not requirement.marker.evaluate():
            continue
        dist = dists.get(canonicalize_name(requirement.name))
        if dist is not None and not requirement.specifier.contains(dist.version, prereleases=True):
            problems.append(
                f"{dist.metadata['Name']} {dist.version} is installed, the constraints pin {requirement.specifier}"
            )
    return problems


def patched(tree, paths):
    purelib = Path(sysconfig.get_paths()["purelib"])
    compared, problems = [], []
    for path in paths:
        installed_copy = purelib / path
        if not installed_copy.is_file():
            continue  # tests, docs, setup files: not installed
        compared.append(path)
        want = hashlib.sha256((Path(tree) / path).read_bytes()).hexdigest()
        got = hashlib.sha256(installed_copy.read_bytes()).hexdigest()
        if want != got:
            problems.append(f"{installed_copy} differs from the patched source {path}")
    return {"compared": compared, "problems": problems}


def dists():
    found = []
    for dist in metadata.distributions():
        meta = dist.metadata
        classifiers = [
            c.split(" :: ")[-1]
            for c in meta.get_all("Classifier") or []
            if c.startswith("License ::")
        ]
        found.append(
            {
                "name": meta["Name"],
                "version": dist.version,
                "license_expression": _first(meta, "License-Expression"),
                "license": _first(meta, "License").strip(),
                "license_classifiers": classifiers,
                "dist_info": getattr(dist, "_path", Path("")).name,
            }
        )
    return sorted(found, key=lambda d: canonicalize_name(d["name"] or ""))


def _first(meta, field):
    return (meta.get_all(field) or [""])[0] or ""


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "consistency":
        print(json.dumps(consistency()))
    elif mode == "pins":
        print(json.dumps(pins(args[0])))
    elif mode == "dists":
        print(json.dumps(dists()))
    elif mode == "patched":
        print(json.dumps(patched(args[0], args[1:])))
    else:
        raise SystemExit(f"unknown mode {mode}")
