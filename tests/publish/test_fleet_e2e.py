"""Fleet scale, end to end against a loopback registry: skip what is built, sign, verify.

A selection of two images (demo in 2025.2, patched, and in 2026.1 at an older
tag) is pushed as one bake graph; a second push builds nothing; a changed
patch rebuilds exactly its image; --force rebuilds both. A signed push
verifies; a re-tagged unsigned image and a tampered label are each named.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request

import pytest

from imageforge.config.manifest import Pair
from imageforge.host import docker
from imageforge.host.cosign import Signing
from imageforge.image.build import BuildOptions, build_services
from imageforge.image.registry import manifest_of
from imageforge.publish.pushed import verify_pushed
from imageforge.publish.sign import publish
from tests.support.projects import make_forge
from tests.support.synthetic import REGISTRY

pytestmark = pytest.mark.docker
PAIRS = [Pair("2025.2", "demo"), Pair("2026.1", "demo")]


@pytest.fixture
def fleet(built, tmp_path, local_registry):
    """A copy of the synthetic project pushing to the loopback registry, with a second release."""
    _, _, project, _ = built
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    manifest = copy / "releases.yaml"
    manifest.write_text(
        manifest.read_text().replace(f"registry: {REGISTRY}", f"registry: {local_registry}/forge")
        + "  2026.1:\n    requirements: {ref: master}\n"
        + "    services: {demo: {ref: 1.0.1, projects: {demo-plugin: {ref: 1.0.1}}}}\n"
    )
    return copy, local_registry


def forge_for(project, tmp_path, base_image, log, **settings):
    return make_forge(project, tmp_path, base_image=base_image, log=log.append, **settings)


def tags_of(registry: str) -> list[str]:
    with urllib.request.urlopen(f"http://{registry}/v2/forge/demo/tags/list") as answer:
        return sorted(json.load(answer)["tags"])


def baked(log: list[str]) -> list[str]:
    return [line for line in log if " in one graph " in line]


def test_unchanged_images_are_not_built_again(fleet, tmp_path, base_image):
    project, registry = fleet
    push = BuildOptions(push=True)

    log: list[str] = []
    first = build_services(forge_for(project, tmp_path, base_image, log), PAIRS, push)
    assert [line.split(" (/")[0] for line in baked(log)] == [
        "building demo (2025.2), demo (2026.1) in one graph"
    ]
    keys = {r.inputs.service.release: r.key for r in first}
    assert {f"in-{key}" for key in keys.values()} <= set(tags_of(registry))

    # Unchanged: nothing built, each image found by its key.
    log.clear()
    again = build_services(forge_for(project, tmp_path, base_image, log), PAIRS, push)
    assert baked(log) == []
    assert [r.skipped for r in again] == [True, True]
    assert sum("up to date (inputs unchanged" in line for line in log) == 2
    # The tags were added to the very manifest found: its digest (and signature) stand.
    for result in again:
        assert manifest_of(result.reference)["digest"] == manifest_of(result.tags[-1])["digest"]

    # One patch changed: exactly that image is built.
    patch = next((project / "patches" / "demo" / "2025.2").glob("0001-*.patch"))
    patch.write_text(patch.read_text().replace("patched", "patched again"))
    log.clear()
    changed = build_services(forge_for(project, tmp_path, base_image, log), PAIRS, push)
    assert [line.split(" (/")[0] for line in baked(log)] == ["building demo (2025.2) in one graph"]
    assert [r.skipped for r in changed] == [False, True]
    # Once recorded, an image answers to its inputs' key with its OS packages (the package
    # lock): the key found the second time.
    recorded = {r.inputs.service.release: r.key for r in again}
    assert changed[0].key != recorded["2025.2"] and changed[1].key == recorded["2026.1"]
    pulled = changed[0].reference
    docker.run(["pull", "--quiet", pulled])
    greeting = docker.run(
        [
            "run",
            "--rm",
            pulled,
            "python3",
            "-c",
            "from demo.greeting import greet; print(greet('x'))",
        ]
    ).stdout.strip()
    assert greeting == "patched again, x"

    # --force: everything is built, whatever the registry holds.
    log.clear()
    forced = build_services(
        forge_for(project, tmp_path, base_image, log), PAIRS, BuildOptions(push=True, force=True)
    )
    assert [line.split(" (/")[0] for line in baked(log)] == [
        "building demo (2025.2), demo (2026.1) in one graph"
    ]
    assert [r.skipped for r in forced] == [False, False]
    docker.run(["image", "rm", pulled], check=False)


@pytest.fixture
def signing(tmp_path):
    folder = tmp_path / "keys"
    folder.mkdir()
    subprocess.run(
        ["cosign", "generate-key-pair"],
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", "COSIGN_PASSWORD": ""},
        check=True,
        capture_output=True,
    )
    return Signing(key=folder / "cosign.key")


def test_a_signed_push_verifies_and_tampering_is_named(fleet, tmp_path, base_image, signing):
    project, _ = fleet
    log: list[str] = []

    def forge():
        return forge_for(project, tmp_path, base_image, log, signing=signing)

    [result] = build_services(forge(), PAIRS[:1], BuildOptions(push=True))
    publish(forge(), result, push=True, sbom=True, sign=True)
    assert any(line.startswith("signed ") and "attached 1 SBOM(s)" in line for line in log)
    verified = verify_pushed(forge(), Pair("2025.2", "demo"))
    assert [(f.check, f.ok) for f in verified.findings] == [
        ("signature", True),
        ("SBOM attestation", True),
        ("labels", True),
        ("digest lock", True),
    ], verified.table()
    entry = json.loads((tmp_path / "build" / "published" / "2025.2.json").read_text())["demo"]
    assert entry["key"] == result.key and verified.heading.endswith(f"({entry['digest']})")

    # A re-push of the unchanged image finds it signed: nothing signed again.
    log.clear()
    [again] = build_services(forge(), PAIRS[:1], BuildOptions(push=True))
    publish(forge(), again, push=True, sbom=False, sign=True)
    assert any(line.endswith(": already signed") for line in log), "\n".join(log)

    # Another image under the same tag, its labels intact but never signed.
    reference = result.reference
    retag(reference, "LABEL note=retagged")
    unsigned = {f.check: f for f in verify_pushed(forge(), Pair("2025.2", "demo")).findings}
    assert not unsigned["signature"].ok and "no signatures found" in unsigned["signature"].detail
    assert not unsigned["SBOM attestation"].ok
    assert unsigned["labels"].ok
    assert (
        not unsigned["digest lock"].ok and "the tag now points at" in unsigned["digest lock"].detail
    )

    # A label that lies about the upstream commit.
    retag(reference, "LABEL org.imageforge.upstream-commit=0000000")
    tampered = verify_pushed(forge(), Pair("2025.2", "demo"))
    labels = {f.check: f for f in tampered.findings}["labels"]
    commit = result.inputs.service.commit
    assert not tampered.ok and not labels.ok
    assert f"upstream-commit is '0000000', the current inputs give '{commit}'" in labels.detail


def retag(reference: str, instruction: str) -> None:
    """Push an image built FROM ``reference`` with ``instruction`` under the same tag."""
    docker.run(["pull", "--quiet", reference])
    docker.run(
        ["build", "--quiet", "--tag", reference, "-"],
        input=f"FROM {reference}\n{instruction}\n".encode(),
    )
    docker.run(["push", "--quiet", reference])
    docker.run(["image", "rm", reference], check=False)
