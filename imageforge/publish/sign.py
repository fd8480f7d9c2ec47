"""After a build: the SBOM, the signature and SBOM attestation, the digest lock.

A pushed image is signed by its digest (a tag can move, a digest cannot), its
SBOM attached as a signed CycloneDX attestation, and the push recorded in
build/published/<release>.json. An image the content key found already in the
registry is signed only when no signature of it verifies yet, so a re-push of
an unchanged fleet adds nothing.
"""

from __future__ import annotations

from pathlib import Path

from imageforge.context import Forge
from imageforge.host import cosign
from imageforge.image import registry
from imageforge.image.build import BuildResult
from imageforge.publish.lock import record_push


def publish(forge: Forge, result: BuildResult, *, push: bool, sbom: bool, sign: bool) -> None:
    from imageforge.verify.service import write_sbom  # the SBOM validator is a heavy import

    release, service = result.inputs.service.release, result.inputs.service.project
    if not push:
        if sbom:
            write_sbom(forge, release, result.reference, result.inputs)
        return
    manifest = registry.manifest_of(result.reference)
    repository = registry.repository_of(result.reference)
    # Each platform of a list has its own SBOM, attached to that platform's image.
    subjects = {
        platform: f"{repository}@{digest}"
        for platform, digest in (
            registry.platform_digests(manifest) or {"": manifest["digest"]}
        ).items()
    }
    boms = (
        {
            platform: write_sbom(forge, release, image, result.inputs, pushed=True)
            for platform, image in subjects.items()
        }
        if sbom
        else {}
    )
    if sign:
        pinned = f"{repository}@{manifest['digest']}"
        attach = {subjects[platform]: bom for platform, bom in boms.items()}
        sign_image(forge, pinned, attach, again=not result.skipped)
    record_push(forge, release, service, result.reference, result.tags, boms, key=result.key)


def sign_image(
    forge: Forge, image: str, boms: dict[str, Path] | None = None, *, again: bool = True
) -> None:
    """Sign ``image`` (repository@digest), attach each SBOM to its image (repository@digest).

    ``again=False``: leave it be when its signature and attestations verify already.
    """
    signing, boms = forge.signing, boms or {}
    if not again and _verifies(signing, image, boms):
        forge.log(f"{image}: already signed{' and attested' if boms else ''}")
        return
    cosign.sign(signing, image)
    for subject, bom in boms.items():
        cosign.attest_sbom(signing, subject, bom)
    mode = f"key {signing.key}" if signing.key else "keyless"
    attached = f" and attached {len(boms)} SBOM(s)" if boms else ""
    forge.log(f"signed {image} ({mode}){attached}")


def _verifies(signing: cosign.Signing, image: str, boms: dict[str, Path]) -> bool:
    try:
        cosign.verified_signatures(signing, image)
        for subject in boms:
            cosign.verified_attestations(signing, subject)
    except cosign.CosignError:
        return False
    return True
