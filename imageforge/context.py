"""The forge context: what the environment says, read once, carried everywhere.

tasks.py and noxfile.py build one ``Forge`` with ``from_environment`` and hand
it down; nothing below reads an environment variable. It holds the manifest,
the cache and build folders, the offline and mirror policy, the build
settings and the log. ``memo`` lets the stages share what they computed once
(resolved refs, upper-constraints texts) for the life of one command.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from imageforge.config.manifest import Manifest, load_manifest
from imageforge.errors import ForgeError
from imageforge.host.cosign import GITHUB_ISSUER, Signing

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")

# The variables a TLS-intercepting proxy setup usually sets, most specific first.
CA_VARIABLES = (
    "FORGE_CA_BUNDLE",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
)
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# OSV's batch query: which versions of which PyPI packages have known vulnerabilities.
OSV_QUERYBATCH = "https://api.osv.dev/v1/querybatch"


def silent(_line: str) -> None:
    """A log that says nothing (for commands whose output is parsed)."""


@dataclass(frozen=True)
class Forge:
    manifest: Manifest
    cache: Path
    build_dir: Path
    offline: bool = False
    full_mirrors: bool = False
    base_image: str | None = None  # instead of each release's base image
    buildx_args: tuple[str, ...] = ()
    ca_bundle: Path | None = None
    apt_mirror: str | None = None
    # A folder of Packages files standing in for the host's apt index (FORGE_APT_INDEX).
    apt_index: Path | None = None
    # Shared dependency layers per release (image.shared); FORGE_SHARED_DEPS=0: none.
    shared_deps: bool = True
    signing: Signing = field(default_factory=Signing)
    # Where inv audit asks for vulnerabilities (FORGE_VULN_URL; an OSV querybatch endpoint).
    vulnerability_url: str = OSV_QUERYBATCH
    # A person watches a terminal (not CI): progress may be drawn in place.
    interactive: bool = False
    log: Callable[[str], None] = print
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def root(self) -> Path:
        """The project folder: images/, patches/ and constraints/ beside releases.yaml."""
        return self.manifest.root

    def quiet(self) -> Forge:
        """The same context with a silent log (memo shared)."""
        return replace(self, log=silent)

    def with_base_image(self, base_image: str | None) -> Forge:
        """A --base-image option wins over FORGE_BASE_IMAGE."""
        return replace(self, base_image=base_image) if base_image else self


def from_environment(
    default_manifest: Path,
    environ: Mapping[str, str] = os.environ,
    *,
    log: Callable[[str], None] = print,
) -> Forge:
    """Read every FORGE_* setting (and the CA variables) once; validate the flags."""
    manifest = load_manifest(environ.get("FORGE_MANIFEST") or default_manifest)
    cache = cache_dir(environ)
    build_dir = (
        Path(environ["FORGE_BUILD_DIR"])
        if environ.get("FORGE_BUILD_DIR")
        else manifest.root / "build"
    )
    require_apart(build_dir, manifest.root, cache)
    return Forge(
        manifest=manifest,
        cache=cache,
        build_dir=build_dir,
        offline=flag(environ, "FORGE_OFFLINE"),
        full_mirrors=flag(environ, "FORGE_FULL_MIRRORS"),
        base_image=environ.get("FORGE_BASE_IMAGE") or None,
        buildx_args=tuple(shlex.split(environ.get("FORGE_BUILDX_ARGS", ""))),
        ca_bundle=ca_bundle(environ),
        apt_mirror=environ.get("FORGE_APT_MIRROR") or None,
        apt_index=Path(environ["FORGE_APT_INDEX"]) if environ.get("FORGE_APT_INDEX") else None,
        shared_deps=flag({"FORGE_SHARED_DEPS": "1", **environ}, "FORGE_SHARED_DEPS"),
        signing=signing(environ),
        vulnerability_url=environ.get("FORGE_VULN_URL") or OSV_QUERYBATCH,
        interactive=sys.stdout.isatty() and environ.get("CI", "").lower() not in _TRUE,
        log=log,
    )


# What the maintainer writes: a build folder inside one would fill it with
# exports and contexts (a series folder would take them for patches).
_MAINTAINED = ("patches", "images", "constraints")


def require_apart(build_dir: Path, root: Path, cache: Path) -> None:
    """FORGE_BUILD_DIR must not lie inside patches/, images/, constraints/ or the cache."""
    build = Path(os.path.abspath(build_dir))
    for name, folder in [*((f"{n}/", root / n) for n in _MAINTAINED), ("the cache", cache)]:
        folder = Path(os.path.abspath(folder))
        if build == folder or folder in build.parents:
            raise ForgeError(
                f"FORGE_BUILD_DIR={build_dir}: inside {name} ({folder}); "
                "point it at a folder of its own (the default is build/ beside releases.yaml)"
            )


def signing(environ: Mapping[str, str] = os.environ) -> Signing:
    """cosign's settings: FORGE_COSIGN_KEY (unset: keyless), its public key, the identity."""

    def path(name: str) -> Path | None:
        return Path(environ[name]) if environ.get(name) else None

    return Signing(
        key=path("FORGE_COSIGN_KEY"),
        public_key=path("FORGE_COSIGN_PUBLIC_KEY"),
        identity=environ.get("FORGE_COSIGN_IDENTITY") or None,
        issuer=environ.get("FORGE_COSIGN_ISSUER") or GITHUB_ISSUER,
        password=environ.get("COSIGN_PASSWORD", ""),
    )


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """FORGE_CACHE_DIR, else $XDG_CACHE_HOME/imageforge, else ~/.cache/imageforge."""
    if environ.get("FORGE_CACHE_DIR"):
        return Path(environ["FORGE_CACHE_DIR"])
    xdg = environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "imageforge"


def flag(environ: Mapping[str, str], name: str) -> bool:
    """A yes/no variable; a spelling that is neither is an error, never silently "no"."""
    value = environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ForgeError(
        f"{name}={environ[name]!r}: expected one of {', '.join(_TRUE)} "
        f"or {', '.join(v for v in _FALSE if v)}"
    )


def ca_bundle(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The host's CA bundle: the first CA variable naming a file, else the system bundle."""
    for variable in CA_VARIABLES:
        value = environ.get(variable)
        if value and Path(value).is_file():
            return Path(value)
    return SYSTEM_CA_BUNDLE if SYSTEM_CA_BUNDLE.is_file() else None
