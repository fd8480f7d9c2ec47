"""The OS package lock: dpkg's database read from an image, and the records kept per release."""

import pytest

from imageforge.errors import ForgeError
from imageforge.image import packagelock
from tests.support.projects import bare_forge

STATUS = """\
Package: libssl3
Status: install ok installed
Architecture: amd64
Version: 3.0.17-1~deb12u3
Description: Secure Sockets Layer toolkit
 - shared libraries

Package: removed-one
Status: deinstall ok config-files
Version: 1.0

Package: file
Status: install ok installed
Version: 1:5.44-3
"""


def test_only_installed_packages_are_read():
    assert packagelock.parse_status(STATUS) == {"libssl3": "3.0.17-1~deb12u3", "file": "1:5.44-3"}


def test_records_are_kept_per_release_and_image(tmp_path):
    forge = bare_forge(tmp_path)
    packagelock.record(
        forge,
        "2025.2",
        "demo",
        packagelock.Record("sha256:1", "i1", "k1", "bookworm", {"file": "1"}),
    )
    packagelock.record(
        forge,
        "2025.2",
        "demo@linux/arm64",
        packagelock.Record("sha256:2", "i2", "k2", "bookworm", {}),
    )
    assert packagelock.recorded(forge, "2025.2", "demo")["key"] == "k1"
    assert packagelock.recorded(forge, "2025.2", "demo@linux/arm64")["image"] == "sha256:2"
    assert packagelock.recorded(forge, "2025.1", "demo") is None


def test_offline_the_recorded_versions_stand(tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    (index / "Packages").write_text("Package: file\nVersion: 1:9.9\n")
    entry = {"suite": "bookworm", "packages": {"file": "1:5.44-3", "zlib1g": "1:1.2.13"}}
    online = bare_forge(tmp_path, apt_index=index)
    assert packagelock.served_for(online, entry) == {"file": "1:9.9", "zlib1g": "1:1.2.13"}
    offline = bare_forge(tmp_path, apt_index=index, offline=True)
    assert packagelock.served_for(offline, entry) == entry["packages"]


def test_offline_the_recorded_key_stands_for_the_same_inputs(tmp_path):
    entry = {"inputs": "i1", "key": "k1", "suite": "bookworm", "packages": {"file": "1:5.44-3"}}
    offline = bare_forge(tmp_path, offline=True)
    assert packagelock.key_for(offline, "i1", entry) == "k1"
    # New inputs (a patch): the recorded versions with them.
    assert packagelock.key_for(offline, "i2", entry) not in ("k1", "i2")
    assert packagelock.key_for(offline, "i2", None) == "i2"


@pytest.mark.parametrize(
    "text",
    ["{not json", "[]", '{"demo": []}', '{"demo": {"packages": ["file"]}}', '{"demo": {}}'],
)
def test_a_damaged_lock_is_one_line(tmp_path, text):
    forge = bare_forge(tmp_path)
    path = packagelock.lock_path(forge, "2025.2")
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(ForgeError, match=r"2025.2.json: not a package lock"):
        packagelock.recorded(forge, "2025.2", "demo")


@pytest.mark.docker
def test_an_images_packages_are_read_without_running_it(base_image):
    suite, packages = packagelock.installed_packages(base_image)
    assert suite == "bookworm"
    assert packages["dpkg"] and packages["base-files"].startswith("12.")
