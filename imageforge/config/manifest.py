"""releases.yaml: the releases, services and libraries the forge builds.

The file is validated on load and turned into frozen dataclasses; every
mistake is one ManifestError naming the file, the line, the key path and what
was expected. The images/ folder is checked against it: every service needs
``images/<service>/Dockerfile`` and every image folder needs an entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from imageforge.config.yamlnodes import Document, KeyPath, load_document
from imageforge.errors import ManifestError

# Image folders that every service builds on rather than services themselves.
# shared-deps: a release's shared dependency layers (image.shared);
# shared-runtime: its shared OS package stages (image.runtimeshare).
SHARED_IMAGES = ("python-base", "venv-builder", "shared-deps", "shared-runtime")
# How many of them a Python service's image copies: a Dockerfile built on
# shared-deps has a `COPY --from=deps --link /forge/shared/<n>/ /`
# line for each n from 1.
SHARED_LAYERS = 4
# Image folders of the forge's own tools, built on demand, not required:
# unit-tests, the environment of inv patches.test (imageforge.unittests).
TOOL_IMAGES = ("unit-tests",)
# How a service's image is built: which shared images its Dockerfile gets as
# BUILDER_IMAGE and RUNTIME_IMAGE (in that order), and whether it is a Python
# venv (requirements, constraints, patched libraries, the venv checks). A
# third C project (libvirt, haproxy) is data (build: c) and a Dockerfile folder.
BUILD_KINDS = {
    "python": ("venv-builder", "python-base"),
    "c": ("c-builder", "c-base"),
    # No git source: the distribution's packages at the versions it serves
    # (libvirt); c-base is its runtime, and nothing is compiled.
    "distribution": ("c-base", "c-base"),
}
# The image's version is that of this package (releases.yaml: version_from).
DISTRIBUTION_KEYS = {"build", "runtime_packages", "version_from"}
# images/backing/<name>/: the functional checks' database, message bus and cache.
BACKING_FOLDER = "backing"

_TOP_LEVEL_KEYS = {"defaults", "services", "libraries", "releases"}
_DEFAULTS_KEYS = {"registry", "base_image", "requirements_repo"}
_SERVICE_KEYS = {
    "repo",
    "version_from",
    "extras",
    "pip_packages",
    "runtime_packages",
    "bindings",
    "build",
    "projects",
    "images",
}
# services.<s>.images.<name>: another image from a target of the service's Dockerfile.
_DERIVED_KEYS = {"target", "runtime_packages", "bindings"}
_PROJECT_KEYS = {"repo"}
_LIBRARY_KEYS = {"repo"}
_RELEASE_KEYS = {"requirements", "base_image", "registry", "services", "libraries"}
_REQUIREMENTS_KEYS = {"repo", "ref"}
# A release may override the service's package lists, e.g. when a release
# needs an extra runtime package the others do not.
_RELEASE_SERVICE_KEYS = {
    "ref",
    "extras",
    "pip_packages",
    "runtime_packages",
    "bindings",
    "projects",
}
_RELEASE_LIBRARY_KEYS = {"ref"}

# Names become folder names (build/sources/<release>/<service>, patches/...):
# letters, digits, '.', '_' and '-', never starting with '.' or '-', so no name
# can climb out of its folder or read as an option (oslo.messaging, 2025.2).
PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
NAME_EXPECTED = "not a plain name: letters, digits, '.', '_' and '-', not starting with '.' or '-'"

REF_EXPECTED = "expected a string (a branch, a tag or a full commit SHA)"


@dataclass(frozen=True, order=True)
class Pair:
    """One project (a service or a library) of one release: what every stage works on.

    Handed from tasks.py down as one value, so no function takes the two names
    as bare strings (that once came in two orders, two lines apart).
    """

    release: str
    project: str

    def __str__(self) -> str:
        """``glance (2025.2)``: how messages name it."""
        return f"{self.project} ({self.release})"


@dataclass(frozen=True)
class Requirements:
    """Where a release's upper-constraints.txt comes from."""

    repo: str
    ref: str


