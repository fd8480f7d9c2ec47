"""Exports: the tree at a pinned ref, atomically, with the version pbr would give."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from imageforge.config.manifest import Pair
from imageforge.errors import ForgeError
from imageforge.host import git
from imageforge.patches import export as exporting
from imageforge.patches.export import export_source, read_export
from imageforge.upstream.pinned import pin
from tests.support.projects import bare_forge


def export_at(repo, ref, tmp_path, *, release="2025.2", build=None, log=None):
    settings = {"build_dir": build} if build else {}
    forge = bare_forge(tmp_path, **settings, **({"log": log} if log else {}))
    return export_source(forge, pin(forge, Pair(release, repo.name), repo.url, ref))


def test_export_has_the_tree_no_git_and_the_version(upstream, tmp_path):
    repo = upstream()
    export = export_at(repo, "1.0.1", tmp_path, log=print)
    assert export.tree == tmp_path / "build" / "sources" / "2025.2" / "demo" / "tree"
    assert (export.tree / "CHANGES.txt").read_text() == "fix one\n"
    assert not (export.tree / ".git").exists()
    sources = (export.tree / "demo.egg-info" / "SOURCES.txt").read_text().splitlines()
    assert (
        "demo/templates/banner.txt" in sources and "setup.cfg" in sources and "PKG-INFO" in sources
    )
    assert (
        export.tree / "PKG-INFO"
    ).read_text() == "Metadata-Version: 1.1\nName: demo\nVersion: 1.0.1\n"
    record = json.loads((export.tree.parent / "export.json").read_text())
    assert record == {
        "project": "demo",
        "release": "2025.2",
        "repo": repo.url,
        "ref": "1.0.1",
        "commit": repo.head("1.0.1"),
        "version": "1.0.1",
        "package": "demo",
        "patches": [],
        "series_digest": "",
        "committed": "2025-01-01T00:00:00+00:00",
        "patched_files": [],
        "tree_stamp": exporting.tree_stamp(export.tree),
        "tree_digest": exporting.tree_digest(export.tree),
        "submodules": [],
        "python": True,
        "format": 6,
    }


def test_post_tag_branch_export_has_a_dev_version(upstream, tmp_path):
    repo = upstream()
    export = export_at(repo, "master", tmp_path)
    assert export.version == "1.0.1.dev2"
    assert "Version: 1.0.1.dev2" in (export.tree / "PKG-INFO").read_text()


def test_rerun_with_nothing_changed_is_a_no_op_without_network(upstream, tmp_path):
    repo = upstream()
    first = export_at(repo, "1.0.0", tmp_path)
    inode = (first.tree / "setup.cfg").stat().st_ino
    git.COMMAND_LOG = []
    lines = []
    try:
        again = export_at(repo, "1.0.0", tmp_path, log=lines.append)
        assert not [c for c in git.COMMAND_LOG if {"fetch", "clone", "archive"} & set(c)]
    finally:
        git.COMMAND_LOG = None
    assert again == first
    assert (first.tree / "setup.cfg").stat().st_ino == inode  # not rewritten
    assert "up to date" in lines[0]


def test_a_tree_edited_by_hand_is_exported_again(upstream, tmp_path):
    repo = upstream()
    first = export_at(repo, "1.0.0", tmp_path)
    (first.tree / "setup.cfg").write_text("edited by hand\n")
    lines = []
    again = export_at(repo, "1.0.0", tmp_path, log=lines.append)
    assert lines[0] == f"demo (2025.2): {first.tree} was changed by hand; exporting again"
    assert (again.tree / "setup.cfg").read_text() == (repo.git("show", "1.0.0:setup.cfg") + "\n")


def test_a_file_added_or_removed_by_hand_is_noticed(upstream, tmp_path):
    repo = upstream()
    first = export_at(repo, "1.0.0", tmp_path)
    (first.tree / "stray.py").write_text("")
    again = export_at(repo, "1.0.0", tmp_path)
    assert not (again.tree / "stray.py").exists()
    (again.tree / "setup.cfg").unlink()
    assert (export_at(repo, "1.0.0", tmp_path).tree / "setup.cfg").is_file()


def test_a_touched_but_unchanged_tree_is_still_up_to_date(upstream, tmp_path):
    repo = upstream()
    first = export_at(repo, "1.0.0", tmp_path)
    os.utime(first.tree / "setup.cfg", ns=(0, 0))
    lines = []
    again = export_at(repo, "1.0.0", tmp_path, log=lines.append)
    assert "up to date" in lines[0]
    # The new stamp is recorded, so the next run trusts the cheap check again.
    assert again.tree_stamp == exporting.tree_stamp(first.tree) != first.tree_stamp


def test_temporary_folders_of_a_killed_export_are_removed(upstream, tmp_path):
    repo = upstream()
    sources = tmp_path / "build" / "sources" / "2025.2"
    killed = [sources / ".demo.work-k1ll3d00", sources / ".demo-ab3de_gh"]
    for folder in killed:
        (folder / "tree").mkdir(parents=True)
        (folder / "tree" / "big.bin").write_bytes(b"x" * 1000)
    neighbour = sources / ".demo-lib.work-running"  # another project's export, not ours
    neighbour.mkdir()
    lines = []
    export_at(repo, "1.0.0", tmp_path, log=lines.append)
    assert not any(folder.exists() for folder in killed)
    assert neighbour.is_dir()
    assert f"removed {killed[0]}, left by an export that was interrupted" in lines


def test_a_moved_branch_is_exported_anew(upstream, tmp_path):
    repo = upstream()
    export_at(repo, "stable/2025.2", tmp_path)
    repo.checkout("stable/2025.2")
    repo.commit({"CHANGES.txt": "fix two\n"}, "Fix another bug")
    export = export_at(repo, "stable/2025.2", tmp_path)
    assert (export.tree / "CHANGES.txt").read_text() == "fix two\n"
    assert export.version == "1.0.2.dev1"


def test_errors_name_service_release_repo_and_ref(upstream, tmp_path):
    repo = upstream()
    with pytest.raises(ForgeError) as caught:
        export_at(repo, "7.7.7", tmp_path)
    assert str(caught.value) == (
        f"demo (2025.2): {repo.url} at '7.7.7': no branch or tag '7.7.7' in {repo.url}"
    )


def test_an_interrupted_export_leaves_no_tree_behind(upstream, tmp_path, monkeypatch):
    repo = upstream()
    build = tmp_path / "build"
    good = export_at(repo, "1.0.0", tmp_path, build=build)

    def crash(git_dir, commit, patches, tree, reuse=None, grafts=()):
        (tree / "half-written.py").write_text("")
        raise KeyboardInterrupt

    monkeypatch.setattr(exporting, "apply_series", crash)
    with pytest.raises(KeyboardInterrupt):
        export_at(repo, "1.0.1", tmp_path, build=build)
    # The previous complete export is still the one a build would find...
    assert read_export(good.tree.parent) == good
    # ...and no temporary folder is left that could be mistaken for one.
    assert sorted(p.name for p in good.tree.parent.parent.iterdir()) == [".demo.lock", "demo"]


def test_a_tree_without_its_record_is_not_taken_for_complete(upstream, tmp_path):
    repo = upstream()
    export = export_at(repo, "1.0.0", tmp_path)
    (export.tree.parent / "export.json").unlink()  # as if killed between the two renames
    assert read_export(export.tree.parent) is None
    again = export_at(repo, "1.0.0", tmp_path)
    assert read_export(again.tree.parent) == again


CHECKOUT_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from imageforge.config.manifest import Manifest, Pair
    from imageforge.context import Forge
    from imageforge.patches.export import export_source
    from imageforge.upstream.pinned import pin
    url, ref, release, cache, build = sys.argv[1:]
    forge = Forge(Manifest(Path(build) / "releases.yaml", ()), Path(cache), Path(build))
    export_source(forge, pin(forge, Pair(release, "demo"), url, ref))
    """
)


