"""releases.yaml loading: the real file, and every mistake a maintainer can make."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from imageforge.config.manifest import load_manifest
from imageforge.errors import ManifestError
from tests.support import ROOT
from tests.support.projects import VALID, write_project


def load_error(tmp_path: Path, text: str, **kwargs) -> str:
    path = write_project(tmp_path, text, **kwargs)
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    message = str(caught.value)
    assert "\n" not in message, "errors are one line"
    return message


def test_the_projects_own_releases_yaml_is_valid():
    manifest = load_manifest(ROOT / "releases.yaml")
    assert {r.name for r in manifest.releases} >= {"2025.1", "2025.2", "2026.1"}
    for release in manifest.releases:
        assert {s.name for s in release.services} >= {
            "keystone",
            "glance",
            "placement",
            "nova",
            "neutron",
            "cinder",
        }
        assert release.base_image == "ubuntu:noble"
        assert release.registry == "ghcr.io/c5c3"
    assert "ldap" in manifest.release("2025.2").service("keystone").extras


def test_valid_manifest_becomes_typed_objects(tmp_path):
    manifest = load_manifest(write_project(tmp_path, VALID))
    release = manifest.release("2025.2")
    keystone = release.service("keystone")
    assert keystone.ref == "28.0.2"
    assert keystone.extras == ("ldap",)
    assert release.requirements.repo == "https://opendev.org/openstack/requirements"
    assert release.registry == "registry.test/forge"
    assert release.branch == "stable/2025.2"
    # A release's own list replaces the service's default.
    assert release.service("glance").runtime_packages == ()
    assert release.libraries[0].name == "oslo.messaging"
    assert release.libraries[0].ref is None
    # Plain scalars stay text: 2025.10 is not the float 2025.1.
    other = manifest.release("2025.10")
    assert other.registry == "other.test/forge"
    assert other.service("keystone").ref == "stable/2025.10"
    assert [(r.name, s.name) for r, s in manifest.pairs(services=("keystone",))] == [
        ("2025.2", "keystone"),
        ("2025.10", "keystone"),
    ]


def test_objects_are_frozen(tmp_path):
    manifest = load_manifest(write_project(tmp_path, VALID))
    with pytest.raises(AttributeError):
        manifest.releases[0].name = "other"  # type: ignore[misc]


def test_unknown_top_level_key(tmp_path):
    message = load_error(tmp_path, VALID + "servics: {}\n")
    assert message == (
        f"{tmp_path}/releases.yaml:29: servics: unknown key "
        "(expected one of: defaults, libraries, releases, services)"
    )


def test_unknown_service_referenced(tmp_path):
    text = VALID.replace(
        "      glance: {ref: 31.1.0, runtime_packages: []}", "      glanse: {ref: 31.1.0}"
    )
    message = load_error(tmp_path, text)
    assert message == (
        f"{tmp_path}/releases.yaml:21: releases.2025.2.services.glanse: "
        "unknown service (defined under services: keystone, glance)"
    )


def test_release_missing_its_requirements_ref(tmp_path):
    text = VALID.replace("    requirements:\n      ref: stable/2025.2\n", "    requirements: {}\n")
    message = load_error(tmp_path, text)
    assert message == f"{tmp_path}/releases.yaml:17: releases.2025.2.requirements.ref: missing"


def test_release_missing_requirements_altogether(tmp_path):
    text = VALID.replace("    requirements:\n      ref: stable/2025.2\n", "")
    assert load_error(tmp_path, text).endswith("releases.2025.2.requirements: missing")


@pytest.mark.parametrize(
    ("written", "described"),
    [
        ("[28.0.2]", "a list"),
        ("true", "a boolean (true)"),
        ("", "nothing"),
        ("{a: b}", "a mapping"),
    ],
)
def test_ref_that_is_not_a_string(tmp_path, written, described):
    text = VALID.replace("keystone: {ref: 28.0.2}", f"keystone: {{ref: {written}}}")
    message = load_error(tmp_path, text)
    assert message == (
        f"{tmp_path}/releases.yaml:20: releases.2025.2.services.keystone.ref: "
        f"expected a string (a branch, a tag or a full commit SHA), got {described}"
    )


def test_duplicate_service(tmp_path):
    text = VALID.replace(
        "      glance: {ref: 31.1.0, runtime_packages: []}",
        "      glance: {ref: 31.1.0}\n      keystone: {ref: 28.0.1}",
    )
    message = load_error(tmp_path, text)
    assert message == (
        f"{tmp_path}/releases.yaml:22: releases.2025.2.services.keystone: duplicate key 'keystone'"
    )


def test_duplicate_service_definition(tmp_path):
    text = VALID.replace("  glance:\n    repo:", "  keystone:\n    repo:")
    assert load_error(tmp_path, text) == (
        f"{tmp_path}/releases.yaml:9: services.keystone: duplicate key 'keystone'"
    )


def test_bad_yaml_syntax_names_the_line(tmp_path):
    text = VALID.replace("keystone: {ref: 28.0.2}", "keystone: {ref: 28.0.2")
    message = load_error(tmp_path, text)
    assert message.startswith(f"{tmp_path}/releases.yaml:21: invalid YAML: ")


def test_empty_file(tmp_path):
    assert load_error(tmp_path, "") == f"{tmp_path}/releases.yaml: the file is empty"
    assert (
        load_error(tmp_path, "# only a comment\n") == f"{tmp_path}/releases.yaml: the file is empty"
    )


def test_missing_file(tmp_path):
    with pytest.raises(ManifestError, match=r"releases\.yaml: file not found"):
        load_manifest(tmp_path / "releases.yaml")


@pytest.mark.parametrize(("written", "described"), [("ldap", "'ldap'"), ("{ldap: 1}", "a mapping")])
def test_wrong_type_for_extras(tmp_path, written, described):
    text = VALID.replace("extras: [ldap]", f"extras: {written}")
    assert load_error(tmp_path, text) == (
        f"{tmp_path}/releases.yaml:8: services.keystone.extras: "
        f"expected a list of strings, got {described}"
    )


def test_extras_with_a_non_string_item(tmp_path):
    text = VALID.replace("extras: [ldap]", "extras: [ldap, [memcache]]")
    assert load_error(tmp_path, text) == (
        f"{tmp_path}/releases.yaml:8: services.keystone.extras.1: expected a string, got a list"
    )


def test_image_folder_without_an_entry(tmp_path):
    message = load_error(tmp_path, VALID, images=("keystone", "glance", "horizon"))
    assert message == (
        f"{tmp_path}/images/horizon: image folder has no entry in releases.yaml "
        "(add services.horizon and use it in a release, or remove the folder)"
    )


def test_entry_without_a_dockerfile(tmp_path):
    message = load_error(tmp_path, VALID, images=("keystone",))
    assert message == (
        f"{tmp_path}/releases.yaml:9: services.glance: "
        "no Dockerfile: expected images/glance/Dockerfile"
    )


def test_unknown_key_in_a_release_service(tmp_path):
    text = VALID.replace("keystone: {ref: 28.0.2}", "keystone: {ref: 28.0.2, refs: x}")
    assert load_error(tmp_path, text) == (
        f"{tmp_path}/releases.yaml:20: releases.2025.2.services.keystone.refs: unknown key "
        "(expected one of: bindings, extras, pip_packages, projects, ref, runtime_packages)"
    )


def test_unknown_release_is_an_error(tmp_path):
    manifest = load_manifest(write_project(tmp_path, VALID))
    with pytest.raises(ManifestError, match=r"unknown release '2024.2' \(known: 2025.2, 2025.10\)"):
        manifest.release("2024.2")


def test_inv_list_on_a_broken_manifest_prints_one_line_and_fails(tmp_path):
    path = write_project(tmp_path, VALID.replace("keystone: {ref: 28.0.2}", "keystone: {ref: [x]}"))
    proc = subprocess.run(
        ["inv", "-r", str(ROOT), "list"],
        env={**__import__("os").environ, "FORGE_MANIFEST": str(path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        f"error: {path}:20: releases.2025.2.services.keystone.ref: "
        "expected a string (a branch, a tag or a full commit SHA), got a list\n"
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "path"),
    [
        ("  glance:\n    repo:", "  ../../evilsvc:\n    repo:", 9, "services.../../evilsvc"),
        ("  2025.10:\n", "  ../../../bad-escape:\n", 24, "releases.../../../bad-escape"),
        ("  oslo.messaging:\n    repo", "  -oslo:\n    repo", 13, "libraries.-oslo"),
        ("  2025.10:\n", "  .hidden:\n", 24, "releases..hidden"),
    ],
)
def test_names_must_be_plain(tmp_path, old, new, line, path):
    """A name becomes a folder name: nothing that climbs out of its folder or reads as an option."""
    text = VALID.replace(old, new)
    name = path.split(".", 1)[1]
    message = load_error(tmp_path, text)
    assert message == (
        f"{tmp_path}/releases.yaml:{line}: {path}: {name!r} is not a plain name: "
        "letters, digits, '.', '_' and '-', not starting with '.' or '-'"
    )
    assert not (tmp_path.parent / "evilsvc").exists()


def test_dotted_names_stay_valid(tmp_path):
    manifest = load_manifest(write_project(tmp_path, VALID))
    assert manifest.release("2025.10").name == "2025.10"
    assert manifest.release("2025.2").libraries[0].name == "oslo.messaging"


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        (VALID.replace("extras: [ldap]", "extras: &e [ldap]"), 8, "anchors and aliases (&, *)"),
        (VALID + "x: *e\n", 29, "anchors and aliases (&, *)"),
        (
            VALID.replace("    registry: other.test/forge\n", "    <<: {registry: a}\n"),
            26,
            "merge keys (<<)",
        ),
    ],
)
def test_yaml_anchors_aliases_and_merge_keys_are_refused(tmp_path, text, line, what):
    assert load_error(tmp_path, text) == (
        f"{tmp_path}/releases.yaml:{line}: YAML {what} are not allowed here: write the values out"
    )


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    """Nine levels of aliases once took 3 GB before anything was said."""
    bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        bomb.append(f"{level}: &{level} [{', '.join(['*' + previous] * 9)}]")
    message = load_error(tmp_path, "\n".join(bomb) + "\n")
    assert message == (
        f"{tmp_path}/releases.yaml:1: YAML anchors and aliases (&, *) are not allowed here: "
        "write the values out"
    )


CARRIED = VALID.replace(
    "    runtime_packages: [qemu-utils]\n",
    "    runtime_packages: [qemu-utils]\n"
    "    projects:\n"
    "      glance-plugin: {repo: https://example.org/glance-plugin}\n",
).replace(
    "      glance: {ref: 31.1.0, runtime_packages: []}\n",
    "      glance: {ref: 31.1.0, runtime_packages: [], projects: {glance-plugin: {ref: 1.2.0}}}\n",
)


def test_a_service_carries_projects_each_at_its_ref(tmp_path):
    release = load_manifest(write_project(tmp_path, CARRIED)).release("2025.2")
    [plugin] = release.carried("glance")
    assert (plugin.name, plugin.repo, plugin.ref, plugin.carried_by) == (
        "glance-plugin",
        "https://example.org/glance-plugin",
        "1.2.0",
        "glance",
    )
    assert release.service("glance").projects == ("glance-plugin",)
    assert [lib.name for lib in release.patched_libraries] == ["oslo.messaging"]
    assert release.carried("keystone") == ()
    assert plugin.ref_path("2025.2") == (
        "releases", "2025.2", "services", "glance", "projects", "glance-plugin", "ref",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("projects: {glance-plugin: {ref: 1.2.0}}", "projects: {}"),
            "releases.2025.2.services.glance.projects: missing glance-plugin: "
            "give its ref (glance-plugin: {ref: ...}) for this release",
        ),
        (
            ("{glance-plugin: {ref: 1.2.0}}", "{glance-plugin: {ref: 1.2.0}, other: {ref: 1}}"),
            "releases.2025.2.services.glance.projects.other: unknown project "
            "(defined under services.glance.projects: glance-plugin)",
        ),
        (
            ("{glance-plugin: {ref: 1.2.0}}", "{glance-plugin: {}}"),
            "releases.2025.2.services.glance.projects.glance-plugin.ref: missing",
        ),
        (
            ("glance-plugin: {repo: https://example.org/glance-plugin}", "keystone: {repo: x}"),
            "services.glance.projects.keystone: already a service or library of this file",
        ),
        (
            ("glance-plugin: {repo: https://example.org/glance-plugin}", "../up: {repo: x}"),
            "releases.yaml:13: services.glance.projects.../up: '../up' is not a plain name",
        ),
    ],
)
def test_carried_project_mistakes_are_named(tmp_path, change, message):
    assert change[0] in CARRIED
    assert message in load_error(tmp_path, CARRIED.replace(*change))


def test_bindings_need_the_runtime_stage_to_know(tmp_path):
    text = VALID.replace(
        "    extras: [ldap]\n", "    extras: [ldap]\n    bindings: [python3-rados]\n"
    )
    message = load_error(tmp_path, text)
    assert "releases.2025.2.services.keystone: bindings need `ARG BINDINGS` in the last" in message
    # In another stage it does not count: install-runtime runs in the last one.
    dockerfile = tmp_path / "images" / "keystone" / "Dockerfile"
    dockerfile.write_text('FROM scratch AS deps\nARG BINDINGS=""\nFROM scratch\n')
    assert "need `ARG BINDINGS` in the last stage" in load_error(tmp_path, text)
    dockerfile.write_text('FROM scratch AS deps\nFROM scratch\nARG BINDINGS=""\n')
    manifest = load_manifest(tmp_path / "releases.yaml")
    assert manifest.release("2025.2").service("keystone").bindings == ("python3-rados",)


DERIVED = VALID.replace(
    "    runtime_packages: [qemu-utils]\n",
    "    runtime_packages: [qemu-utils]\n"
    "    images:\n"
    "      glance-extra: {target: extra, runtime_packages: [curl], bindings: [python3-rados]}\n",
)
STAGES = (
    'FROM scratch AS deps\nARG BINDINGS=""\nFROM scratch AS extra\nARG BINDINGS=""\nFROM scratch\n'
)


def test_an_image_from_a_target_of_a_services_dockerfile(tmp_path):
    path = write_project(tmp_path, DERIVED)
    (tmp_path / "images" / "glance" / "Dockerfile").write_text(STAGES)
    release = load_manifest(path).release("2025.2")
    extra = release.service("glance-extra")
    assert (extra.project, extra.target, extra.ref) == ("glance", "extra", "31.1.0")
    assert (extra.runtime_packages, extra.bindings) == (("curl",), ("python3-rados",))
    assert release.service("glance").target is None
    assert [s.name for s in release.services] == ["keystone", "glance", "glance-extra"]


def test_a_target_the_dockerfile_lacks_is_named(tmp_path):
    path = write_project(tmp_path, DERIVED)
    (tmp_path / "images" / "glance" / "Dockerfile").write_text(STAGES.replace(" AS extra", ""))
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    assert "services.glance.images.glance-extra.target: no stage 'extra' in " in str(caught.value)


def test_a_dockerfile_on_shared_deps_copies_every_shared_layer(tmp_path):
    path = write_project(tmp_path, VALID)
    dockerfile = tmp_path / "images" / "keystone" / "Dockerfile"
    dockerfile.write_text((ROOT / "images" / "keystone" / "Dockerfile").read_text())
    load_manifest(path)
    dockerfile.write_text(
        dockerfile.read_text().replace("COPY --from=deps --link /forge/shared/4/ /\n", "")
    )
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    assert str(caught.value) == (
        f"{dockerfile}: no `COPY --from=deps --link /forge/shared/4/ /`:"
        " an image on shared-deps copies its 4 shared layers"
    )
    dockerfile.write_text(
        (ROOT / "images" / "keystone" / "Dockerfile")
        .read_text()
        .replace("build-venv deps keystone", "build-venv deps")
    )
    with pytest.raises(ManifestError, match="must run `build-venv deps keystone`"):
        load_manifest(path)
