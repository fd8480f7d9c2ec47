"""Multi-arch end to end: amd64 + arm64 images of the synthetic service, arm64 under qemu.

One bake graph builds both platforms (the arm64 one FROM the arm64 base that
`inv base-image --arch arm64` bootstraps); the push gives one manifest list
holding both, recorded with both digests in the digest lock; the arm64 image
is pulled back and passes its smoke checks under emulation, and its SBOM's
Debian purls say arm64.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace

import pytest

from imageforge.config.manifest import Pair
from imageforge.host import docker
from imageforge.host.cosign import Signing
from imageforge.image.baseimage import default_spec, push_multiarch
from imageforge.image.build import BuildOptions, build_services
from imageforge.image.registry import manifest_of
from imageforge.publish.pushed import verify_pushed
from imageforge.publish.sign import publish
from imageforge.verify.sbom import read_bom
from imageforge.verify.service import smoke_service
from tests.support.projects import make_forge
from tests.support.synthetic import REGISTRY

pytestmark = pytest.mark.docker
BOTH = "linux/amd64,linux/arm64"


def test_arm64_base_runs_under_emulation(arm64_base):
    assert arm64_base == "imageforge/debian:bookworm-arm64"
    assert (
        docker.run(
            ["run", "--rm", "--platform", "linux/arm64", arm64_base, "uname", "-m"]
        ).stdout.strip()
        == "aarch64"
    )
    assert (
        docker.run(["run", "--rm", arm64_base, "dpkg", "--print-architecture"]).stdout.strip()
        == "arm64"
    )


def test_both_platforms_push_as_one_list_and_arm64_passes_smoke(
    built, tmp_path, base_image, arm64_base, local_registry
):
    _, _, project, _ = built
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    _slim_builder(copy)
    manifest = copy / "releases.yaml"
    manifest.write_text(
        manifest.read_text().replace(f"registry: {REGISTRY}", f"registry: {local_registry}/forge")
    )
    log: list[str] = []
    forge = make_forge(copy, tmp_path, base_image=base_image, log=log.append)

    [result] = build_services(
        forge, [Pair("2025.2", "demo")], BuildOptions(push=True, platform=BOTH)
    )
    publish(forge, result, push=True, sbom=True, sign=False)
    listed = manifest_of(result.reference)
    platforms = {
        f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"]
        for m in listed["manifests"]
    }
    assert set(platforms) == {"linux/amd64", "linux/arm64"}, listed
    for tag in result.tags:  # every release tag (and the key) names the same list
        assert manifest_of(tag)["digest"] == listed["digest"]
    lock = json.loads((tmp_path / "build" / "published" / "2025.2.json").read_text())["demo"]
    assert lock["digest"] == listed["digest"] and lock["platforms"] == platforms
    assert set(lock["platform_sbom_sha256"]) == {"linux/amd64", "linux/arm64"}

    # inv verify reads both platforms' labels (they match) and wants an SBOM
    # attestation on each platform's image (none: this push was not signed).
    verifier = replace(forge, signing=Signing(public_key=tmp_path / "nobody.pub"))
    findings = {f.check: f for f in verify_pushed(verifier, Pair("2025.2", "demo")).findings}
    assert findings["labels"].ok and "(2 config(s))" in findings["labels"].detail
    assert not findings["SBOM attestation linux/arm64"].ok
    assert not findings["SBOM attestation linux/amd64"].ok
    assert not findings["signature"].ok

    # Each platform's SBOM names its own Debian architecture.
    sboms = sorted((tmp_path / "build" / "sbom" / "2025.2").glob("demo-*.cdx.json"))
    arches = set()
    for path in sboms:
        purls = [c.get("purl", "") for c in read_bom(path)["components"]]
        arches |= {a for a in ("amd64", "arm64") if any(f"arch={a}" in p for p in purls)}
    assert {"amd64", "arm64"} <= arches

    # Locally, the arm64 image is loaded as <tag>-arm64 and passes smoke under qemu.
    local = make_forge(copy, tmp_path, base_image=base_image, log=log.append)
    [arm64] = build_services(local, [Pair("2025.2", "demo")], BuildOptions(platform="linux/arm64"))
    assert arm64.reference.endswith(":1.0.2-arm64")
    assert (
        docker.run(
            ["image", "inspect", "--format", "{{.Architecture}}", arm64.reference]
        ).stdout.strip()
        == "arm64"
    )
    assert smoke_service(local, Pair("2025.2", "demo"), BuildOptions(platform="linux/arm64")).ok
    for tag in arm64.tags:
        docker.run(["image", "rm", tag], check=False)


def _slim_builder(project):
    """The synthetic service's venv has no compiled distribution: its builder needs
    no compilers or headers. Unpacking those under qemu took most of a cold run
    (328 s); the graph, the push, the list and smoke are what this test is about."""
    dockerfile = project / "images" / "venv-builder" / "Dockerfile"
    text = dockerfile.read_text()
    heavy = (
        "  build-essential ca-certificates git pkg-config python3 python3-dev python3-venv \\\n"
        "  libffi-dev libldap2-dev libsasl2-dev libssl-dev libxml2-dev libxslt1-dev libpq-dev\n"
    )
    assert heavy in text, "venv-builder's package list changed: update _slim_builder"
    dockerfile.write_text(text.replace(heavy, "  ca-certificates python3 python3-venv\n"))


def test_a_multiarch_base_reference_lists_both_arches(base_image, arm64_base, local_registry):
    specs = [
        default_spec(mirror=os.environ.get("FORGE_APT_MIRROR"), arch=arch)
        for arch in ("amd64", "arm64")
    ]
    reference = f"{local_registry}/imageforge/debian:bookworm"
    logged: list[str] = []
    push_multiarch(specs, reference, log=logged.append)
    listed = manifest_of(reference)
    assert [m["platform"]["architecture"] for m in listed["manifests"]] == ["amd64", "arm64"]
    assert logged == [
        f"{reference}: linux/amd64, linux/arm64 ({reference}-amd64, {reference}-arm64)"
    ]
    for arch in ("amd64", "arm64"):
        docker.run(["image", "rm", f"{reference}-{arch}"], check=False)
