"""Invoke tasks: thin wrappers that parse arguments and call imageforge.

`inv --list` shows them; `inv --help TASK` shows each argument.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from invoke import Collection, Exit, task

from imageforge import baseimage, imagebuild, imagecheck, patchqueue, refresh
from imageforge import bump as bumping
from imageforge.buildinputs import export_project, release_constraints
from imageforge.errors import ForgeError
from imageforge.manifest import Manifest, load_manifest
from imageforge.matrix import matrix_json, matrix_table
from imageforge.patchgate import check_patches, report_table
from imageforge.patchlint import lint_series
from imageforge.paths import build_dir, cache_dir, offline
from imageforge.series import discover

ROOT = Path(__file__).resolve().parent


def _manifest() -> Manifest:
    return load_manifest(os.environ.get("FORGE_MANIFEST", ROOT / "releases.yaml"))


def reports_errors(body):
    """Turn a ForgeError into one line on stderr and exit code 1, never a traceback."""

    @functools.wraps(body)
    def wrapper(*args, **kwargs):
        try:
            return body(*args, **kwargs)
        except ForgeError as err:
            raise Exit(f"error: {err}", code=1) from None

    return wrapper


@task(name="list")
@reports_errors
def list_(c):
    """Print the release x service matrix with each service's ref."""
    print(matrix_table(_manifest()))


@task
@reports_errors
def matrix(c):
    """Print the release x service matrix as JSON for a CI matrix."""
    print(matrix_json(_manifest()))


@task(
    help={
        "tag": f"name of the image to create (default {baseimage.DEFAULT_TAG})",
        "suite": "Debian suite to bootstrap (default bookworm)",
    }
)
@reports_errors
def base_image(c, tag=baseimage.DEFAULT_TAG, suite="bookworm"):
    """Create the local Debian base image from the host's apt mirror (cached, idempotent)."""
    baseimage.ensure_base_image(baseimage.default_spec(tag=tag, suite=suite), cache_dir())


@task(
    help={
        "service": "service to export (repeatable; default: every service of the release)",
        "release": "release whose pinned ref to use (repeatable; default: every release)",
    },
    iterable=["service", "release"],
)
@reports_errors
def checkout(c, service=None, release=None):
    """Export patched trees (services and the release's patched libraries) into build/sources."""
    manifest = _manifest()
    done: set[tuple[str, str]] = set()
    for rel, svc in manifest.pairs(tuple(release or ()), tuple(service or ())):
        for project in [svc.name, *(lib.name for lib in rel.libraries)]:
            if (rel.name, project) not in done:
                done.add((rel.name, project))
                export_project(
                    manifest,
                    rel.name,
                    project,
                    cache_dir(),
                    build_dir(manifest.root),
                    offline=offline(),
                )


@task(
    name="constraints",
    help={"release": "release to generate (repeatable; default: every release)"},
    iterable=["release"],
)
@reports_errors
def constraints_(c, release=None):
    """Write build/constraints/<release>/upper-constraints.txt: upstream + constraints/<release>.txt."""
    manifest = _manifest()
    for name in release or [r.name for r in manifest.releases]:
        release_constraints(
            manifest, name, cache_dir(), build_dir(manifest.root), offline=offline()
        )


@task(
    help={
        "service": "service to build (repeatable)",
        "release": "release to build for (repeatable)",
        "all": "build every release x service of releases.yaml",
        "push": "push to the release's registry instead of loading the image locally",
        "platform": "target platform(s), passed to buildx (e.g. linux/amd64,linux/arm64)",
        "base_image": "base image instead of the release's (also FORGE_BASE_IMAGE)",
        "dry_run": "prepare the sources, print the exact buildx commands, build nothing",
        "sbom": "also write the image's CycloneDX SBOM (and sign with cosign when pushed)",
    },
    iterable=["service", "release"],
)
@reports_errors
def build(
    c,
    service=None,
    release=None,
    all=False,
    push=False,
    platform=None,
    base_image=None,
    dry_run=False,
    sbom=False,
):
    """Check out, patch, generate constraints and build service images with BuildKit."""
    manifest = _manifest()
    if not (service or release or all):
        raise Exit("error: name --service and --release (repeatable), or --all", code=1)
    options = imagebuild.BuildOptions(
        base_image=base_image, push=push, platform=platform, dry_run=dry_run
    )
    for rel, svc in manifest.pairs(tuple(release or ()), tuple(service or ())):
        result = imagebuild.build_service(
            manifest, rel.name, svc.name, cache_dir(), build_dir(manifest.root), options
        )
        if sbom and result is not None:
            imagecheck.write_sbom(
                manifest,
                rel.name,
                result.reference,
                result.inputs,
                build_dir(manifest.root),
                pushed=push,
            )


@task(
    name="sbom",
    help={
        "service": "service whose image to describe (repeatable)",
        "release": "release (repeatable)",
        "base_image": "base image of the build (as for inv build; also FORGE_BASE_IMAGE)",
    },
    iterable=["service", "release"],
)
@reports_errors
def sbom_(c, service=None, release=None, base_image=None):
    """Write the CycloneDX SBOM of a built image, with its patches as pedigree."""
    manifest = _manifest()
    options = imagebuild.BuildOptions(base_image=base_image)
    for rel, svc in manifest.pairs(tuple(release or ()), tuple(service or ())):
        imagecheck.sbom_service(
            manifest, rel.name, svc.name, cache_dir(), build_dir(manifest.root), options
        )


