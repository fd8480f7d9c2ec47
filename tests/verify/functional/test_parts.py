"""functional.yaml's containers, volumes and command checks: data, and mistakes named."""

from __future__ import annotations

import textwrap

import pytest

from imageforge.errors import ManifestError
from imageforge.verify.functional.parts import CommandCheck, Part, Step
from imageforge.verify.functional.spec import load_functional

CHASSIS = """\
volumes: [ovs-run]
containers:
  - name: central
    steps:
      - {name: database, run: [ovsdb-tool, create, /tmp/nb.db]}
      - {name: server, start: [ovsdb-server, /tmp/nb.db]}
      - {name: it answers, run: [ovn-nbctl, show], retry: 30}
  - name: ovs
    image: ovs
    user: root
    root_because: vswitchd creates tap devices
    cap_add: [NET_ADMIN]
    devices: [/dev/net/tun]
    volumes: {ovs-run: /var/run/openvswitch}
    steps:
      - {name: vswitchd, start: [ovs-vswitchd]}
checks:
  - name: bound
    in: central
    command: [ovn-sbctl, list, Port_Binding]
    stdout_contains: "up : true"
    retry: 60
"""


def load(tmp_path, text):
    path = tmp_path / "functional.yaml"
    path.write_text(textwrap.dedent(text))
    return load_functional(path, "ovn")


def test_containers_and_command_checks_load_as_data(tmp_path):
    spec = load(tmp_path, CHASSIS)
    assert spec.serve is None and spec.volumes == ("ovs-run",)
    central, ovs = spec.parts
    assert central == Part(
        "central",
        steps=(
            Step("database", ("ovsdb-tool", "create", "/tmp/nb.db")),
            Step("server", ("ovsdb-server", "/tmp/nb.db"), start=True),
            Step("it answers", ("ovn-nbctl", "show"), retry=30),
        ),
    )
    assert (ovs.image, ovs.user, ovs.cap_add, ovs.devices) == (
        "ovs",
        "root",
        ("NET_ADMIN",),
        ("/dev/net/tun",),
    )
    assert ovs.volumes == (("ovs-run", "/var/run/openvswitch"),)
    assert spec.checks == (
        CommandCheck(
            "bound",
            "central",
            ("ovn-sbctl", "list", "Port_Binding"),
            stdout_contains="up : true",
            retry=60,
        ),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("    root_because: vswitchd creates tap devices\n", ""),
            "functional.yaml:10: containers.1.user: root only with root_because",
        ),
        (("in: central", "in: centre"), "functional.yaml:19: checks.0.in: no container centre"),
        (
            ("{ovs-run: /var/run/openvswitch}", "{ovs-lib: /var/lib/openvswitch}"),
            "functional.yaml:14: containers.1.volumes.ovs-lib: not a volume of this run",
        ),
        (("cap_add: [NET_ADMIN]", "cap_add: [net admin]"), "containers.1.cap_add: 'net admin'"),
        (
            ("devices: [/dev/net/tun]", "devices: [/etc/shadow]"),
            "functional.yaml:13: containers.1.devices: '/etc/shadow': expected a /dev/... path",
        ),
        (
            ("{name: vswitchd, start: [ovs-vswitchd]}", "{name: vswitchd}"),
            "functional.yaml:16: containers.1.steps.0: expected one of run (to its end) or start",
        ),
        (("  - name: ovs\n", "  - name: central\n"), "containers: two containers named central"),
        (
            ("  - name: ovs\n", "  - name: ../ovs\n"),
            "containers.1.name: '../ovs': expected a plain",
        ),
    ],
)
def test_mistakes_name_file_line_and_key(tmp_path, change, message):
    assert change[0] in CHASSIS
    with pytest.raises(ManifestError) as caught:
        load(tmp_path, CHASSIS.replace(*change))
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path))


def test_a_request_needs_a_served_api(tmp_path):
    text = CHASSIS + "  - {name: listed, request: GET /x}\n"
    with pytest.raises(ManifestError, match=r"checks.1: a request needs serve:"):
        load(tmp_path, text)


def test_neither_serve_nor_containers_is_named(tmp_path):
    with pytest.raises(ManifestError, match=r"missing serve \(how the API runs\) or containers"):
        load(tmp_path, "backing: [mariadb]\n")


COMPUTE = """\
requires: [keystone, nova]
files:
  /etc/nova/nova.conf: "[DEFAULT]\\n"
  /etc/libvirt/libvirtd.conf: "listen_tcp = 1\\n"
containers:
  - name: libvirt
    image: libvirt
    init: true
    files: [/etc/libvirt/libvirtd.conf]
    steps:
      - {name: libvirtd, start: [libvirtd, --listen]}
checks:
  - {name: mapped, in: nova, command: [nova-manage, cell_v2, discover_hosts]}
  - name: up
    on: nova
    request: GET /v2.1/os-services
    expect: {"services[*].state": up}
"""


def test_containers_mount_the_specs_files_and_checks_ask_required_services(tmp_path):
    spec = load(tmp_path, COMPUTE)
    [libvirt] = spec.parts
    assert (libvirt.init, libvirt.files) == (True, ("/etc/libvirt/libvirtd.conf",))
    mapped, up = spec.checks
    assert mapped.container == "nova"
    assert (up.on, up.path) == ("nova", "/v2.1/os-services")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("files: [/etc/libvirt/libvirtd.conf]", "files: [/etc/libvirt/qemu.conf]"),
            "containers.0.files: /etc/libvirt/qemu.conf: not one of the spec's files",
        ),
        (("on: nova", "on: glance"), "checks.1.on: glance: not among requires (keystone, nova)"),
        (("in: nova", "in: glance"), "checks.0.in: no container glance in this run"),
        (("init: true", "init: maybe"), "containers.0.init: expected true or false"),
        (("    on: nova\n", ""), "checks.1: a request needs serve: or on:"),
    ],
)
def test_compute_mistakes_are_named(tmp_path, change, message):
    assert change[0] in COMPUTE
    with pytest.raises(ManifestError) as caught:
        load(tmp_path, COMPUTE.replace(*change))
    assert message in str(caught.value)
