"""After a build: the SBOM, the signature and SBOM attestation, the digest lock.

A pushed image is signed by its digest (a tag can move, a digest cannot), its
SBOM attached as a signed CycloneDX attestation, and the push recorded in
build/published/<release>.json. An image the content key found already in the
registry is signed only when no signature of it verifies yet, so a re-push of
an unchanged fleet adds nothing.
"""

from __future__ import annotations

from pathlib import Path

from imageforge.build import registry
from imageforge.build.image import BuildResult
from imageforge.build.published import record_push
from imageforge.context import Forge
from imageforge.host import cosign


def publish(forge: Forge, result: BuildResult, *, push: bool, sbom: bool, sign: bool) -> None:
    from imageforge.verify.service import write_sbom  # the SBOM validator is a heavy import

    release, service = result.inputs.service.release, result.inputs.service.project
    bom = write_sbom(forge, release, result.reference, result.inputs, pushed=push) if sbom else None
    if not push:
        return
    if sign:
        sign_image(forge, pinned_reference(result.reference), bom, again=not result.skipped)
    record_push(forge, release, service, result.reference, result.tags, bom, key=result.key)


def pinned_reference(reference: str) -> str:
    """repository@digest of what ``reference`` (repository:tag) is in the registry now."""
    name, _, tag = reference.rpartition(":")
    repository = name if name and "/" not in tag else reference  # a registry port is no tag
    return f"{repository}@{registry.manifest_of(reference)['digest']}"


def sign_image(forge: Forge, image: str, bom: Path | None, *, again: bool = True) -> None:
    """Sign ``image`` (repository@digest) and attach ``bom``; ``again=False`` skips if signed."""
    signing = forge.signing
    if not again and _verifies(signing, image, bom):
        forge.log(f"{image}: already signed{' and attested' if bom else ''}")
        return
    cosign.sign(signing, image)
    if bom is not None:
        cosign.attest_sbom(signing, image, bom)
    mode = f"key {signing.key}" if signing.key else "keyless"
    forge.log(f"signed {image} ({mode}){' and attached its SBOM' if bom else ''}")


def _verifies(signing: cosign.Signing, image: str, bom: Path | None) -> bool:
    try:
        cosign.verified_signatures(signing, image)
        if bom is not None:
            cosign.verified_attestations(signing, image)
    except cosign.CosignError:
        return False
    return True
