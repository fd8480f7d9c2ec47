"""releases.yaml edited in place: a ref moves where the file keeps it, comments stay."""

from __future__ import annotations

from imageforge.config.edit import set_ref
from imageforge.config.manifest import Pair, load_manifest
from tests.config.test_manifest import CARRIED
from tests.support.projects import write_project


def test_a_services_ref_moves_in_place(tmp_path):
    path = write_project(tmp_path, CARRIED)
    assert set_ref(load_manifest(path), Pair("2025.2", "keystone"), "28.0.2", "28.0.3")
    assert "      keystone: {ref: 28.0.3}\n" in path.read_text()


def test_a_carried_projects_ref_moves_under_its_service(tmp_path):
    path = write_project(tmp_path, CARRIED)
    assert set_ref(load_manifest(path), Pair("2025.2", "glance-plugin"), "1.2.0", "1.2.1")
    text = path.read_text()
    assert "projects: {glance-plugin: {ref: 1.2.1}}}\n" in text
    assert load_manifest(path).release("2025.2").carried("glance")[0].ref == "1.2.1"


def test_a_library_without_a_ref_gets_one(tmp_path):
    path = write_project(tmp_path, CARRIED)
    assert set_ref(load_manifest(path), Pair("2025.2", "oslo.messaging"), "", "17.0.0")
    assert "      oslo.messaging: {ref: 17.0.0}\n" in path.read_text()
