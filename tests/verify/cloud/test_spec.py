"""cloud/cloud.yaml: services from their own functional.yaml with the cloud's config, as data."""

from __future__ import annotations

import textwrap

import pytest

from imageforge.errors import ForgeError, ManifestError
from imageforge.verify.cloud.spec import load_cloud
from imageforge.verify.functional.run import render
from tests.support import ROOT

SERVICE = """\
backing: [mariadb]
database: api
files:
  /etc/api/api.conf: "own {database_url}"
  /etc/api/other.conf: "kept"
setup:
  - {name: migrations, command: [api-manage, db_sync]}
serve: {command: [api], port: 8080, ready: /}
checks:
  - {name: listed, request: GET /things}
"""

CLOUD = """\
backing: [memcached]
services:
  api:
    files: {/etc/api/api.conf: "cloud {database_url}"}
catalog: {thing: "http://api:8080"}
volumes: [run]
files:
  /etc/host.conf: "{api[database_url]}"
containers:
  - name: host
    image: api
    volumes: {run: /run/x}
    files: [/etc/host.conf]
    steps: [{name: up, start: [daemon]}]
  - name: sidecar
    image: api
    network: host
    steps: [{name: up, run: [true]}]
order: [host, api, sidecar]
checks:
  - {name: asked, on: api, request: GET /things, logs: [host], fail_when: {state: ERROR}}
  - {name: looked, in: sidecar, command: [ls], logs: [api]}
"""


def project(tmp_path, cloud=CLOUD, service=SERVICE):
    (tmp_path / "images" / "api").mkdir(parents=True)
    (tmp_path / "images" / "api" / "functional.yaml").write_text(service)
    (tmp_path / "cloud").mkdir()
    (tmp_path / "cloud" / "cloud.yaml").write_text(textwrap.dedent(cloud))
    return tmp_path


def test_a_service_runs_as_its_functional_yaml_says_with_the_clouds_files(tmp_path):
    cloud = load_cloud(project(tmp_path))
    [api] = cloud.services
    assert dict(api.files) == {
        "/etc/api/api.conf": "cloud {database_url}",
        "/etc/api/other.conf": "kept",
    }
    assert (api.databases, api.setup[0].name, api.serve.port) == (("api",), "migrations", 8080)
    assert api.checks == ()  # the cloud's checks are its scenario
    assert cloud.order == ("host", "api", "sidecar")
    assert cloud.catalog == (("thing", "http://api:8080"),)
    assert cloud.backing == ("memcached", "mariadb")
    assert cloud.images == ["api", "api", "api"]
    assert [p.network for p in cloud.spec.parts] == [None, "host"]
    assert cloud.guest is None
    asked, looked = cloud.spec.checks
    assert (asked.logs, asked.fail_when, looked.logs) == (
        ("host",),
        (("state", "ERROR"),),
        ("api",),
    )


def test_without_order_services_start_before_containers(tmp_path):
    cloud = load_cloud(project(tmp_path, CLOUD.replace("order: [host, api, sidecar]\n", "")))
    assert cloud.order == ("api", "host", "sidecar")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("order: [host, api, sidecar]", "order: [host, api]"), r"order: missing sidecar"),
        (
            ("order: [host, api, sidecar]", "order: [host, api, sidecar, web]"),
            r"web: not a service",
        ),
        (("order: [host, api, sidecar]", "order: [sidecar, host, api]"), r"start host first"),
        (("network: host", "network: sidecar"), r"sidecar: expected a container of this run"),
        (("    image: api\n    volumes", "    volumes"), r"host: expected image:"),
        (
            ("services:\n  api:", "services:\n  web: {}\n  api:"),
            r"web: no images/web/functional.yaml",
        ),
        (
            ("    files: {/etc/api/api.conf", "    checks: []\n    files: {/etc/api/api.conf"),
            r"services\.api",
        ),
        (
            ('catalog: {thing: "http://api:8080"}', "catalog: {thing: api}"),
            r"catalog\.thing: expected the URL",
        ),
        (
            ("backing: [memcached]", "backing: [memcached]\nguest: nowhere"),
            r"guest: nowhere: expected a folder",
        ),
        (("logs: [host]", "logs: [web]"), r"checks\.0\.logs: web: no such container"),
        (("logs: [api]", "logs: [web]"), r"checks\.1\.logs: web: no such container"),
    ],
)
def test_mistakes_name_file_line_and_key(tmp_path, change, message):
    old, new = change
    assert old in CLOUD
    with pytest.raises(ManifestError, match=message) as caught:
        load_cloud(project(tmp_path, CLOUD.replace(old, new)))
    assert "cloud.yaml" in str(caught.value)


def test_a_service_without_an_api_is_started_as_containers(tmp_path):
    daemons = "containers:\n  - {name: d, steps: [{name: up, run: [true]}]}\n"
    with pytest.raises(ManifestError, match=r"api serves no API here: start its daemons"):
        load_cloud(project(tmp_path, service=daemons))


def test_a_project_without_a_cloud_is_told_where_it_goes(tmp_path):
    with pytest.raises(ForgeError, match=r"cloud/cloud.yaml: missing"):
        load_cloud(tmp_path)


def test_the_shipped_cloud_loads():
    cloud = load_cloud(ROOT)
    assert cloud.order[0] == "keystone" and cloud.guest == ROOT / "cloud" / "guest"
    assert {"keystone", "glance", "placement", "neutron", "nova"} == {
        s.service for s in cloud.services
    }
    assert {"ovn", "ovs", "libvirt", "nova-compute"} <= set(cloud.images)
    assert dict(cloud.catalog)["compute"] == "http://nova:8774/v2.1"


def test_a_service_value_and_a_prefix_render(tmp_path):
    values = {"port_id": "0123456789abcdef", "nova": {"rabbit_url": "rabbit://n"}}
    assert render("tap{port_id:.11} {nova[rabbit_url]}", values, tmp_path) == (
        "tap0123456789a rabbit://n"
    )
