"""``inv cloud``: a release's images run together as one cloud, and a server boots on it.

The functional machinery, at the scale of a release: one private network, the
backing services, the API services (each as its functional.yaml runs it, with
the cloud's config), the data plane's containers, in cloud.yaml's order, then
the scenario's real API calls and commands. Every step is a row; a failure
shows the failing service's log tail and the exact request and response; the
run leaves nothing behind, also on failure and Ctrl-C.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from imageforge.context import Forge
from imageforge.image.build import BuildOptions
from imageforge.report import CheckReport
from imageforge.verify.cloud.guest import make_guest
from imageforge.verify.cloud.spec import load_cloud
from imageforge.verify.functional import backing
from imageforge.verify.functional.run import IDENTITY, Run, Stop, release_images
from imageforge.verify.functional.stack import private_stack

RUN_PREFIX = "forge-cloud"


def run_cloud(
    forge: Forge,
    release: str,
    options: BuildOptions,
    *,
    build: bool = False,
    backing_images: Mapping[str, str] | None = None,
) -> CheckReport:
    """Start cloud/cloud.yaml's cloud from ``release``'s images; run its scenario."""
    cloud = load_cloud(forge.root)
    images = release_images(forge, release, cloud.images, options, build=build, where=cloud.path)
    base = forge.base_image or forge.manifest.release(release).base_image
    guest = make_guest(forge, cloud.guest, base) if cloud.guest else None
    names = list(cloud.backing)
    backing.require_known(names, cloud.path)
    backing_refs = backing.images_for(forge, names, base, backing_images or {})
    report = CheckReport(f"cloud/{release}", f"cloud {release}: {', '.join(images)}", column="STEP")
    if guest:
        report.notes.append(f"guest: {', '.join(guest.versions)}")
    services = {service.service: service for service in cloud.services}
    parts = {part.name: part for part in cloud.spec.parts}
    started = time.monotonic()
    with (
        private_stack(RUN_PREFIX) as stack,
        tempfile.TemporaryDirectory(prefix="forge-cloud-") as scratch,
    ):
        run = Run(stack, Path(scratch), report, forge.log)
        run.values.update(guest.values() if guest else {}, release=release)
        try:
            run.backing(names, backing_refs)
            for name in cloud.order:
                if name in services:
                    service = services[name]
                    assert service.serve is not None  # load_cloud refuses otherwise
                    values = run.service(service, service.serve, images[name], is_subject=False)
                    # The data plane's config uses them: {nova[rabbit_url]}.
                    run.values[name] = values
                    if name == IDENTITY:
                        run.catalog(cloud.catalog)
                else:
                    part = parts[name]
                    assert part.image is not None  # load_cloud refuses otherwise
                    run.part(part, images[part.image], cloud.spec)
            run.checks(cloud.spec)
        except Stop:
            pass
    report.seconds = time.monotonic() - started
    return report
