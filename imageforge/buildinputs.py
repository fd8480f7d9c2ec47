"""Everything one image build consumes, prepared on disk: sources, patches, constraints.

For a service of a release: its patched export, the patched export of every
library the release patches, and the release's constraints with those
libraries pinned to the versions actually built from source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from imageforge import git
from imageforge.constraints import Constraints, generate
from imageforge.manifest import Manifest
from imageforge.mirrors import mirror_for
from imageforge.patchlint import require_clean
from imageforge.projects import source_spec
from imageforge.series import series_for
from imageforge.sources import Export, export_source, resolve
from imageforge.versions import package_name_of, pbr_version


@dataclass(frozen=True)
class BuildInputs:
    service: Export
    libraries: tuple[Export, ...]
    constraints: Constraints


def export_project(
    manifest: Manifest,
    release: str,
    project: str,
    cache: Path,
    build_dir: Path,
    *,
    offline: bool = False,
    log: Callable[[str], None] = print,
) -> Export:
    """Export one service or library of ``release`` with its patch series applied."""
    spec = source_spec(manifest, release, project, cache, offline=offline)
    series = series_for(manifest, project, release)
    if series:
        require_clean([series])
    return export_source(spec, cache, build_dir, series=series, offline=offline, log=log)


def source_versions(
    manifest: Manifest, release: str, cache: Path, *, offline: bool = False
) -> dict[str, str]:
    """The version each package built from source in ``release`` is built at.

    Patched libraries and the services themselves, by their distribution name
    (setup.cfg's, e.g. openstack-placement), at the version pbr gives their ref.
    upper-constraints must not pin any of them to a PyPI release.
    """
    versions = {}
    rel = manifest.release(release)
    for project in [*(lib.name for lib in rel.libraries), *(svc.name for svc in rel.services)]:
        spec = source_spec(manifest, release, project, cache, offline=offline)
        commit = resolve(spec, cache, offline=offline)
        mirror = mirror_for(spec.repo, cache)
        if not offline:
            mirror.prefetch_paths(commit, ["setup.cfg"])
        setup_cfg = git.text_raw(["show", f"{commit}:setup.cfg"], git_dir=mirror.path)
        versions[package_name_of(setup_cfg, project)] = pbr_version(mirror.path, commit)
    return versions


def release_constraints(
    manifest: Manifest,
    release: str,
    cache: Path,
    build_dir: Path,
    *,
    offline: bool = False,
    log: Callable[[str], None] = print,
) -> Constraints:
    """The release's constraints, with what it builds from source pinned to the built versions."""
    return generate(
        manifest.release(release),
        manifest.root,
        cache,
        build_dir,
        built_from_source=source_versions(manifest, release, cache, offline=offline),
        offline=offline,
        log=log,
    )


def prepare(
    manifest: Manifest,
    release: str,
    service: str,
    cache: Path,
    build_dir: Path,
    *,
    offline: bool = False,
    log: Callable[[str], None] = print,
) -> BuildInputs:
    def export(project: str) -> Export:
        return export_project(
            manifest, release, project, cache, build_dir, offline=offline, log=log
        )

    return BuildInputs(
        service=export(service),
        libraries=tuple(export(lib.name) for lib in manifest.release(release).libraries),
        constraints=release_constraints(
            manifest, release, cache, build_dir, offline=offline, log=log
        ),
    )