@dataclass(frozen=True)
class Service:
    """One OpenStack service as built for one release."""

    name: str
    repo: str
    ref: str
    extras: tuple[str, ...] = ()
    pip_packages: tuple[str, ...] = ()
    runtime_packages: tuple[str, ...] = ()
    # The distribution's Python bindings the venv uses (python3-rados,
    # python3-rbd, python3-libvirt): installed at run time, their files linked
    # where the venv reads them, as they must match the distribution's
    # librados/libvirt, not a wheel built against other headers.
    bindings: tuple[str, ...] = ()
    build: str = "python"  # a key of BUILD_KINDS
    # The source projects this image carries besides the service (plugins,
    # dashboards): names of the release's libraries with carried_by = this.
    projects: tuple[str, ...] = ()
    # An image built from a target of another service's Dockerfile
    # (services.nova.images.nova-compute): that service's name and the target.
    source: str | None = None
    target: str | None = None
    # build: distribution: the package whose version is the image's.
    version_from: str | None = None

    @property
    def project(self) -> str:
        """The git project the image is built from (its export, patches and projects)."""
        return self.source or self.name

    @property
    def is_python(self) -> bool:
        return self.build == "python"

    @property
    def from_git(self) -> bool:
        """Built from a git project (not from the distribution's packages alone)."""
        return self.build != "distribution"


@dataclass(frozen=True)
class Library:
    """A project built from source into images: a library a release patches, or a
    project one image carries (a plugin of nova, a dashboard of horizon)."""

    name: str
    repo: str
    # None: the version that the release's upper-constraints pins.
    ref: str | None = None
    # The service whose image carries it (services.<s>.projects); None for a
    # patched library, which goes to every image its requirements reach.
    carried_by: str | None = None

    def ref_path(self, release: str) -> tuple[str, ...]:
        """Where releases.yaml gives this project's ref for ``release``."""
        if self.carried_by:
            return ("releases", release, "services", self.carried_by, "projects", self.name, "ref")
        return ("releases", release, "libraries", self.name, "ref")


@dataclass(frozen=True)
class Release:
    name: str
    requirements: Requirements
    base_image: str
    registry: str
    services: tuple[Service, ...]
    # The patched libraries and, after them, the projects images carry.
    libraries: tuple[Library, ...] = ()

    @property
    def patched_libraries(self) -> tuple[Library, ...]:
        """The libraries any image may reach (not a project one image carries)."""
        return tuple(lib for lib in self.libraries if lib.carried_by is None)

    def carried(self, service: str) -> tuple[Library, ...]:
        """The source projects ``service``'s image carries, in releases.yaml's order."""
        return tuple(lib for lib in self.libraries if lib.carried_by == service)

    @property
    def branch(self) -> str:
        """The upstream stable branch of this release, e.g. stable/2025.2."""
        return f"stable/{self.name}"

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        known = ", ".join(s.name for s in self.services) or "none"
        raise ManifestError(f"release {self.name} has no service {name!r} (it has: {known})")


