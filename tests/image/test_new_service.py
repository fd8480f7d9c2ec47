"""README's "Adding a service" checklist, followed to the letter: data and one folder, no code.

A second synthetic service, ``notes``, joins the synthetic project through a
releases.yaml entry and an images/notes/ folder made from keystone's
Dockerfile; it then appears in the matrix, builds and passes smoke.
"""

from __future__ import annotations

import shutil
import textwrap

import pytest

from imageforge.config.manifest import Pair
from imageforge.config.matrix import matrix_rows
from imageforge.host import docker
from imageforge.image.build import BuildOptions, build_service
from imageforge.verify.service import smoke_service
from tests.support import ROOT
from tests.support.gitrepos import make_upstream
from tests.support.projects import make_forge
from tests.support.synthetic import run_in

pytestmark = pytest.mark.docker


def add_service(project, upstream_root, name: str) -> None:
    """The checklist: releases.yaml entry, images/<name>/Dockerfile from keystone's, smoke.yaml."""
    repo = make_upstream(upstream_root, name)
    manifest = project / "releases.yaml"
    text = manifest.read_text()
    text = text.replace("services:\n", f"services:\n  {name}: {{repo: {repo.url}}}\n", 1)
    release_services = "services: {demo: {ref: 1.0.2, projects: {demo-plugin: {ref: 1.0.1}}}"
    assert release_services in text
    text = text.replace(release_services, f"{release_services}, {name}: {{ref: 1.0.1}}")
    manifest.write_text(text)
    folder = project / "images" / name
    folder.mkdir()
    (folder / "Dockerfile").write_text(
        (ROOT / "images" / "keystone" / "Dockerfile").read_text().replace("keystone", name)
    )
    (folder / "smoke.yaml").write_text(
        textwrap.dedent(
            f"""\
            checks:
              - name: {name}-manage reports the upstream version
                command: [{name}-manage, --version]
                stdout: "{{version}}"
            """
        )
    )


def test_a_service_added_by_the_checklist_builds_and_passes_smoke(built, tmp_path, base_image):
    _, _, project, _ = built
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    add_service(copy, tmp_path / "upstream", "notes")
    forge = make_forge(copy, tmp_path, base_image=base_image)
    assert [row.id for row in matrix_rows(forge.manifest)] == ["demo-2025.2", "notes-2025.2"]
    result = build_service(forge, Pair("2025.2", "notes"), BuildOptions())
    try:
        assert result is not None and result.reference.endswith("/notes:1.0.1")
        assert smoke_service(forge, Pair("2025.2", "notes"), BuildOptions()).ok
        # The release patches demo-lib, but nothing notes requires leads to it.
        assert result.inputs.libraries == ()
        labels = docker.run(
            ["image", "inspect", "--format", "{{json .Config.Labels}}", result.reference]
        )
        assert "org.imageforge.library.demo-lib" not in labels.stdout
        names = "import importlib.metadata as m; print(sorted(d.metadata['Name'] for d in m.distributions()))"
        installed = run_in(result.reference, "python3", "-c", names)
        assert "'pbr'" in installed and "demo" not in installed.replace("'notes'", "")
    finally:
        for tag in result.tags if result else ():
            docker.run(["image", "rm", tag], check=False)
