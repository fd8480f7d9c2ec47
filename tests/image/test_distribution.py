"""Images with no git source (build: distribution): the archive's versions are the source."""

from __future__ import annotations

import json

import pytest

from imageforge.config.manifest import Pair, load_manifest
from imageforge.errors import ForgeError, ManifestError
from imageforge.host import docker
from imageforge.image.build import BuildOptions, build_service
from imageforge.image.distribution import parse_policy
from imageforge.verify.service import smoke_service
from tests.support.projects import make_forge
from tests.support.synthetic_c import c_project

TOOL = Pair("2025.2", "tool")
DOCKERFILE = """\
ARG BUILDER_IMAGE=imageforge/c-base
ARG RUNTIME_IMAGE=imageforge/c-base
FROM ${RUNTIME_IMAGE}
RUN --mount=type=bind,from=source,target=/forge \\
    --mount=type=secret,id=cacert \\
    RUNTIME_PACKAGES="$(cat /forge/packages.txt)" install-runtime tool
USER tool
"""
SMOKE = """\
checks:
  - name: file is the version the archive served
    command: [dpkg-query, -W, "-f=${Version}", file]
    stdout: "{version}"
"""


def tool_project(root):
    project = c_project(root)
    manifest = project / "releases.yaml"
    text = manifest.read_text()
    text = text.replace(
        "services:\n",
        "services:\n  tool: {build: distribution, version_from: file, runtime_packages: [file]}\n",
        1,
    )
    text = text.replace(
        "services: {hello: {ref: v1.0.0}}", "services: {hello: {ref: v1.0.0}, tool: {}}"
    )
    manifest.write_text(text)
    (project / "images" / "tool").mkdir()
    (project / "images" / "tool" / "Dockerfile").write_text(DOCKERFILE)
    (project / "images" / "tool" / "smoke.yaml").write_text(SMOKE)
    return project


def test_apt_policy_gives_each_candidate():
    text = (
        "file:\n  Installed: (none)\n  Candidate: 1:5.44-3\n  Version table:\n"
        "     1:5.44-3 500\n        500 http://archive bookworm/main amd64 Packages\n"
        "nothere:\n  Installed: (none)\n  Candidate: (none)\n"
    )
    assert parse_policy(text) == {"file": "1:5.44-3", "nothere": "(none)"}


def test_a_distribution_image_has_no_ref_and_no_git(tmp_path):
    project = tool_project(tmp_path)
    tool = load_manifest(project / "releases.yaml").release("2025.2").service("tool")
    assert (tool.from_git, tool.ref, tool.version_from) == (False, "", "file")
    from imageforge.constraints.projects import pinned

    with pytest.raises(ForgeError, match=r"tool is built from the distribution's packages"):
        pinned(make_forge(project, tmp_path), TOOL)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("version_from: file", "version_from: curl", "services.tool.version_from: expected one of"),
        ("tool: {}", "tool: {ref: 1.0}", "releases.2025.2.services.tool.ref: unknown key"),
        ("version_from: file, ", "", "services.tool.version_from: missing"),
    ],
)
def test_distribution_mistakes_are_named(tmp_path, old, new, message):
    project = tool_project(tmp_path)
    manifest = project / "releases.yaml"
    manifest.write_text(manifest.read_text().replace(old, new, 1))
    with pytest.raises(ManifestError, match=message.replace(".", r"\.")):
        load_manifest(manifest)


@pytest.mark.docker
def test_the_archives_versions_are_installed_labelled_and_checked(tmp_path, base_image):
    project = tool_project(tmp_path)
    forge = make_forge(project, tmp_path, base_image=base_image)
    result = build_service(forge, TOOL, BuildOptions())
    try:
        version = result.inputs.service.version
        labels = docker.image_labels(result.reference)
        assert labels["org.imageforge.distribution-packages"] == f"file={version}"
        assert labels["org.opencontainers.image.version"] == version
        assert "org.opencontainers.image.source" not in labels, "no git source to name"
        assert smoke_service(forge, TOOL, BuildOptions()).ok
        # The archive's answer is kept: asking again (offline too) reads it.
        [kept] = (tmp_path / "build" / "distribution").glob("*.json")
        assert json.loads(kept.read_text())["versions"] == {"file": version}
        offline = make_forge(project, tmp_path, base_image=base_image, offline=True)
        again = build_service(offline, TOOL, BuildOptions())
        assert again.skipped and again.key == result.key
    finally:
        for tag in result.tags:
            docker.run(["image", "rm", tag], check=False)


def test_release_constraints_count_only_python_trees(tmp_path):
    """inv constraints: hello is C and tool has no tree; neither is asked for a setup.cfg."""
    from imageforge.constraints.generate import release_constraints

    constraints = release_constraints(make_forge(tool_project(tmp_path), tmp_path), "2025.2")
    assert "six===1.16.0" in constraints.content


def test_an_image_from_another_services_tree_sends_to_that_service(tmp_path):
    from imageforge.constraints.projects import pinned

    project = tool_project(tmp_path)
    manifest = project / "releases.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "hello: {repo: ", "hello: {images: {hello-extra: {target: extra}}, repo: ", 1
        )
    )
    dockerfile = project / "images" / "hello" / "Dockerfile"
    dockerfile.write_text(
        dockerfile.read_text().replace(" AS build\n", " AS extra\nFROM extra AS build\n")
    )
    with pytest.raises(
        ForgeError,
        match=r"hello-extra is built from hello's tree, .* check, refresh or edit hello$",
    ):
        pinned(make_forge(project, tmp_path), Pair("2025.2", "hello-extra"))
