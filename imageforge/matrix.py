"""The release x service matrix, as a table for people and as JSON for CI."""

from __future__ import annotations

import json

from imageforge.manifest import Manifest


def matrix_rows(manifest: Manifest) -> list[dict[str, str]]:
    """One row per release and service, in releases.yaml order."""
    return [
        {
            "release": release.name,
            "service": service.name,
            "ref": service.ref,
            "repo": service.repo,
            "id": f"{service.name}-{release.name}",
        }
        for release, service in manifest.pairs()
    ]


def matrix_json(manifest: Manifest) -> str:
    """The shape GitHub Actions' ``strategy.matrix: fromJSON(...)`` takes."""
    rows = [{k: row[k] for k in ("release", "service", "ref")} for row in matrix_rows(manifest)]
    return json.dumps({"include": rows}, indent=2)


def matrix_table(manifest: Manifest) -> str:
    rows = [["RELEASE", "SERVICE", "REF", "REPOSITORY"]]
    rows += [[r["release"], r["service"], r["ref"], r["repo"]] for r in matrix_rows(manifest)]
    return format_table(rows)


def format_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def project_rows(manifest: Manifest) -> list[dict[str, str]]:
    """One row per release and patchable project: its services, then its patched libraries."""
    return [
        {"release": release.name, "project": name, "id": f"{name}-{release.name}"}
        for release in manifest.releases
        for name in [*(s.name for s in release.services), *(lib.name for lib in release.libraries)]
    ]
