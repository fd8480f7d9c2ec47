"""A CycloneDX SBOM of a built image, with the applied patches as pedigree.

Components: every Python distribution in the image's venv (name, version,
purl, license where the metadata gives one) and every OS package of the
runtime image (from dpkg, with purls). The service is the primary component;
its pedigree names the upstream commit as ancestor and each applied patch
(service and patched libraries alike) with its diff, and a property carries
each patch's sha256. The constraints digest and the overrides' changes are
properties of the BOM. The document is validated against the CycloneDX 1.6
schema before it is written, next to a .sha256 file, under a name that
carries the image ID, so an SBOM is matched to its image.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

from cyclonedx.model import AttachedText, ExternalReference, ExternalReferenceType, Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import (
    Commit,
    Component,
    ComponentType,
    Diff,
    Patch,
    PatchClassification,
    Pedigree,
)
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from packaging.utils import canonicalize_name

from imageforge.constraints.generate import Constraints
from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.host.files import write_atomically
from imageforge.patches.export import Export
from imageforge.verify.runner import probe, probe_runner

PROPERTY = "imageforge"


def inventory(image: str, *, python: bool = True) -> tuple[list[dict], list[dict], str]:
    """(Python distributions, OS packages, distribution id) found in ``image``.

    An image built from C has no venv and no python to probe with: no distributions.
    """
    with probe_runner(image) as runner:
        dists = probe(runner, "dists") if python else []
        status, out, err = runner.run(
            ("dpkg-query", "-W", "-f=${Package}\\t${Version}\\t${Architecture}\\n")
        )
        if status != 0:
            raise ForgeError(f"dpkg-query failed in {image}: {err[-200:]}")
        packages = [
            dict(zip(("name", "version", "arch"), line.split("\t"), strict=True))
            for line in out.splitlines()
        ]
        status, distro, _ = runner.run(("sh", "-c", ". /etc/os-release && echo $ID"))
    return dists, packages, distro if status == 0 else "debian"


def build_bom(
    image: str,
    image_id: str,
    release: str,
    service: Export,
    libraries: list[Export],
    constraints: Constraints | None,
    patches_root: Path,
    dists: list[dict],
    packages: list[dict],
    distro: str,
) -> Bom:
    patched = {canonicalize_name(e.package): e for e in [service, *libraries]}
    bom = Bom()
    bom.metadata.component = _primary(service, patches_root)
    for dist in dists:
        key = canonicalize_name(dist["name"])
        if key == canonicalize_name(service.package):
            continue  # the primary component
        component = Component(
            type=ComponentType.LIBRARY,
            name=dist["name"],
            version=dist["version"],
            bom_ref=f"pypi:{key}@{dist['version']}",
            purl=PackageURL(type="pypi", name=key, version=dist["version"]),
            licenses=_licenses(dist),
        )
        if key in patched:
            component.pedigree = _pedigree(patched[key], patches_root)
            component.properties.update(_patch_properties(patched[key], patches_root))
        bom.components.add(component)
    # The venv is flat: the service needs every distribution in it.
    bom.register_dependency(bom.metadata.component, [c for c in bom.components])
    for package in packages:
        bom.components.add(
            Component(
                type=ComponentType.LIBRARY,
                name=package["name"],
                version=package["version"],
                bom_ref=f"deb:{package['name']}@{package['version']}:{package['arch']}",
                purl=PackageURL(
                    type="deb",
                    namespace=distro,
                    name=package["name"],
                    version=package["version"],
                    qualifiers={"arch": package["arch"]},
                ),
            )
        )
    if not dists:  # built from C: the programs need the OS packages (the libraries they link)
        bom.register_dependency(bom.metadata.component, [c for c in bom.components])
    properties = [
        Property(name=f"{PROPERTY}:image", value=image),
        Property(name=f"{PROPERTY}:image-id", value=image_id),
        Property(name=f"{PROPERTY}:release", value=release),
    ]
    if constraints is not None:  # a Python venv's constraints (an image built from C has none)
        properties += [
            Property(name=f"{PROPERTY}:constraints-digest", value=constraints.digest),
            Property(name=f"{PROPERTY}:requirements-commit", value=constraints.upstream_commit),
        ]
    for change in constraints.changes if constraints is not None else ():
        old = ", ".join(change.old) or "-"
        new = ", ".join(change.new) or "-"
        properties.append(
            Property(
                name=f"{PROPERTY}:constraint-override",
                value=f"{change.kind.value} {change.name}: {old} -> {new}",
            )
        )
    bom.metadata.properties.update(properties)
    return bom


def _primary(service: Export, patches_root: Path) -> Component:
    component = Component(
        type=ComponentType.APPLICATION,
        name=service.package,
        version=service.version,
        bom_ref=f"service:{service.project}",
        purl=purl_of(service),
        external_references=[
            ExternalReference(type=ExternalReferenceType.VCS, url=XsUri(service.repo))
        ],
        pedigree=_pedigree(service, patches_root),
    )
    component.properties.update(_patch_properties(service, patches_root))
    return component


def _pedigree(export: Export, patches_root: Path) -> Pedigree:
    ancestor = Component(
        type=ComponentType.LIBRARY,
        name=export.package,
        version=export.version,
        bom_ref=f"upstream:{export.project}@{export.commit}",
        external_references=[
            ExternalReference(type=ExternalReferenceType.VCS, url=XsUri(export.repo))
        ],
        properties=[
            Property(name=f"{PROPERTY}:upstream-ref", value=export.ref),
            Property(name=f"{PROPERTY}:upstream-commit", value=export.commit),
        ],
    )
    # OVN's pedigree names the OVS its submodule pins: "<path> <commit> <repo>".
    submodules = [entry.split(" ", 2) for entry in export.submodules]
    ancestors = [ancestor] + [
        Component(
            type=ComponentType.LIBRARY,
            name=path,
            version=commit,
            bom_ref=f"submodule:{export.project}/{path}@{commit}",
            external_references=[
                ExternalReference(type=ExternalReferenceType.VCS, url=XsUri(repo))
            ],
            properties=[Property(name=f"{PROPERTY}:submodule-commit", value=commit)],
        )
        for path, commit, repo in submodules
    ]
    return Pedigree(
        ancestors=ancestors,
        commits=[Commit(uid=export.commit, url=XsUri(export.repo))]
        + [Commit(uid=commit, url=XsUri(repo)) for _, commit, repo in submodules],
        patches=[
            Patch(
                type=PatchClassification.UNOFFICIAL,
                diff=Diff(
                    text=AttachedText(content=path.read_text(encoding="utf-8", errors="replace"))
                ),
            )
            for path in _patch_files(export, patches_root)
        ],
    )


def purl_of(service: Export) -> PackageURL:
    """A Python service's PyPI name; a C project its repository and tag (pkg:github/openvswitch/ovs@v3.4.6)."""
    if service.python:
        return PackageURL(
            type="pypi", name=canonicalize_name(service.package), version=service.version
        )
    match = re.match(r"^https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$", service.repo)
    if match:
        return PackageURL(
            type="github", namespace=match.group(1), name=match.group(2), version=service.ref
        )
    return PackageURL(
        type="generic",
        name=service.project,
        version=service.version,
        qualifiers={"vcs_url": f"git+{service.repo}@{service.commit}"},
    )


