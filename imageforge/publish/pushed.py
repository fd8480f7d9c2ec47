"""``inv verify``: is the image the registry serves for a release the one we would push?

Four checks on the image behind the release's version tag, by its digest:
its signature verifies; a CycloneDX attestation verifies whose subject is that
digest; its labels (every platform's) say what releases.yaml and patches/ say
now (upstream commit, series digest, constraints digest, libraries, base); and
the digest lock, when there is one, recorded that same digest.
"""

from __future__ import annotations

from imageforge.config.manifest import Pair
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import cosign, docker
from imageforge.image import registry
from imageforge.image.build import planned_image, stale_labels
from imageforge.image.key import KEY_LABEL
from imageforge.publish.lock import lock_path, read_lock
from imageforge.report import CheckReport, Finding

CYCLONEDX_PREDICATE = "https://cyclonedx.org/bom"


def verify_pushed(forge: Forge, pair: Pair) -> CheckReport:
    release, service = pair.release, pair.project
    planned, _ = planned_image(forge.quiet(), pair)
    reference = planned.tags[0]
    try:
        manifest = registry.manifest_of(reference)
    except docker.DockerError as err:
        raise ForgeError(
            f"cannot read {reference} from the registry ({err}); was it pushed?"
        ) from err
    digest = manifest["digest"]
    repository = registry.repository_of(reference)
    image = f"{repository}@{digest}"
    # A manifest list: each platform's image carries its own SBOM attestation.
    subjects = registry.platform_digests(manifest) or {"": digest}
    findings = [
        _signature(forge.signing, image, digest),
        *(
            _attestation(forge.signing, f"{repository}@{one}", one, platform)
            for platform, one in subjects.items()
        ),
        _labels(planned, image),
    ]
    locked = _locked_digest(forge, release, service)
    if locked is not None:
        findings.append(
            Finding(
                "digest lock",
                locked == digest,
                f"{lock_path(forge, release).name} records {locked}"
                + ("" if locked == digest else f", the tag now points at {digest}"),
            )
        )
    return CheckReport(f"{service}/{release}", f"{reference} ({digest})", findings)


def _signature(signing: cosign.Signing, image: str, digest: str) -> Finding:
    try:
        payloads = cosign.verified_signatures(signing, image)
    except cosign.CosignError as err:
        return Finding("signature", False, _reason(err))
    signed = {
        p.get("critical", {}).get("image", {}).get("docker-manifest-digest") for p in payloads
    }
    if digest not in signed:
        return Finding("signature", False, f"signatures verify for {sorted(signed)}, not {digest}")
    return Finding("signature", True, f"{len(payloads)} verified signature(s)")


def _attestation(signing: cosign.Signing, image: str, digest: str, platform: str = "") -> Finding:
    check = f"SBOM attestation{' ' + platform if platform else ''}"
    try:
        statements = cosign.verified_attestations(signing, image)
    except cosign.CosignError as err:
        return Finding(check, False, _reason(err))
    algorithm, _, value = digest.partition(":")
    for statement in statements:
        subjects = [s.get("digest", {}).get(algorithm) for s in statement.get("subject", [])]
        if statement.get("predicateType") == CYCLONEDX_PREDICATE and value in subjects:
            components = len(statement.get("predicate", {}).get("components", []))
            return Finding(check, True, f"CycloneDX, {components} components")
    return Finding(check, False, f"no CycloneDX attestation has subject {digest}")


def _labels(planned, image: str) -> Finding:
    configs = registry.config_of(image)
    problems = []
    for platform, config in sorted(configs.items()):
        labels = (config.get("config") or {}).get("Labels") or {}
        for stale in stale_labels(planned, labels, ignore=(KEY_LABEL,)):
            problems.append(f"{platform + ': ' if platform else ''}{stale}")
    if problems:
        return Finding("labels", False, "; ".join(problems))
    return Finding("labels", True, f"match releases.yaml and patches/ ({len(configs)} config(s))")


def _locked_digest(forge: Forge, release: str, service: str) -> str | None:
    return read_lock(lock_path(forge, release)).get(service, {}).get("digest")


def _reason(err: cosign.CosignError) -> str:
    said = err.stderr.strip().splitlines()
    found = next((line for line in said if line.startswith("Error:")), None)
    return (found or str(err)).removeprefix("Error: ")
