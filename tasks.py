"""Invoke tasks: thin wrappers that parse arguments and call imageforge.

`inv --list` shows them; `inv --help TASK` shows each argument. Each task
builds one context from the environment (imageforge.context) and hands it to
one library function. Library modules are imported inside the tasks, so
`inv --list` does not pay for the SBOM validator or Docker helpers.
"""

from __future__ import annotations

import functools
from pathlib import Path

from invoke import Collection, Exit, task

from imageforge.context import Forge, from_environment
from imageforge.errors import (
    ForgeError,
    Terminated,
    interrupt_on_sigint,
    leave_quietly_on_broken_pipe,
    silence_stdout,
)

ROOT = Path(__file__).resolve().parent


leave_quietly_on_broken_pipe()  # invoke's own --list and --help, printed outside any task
interrupt_on_sigint()  # an interrupted check must never end as a success


def _forge(base_image: str | None = None) -> Forge:
    return from_environment(ROOT / "releases.yaml").with_base_image(base_image)


def reports_errors(body):
    """Turn a ForgeError into one line on stderr and exit code 1, never a traceback."""

    @functools.wraps(body)
    def wrapper(*args, **kwargs):
        try:
            return body(*args, **kwargs)
        except ForgeError as err:
            raise Exit(f"error: {err}", code=1) from None
        except BrokenPipeError:
            silence_stdout()  # the reader left (`inv list | head`): not an error
            raise Exit(code=0) from None
        except OSError as err:  # a full disk, a permission: the file and the reason, one line
            raise Exit(f"error: {err}", code=1) from None
        except Terminated:
            raise Exit("error: terminated", code=143) from None
        except KeyboardInterrupt:
            raise Exit("error: interrupted", code=130) from None

    return wrapper


def _pair(project: str, release: str):
    """The one value a maintenance task hands down: -s PROJECT -r RELEASE."""
    from imageforge.config.manifest import Pair

    return Pair(release, project)


def _selection(values) -> tuple[str, ...]:
    return tuple(values or ())


@task(name="list")
@reports_errors
def list_(c):
    """Print the release x service matrix with each service's ref."""
    from imageforge.config.matrix import matrix_table

    print(matrix_table(_forge().manifest))


@task
@reports_errors
def matrix(c):
    """Print the release x service matrix as JSON for a CI matrix."""
    from imageforge.config.matrix import matrix_json

    print(matrix_json(_forge().manifest))


@task(
    help={
        "tag": "name of the image to create (default imageforge/debian:bookworm)",
        "suite": "Debian suite to bootstrap (default bookworm)",
        "arch": "Debian architecture(s), comma-separated (default: the host's); "
        "another arch is tagged <tag>-<arch> and bootstrapped under qemu",
        "push": "also push each arch as REF-<arch> and REF as the list of them (multi-arch)",
    }
)
@reports_errors
def base_image(c, tag="imageforge/debian:bookworm", suite="bookworm", arch=None, push=None):
    """Create the local Debian base image from the host's apt mirror (cached, idempotent)."""
    from imageforge.image import baseimage

    forge = _forge()
    arches = [a.strip() for a in arch.split(",")] if arch else [None]
    specs = [
        baseimage.default_spec(tag=tag, suite=suite, mirror=forge.apt_mirror, arch=a)
        for a in arches
    ]
    for spec in specs:
        baseimage.ensure_base_image(spec, forge.cache, log=forge.log)
    if push:
        baseimage.push_multiarch(specs, push, log=forge.log)


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
    from imageforge.config.manifest import Pair
    from imageforge.patches.export import export_project

    forge = _forge()
    done: set[Pair] = set()
    for rel, svc in forge.manifest.pairs(_selection(release), _selection(service)):
        if not svc.from_git:
            continue  # the distribution's packages: nothing to check out
        # nova-compute's tree is nova's.
        for project in [svc.project, *(lib.name for lib in rel.libraries)]:
            pair = Pair(rel.name, project)
            if pair not in done:
                done.add(pair)
                export_project(forge, pair)


