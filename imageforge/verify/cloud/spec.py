"""``cloud/cloud.yaml``: a release's images as one cloud, as data.

It is a functional.yaml (backing services, volumes, files, containers,
checks; see functional/spec.py and functional/parts.py) with three more keys::

    services:                  # the release's API services; each runs as its own
      keystone: {}             # images/<service>/functional.yaml says (database,
      nova:                    # setup, serve), with what is given here in place:
        files: {/etc/nova/nova.conf: "..."}   # files replace the same path's
        serve: {...}                          # serve and setup replace its own
    catalog:                   # registered in keystone once it answers
      image: http://glance:9292
    order: [keystone, ovn-central, neutron, compute, libvirt, nova-compute]
    guest: guest               # the folder (beside cloud.yaml) whose build.sh
                               # makes the test guest: {guest_kernel}, ...

``order`` names every service and container once, in the order they start
(the databases before the API that connects to them at start, the compute
host's network before the daemons that join it); without it, services start
first, then containers. Every container names its image: a cloud checks no
single image.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from imageforge.config.yamlnodes import Document, load_document
from imageforge.errors import ForgeError
from imageforge.verify.functional.fields import only, strings
from imageforge.verify.functional.spec import (
    Functional,
    functional_path,
    load_files,
    load_functional,
    load_serve,
    load_setup,
)

CLOUD_KEYS = frozenset({"services", "catalog", "order", "guest"})
_SERVICE = {"files", "setup", "serve"}


@dataclass(frozen=True)
class Cloud:
    # The backing services, volumes, files, containers and checks (service "cloud").
    spec: Functional
    # Each API service as the cloud runs it, in services' order.
    services: tuple[Functional, ...]
    # Every service and container, in the order they start.
    order: tuple[str, ...]
    # (service type, URL), registered in keystone.
    catalog: tuple[tuple[str, str], ...] = ()
    # The folder of the guest's build.sh, when the scenario boots one.
    guest: Path | None = None

    @property
    def path(self) -> Path:
        return self.spec.path

    @property
    def backing(self) -> tuple[str, ...]:
        names = [*self.spec.backing, *(b for s in self.services for b in s.backing)]
        return tuple(dict.fromkeys(names))

    @property
    def images(self) -> list[str]:
        """The release images the cloud runs."""
        return [s.service for s in self.services] + [p.image for p in self.spec.parts if p.image]


def cloud_path(root: Path) -> Path:
    return root / "cloud" / "cloud.yaml"


def load_cloud(root: Path) -> Cloud:
    """Read cloud/cloud.yaml and the functional.yaml of each service it runs."""
    path = cloud_path(root)
    if not path.is_file():
        raise ForgeError(f"{path}: missing (the cloud's services, containers and scenario)")
    document = load_document(path)
    data = document.data
    if not isinstance(data, dict):
        raise document.error((), "expected a mapping (services, containers, order, checks, ...)")
    services = data.get("services")
    if not isinstance(services, dict) or not services:
        raise document.error(("services",), "expected a mapping of service: its config here")
    names = tuple(services)
    spec = load_functional(path, "cloud", extra=CLOUD_KEYS, requires=names)
    for index, part in enumerate(spec.parts):
        if part.image is None:
            raise document.error(
                ("containers", str(index)), f"{part.name}: expected image: (a release image)"
            )
    return Cloud(
        spec=spec,
        services=tuple(_service(document, root, name, services[name] or {}) for name in names),
        order=_order(document, data.get("order"), spec),
        catalog=_catalog(document, data.get("catalog", {})),
        guest=_guest(document, path.parent, data.get("guest")),
    )


def _service(document: Document, root: Path, name: str, given: Any) -> Functional:
    """``name`` as its own functional.yaml runs it, with the cloud's files, setup, serve."""
    where = ("services", name)
    if not isinstance(given, dict):
        raise document.error(where, f"expected a mapping ({', '.join(sorted(_SERVICE))}) or {{}}")
    only(document, where, given, _SERVICE)
    own = functional_path(root, name)
    if not own.is_file():
        raise document.error(where, f"{name}: no {own.relative_to(root)} to run it from")
    base = load_functional(own, name)
    files = dict(base.files)
    files.update(load_files(document, (*where, "files"), given.get("files", {})))
    serve = load_serve(document, (*where, "serve"), given["serve"]) if "serve" in given else None
    setup = load_setup(document, (*where, "setup"), given["setup"]) if "setup" in given else None
    service = replace(
        base,
        files=tuple(sorted(files.items())),
        serve=serve or base.serve,
        setup=base.setup if setup is None else setup,
        # The cloud's own checks are its scenario; the service's are its own run's.
        requires=(),
        checks=(),
    )
    if service.serve is None:
        raise document.error(
            where, f"{name} serves no API here: start its daemons as containers instead"
        )
    return service


def _order(document: Document, value: Any, spec: Functional) -> tuple[str, ...]:
    services = list(spec.requires)
    parts = {part.name: part for part in spec.parts}
    if value is None:
        return (*services, *parts)
    order = strings(document, ("order",), value, empty=False)
    known = [*services, *parts]
    for name in order:
        if name not in known:
            raise document.error(("order",), f"{name}: not a service or container of the cloud")
        if order.count(name) > 1:
            raise document.error(("order",), f"{name} is named twice")
    missing = [name for name in known if name not in order]
    if missing:
        raise document.error(("order",), f"missing {', '.join(missing)}: each starts somewhere")
    for name, part in parts.items():
        if part.network and order.index(part.network) > order.index(name):
            raise document.error(
                ("order",), f"{name} joins {part.network}'s network: start {part.network} first"
            )
    return order


def _guest(document: Document, folder: Path, value: Any) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not (folder / value / "build.sh").is_file():
        raise document.error(
            ("guest",), f"{value}: expected a folder beside cloud.yaml with build.sh"
        )
    return folder / value


def _catalog(document: Document, value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise document.error(("catalog",), "expected a mapping of service type: URL")
    for kind, url in value.items():
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise document.error(("catalog", kind), "expected the URL its clients use")
    return tuple(value.items())
