"""The dependency layer's input: requirements and extras read as pbr reads them."""

from __future__ import annotations

import textwrap

import pytest

from imageforge.errors import ForgeError
from imageforge.image.deps import dependency_lines, write_context


def tree(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


SETUP_CFG = """\
    [metadata]
    name = keystone

    [extras]
    ldap =
      python-ldap>=3.0.0 # PSF
      ldappool>=2.3.1 # MPL
    memcache =
      python-memcached>=1.56 # PSF
    zvm:python_version<'3.13' =
      zVMCloudConnector>=1.3.0
    """


def test_requirements_extras_and_pip_packages_without_comments(tmp_path):
    source = tree(
        tmp_path,
        {
            "requirements.txt": "# comment\npbr!=2.1.0,>=2.0.0 # Apache-2.0\n\nSQLAlchemy>=1.4.0\n",
            "setup.cfg": SETUP_CFG,
        },
    )
    assert dependency_lines(source, ("ldap",), ("PyMySQL",), "keystone (2025.2)") == [
        "pbr!=2.1.0,>=2.0.0",
        "SQLAlchemy>=1.4.0",
        "python-ldap>=3.0.0",
        "ldappool>=2.3.1",
        "PyMySQL",
    ]


def test_a_pbr_marker_key_applies_to_its_lines(tmp_path):
    source = tree(tmp_path, {"setup.cfg": SETUP_CFG})
    assert dependency_lines(source, ("zvm",), (), "nova (2025.2)") == [
        "zVMCloudConnector>=1.3.0; python_version<'3.13'"
    ]


def test_pyproject_optional_dependencies_win_over_setup_cfg(tmp_path):
    source = tree(
        tmp_path,
        {
            "requirements.txt": "oslo.config>=9.0.0\n",
            "setup.cfg": SETUP_CFG,
            "pyproject.toml": """\
                [project]
                name = "keystone"
                dynamic = ["version", "dependencies"]

                [project.optional-dependencies]
                ldap = ["python-ldap>=3.1.0"]
                """,
        },
    )
    assert dependency_lines(source, ("ldap",), (), "keystone (2026.1)") == [
        "oslo.config>=9.0.0",
        "python-ldap>=3.1.0",
    ]


def test_static_pyproject_dependencies_replace_requirements_txt(tmp_path):
    source = tree(
        tmp_path,
        {
            "requirements.txt": "stale>=1\n",
            "pyproject.toml": '[project]\nname = "x"\ndependencies = ["oslo.log>=5"]\n',
        },
    )
    assert dependency_lines(source, (), (), "x (2026.1)") == ["oslo.log>=5"]


def test_an_undeclared_extra_is_named(tmp_path):
    source = tree(tmp_path, {"setup.cfg": SETUP_CFG})
    with pytest.raises(ForgeError) as caught:
        dependency_lines(source, ("ldapp",), (), "keystone (2025.2)")
    assert str(caught.value) == (
        "keystone (2025.2): extra 'ldapp' is not declared by the source (pyproject.toml or "
        "setup.cfg [extras]; declared: ldap, memcache, zvm); fix extras in releases.yaml"
    )


def test_the_context_is_rewritten_only_when_it_changes(tmp_path):
    folder = write_context(tmp_path / "deps", ["six", "pbr"], "demo")
    target = folder / "requirements.txt"
    assert target.read_text() == "six\npbr\n"
    assert (folder / "service.txt").read_text() == "demo\n"
    inode = target.stat().st_ino
    write_context(tmp_path / "deps", ["six", "pbr"], "demo")
    assert target.stat().st_ino == inode
    write_context(tmp_path / "deps", ["six"], "demo")
    assert target.read_text() == "six\n"


def test_a_setup_cfg_mixing_colon_keys_is_read(tmp_path):
    """cinder's setup.cfg: ``project_urls:`` with continued lines, before [extras]."""
    source = tree(
        tmp_path,
        {
            "setup.cfg": """\
                [metadata]
                name = cinder
                project_urls:
                    Source=https://opendev.org/openstack/cinder
                long_description = file: README.rst

                [extras]
                all =
                    websocket-client>=1.3.2 # LGPLv2+
                    pywbem>=0.7.0  #LGPLv2.1+
                """,
        },
    )
    assert dependency_lines(source, ("all",), (), "cinder (2025.1)")[:2] == [
        "websocket-client>=1.3.2",
        "pywbem>=0.7.0",
    ]