@task(
    name="constraints",
    help={"release": "release to generate (repeatable; default: every release)"},
    iterable=["release"],
)
@reports_errors
def constraints_(c, release=None):
    """Write build/constraints/<release>/upper-constraints.txt: upstream + constraints/<release>.txt."""
    from imageforge.constraints.generate import release_constraints

    forge = _forge()
    forge.manifest.require_projects(_selection(release))
    for name in release or [r.name for r in forge.manifest.releases]:
        release_constraints(forge, name)


@task(
    name="override",
    help={
        "pin": "NAME===VERSION: the fixed version every release must have at least",
        "release": "release to raise (repeatable; default: every release)",
    },
    iterable=["release"],
)
@reports_errors
def constraints_override(c, pin, release=None):
    """Raise a package to a fixed version in each release that pins it lower; check it resolves."""
    from imageforge.constraints.raise_pin import raise_everywhere, summary

    forge = _forge()
    chosen = [forge.manifest.release(name) for name in release] if release else None
    outcomes = raise_everywhere(forge, pin, list(chosen or forge.manifest.releases))
    print(summary(outcomes))
    failed = [o.release for o in outcomes if not o.ok]
    if failed:
        raise Exit(f"error: {pin} does not resolve in {', '.join(failed)}: left as it was", code=1)