def _patch_properties(export: Export, patches_root: Path) -> list[Property]:
    properties = [
        Property(name=f"{PROPERTY}:patch-series-digest", value=export.series_digest or "none")
    ]
    for path in _patch_files(export, patches_root):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        properties.append(Property(name=f"{PROPERTY}:patch:{path.name}", value=f"sha256:{digest}"))
    return properties


def _patch_files(export: Export, patches_root: Path) -> list[Path]:
    folder = patches_root / export.project / export.release
    return [folder / name for name in export.patches]


def _licenses(dist: dict) -> list:
    if dist["license_expression"]:
        return [LicenseExpression(dist["license_expression"])]
    text = dist["license"]
    if text and "\n" not in text and len(text) <= 100 and text.upper() != "UNKNOWN":
        return [DisjunctiveLicense(name=text)]
    return [DisjunctiveLicense(name=name) for name in dist["license_classifiers"][:3]]


def write_bom(bom: Bom, target: Path) -> str:
    """Validate against the schema, write ``target`` and ``target``.sha256; return the digest."""
    text = JsonV1Dot6(bom).output_as_string(indent=2)
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise ForgeError(f"the SBOM does not validate against CycloneDX 1.6: {error}")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    target.with_name(f"{target.name}.sha256").write_text(f"{digest}  {target.name}\n")
    return digest


def sbom_for_image(
    image: str,
    release: str,
    service: Export,
    libraries: list[Export],
    constraints: Constraints | None,
    patches_root: Path,
    out_dir: Path,
    *,
    log: Callable[[str], None] = print,
) -> Path:
    """Write the SBOM of ``image`` (build.sign attaches it to a pushed image)."""
    image_id = docker.run(["image", "inspect", "--format", "{{.Id}}", image]).stdout.strip()
    dists, packages, distro = inventory(image, python=constraints is not None)
    bom = build_bom(
        image,
        image_id,
        release,
        service,
        libraries,
        constraints,
        patches_root,
        dists,
        packages,
        distro,
    )
    target = out_dir / release / f"{service.project}-{image_id.split(':')[-1][:12]}.cdx.json"
    digest = write_bom(bom, target)
    log(
        f"SBOM {target} (sha256 {digest[:16]}): {len(dists)} Python distributions, "
        f"{len(packages)} OS packages, {sum(len(e.patches) for e in [service, *libraries])} patches"
    )
    return target


def read_bom(path: Path) -> dict:
    return json.loads(path.read_text())