@dataclass(frozen=True)
class Manifest:
    path: Path
    releases: tuple[Release, ...]

    @property
    def root(self) -> Path:
        """The project folder: images/, patches/ and constraints/ sit beside releases.yaml."""
        return self.path.parent

    def release_or_none(self, name: str) -> Release | None:
        return next((r for r in self.releases if r.name == name), None)

    def release(self, name: str) -> Release:
        for release in self.releases:
            if release.name == name:
                return release
        known = ", ".join(r.name for r in self.releases)
        raise ManifestError(f"{self.path}: unknown release {name!r} (known: {known})")

    def require_projects(
        self, releases: tuple[str, ...] = (), projects: tuple[str, ...] = ()
    ) -> None:
        """An unknown release, service or library named on a command line is an error."""
        for name in releases:
            self.release(name)
        known = {s.name for r in self.releases for s in r.services} | {
            lib.name for r in self.releases for lib in r.libraries
        }
        for name in projects:
            if name not in known:
                raise ManifestError(
                    f"{self.path}: unknown service or library {name!r} "
                    f"(known: {', '.join(sorted(known))})"
                )

    def selection(
        self, releases: tuple[str, ...] = (), services: tuple[str, ...] = ()
    ) -> list[Pair]:
        """The (release, service) pairs of a command line, as Pair values."""
        return [Pair(rel.name, svc.name) for rel, svc in self.pairs(releases, services)]

    def pairs(
        self, releases: tuple[str, ...] = (), services: tuple[str, ...] = ()
    ) -> Iterator[tuple[Release, Service]]:
        """Every (release, service) pair, optionally narrowed to some releases or services."""
        for name in releases:
            self.release(name)  # an unknown name is an error, not an empty matrix
        all_services = {s.name for r in self.releases for s in r.services}
        for name in services:
            if name not in all_services:
                raise ManifestError(f"{self.path}: unknown service {name!r}")
        for release in self.releases:
            if releases and release.name not in releases:
                continue
            for service in release.services:
                if not services or service.name in services:
                    yield release, service


def load_manifest(path: Path | str = "releases.yaml", *, check_images: bool = True) -> Manifest:
    """Load and validate releases.yaml (and, unless told not to, the images/ folder)."""
    # Here, not at the top: imagefolders reads this module's constants.
    from imageforge.config.imagefolders import check_image_folders

    path = Path(path)
    document = load_document(path)
    manifest = _Parser(document).manifest()
    if check_images:
        check_image_folders(manifest, document)
    return manifest