@task(
    help={
        "service": "service to build (repeatable)",
        "release": "release to build for (repeatable)",
        "all": "build every release x service of releases.yaml",
        "push": "push to the release's registry instead of loading the image locally",
        "platform": "target platform(s), passed to buildx (e.g. linux/amd64,linux/arm64)",
        "base_image": "base image instead of the release's (also FORGE_BASE_IMAGE)",
        "dry_run": "prepare the sources, print the bake file, build nothing",
        "sbom": "also write the image's CycloneDX SBOM (attached as attestation with --sign)",
        "force": "build even when an image of the same content key exists",
        "sign": "sign pushed images with cosign (FORGE_COSIGN_KEY, else keyless)",
        "summary_json": "write the build summary (every image: result, tag, size, time, key, "
        "log) here as JSON (default build/summary.json)",
        "make_check": "images built from C: run the project's own test suite (make check) "
        "in the build, as Atmosphere does for OVS",
        "check_reproducible": "build again with no cache and compare the image IDs; list the "
        "files that differ (exit 1)",
        "pin_packages": "install each OS package at the version the package lock "
        "(build/packages/) recorded for the image, as long as the mirror serves it",
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
    force=False,
    sign=False,
    summary_json=None,
    make_check=False,
    check_reproducible=False,
    pin_packages=False,
):
    """Check out, patch, generate constraints; bake what changed in one BuildKit graph."""
    from imageforge.image.build import BuildOptions, build_services
    from imageforge.publish.sign import publish

    if not (service or release or all):
        raise Exit("error: name --service and --release (repeatable), or --all", code=1)
    if sign and not push:
        raise Exit("error: --sign signs what is pushed: add --push", code=1)
    forge = _forge(base_image)
    if sign and not dry_run:
        from imageforge.host.cosign import require_usable_key

        require_usable_key(forge.signing)
    options = BuildOptions(
        push=push,
        platform=platform,
        dry_run=dry_run,
        force=force,
        summary_json=Path(summary_json) if summary_json else None,
        make_check=make_check,
        pin_packages=pin_packages,
    )
    pairs = forge.manifest.selection(_selection(release), _selection(service))
    if check_reproducible:
        from imageforge.verify.reproducible import check_reproducible as rebuild_and_compare

        _end_with(rebuild_and_compare(forge, pairs, options), "reproducibility")
        return
    for result in build_services(forge, pairs, options):
        publish(forge, result, push=push, sbom=sbom, sign=sign)


@task(
    name="sbom",
    help={
        "service": "service whose image to describe (repeatable)",
        "release": "release (repeatable)",
        "base_image": "base image of the build (as for inv build; also FORGE_BASE_IMAGE)",
        "platform": "the image of this platform (comma-separated: each), as built with --platform",
    },
    iterable=["service", "release"],
)
@reports_errors
def sbom_(c, service=None, release=None, base_image=None, platform=None):
    """Write the CycloneDX SBOM of a built image, with its patches as pedigree."""
    from imageforge.image.build import BuildOptions
    from imageforge.verify.service import sbom_service

    forge = _forge(base_image)
    for pair in forge.manifest.selection(_selection(release), _selection(service)):
        for one in _platforms(platform):
            sbom_service(forge, pair, BuildOptions(platform=one))


@task(
    help={
        "service": "service whose image to check (repeatable)",
        "release": "release (repeatable)",
        "build": "build first (BuildKit reuses what did not change), so the image is current",
        "base_image": "base image of the build (as for inv build; also FORGE_BASE_IMAGE)",
        "platform": "check the image of this platform (comma-separated: each one, in turn)",
    },
    iterable=["service", "release"],
)
@reports_errors
def smoke(c, service=None, release=None, build=False, base_image=None, platform=None):
    """Run the service's smoke checks and the image policy checks; print a pass/fail table."""
    from imageforge.image.build import BuildOptions
    from imageforge.verify.service import smoke_service

    forge = _forge(base_image)
    _end_with(
        (
            smoke_service(forge, pair, BuildOptions(platform=one), build=build)
            for pair in forge.manifest.selection(_selection(release), _selection(service))
            for one in _platforms(platform)
        ),
        "smoke checks",
    )


def _end_with(reports, what: str) -> None:
    """Print each image's report as it comes, one line per image for several; exit 1 on a failure."""
    from imageforge.report import overall

    done = []
    for report in reports:
        print(report.table())
        done.append(report)
    summary, failed = overall(done, what)
    if summary:
        print(summary)
    if failed:
        raise Exit(f"error: {what} failed for {', '.join(failed)}", code=1)


def _platforms(platform: str | None) -> list[str | None]:
    """--platform a,b as one platform at a time; none: the image built without --platform."""
    from imageforge.image import platforms

    return platforms.parse(platform)


@task(
    help={
        "service": "service whose image to run (repeatable)",
        "release": "release (repeatable)",
        "build": "build first (and the images it requires, e.g. keystone)",
        "base_image": "base image of the build and the backing services (also FORGE_BASE_IMAGE)",
        "backing_image": "NAME=IMAGE: run this image as backing service NAME (repeatable)",
    },
    iterable=["service", "release", "backing_image"],
)
@reports_errors
def functional(c, service=None, release=None, build=False, base_image=None, backing_image=None):
    """Run the image against real MariaDB, RabbitMQ, memcached and keystone; real API requests."""
    from imageforge.image.build import BuildOptions
    from imageforge.verify.functional.run import parse_backing_images, run_functional

    forge = _forge(base_image)
    overrides = parse_backing_images(backing_image or ())
    _end_with(
        (
            run_functional(forge, pair, BuildOptions(), build=build, backing_images=overrides)
            for pair in forge.manifest.selection(_selection(release), _selection(service))
        ),
        "functional checks",
    )


@task(
    help={
        "service": "service whose image to ask (repeatable)",
        "release": "release (repeatable)",
        "base_image": "base image of the build (as for inv build; also FORGE_BASE_IMAGE)",
    },
    iterable=["service", "release"],
)
@reports_errors
def outdated(c, service=None, release=None, base_image=None):
    """OS packages of each built image that its apt sources now serve newer (exit 1 if any)."""
    from imageforge.verify.outdated import outdated_report

    _each_image(outdated_report, "outdated", base_image, release, service)


@task(
    help={
        "service": "service whose image to audit (repeatable)",
        "release": "release (repeatable)",
        "base_image": "base image of the build (as for inv build; also FORGE_BASE_IMAGE)",
    },
    iterable=["service", "release"],
)
@reports_errors
def audit(c, service=None, release=None, base_image=None):
    """Known vulnerabilities in each image's Python packages (OSV); no data is an error, not a pass."""
    from imageforge.verify.audit import audit_report

    _each_image(audit_report, "audit", base_image, release, service)


def _each_image(check, what: str, base_image, release, service) -> None:
    """``check(forge, pair, options)`` for each selected image's report; exit 1 on a failure."""
    from imageforge.image.build import BuildOptions

    forge = _forge(base_image)
    pairs = forge.manifest.selection(_selection(release), _selection(service))
    _end_with((check(forge, pair, BuildOptions()) for pair in pairs), what)


@task(
    help={
        "release": "release whose images run as one cloud (repeatable)",
        "build": "build the images cloud/cloud.yaml runs first",
        "base_image": "base image of the build, the backing services and the guest (also FORGE_BASE_IMAGE)",
        "backing_image": "NAME=IMAGE: run this image as backing service NAME (repeatable)",
    },
    iterable=["release", "backing_image"],
)
@reports_errors
def cloud(c, release=None, build=False, base_image=None, backing_image=None):
    """Start a release's images as one cloud (cloud/cloud.yaml) and boot a server on it."""
    from imageforge.image.build import BuildOptions
    from imageforge.verify.cloud.run import run_cloud
    from imageforge.verify.functional.run import parse_backing_images

    forge = _forge(base_image)
    overrides = parse_backing_images(backing_image or ())
    chosen = [forge.manifest.release(name) for name in release] if release else None
    releases = [r.name for r in chosen or forge.manifest.releases]
    _end_with(
        (
            run_cloud(forge, name, BuildOptions(), build=build, backing_images=overrides)
            for name in releases
        ),
        "cloud",
    )


@task(
    help={
        "service": "service whose pushed image to verify (repeatable)",
        "release": "release (repeatable)",
        "base_image": "base image of the build (as for inv build; also FORGE_BASE_IMAGE)",
    },
    iterable=["service", "release"],
)
@reports_errors
def verify(c, service=None, release=None, base_image=None):
    """Check a pushed image: signature, SBOM attestation, labels against today's inputs, lock."""
    from imageforge.publish.pushed import verify_pushed

    forge = _forge(base_image)
    _end_with(
        (
            verify_pushed(forge, pair)
            for pair in forge.manifest.selection(_selection(release), _selection(service))
        ),
        "verification",
    )


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
    from imageforge.maintain import bump as bumping

    bumps = bumping.run(
        _forge(), releases=_selection(release), services=_selection(service), dry_run=dry_run
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
    from imageforge.patches.gate import check_patches, failed_series, report_table

    reports = check_patches(_forge(), releases=_selection(release), projects=_selection(service))
    print(report_table(reports))
    failed = failed_series(reports)
    if failed:
        raise Exit(f"error: patches do not apply: {', '.join(failed)}", code=1)


@task(
    name="lint",
    help={
        "service": "project (service or library) to lint (repeatable; default: all)",
        "release": "release to lint (repeatable; default: all)",
    },
    iterable=["service", "release"],
)
@reports_errors
def patches_lint(c, service=None, release=None):
    """Lint every patch file: bad hunks, CRLF, paths and symlinks leaving the tree, conflict markers."""
    from imageforge.patches.lint import lint_series
    from imageforge.patches.series import select

    forge = _forge()
    selected = select(forge.manifest, _selection(release), _selection(service))
    problems = [p for series in selected for p in lint_series(series)]
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
        "dry_run": "report every patch's fate and what would change; change nothing",
        "continue_": "carry on after resolving a conflict in the work tree",
        "skip": "drop the patch the refresh stopped on, and carry on",
        "abort": "drop a refresh under way (resolutions made are remembered)",
        "normalize": "rewrite every kept patch in the stable format, not only the changed ones",
        "from_scratch": "take the series as it is at --onto (checked only there) and move the "
        "ref: for a series already moved forward by hand",
    },
)
@reports_errors
def patches_refresh(
    c,
    service,
    release,
    onto=None,
    dry_run=False,
    continue_=False,
    skip=False,
    abort=False,
    normalize=False,
    from_scratch=False,
):
    """Replay a series onto a new ref (3-way), drop what landed, rewrite changed patches."""
    from imageforge.maintain import refresh

    # One action per call: with two, one used to win silently (--onto X --skip dropped a patch).
    actions = [
        flag
        for flag, given in (
            ("--onto", onto is not None),
            ("--continue", continue_),
            ("--skip", skip),
            ("--abort", abort),
        )
        if given
    ]
    if len(actions) > 1:
        raise Exit(f"error: {' and '.join(actions)} exclude each other: give one", code=1)
    options = [
        flag
        for flag, given in (
            ("--dry-run", dry_run),
            ("--normalize", normalize),
            ("--from-scratch", from_scratch),
        )
        if given
    ]
    if options and onto is None:
        raise Exit(f"error: {', '.join(options)} goes with --onto REF only", code=1)
    forge = _forge()
    pair = _pair(service, release)
    if abort:
        refresh.abort_refresh(forge, pair)
    elif continue_:
        refresh.continue_refresh(forge, pair)
    elif skip:
        refresh.skip_refresh(forge, pair)
    elif onto is None:
        raise Exit("error: give --onto REF (or --continue / --skip / --abort)", code=1)
    else:
        refresh.refresh(
            forge,
            pair,
            onto,
            dry_run=dry_run,
            normalize=normalize,
            from_scratch=from_scratch,
        )


