"""The workflow's build cache: the docker driver exports one only with the containerd image store.

The image job builds with the docker driver (its images are loaded for the
smoke checks) and passes ``--cache-to type=gha`` through FORGE_BUILDX_ARGS.
Here the same choice is proved locally with a ``type=local`` cache: a second
Docker daemon with the containerd image store exports the cache of a build
the forge plans, and a build after the cache was pruned imports it; the
classic image store refuses the export, which is the defect the workflow had.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest

from imageforge.image.plan import ImageBuild

pytestmark = pytest.mark.docker


@pytest.fixture
def containerd_daemon(tmp_path):
    """A throwaway dockerd with the containerd image store; its DOCKER_HOST."""
    if shutil.which("dockerd") is None:
        pytest.fail("dockerd is not installed (scripts/install-docker.sh installs it)")
    root = tmp_path / "d"
    root.mkdir()
    (root / "daemon.json").write_text(json.dumps({"features": {"containerd-snapshotter": True}}))
    socket = root / "docker.sock"
    log = (root / "log").open("w")
    # In a network namespace of its own: a second daemon deletes the host
    # daemon's docker0 when it sets up its own networking (seen here).
    daemon = subprocess.Popen(
        [
            "unshare",
            "--net",
            "dockerd",
            "--data-root",
            str(root / "data"),
            "--exec-root",
            str(root / "exec"),
            "--host",
            f"unix://{socket}",
            "--pidfile",
            str(root / "docker.pid"),
            "--config-file",
            str(root / "daemon.json"),
            "--bridge",
            "none",
            "--iptables=false",
            "--ip6tables=false",
            "--containerd-namespace",
            f"forge-test-{os.getpid()}",
            "--containerd-plugins-namespace",
            f"forge-test-{os.getpid()}-plugins",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    env = {**os.environ, "DOCKER_HOST": f"unix://{socket}"}
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(["docker", "info"], env=env, capture_output=True).returncode != 0:
            assert daemon.poll() is None and time.monotonic() < deadline, (root / "log").read_text()
            time.sleep(0.5)
        yield env
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
        log.close()
        shutil.rmtree(root / "data", ignore_errors=True)


def tiny_build(tmp_path, extra_args):
    """A plan like the forge's (extra args as FORGE_BUILDX_ARGS would give), of a tiny image."""
    folder = tmp_path / "tiny"
    folder.mkdir(exist_ok=True)
    (folder / "Dockerfile").write_text("FROM scratch\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\n")
    (folder / "a.txt").write_text("a\n")
    (folder / "b.txt").write_text("b\n")
    plan = ImageBuild(
        name="tiny", folder=folder, tags=("forge-test/tiny:1",), extra_args=extra_args
    )
    command = plan.command()
    command.insert(3, "--progress=plain")
    return command


def test_a_local_cache_is_exported_and_imported_with_the_containerd_store(
    containerd_daemon, tmp_path
):
    cache = tmp_path / "cache"
    export = tiny_build(tmp_path, ("--cache-to", f"type=local,dest={cache},mode=max"))
    proc = subprocess.run(export, env=containerd_daemon, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (cache / "index.json").is_file()
    # Forget everything the daemon built, then build from the exported cache.
    subprocess.run(
        ["docker", "buildx", "prune", "--all", "--force"],
        env=containerd_daemon,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["docker", "image", "rm", "forge-test/tiny:1"], env=containerd_daemon, capture_output=True
    )
    again = tiny_build(tmp_path, ("--cache-from", f"type=local,src={cache}"))
    proc = subprocess.run(again, env=containerd_daemon, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "importing cache manifest from local" in proc.stderr
    assert proc.stderr.count(" CACHED") >= 2  # both COPY steps came from the cache


def test_the_host_daemon_keeps_its_bridge(containerd_daemon):
    """The second daemon must leave the host's network alone (it once deleted docker0)."""
    assert subprocess.run(["ip", "link", "show", "docker0"], capture_output=True).returncode == 0


def test_the_classic_store_refuses_the_export(tmp_path):
    status = subprocess.run(
        ["docker", "info", "--format", "{{.DriverStatus}}"], capture_output=True, text=True
    ).stdout
    if "io.containerd.snapshotter" in status:
        pytest.skip("this host's daemon already uses the containerd image store")
    export = tiny_build(tmp_path, ("--cache-to", f"type=local,dest={tmp_path / 'cache'}"))
    proc = subprocess.run(export, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "containerd image store" in proc.stderr or "not supported" in proc.stderr
