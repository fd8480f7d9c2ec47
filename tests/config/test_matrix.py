"""The matrix as a table, as JSON, and as nox sessions derived from releases.yaml."""

from __future__ import annotations

import json
import os
import subprocess

from imageforge.config.manifest import load_manifest
from imageforge.config.matrix import matrix_json, matrix_table
from tests.support import ROOT
from tests.support.projects import VALID, write_project


def test_table_lists_every_pair_with_its_ref(tmp_path):
    table = matrix_table(load_manifest(write_project(tmp_path, VALID))).splitlines()
    assert table[0].split() == ["RELEASE", "SERVICE", "REF", "REPOSITORY"]
    assert table[1].split() == [
        "2025.2",
        "keystone",
        "28.0.2",
        "https://opendev.org/openstack/keystone",
    ]
    assert [line.split()[:3] for line in table[2:]] == [
        ["2025.2", "glance", "31.1.0"],
        ["2025.10", "keystone", "stable/2025.10"],
    ]


def test_json_is_a_ci_matrix(tmp_path):
    data = json.loads(matrix_json(load_manifest(write_project(tmp_path, VALID))))
    assert data == {
        "include": [
            {"release": "2025.2", "service": "keystone", "ref": "28.0.2"},
            {"release": "2025.2", "service": "glance", "ref": "31.1.0"},
            {"release": "2025.10", "service": "keystone", "ref": "stable/2025.10"},
        ]
    }


def test_a_service_added_to_the_yaml_appears_in_nox_sessions(tmp_path):
    text = VALID.replace(
        "  glance:\n    repo:",
        "  placement:\n    repo: https://opendev.org/openstack/placement\n  glance:\n    repo:",
    ).replace(
        "      keystone: {ref: 28.0.2}",
        "      keystone: {ref: 28.0.2}\n      placement: {ref: 14.0.0}",
    )
    path = write_project(tmp_path, text, images=("keystone", "glance", "placement"))
    proc = subprocess.run(
        ["nox", "-f", str(ROOT / "noxfile.py"), "-s", "checkout", "-l", "--json"],
        env={**os.environ, "FORGE_MANIFEST": str(path)},
        capture_output=True,
        text=True,
        check=True,
    )
    sessions = {s["session"]: s for s in json.loads(proc.stdout) if s["name"] == "checkout"}
    assert set(sessions) == {
        "checkout(keystone-2025.2)",
        "checkout(placement-2025.2)",
        "checkout(glance-2025.2)",
        "checkout(keystone-2025.10)",
    }
    assert set(sessions["checkout(placement-2025.2)"]["tags"]) == {"placement", "2025.2"}
