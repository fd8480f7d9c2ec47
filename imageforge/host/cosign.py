"""The one way the forge calls cosign: signing, attesting and verifying pushed images.

Two modes, chosen by the context's signing settings:

- **key**: FORGE_COSIGN_KEY names a private key (``cosign generate-key-pair``;
  its password in COSIGN_PASSWORD, empty by default). Nothing goes to a
  transparency log, as a local or air-gapped registry has none to reach, and
  verification uses the public key beside it (or FORGE_COSIGN_PUBLIC_KEY).
- **keyless**: no key; cosign takes the CI's OIDC identity (GitHub Actions'
  token), records in the public transparency log, and verification checks
  the certificate's identity (FORGE_COSIGN_IDENTITY, a regexp) and issuer.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

from imageforge.errors import ForgeError
from imageforge.host import process

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


class CosignError(process.ProcessError):
    """cosign is missing or refused; the message carries its last words."""


@dataclass(frozen=True)
class Signing:
    key: Path | None = None  # None: keyless
    public_key: Path | None = None
    identity: str | None = None  # keyless verification: a regexp of the signer's identity
    issuer: str = GITHUB_ISSUER
    password: str = field(default="", repr=False)  # of the key, as COSIGN_PASSWORD

    @property
    def verifying_key(self) -> Path | None:
        if self.public_key is not None:
            return self.public_key
        return self.key.with_suffix(".pub") if self.key is not None else None

    def sign_args(self) -> list[str]:
        if self.key is None:
            return []
        return ["--key", str(self.key), "--tlog-upload=false"]

    def verify_args(self) -> list[str]:
        if self.key is not None or self.public_key is not None:
            return ["--key", str(self.verifying_key), "--insecure-ignore-tlog=true"]
        if not self.identity:
            raise ForgeError(
                "verifying a keyless signature needs the signer's identity: set "
                "FORGE_COSIGN_IDENTITY (a regexp, e.g. ^https://github.com/ORG/REPO/) "
                "or FORGE_COSIGN_KEY / FORGE_COSIGN_PUBLIC_KEY for key-based signatures"
            )
        return [
            "--certificate-identity-regexp",
            self.identity,
            "--certificate-oidc-issuer",
            self.issuer,
        ]


def require_usable_key(signing: Signing) -> None:
    """Fail before anything is pushed when the signing key cannot sign.

    Otherwise every tag was pushed and only then the first signature failed,
    leaving unsigned images under release tags. ``cosign public-key`` opens
    the private key with its password, which is exactly what signing needs.
    Keyless signing gets its identity from the CI at signing time; nothing
    here can check it beforehand.
    """
    if signing.key is None:
        return
    if not signing.key.is_file():
        raise CosignError(f"FORGE_COSIGN_KEY={signing.key}: no such file; nothing was pushed")
    try:
        _run(signing, ["public-key", "--key", str(signing.key)], what="cosign public-key")
    except CosignError as err:
        raise CosignError(
            f"FORGE_COSIGN_KEY={signing.key} cannot sign ({process.last_words(err.stderr)}; "
            "is COSIGN_PASSWORD right?); nothing was pushed"
        ) from err


def sign(signing: Signing, image: str) -> None:
    """Sign ``image`` (a repository@digest reference)."""
    _run(signing, ["sign", "--yes", *signing.sign_args(), image], what="cosign sign")


def attest_sbom(signing: Signing, image: str, sbom: Path) -> None:
    """Attach ``sbom`` to ``image`` as a signed CycloneDX attestation."""
    _run(
        signing,
        ["attest", "--yes", *signing.sign_args(), "--type", "cyclonedx",
         "--predicate", str(sbom), image],
        what="cosign attest",
    )  # fmt: skip


def verified_signatures(signing: Signing, image: str) -> list[dict]:
    """The verified signature payloads of ``image``; CosignError when none verifies."""
    proc = _run(
        signing, ["verify", *signing.verify_args(), "--output", "json", image], what="cosign verify"
    )
    return json.loads(proc.stdout)


def verified_attestations(signing: Signing, image: str) -> list[dict]:
    """The verified CycloneDX attestations of ``image``, as in-toto statements."""
    proc = _run(
        signing,
        ["verify-attestation", *signing.verify_args(), "--type", "cyclonedx", image],
        what="cosign verify-attestation",
    )
    statements = []
    for line in proc.stdout.decode().splitlines():
        if line.strip():
            envelope = json.loads(line)
            statements.append(json.loads(base64.b64decode(envelope["payload"])))
    return statements


def _run(signing: Signing, args: list[str], *, what: str):
    try:
        return process.run(["cosign", *args], what=what, env={"COSIGN_PASSWORD": signing.password})
    except process.ProcessError as err:
        if "command not found" in str(err):
            raise CosignError(
                "cosign: command not found (scripts/setup-host.sh installs it)"
            ) from err
        raise CosignError(str(err), err.stderr) from err