class _Parser:
    """Walks the plain values of a Document, checking each key as it goes."""

    def __init__(self, document: Document) -> None:
        self.doc = document

    def manifest(self) -> Manifest:
        top = self._mapping(self.doc.data, ())
        self._keys(top, (), allowed=_TOP_LEVEL_KEYS, required={"services", "releases"})
        defaults = self._mapping(top.get("defaults", {}), ("defaults",))
        self._keys(defaults, ("defaults",), allowed=_DEFAULTS_KEYS)

        services = self._mapping(top["services"], ("services",))
        for name, entry in services.items():
            path = ("services", name)
            self._name(name, path)
            if self._mapping(entry, path).get("build") == "distribution":
                self._keys(entry, path, allowed=DISTRIBUTION_KEYS, required=DISTRIBUTION_KEYS)
                self._string(entry["version_from"], (*path, "version_from"))
                if entry["version_from"] not in self._string_list(
                    entry["runtime_packages"], (*path, "runtime_packages")
                ):
                    raise self.doc.error(
                        (*path, "version_from"), "expected one of the runtime_packages"
                    )
                continue
            self._keys(self._mapping(entry, path), path, allowed=_SERVICE_KEYS, required={"repo"})
            self._string(entry["repo"], (*path, "repo"))
            for project, spec in self._mapping(
                entry.get("projects", {}), (*path, "projects")
            ).items():
                where = (*path, "projects", project)
                self._name(project, where)
                if project in services or project in top.get("libraries", {}):
                    raise self.doc.error(where, "already a service or library of this file")
                self._keys(
                    self._mapping(spec, where), where, allowed=_PROJECT_KEYS, required={"repo"}
                )
                self._string(spec["repo"], (*where, "repo"))
            for image, spec in self._mapping(entry.get("images", {}), (*path, "images")).items():
                where = (*path, "images", image)
                self._name(image, where)
                if image in services:
                    raise self.doc.error(where, "already a service of this file")
                spec = self._mapping(spec, where)
                self._keys(spec, where, allowed=_DERIVED_KEYS, required={"target"})
                self._string(spec["target"], (*where, "target"))
            kind = entry.get("build", "python")
            if kind not in BUILD_KINDS:
                raise self.doc.error(
                    (*path, "build"),
                    f"expected one of {', '.join(sorted(BUILD_KINDS))}, got {_kind(kind)}",
                )
        libraries = self._mapping(top.get("libraries", {}), ("libraries",))
        for name, entry in libraries.items():
            path = ("libraries", name)
            self._name(name, path)
            self._keys(self._mapping(entry, path), path, allowed=_LIBRARY_KEYS, required={"repo"})
            self._string(entry["repo"], (*path, "repo"))

        releases = self._mapping(top["releases"], ("releases",))
        if not releases:
            raise self.doc.error(("releases",), "expected at least one release")
        return Manifest(
            path=self.doc.file,
            releases=tuple(
                self._release(name, value, defaults, services, libraries)
                for name, value in releases.items()
            ),
        )

    def _release(
        self,
        name: str,
        value: Any,
        defaults: dict[str, Any],
        services: dict[str, Any],
        libraries: dict[str, Any],
    ) -> Release:
        path = ("releases", name)
        self._name(name, path)
        entry = self._mapping(value, path)
        self._keys(entry, path, allowed=_RELEASE_KEYS, required={"requirements", "services"})

        req_path = (*path, "requirements")
        requirements = self._mapping(entry["requirements"], req_path)
        self._keys(requirements, req_path, allowed=_REQUIREMENTS_KEYS, required={"ref"})
        repo = requirements.get("repo", defaults.get("requirements_repo"))
        if repo is None:
            raise self.doc.error(
                (*req_path, "repo"),
                "missing (give it here or as defaults.requirements_repo)",
            )

        release_services = self._mapping(entry["services"], (*path, "services"))
        if not release_services:
            raise self.doc.error((*path, "services"), "expected at least one service")
        release_libraries = self._mapping(entry.get("libraries", {}), (*path, "libraries"))
        built = tuple(
            self._service(svc, value, services, (*path, "services", svc))
            for svc, value in release_services.items()
        )
        # Each service's other images follow its entry: same ref, source and projects.
        built += tuple(
            self._derived(svc, name, spec)
            for svc in built
            for name, spec in services[svc.name].get("images", {}).items()
        )
        carried = tuple(
            self._carried(svc, services, release_services[svc.name], (*path, "services", svc.name))
            for svc in built
            if svc.source is None
        )

        return Release(
            name=name,
            requirements=Requirements(
                repo=self._string(repo, (*req_path, "repo")),
                ref=self._string(requirements["ref"], (*req_path, "ref"), REF_EXPECTED),
            ),
            base_image=self._setting(entry, defaults, "base_image", path),
            registry=self._setting(entry, defaults, "registry", path),
            services=built,
            libraries=tuple(
                self._library(lib, value, libraries, (*path, "libraries", lib))
                for lib, value in release_libraries.items()
            )
            + tuple(project for projects in carried for project in projects),
        )

    def _derived(self, service: Service, name: str, spec: dict[str, Any]) -> Service:
        where = ("services", service.name, "images", name)
        return replace(
            service,
            name=name,
            runtime_packages=self._string_list(
                spec.get("runtime_packages", []), (*where, "runtime_packages")
            ),
            bindings=self._string_list(spec.get("bindings", []), (*where, "bindings")),
            source=service.name,
            target=spec["target"],
        )

    def _carried(
        self, service: Service, services: dict[str, Any], entry: dict[str, Any], path: KeyPath
    ) -> tuple[Library, ...]:
        """The projects ``service``'s image carries, each at its ref for this release."""
        defined = services[service.name].get("projects", {})
        given = self._mapping(entry.get("projects", {}), (*path, "projects"))
        for name in given:
            if name not in defined:
                known = ", ".join(defined) or "none"
                raise self.doc.error(
                    (*path, "projects", name),
                    f"unknown project (defined under services.{service.name}.projects: {known})",
                )
        found = []
        for name, spec in defined.items():
            where = (*path, "projects", name)
            if name not in given:
                raise self.doc.error(
                    (*path, "projects"),
                    f"missing {name}: give its ref ({name}: {{ref: ...}}) for this release",
                )
            entry = self._mapping(given[name], where)
            self._keys(entry, where, allowed=_RELEASE_LIBRARY_KEYS, required={"ref"})
            ref = self._string(entry["ref"], (*where, "ref"), REF_EXPECTED)
            found.append(Library(name, spec["repo"], ref, carried_by=service.name))
        return tuple(found)

    def _service(self, name: str, value: Any, services: dict[str, Any], path: KeyPath) -> Service:
        if name not in services:
            known = ", ".join(services) or "none"
            raise self.doc.error(path, f"unknown service (defined under services: {known})")
        entry = self._mapping({} if value is None else value, path)
        base = services[name]
        if base.get("build") == "distribution":
            # Its version is the distribution's: no ref to give (nor to patch).
            self._keys(entry, path, allowed={"runtime_packages"})
            return Service(
                name=name,
                repo="",
                ref="",
                runtime_packages=self._string_list(
                    entry.get("runtime_packages", base["runtime_packages"]),
                    (*path, "runtime_packages"),
                ),
                build="distribution",
                version_from=base["version_from"],
            )
        self._keys(entry, path, allowed=_RELEASE_SERVICE_KEYS, required={"ref"})

        def packages(key: str) -> tuple[str, ...]:
            if key in entry:
                return self._string_list(entry[key], (*path, key))
            return self._string_list(base.get(key, []), ("services", name, key))

        return Service(
            name=name,
            repo=base["repo"],
            ref=self._string(entry["ref"], (*path, "ref"), REF_EXPECTED),
            extras=packages("extras"),
            pip_packages=packages("pip_packages"),
            runtime_packages=packages("runtime_packages"),
            bindings=packages("bindings"),
            build=base.get("build", "python"),
            projects=tuple(base.get("projects", {})),
        )

    def _library(self, name: str, value: Any, libraries: dict[str, Any], path: KeyPath) -> Library:
        if name not in libraries:
            known = ", ".join(libraries) or "none"
            raise self.doc.error(path, f"unknown library (defined under libraries: {known})")
        entry = self._mapping({} if value is None else value, path)
        self._keys(entry, path, allowed=_RELEASE_LIBRARY_KEYS)
        ref = entry.get("ref")
        return Library(
            name=name,
            repo=libraries[name]["repo"],
            ref=None if ref is None else self._string(ref, (*path, "ref"), REF_EXPECTED),
        )

    def _setting(self, entry: dict, defaults: dict, key: str, path: KeyPath) -> str:
        if key in entry:
            return self._string(entry[key], (*path, key))
        if key in defaults:
            return self._string(defaults[key], ("defaults", key))
        raise self.doc.error((*path, key), f"missing (give it here or as defaults.{key})")

    # -- checks on single values -------------------------------------------------

    def _keys(
        self,
        entry: dict,
        path: KeyPath,
        *,
        allowed: set[str],
        required: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        for key in entry:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                raise self.doc.error((*path, key), f"unknown key (expected one of: {expected})")
        for key in sorted(required):
            if key not in entry:
                raise self.doc.error((*path, key), "missing")

    def _name(self, name: str, path: KeyPath) -> None:
        if not PLAIN_NAME.fullmatch(name):
            raise self.doc.error(path, f"{name!r} is {NAME_EXPECTED}")

    def _mapping(self, value: Any, path: KeyPath) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.doc.error(path, f"expected a mapping, got {_kind(value)}")
        return value

    def _string(self, value: Any, path: KeyPath, expected: str = "expected a string") -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.doc.error(path, f"{expected}, got {_kind(value)}")
        return value

    def _string_list(self, value: Any, path: KeyPath) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.doc.error(path, f"expected a list of strings, got {_kind(value)}")
        for i, item in enumerate(value):
            self._string(item, (*path, str(i)))
        return tuple(value)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str) and not value.strip():
        return "an empty string"
    return f"{value!r}"