@task(
    help={
        "service": "service whose image to check (repeatable)",
        "release": "release (repeatable)",
        "build": "build first (BuildKit reuses what did not change), so the image is current",
        "base_image": "base image of the build (as for inv build; also FORGE_BASE_IMAGE)",
    },
    iterable=["service", "release"],
)
@reports_errors
def smoke(c, service=None, release=None, build=False, base_image=None):
    """Run the service's smoke checks and the image policy checks; print a pass/fail table."""
    manifest = _manifest()
    options = imagebuild.BuildOptions(base_image=base_image)
    failed = [
        f"{svc.name}/{rel.name}"
        for rel, svc in manifest.pairs(tuple(release or ()), tuple(service or ()))
        if not imagecheck.smoke_service(
            manifest,
            rel.name,
            svc.name,
            cache_dir(),
            build_dir(manifest.root),
            options,
            build=build,
        )
    ]
    if failed:
        raise Exit(f"error: smoke checks failed for {', '.join(failed)}", code=1)


@task(
    help={
        "service": "only this service or patched library (repeatable)",
        "release": "only this release (repeatable)",
        "dry_run": "print old -> new and the patch check; leave releases.yaml alone",
    },
    iterable=["service", "release"],
)
@reports_errors
def bump(c, service=None, release=None, dry_run=False):
    """Move refs to the newest point release (or branch head) and check the patches on them."""
    manifest = _manifest()
    bumps = bumping.run(
        manifest,
        cache_dir(),
        releases=tuple(release or ()),
        services=tuple(service or ()),
        dry_run=dry_run,
    )
    broken = [f"{b.project}/{b.release}" for b in bumps if b.broken]
    if broken:
        raise Exit(
            f"error: patches do not apply on the new refs of {', '.join(broken)} "
            "(inv patches.refresh --onto NEW)",
            code=1,
        )


@task(
    name="check",
    help={
        "service": "project (service or library) to check (repeatable; default: all)",
        "release": "release to check (repeatable; default: all)",
    },
    iterable=["service", "release"],
)
@reports_errors
def patches_check(c, service=None, release=None):
    """Check that every patch series applies to its pinned ref, without a checkout."""
    manifest = _manifest()
    reports = check_patches(
        manifest,
        cache_dir(),
        releases=tuple(release or ()),
        projects=tuple(service or ()),
        offline=offline(),
    )
    print(report_table(reports))
    failed = [r for r in reports if not r.ok]
    if failed:
        names = ", ".join(f"{r.series.project}/{r.series.release}" for r in failed)
        raise Exit(f"error: patches do not apply: {names}", code=1)


@task(name="lint")
@reports_errors
def patches_lint(c):
    """Lint every patch file: malformed hunks, CRLF, paths outside the tree, binary damage."""
    problems = [p for series in discover(_manifest()) for p in lint_series(series)]
    for problem in problems:
        print(problem)
    if problems:
        raise Exit(f"error: {len(problems)} problems in patch files", code=1)
    print("all patch files are sound")


@task(
    name="refresh",
    help={
        "service": "project whose series to refresh (a service or a patched library)",
        "release": "release of the series",
        "onto": "the new ref (tag, branch or full SHA) to replay the series onto",
        "dry_run": "print what would be added, updated and dropped; change nothing",
        "continue_": "carry on after resolving a conflict in the work tree",
        "abort": "drop a refresh under way",
    },
)
@reports_errors
def patches_refresh(c, service, release, onto=None, dry_run=False, continue_=False, abort=False):
    """Replay a series onto a new ref (3-way), drop what landed, rewrite changed patches."""
    manifest = _manifest()
    build = build_dir(manifest.root)
    if abort:
        refresh.abort_refresh(service, release, build)
    elif continue_:
        refresh.continue_refresh(manifest, service, release, build)
    elif onto is None:
        raise Exit("error: give --onto REF (or --continue / --abort)", code=1)
    else:
        refresh.refresh(manifest, service, release, onto, cache_dir(), build, dry_run=dry_run)


@task(
    name="edit",
    help={"service": "project (service or patched library)", "release": "release of the series"},
)
@reports_errors
def patches_edit(c, service, release):
    """Check out the series as commits on a branch in build/work/ to edit with git."""
    manifest = _manifest()
    patchqueue.edit(manifest, service, release, cache_dir(), build_dir(manifest.root))


@task(
    name="export",
    help={
        "service": "project (service or patched library)",
        "release": "release of the series",
        "dry_run": "print what would be added, updated and dropped; change nothing",
    },
)
@reports_errors
def patches_export(c, service, release, dry_run=False):
    """Write the edited branch back as the series (stable output, unchanged files untouched)."""
    patchqueue.export(service, release, build_dir(_manifest().root), dry_run=dry_run)


patches = Collection("patches")
patches.add_task(patches_check)
patches.add_task(patches_lint)
patches.add_task(patches_refresh)
patches.add_task(patches_edit)
patches.add_task(patches_export)
namespace = Collection(
    list_, matrix, base_image, checkout, constraints_, build, smoke, sbom_, bump, patches
)
