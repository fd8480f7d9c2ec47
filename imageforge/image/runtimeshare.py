"""A release's shared runtime layers: the OS packages several Python images install.

glance, cinder and nova-compute each install ceph-common and qemu-utils in
their own runtime layer: the same hundred-odd megabytes, stored and pulled
once per image. The OS packages cannot be copied as a layer the way the
venv's shared parts are (dpkg's database is one file every install
rewrites), so they are shared the other way: as stages the images build
FROM. A stage serves a group of images and installs packages every one of
them asks for itself (releases.yaml's runtime_packages and bindings); an
image's runtime stage then starts from the smallest stage that serves it
instead of python-base, and installs only the rest. A stage's parent is the
next larger group, so the groups nest (each image has one chain):

    python-base -> [qemu-utils]            nova glance cinder nova-compute
                -> [ceph-common, ...]      glance cinder nova-compute

The plan is greedy, by the bytes the stage saves (its estimated size,
image.aptsize, times the images beyond the first it serves), with at most
``RUNTIME_DEPTH`` stages in a chain, and fixed per release: every Python
image of the release counts, whatever is built with it. No image gets a
package it does not ask for: a stage installs only packages all of its
images name, and with them what apt brings for them, as it would in the
image's own step.

FORGE_SHARED_DEPS=0 plans no stage (bench/shared_deps.py compares).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from imageforge.context import Forge
from imageforge.image import aptsize, platforms
from imageforge.image.bake import target_context
from imageforge.image.plan import SHARED_EPOCH, ImageBuild, shared_image_tag

NAME = "shared-runtime"
# Stages in one image's chain, at most: each is a layer every image of it has.
RUNTIME_DEPTH = 3
# A stage must save this much over the images it serves to be worth a layer.
MIN_SAVING = 1 << 20


@dataclass(frozen=True)
class RuntimeStage:
    """One shared stage: the images it serves and what it installs on its parent."""

    images: frozenset[str]
    packages: tuple[str, ...]
    parent: RuntimeStage | None

    @property
    def digest(self) -> str:
        """Its identity: the packages of its chain, so the same chain is one stage everywhere."""
        above = self.parent.digest if self.parent else ""
        return hashlib.sha256(f"{above}\n{' '.join(self.packages)}".encode()).hexdigest()[:16]

    def chain(self) -> list[RuntimeStage]:
        """Its parents and itself, python-base's child first."""
        return [*(self.parent.chain() if self.parent else []), self]


def plan_stages(
    wants: Mapping[str, frozenset[str]],
    weight: Callable[[frozenset[str]], int],
    depth: int = RUNTIME_DEPTH,
) -> list[RuntimeStage]:
    """The stages for images asking for ``wants`` (image -> packages), larger groups first.

    ``weight`` estimates the bytes of installing a set of packages. A stage
    serving the images V holds what all of V ask for and its parent (the
    smallest chosen group containing V) does not hold. Candidates are the
    groups of images asking for one same package, and their intersections;
    the one adding the most to the total saving comes next, as long as the
    groups stay nested and no chain is longer than ``depth``.
    """
    users: dict[str, frozenset[str]] = {}
    for image, packages in wants.items():
        for package in packages:
            users[package] = users.get(package, frozenset()) | {image}
    candidates = {group for group in users.values() if len(group) >= 2}
    grown = True
    while grown:
        meets = {a & b for a in candidates for b in candidates if len(a & b) >= 2}
        grown = not meets <= candidates
        candidates |= meets

    def held(group: frozenset[str] | None) -> frozenset[str]:
        return frozenset(p for p, u in users.items() if group is not None and group <= u)

    def parent(group: frozenset[str], family: list[frozenset[str]]) -> frozenset[str] | None:
        above = [other for other in family if group < other]
        return min(above, key=len) if above else None

    def saving(family: list[frozenset[str]]) -> int:
        return sum(
            (len(group) - 1) * (weight(held(group)) - weight(held(parent(group, family))))
            for group in family
        )

    def fits(group: frozenset[str], family: list[frozenset[str]]) -> bool:
        nested = all(group <= o or o <= group or not group & o for o in family)
        return nested and all(
            sum(image in other for other in [*family, group]) <= depth for image in group
        )

    family: list[frozenset[str]] = []
    while True:
        now = saving(family)
        gains = [
            (saving([*family, group]) - now, sorted(group))
            for group in candidates - set(family)
            if fits(group, family)
        ]
        best = max(gains, default=None)
        if best is None or best[0] < MIN_SAVING:
            break
        family.append(frozenset(best[1]))
    stages: dict[frozenset[str], RuntimeStage] = {}
    for group in sorted(family, key=lambda g: (-len(g), sorted(g))):
        above = parent(group, family)
        packages = held(group) - held(above)
        stages[group] = RuntimeStage(
            group, tuple(sorted(packages)), stages[above] if above else None
        )
    return list(stages.values())


def runtime_plan(forge: Forge, release: str) -> dict[str, RuntimeStage]:
    """Each Python image of ``release`` that a stage serves -> the smallest such stage."""
    memo_key = ("runtime-stages", release, forge.shared_deps)
    if memo_key in forge.memo:
        return forge.memo[memo_key]
    found: dict[str, RuntimeStage] = {}
    if forge.shared_deps:
        rel = forge.manifest.release(release)
        wants = {
            s.name: frozenset((*s.runtime_packages, *s.bindings))
            for s in rel.services
            if s.is_python
        }

        def weight(packages: frozenset[str]) -> int:
            # Read only when two images ask for one same package.
            sizes = aptsize.package_sizes(forge)
            if sizes.known:
                return sizes.bytes_of(packages)
            return len(packages) * aptsize.UNKNOWN_BYTES

        for stage in plan_stages(wants, weight):
            for image in stage.images:
                if image not in found or len(stage.images) < len(found[image].images):
                    found[image] = stage
    forge.memo[memo_key] = found
    return found


def runtime_steps(
    images: Path,
    stage: RuntimeStage,
    python_base: ImageBuild,
    base_image: str,
    apt_state: tuple[str, Path | str],
    platform: str | None,
) -> list[ImageBuild]:
    """The bake steps of ``stage``'s chain on ``python_base``, its own last."""
    steps: list[ImageBuild] = []
    parent = python_base
    for each in stage.chain():
        tag = shared_image_tag(NAME, f"{each.digest}-{base_image}")
        step = ImageBuild(
            name=NAME,
            folder=images / NAME,
            tags=(platforms.local_tag(tag, platform),),
            build_args=(
                ("PARENT_IMAGE", parent.tags[0]),
                ("PACKAGES", " ".join(each.packages)),
                ("SOURCE_DATE_EPOCH", SHARED_EPOCH),
            ),
            contexts=(target_context(parent), apt_state),
            ca_bundle=python_base.ca_bundle,
            platform=platform,
        )
        steps.append(step)
        parent = step
    return steps
