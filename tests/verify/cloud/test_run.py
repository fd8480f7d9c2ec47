"""inv cloud end to end on the synthetic service: services and containers in the cloud's order,
one host's network shared, and planted faults failing at their step, naming the service."""

from __future__ import annotations

import shutil

import pytest

from imageforge.image.build import BuildOptions
from imageforge.verify.cloud.run import RUN_PREFIX, run_cloud
from tests.support.projects import make_forge
from tests.support.runs import leftovers

pytestmark = pytest.mark.docker

# The demo API from its own functional.yaml; a "host" container started before
# it, whose loopback serves a file; a sidecar in the host's network namespace
# that reads it over 127.0.0.1, as nova-compute reaches libvirtd, with a config
# made from demo's values.
CLOUD = """\
backing: [mariadb]
services:
  demo: {}
volumes: [shared]
files:
  /srv/www/greeting: "hello from {release}"
  # Rendered when the sidecar starts, after demo: demo's own values.
  /etc/sidecar/database: "{demo[database_name]}"
containers:
  - name: host
    image: demo
    volumes: {shared: /srv/shared}
    files: [/srv/www/greeting]
    steps:
      - name: a server on the host's loopback
        start: [python3, -m, http.server, --bind, 127.0.0.1, --directory, /srv/www, "8099"]
  - name: sidecar
    image: demo
    network: host
    files: [/etc/sidecar/database]
    steps:
      - name: the host's server answers on the shared loopback
        run: [python3, -c, "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8099/greeting')"]
        retry: 60
order: [host, demo, sidecar]
checks:
  - name: note stored
    on: demo
    request: POST /notes
    json: {text: from-the-cloud}
    status: 201
  - name: the sidecar reads the host's file over 127.0.0.1
    in: sidecar
    command: [python3, -c, "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8099/greeting').read().decode())"]
    stdout: hello from 2025.2
  - name: the sidecar's config has demo's database
    in: sidecar
    command: [cat, /etc/sidecar/database]
    stdout: "{demo[database_name]}"
  - name: the sidecar has the host's name
    in: sidecar
    command: [hostname]
    stdout: host
"""


def cloud_project(built, tmp_path, text=CLOUD):
    _, _, project, root = built
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    (copy / "cloud").mkdir()
    (copy / "cloud" / "cloud.yaml").write_text(text)
    return copy, root


def test_services_and_containers_start_in_order_and_share_a_host(built, tmp_path, base_image):
    copy, root = cloud_project(built, tmp_path)
    forge = make_forge(copy, root, base_image=base_image, build_dir=root / "build")
    report = run_cloud(forge, "2025.2", BuildOptions())
    assert report.ok, report.table()
    assert [f.check for f in report.findings] == [
        "mariadb ready",
        "host: a server on the host's loopback",
        "demo: database demo created",
        "demo: database migrations",
        "demo: API answers GET /notes",
        "sidecar: the host's server answers on the shared loopback",
        "note stored",
        "the sidecar reads the host's file over 127.0.0.1",
        "the sidecar's config has demo's database",
        "the sidecar has the host's name",
    ]
    assert report.table().splitlines()[0].startswith("cloud 2025.2: demo")
    assert leftovers(RUN_PREFIX) == []


def test_a_service_pointed_at_the_wrong_database_fails_at_its_step(built, tmp_path, base_image):
    # As neutron pointed at an OVN database nobody serves: the service's own step, its own words.
    wrong = CLOUD.replace(
        "  demo: {}",
        "  demo:\n    files:\n      /etc/demo/demo.conf: |\n        [database]\n"
        "        host = nowhere\n        user = {database_user}\n"
        "        password = {database_password}\n        name = {database_name}\n",
    )
    copy, root = cloud_project(built, tmp_path, wrong)
    forge = make_forge(copy, root, base_image=base_image, build_dir=root / "build")
    report = run_cloud(forge, "2025.2", BuildOptions())
    failed = report.findings[-1]
    assert (failed.check, failed.ok) == ("demo: database migrations", False)
    assert "nowhere" in failed.detail
    assert all(f.ok for f in report.findings[:-1])
    assert leftovers(RUN_PREFIX) == []


def test_a_container_that_cannot_reach_its_host_fails_naming_it(built, tmp_path, base_image):
    # A sidecar outside the host's namespace: 127.0.0.1 is its own, nothing answers there.
    apart = CLOUD.replace("    network: host\n", "").replace("retry: 60", "retry: 3")
    copy, root = cloud_project(built, tmp_path, apart)
    forge = make_forge(copy, root, base_image=base_image, build_dir=root / "build")
    report = run_cloud(forge, "2025.2", BuildOptions())
    failed = report.findings[-1]
    assert failed.check == "sidecar: the host's server answers on the shared loopback"
    assert not failed.ok and "Connection refused" in failed.detail
    assert leftovers(RUN_PREFIX) == []
