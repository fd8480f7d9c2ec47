"""`inv patches.check` end to end: releases.yaml, patches/, real repos, exit code and table."""

from __future__ import annotations

import os
import subprocess
import textwrap

from tests.support import ROOT
from tests.support.patches import GREETING, format_patches, greeting
from tests.support.projects import write_project


def project_with_series(tmp_path, repo, ref_2025_2="1.0.1", ref_2026_1="master"):
    text = textwrap.dedent(
        f"""\
        defaults: {{registry: r.test, base_image: debian:bookworm, requirements_repo: {repo.url}}}
        services:
          demo: {{repo: {repo.url}}}
        releases:
          2025.2:
            requirements: {{ref: master}}
            services: {{demo: {{ref: {ref_2025_2}}}}}
          2026.1:
            requirements: {{ref: master}}
            services: {{demo: {{ref: {ref_2026_1}}}}}
        """
    )
    manifest = write_project(tmp_path, text, images=("demo",))
    for release in ("2025.2", "2026.1"):
        folder = tmp_path / "patches" / "demo" / release
        patches = format_patches(repo, "1.0.1", folder, [({GREETING: greeting("hi")}, "Say hi")])
        (folder / "series").write_text("".join(f"{p.name}\n" for p in patches))
    return manifest


def inv(manifest, *args):
    env = {**os.environ, "FORGE_MANIFEST": str(manifest)}
    return subprocess.run(
        ["inv", "-r", str(ROOT), *args], env=env, capture_output=True, text=True, check=False
    )


def test_all_series_apply(upstream, tmp_path, forge_dirs):
    repo = upstream("demo")
    manifest = project_with_series(tmp_path, repo)
    proc = inv(manifest, "patches.check")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(None, 4) for line in proc.stdout.splitlines()]
    assert rows == [
        ["RELEASE", "PROJECT", "REF", "PATCH", "RESULT"],
        ["2025.2", "demo", "1.0.1", "0001-Say-hi.patch", "applies"],
        ["2026.1", "demo", "master", "0001-Say-hi.patch", "applies"],
    ]


def test_a_conflict_fails_the_gate_and_names_the_hunk(upstream, tmp_path, forge_dirs):
    repo = upstream("demo")
    repo.commit({GREETING: greeting("hello").replace("name)", "name.title())")}, "Title-case names")
    manifest = project_with_series(tmp_path, repo)
    proc = inv(manifest, "patches.check")
    assert proc.returncode == 1
    assert proc.stderr == "error: patches do not apply: demo/2026.1\n"
    last = proc.stdout.splitlines()[-1].split(None, 4)
    assert last == [
        "2026.1",
        "demo",
        "master",
        "0001-Say-hi.patch",
        f"conflicts: {GREETING}: hunk #1 (@@ -1 @@) does not apply",
    ]
    # Narrowed to the release that is fine, the gate passes.
    assert inv(manifest, "patches.check", "--release", "2025.2").returncode == 0


def nox(manifest, *args):
    env = {**os.environ, "FORGE_MANIFEST": str(manifest)}
    return subprocess.run(
        ["nox", "-f", str(ROOT / "noxfile.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_nox_gate_fails_on_the_pair_that_conflicts(upstream, tmp_path, forge_dirs):
    repo = upstream("demo")
    repo.commit({GREETING: greeting("hello").replace("name)", "name.title())")}, "Title-case names")
    manifest = project_with_series(tmp_path, repo)
    proc = nox(manifest, "-s", "patches")
    assert proc.returncode == 1
    assert "* patches(demo-2025.2): success" in proc.stderr
    assert "* patches(demo-2026.1): failed" in proc.stderr
    assert "patches do not apply: demo/2026.1" in proc.stderr
    assert f"conflicts: {GREETING}: hunk #1 (@@ -1 @@) does not apply" in proc.stderr
    # A tag selects one release's sessions; that release's series applies.
    assert nox(manifest, "-s", "patches(demo-2025.2)").returncode == 0
    listed = nox(manifest, "-t", "2026.1", "-l").stdout
    assert "* patches(demo-2026.1)" in listed and "* patches(demo-2025.2)" not in listed
