"""The release x service matrix, as typed rows, a table for people and JSON for CI."""

from __future__ import annotations

import json
from dataclasses import dataclass

from imageforge.config.manifest import Manifest, Service
from imageforge.present import format_table


@dataclass(frozen=True)
class MatrixRow:
    """One release x project pair; ``id`` names its nox session (``glance-2025.2``)."""

    release: str
    project: str
    ref: str = ""
    repo: str = ""

    @property
    def id(self) -> str:
        return f"{self.project}-{self.release}"


def matrix_rows(manifest: Manifest) -> list[MatrixRow]:
    """One row per release and service, in releases.yaml order."""
    return [
        MatrixRow(release.name, service.name, service.ref, _where(service))
        for release, service in manifest.pairs()
    ]


def _where(service: Service) -> str:
    """Where an image comes from, as a reader of ``inv list`` needs it said."""
    if not service.from_git:
        return f"the base's archive ({service.version_from} and {len(service.runtime_packages) - 1} more)"
    if service.source:
        return f"{service.repo} (images/{service.source}, target {service.target})"
    return service.repo


def project_rows(manifest: Manifest) -> list[MatrixRow]:
    """One row per release and patchable project: its services, then its libraries and
    carried projects (not nova-compute, whose project is nova's, nor libvirt, which has none)."""
    return [
        MatrixRow(release.name, name)
        for release in manifest.releases
        for name in [
            *(s.name for s in release.services if s.from_git and not s.source),
            *(lib.name for lib in release.libraries),
        ]
    ]


def matrix_json(manifest: Manifest) -> str:
    """The shape GitHub Actions' ``strategy.matrix: fromJSON(...)`` takes."""
    rows = [
        {"release": row.release, "service": row.project, "ref": row.ref}
        for row in matrix_rows(manifest)
    ]
    return json.dumps({"include": rows}, indent=2)


def matrix_table(manifest: Manifest) -> str:
    rows = [["RELEASE", "SERVICE", "REF", "REPOSITORY"]]
    rows += [[r.release, r.project, r.ref, r.repo] for r in matrix_rows(manifest)]
    return format_table(rows)