@task(
    name="edit",
    help={"service": "project (service or patched library)", "release": "release of the series"},
)
@reports_errors
def patches_edit(c, service, release):
    """Check out the series as commits on a branch in build/work/ to edit with git."""
    from imageforge.maintain import edit

    edit.edit(_forge(), _pair(service, release))


@task(
    name="export",
    help={
        "service": "project (service or patched library)",
        "release": "release of the series",
        "dry_run": "print what would be added, updated and dropped; change nothing",
        "normalize": "rewrite every patch in the stable format, not only the changed ones",
    },
)
@reports_errors
def patches_export(c, service, release, dry_run=False, normalize=False):
    """Write the edited branch back as the series (stable output, unchanged files untouched)."""
    from imageforge.maintain import edit

    edit.export(_forge(), _pair(service, release), dry_run=dry_run, normalize=normalize)


@task(
    name="test",
    help={
        "service": "project (service, carried project or patched library) whose series to test",
        "release": "release of the series",
        "since": "instead: every series changed since this commit of the forge (CI)",
        "all_tests": "run the whole unit suite, not only the tests near the patches",
        "concurrency": "test processes (default: 2)",
    },
)
@reports_errors
def patches_test(c, service=None, release=None, since=None, all_tests=False, concurrency=2):
    """Run upstream's unit tests near each patch, with and without the series; exit 1 on new failures."""
    from imageforge.patches.series import changed_since
    from imageforge.unittests.check import prove_series, report_text

    forge = _forge()
    if since:
        pairs = changed_since(forge.manifest, since)
        if not pairs:
            print(f"no patch series changed since {since}")
            return
    elif service and release:
        pairs = [_pair(service, release)]
    else:
        raise Exit("error: give --service and --release, or --since COMMIT", code=2)
    broken = []
    for pair in pairs:
        report = prove_series(forge, pair, all_tests=all_tests, concurrency=int(concurrency))
        print(report_text(report))
        if not report.ok:
            broken.append(str(pair))
    if broken:
        raise Exit(f"error: the series breaks unit tests: {', '.join(broken)}", code=1)


patches = Collection("patches")
patches.add_task(patches_check)
patches.add_task(patches_lint)
patches.add_task(patches_refresh)
patches.add_task(patches_edit)
patches.add_task(patches_export)
patches.add_task(patches_test)
constraints = Collection("constraints")
constraints.add_task(constraints_, default=True)
constraints.add_task(constraints_override)
namespace = Collection(
    list_,
    matrix,
    base_image,
    checkout,
    constraints,
    build,
    smoke,
    functional,
    cloud,
    outdated,
    audit,
    sbom_,
    verify,
    bump,
    patches,
)