def test_two_processes_at_once_share_the_cache_safely(upstream, tmp_path):
    repo = upstream()
    cache, build = tmp_path / "cache", tmp_path / "build"
    runs = [("1.0.0", "2025.1"), ("stable/2025.2", "2025.2"), ("master", "2026.1")]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHECKOUT_SCRIPT, repo.url, ref, release, str(cache), str(build)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ.copy(),
        )
        for ref, release in runs
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    mirrors = list((cache / "git").glob("*.git"))
    assert len(mirrors) == 1, "one mirror, cloned once"
    git.run(["fsck", "--no-progress", "--connectivity-only"], git_dir=mirrors[0])
    for ref, release in runs:
        export = read_export(build / "sources" / release / "demo")
        assert export is not None and export.commit == repo.head(ref)


def test_the_installed_package_reports_the_exported_version(upstream, tmp_path):
    """No .git in the export: pbr must take the version from PKG-INFO, and only for this package."""
    repo = upstream()
    export = export_at(repo, "master", tmp_path)
    venv = tmp_path / "venv"
    subprocess.run(["uv", "venv", "--quiet", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PBR_VERSION"}
    subprocess.run(
        [
            "uv",
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            str(export.tree),
        ],
        check=True,
        env=env,
    )
    out = subprocess.run(
        [str(venv / "bin" / "demo-manage"), "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "1.0.1.dev2"
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert (site / "demo" / "templates" / "banner.txt").read_text() == "welcome\n", (
        "package data installed"
    )


def test_the_users_git_config_does_not_change_the_exported_bytes(upstream, tmp_path, git_config):
    """core.autocrlf=true, a smudge filter named by .gitattributes: the tree keeps the commit's bytes."""
    repo = upstream()
    repo.commit(
        {".gitattributes": "*.txt filter=shout text eol=crlf\n", "notes.txt": "one\ntwo\n"},
        "attributes that a user's config would act on",
    )
    repo.tag("1.0.9")
    git_config.write_text(
        "[core]\n\tautocrlf = true\n\teol = crlf\n"
        '[filter "shout"]\n\tsmudge = tr a-z A-Z\n\tclean = cat\n'
    )
    export = export_at(repo, "1.0.9", tmp_path)
    assert (export.tree / "notes.txt").read_bytes() == b"one\ntwo\n"
    assert (export.tree / "setup.cfg").read_bytes().count(b"\r") == 0


def test_an_export_made_under_an_older_format_is_made_again(upstream, tmp_path):
    repo = upstream()
    export = export_at(repo, "1.0.1", tmp_path)
    record = export.tree.parent / "export.json"
    data = json.loads(record.read_text())
    data["format"] = 3  # before trees were byte-exact whatever the git config
    record.write_text(json.dumps(data))
    said = []
    export_at(repo, "1.0.1", tmp_path, log=said.append)
    assert json.loads(record.read_text())["format"] == exporting.EXPORT_FORMAT
    assert not any("up to date" in line for line in said), said
