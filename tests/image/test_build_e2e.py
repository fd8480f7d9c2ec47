"""End to end: a real image of a tiny pbr service, built with the real Docker engine.

One build of a synthetic service (a local git repo, one patch, a constraints
file pinning a dependency below its latest release) on the locally
bootstrapped base image, then checks on the running image and its layers.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
import uuid

import pytest

from imageforge.config.manifest import Pair
from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.image.build import BuildOptions, build_service
from imageforge.publish.lock import record_push
from tests.support import RUN
from tests.support.projects import make_forge
from tests.support.synthetic import REGISTRY, SIX_PINNED, add_demo_extra, project_copy, run_in

pytestmark = pytest.mark.docker
SITE = "/var/lib/openstack/lib/python3.11/site-packages"


def test_tags_and_labels_are_computed(built):
    result, _, _, _ = built
    names = [tag.split(":", 1)[1] for tag in result.tags]
    assert names[:3] == ["1.0.2", "1.0.2-p1", "stable-2025.2"]
    labels = json.loads(
        docker.run(
            ["image", "inspect", "--format", "{{json .Config.Labels}}", result.reference]
        ).stdout
    )
    assert labels["org.opencontainers.image.version"] == "1.0.2"
    assert labels["org.opencontainers.image.revision"] == result.inputs.service.commit
    assert labels["org.opencontainers.image.created"] == "2025-01-01T00:00:00+00:00"
    assert labels["org.imageforge.patches"] == "1"
    assert labels["org.imageforge.patch-series-digest"] == result.inputs.service.series_digest
    assert labels["org.imageforge.constraints-digest"] == result.inputs.constraints.digest


def test_installed_version_is_the_tag(built):
    result, *_ = built
    assert run_in(result.reference, "demo-manage", "--version") == "1.0.2"


def test_the_patch_is_in_the_installed_code(built):
    result, *_ = built
    assert (
        run_in(
            result.reference, "python3", "-c", "from demo.greeting import greet; print(greet('x'))"
        )
        == "patched, x"
    )


def test_the_dependency_is_at_the_pinned_version(built):
    result, *_ = built
    version = run_in(
        result.reference, "python3", "-c", "import importlib.metadata as m; print(m.version('six'))"
    )
    assert version == SIX_PINNED


def test_runs_as_42424_without_build_tools(built):
    result, *_ = built
    assert run_in(result.reference, "id", "-u") == "42424"
    assert run_in(result.reference, "id", "-g") == "42424"
    found = run_in(
        result.reference, "sh", "-c", "for t in gcc cc git uv make; do command -v $t; done; true"
    )
    assert found == ""
    headers = run_in(
        result.reference, "sh", "-c", "ls /usr/include/python3*/Python.h 2>/dev/null; true"
    )
    assert headers == ""


def test_the_ca_bundle_is_in_no_layer(built, tmp_path):
    result, marker_line, _, _ = built
    archive = tmp_path / "image.tar"
    docker.run(["save", "--output", str(archive), result.reference])
    needle = marker_line.encode()
    scanned = 0
    with tarfile.open(archive) as outer:
        for member in outer.getmembers():
            if not member.isfile():
                continue
            data = outer.extractfile(member).read()
            assert needle not in data, f"CA marker found in {member.name}"
            if data[:262][257:262] == b"ustar" or member.name.endswith("layer.tar"):
                with tarfile.open(fileobj=io.BytesIO(data)) as layer:
                    for item in layer.getmembers():
                        if item.isfile():
                            assert needle not in layer.extractfile(item).read(), (
                                f"CA marker in {item.name}"
                            )
                            scanned += 1
    assert scanned > 100, "the layers were really opened and read"


def test_a_second_build_reuses_everything(built):
    result, _, project, root = built
    logged: list[str] = []
    again = build_service(
        make_forge(
            project / "releases.yaml",
            root,
            base_image="imageforge/debian:bookworm",
            log=logged.append,
        ),
        Pair("2025.2", "demo"),
        BuildOptions(),
    )
    image_id = docker.run(["image", "inspect", "--format", "{{.Id}}", result.reference]).stdout
    assert (
        docker.run(["image", "inspect", "--format", "{{.Id}}", again.reference]).stdout == image_id
    )
    assert any("up to date" in line for line in logged)


def test_a_missing_base_image_is_a_clear_error(built):
    _, _, project, root = built
    with pytest.raises(
        ForgeError, match=r"base image forge-e2e.test/nothing:here is not here and cannot be pulled"
    ):
        build_service(
            make_forge(
                project / "releases.yaml",
                root,
                base_image="forge-e2e.test/nothing:here",
                log=lambda _: None,
            ),
            Pair("2025.2", "demo"),
            BuildOptions(),
        )


def test_a_daemon_that_is_down_is_a_clear_error(built, monkeypatch):
    _, _, project, root = built
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(ForgeError, match="the Docker daemon is not reachable"):
        build_service(
            make_forge(project / "releases.yaml", root, log=lambda _: None),
            Pair("2025.2", "demo"),
            BuildOptions(),
        )


MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


def test_push_to_a_registry_and_pull_back_every_tag(built, local_registry):
    _, _, project, root = built
    text = (
        (project / "releases.yaml")
        .read_text()
        .replace(f"registry: {REGISTRY}", f"registry: {local_registry}/forge")
    )
    pushed_project = root / "pushed"
    if pushed_project.exists():
        shutil.rmtree(pushed_project)
    shutil.copytree(project, pushed_project)
    (pushed_project / "releases.yaml").write_text(text)
    forge = make_forge(
        pushed_project / "releases.yaml",
        root,
        base_image="imageforge/debian:bookworm",
        log=lambda _: None,
    )
    result = build_service(forge, Pair("2025.2", "demo"), BuildOptions(push=True))
    assert all(tag.startswith(f"{local_registry}/forge/demo:") for tag in result.tags)
    # The shared images came from the same bake graph: nothing but the service was pushed.
    import urllib.request

    with urllib.request.urlopen(f"http://{local_registry}/v2/_catalog") as answer:
        assert json.load(answer)["repositories"] == ["forge/demo"]
    assert result.tags[-1] == f"{local_registry}/forge/demo:in-{result.key}"
    # The digest lock records what the registry serves for the pushed reference.
    lock = record_push(forge, "2025.2", "demo", result.reference, result.tags)
    entry = json.loads(lock.read_text())["demo"]
    asked = urllib.request.Request(
        f"http://{local_registry}/v2/forge/demo/manifests/1.0.2",
        headers={"Accept": ", ".join(MANIFEST_TYPES)},
        method="HEAD",
    )
    with urllib.request.urlopen(asked) as answer:
        assert entry["digest"] == answer.headers["Docker-Content-Digest"]
    assert entry["tags"] == list(result.tags) and entry["reference"] == result.reference
    assert lock == root / "build" / "published" / "2025.2.json"
    for tag in result.tags:
        docker.run(["image", "rm", tag], check=False)
    for tag in result.tags:
        docker.run(["pull", "--quiet", tag])
        assert run_in(tag, "demo-manage", "--version") == "1.0.2"
        docker.run(["image", "rm", tag])


def test_package_data_is_installed(built):
    result, *_ = built
    script = "import demo, pathlib; print((pathlib.Path(demo.__file__).parent / 'templates' / 'banner.txt').read_text().strip())"
    assert run_in(result.reference, "python3", "-c", script) == "welcome"


def test_the_patched_library_is_built_from_its_source(built):
    result, *_ = built
    [library] = result.inputs.libraries
    assert (library.project, library.version, library.patches) == (
        "demo-lib",
        "1.0.1",
        ("0001-Patch-the-library.patch",),
    )
    script = "from demo_lib.greeting import greet; import importlib.metadata as m; print(greet('x'), m.version('demo-lib'))"
    assert run_in(result.reference, "python3", "-c", script) == "library patched, x 1.0.1"
    assert [(c.kind.value, c.name, c.new) for c in result.inputs.constraints.changes] == [
        ("from source", "demo-lib", ("demo-lib===1.0.1",))
    ]
    labels = json.loads(
        docker.run(
            ["image", "inspect", "--format", "{{json .Config.Labels}}", result.reference]
        ).stdout
    )
    assert labels["org.imageforge.library.demo-lib"].startswith(f"1.0.1 {library.commit} p1 ")


def test_a_carried_project_is_installed_from_its_patched_source(built):
    """releases.yaml's services.demo.projects: the plugin rides in the dependency layer."""
    result, *_ = built
    [plugin] = result.inputs.projects
    assert (plugin.project, plugin.ref, plugin.patches) == (
        "demo-plugin",
        "1.0.1",
        ("0001-Patch-the-plugin.patch",),
    )
    script = "from demo_plugin.greeting import greet; import importlib.metadata as m; print(greet('x'), m.version('demo-plugin'))"
    assert run_in(result.reference, "python3", "-c", script) == "plugin patched, x 1.0.1"
    labels = docker.image_labels(result.reference)
    assert labels["org.imageforge.project.demo-plugin"].startswith(f"1.0.1 {plugin.commit} p1 ")
    assert "org.imageforge.library.demo-plugin" not in labels


def test_a_service_patch_reuses_the_dependency_layer(built, tmp_path, base_image):
    """A new service patch rebuilds the service layer only; the venv stays consistent."""
    from imageforge.verify.service import smoke_service

    copy = project_copy(built, tmp_path, "imageforge-test/deps")

    def forge():
        return make_forge(copy, tmp_path, base_image=base_image, buildx_args=("--progress=plain",))

    first = build_service(forge(), Pair("2025.2", "demo"), BuildOptions())
    tree = first.inputs.service.tree
    before = (tree / "demo" / "__init__.py").read_text()
    series = copy / "patches" / "demo" / "2025.2"
    # A note no earlier run wrote: images are reproducible now, so the same tree
    # built before on this engine would be a cache hit, not the rebuild checked here.
    note = f"# a note {uuid.uuid4().hex}"
    (series / "0002-note.patch").write_text(
        "Subject: [PATCH] A note\n\n---\n"
        "diff --git a/demo/__init__.py b/demo/__init__.py\n"
        "--- a/demo/__init__.py\n+++ b/demo/__init__.py\n"
        f"@@ -1,{len(before.splitlines())} +1,{len(before.splitlines()) + 1} @@\n"
        + "".join(f" {line}\n" for line in before.splitlines())
        + f"+{note}\n"
    )
    with (series / "series").open("a") as listing:
        listing.write("0002-note.patch\n")
    second = build_service(forge(), Pair("2025.2", "demo"), BuildOptions())
    # BuildKit's own log is kept under build/logs/, whole and per image.
    output = (tmp_path / "build" / "logs" / "2025.2" / "demo-2025-2.log").read_text()
    try:
        steps = dict(
            re.findall(
                r"^#(\d+) \[(?:[\w-]+ )?(?:deps|build) \d+/\d+\] RUN .*build-venv (\w+)(?: [\w.-]+)?$",
                output,
                re.M,
            )
        )
        outcome = {
            kind: re.search(rf"^#{step} (CACHED|DONE)", output, re.M)
            for step, kind in steps.items()
        }
        assert {kind: m.group(1) for kind, m in outcome.items() if m} == {
            "deps": "CACHED",
            "service": "DONE",
        }, output[-3000:]
        assert run_in(second.reference, "tail", "-n1", f"{SITE}/demo/__init__.py") == note
        assert smoke_service(forge(), Pair("2025.2", "demo"), BuildOptions()).ok
    finally:
        for tag in {*first.tags, *second.tags}:
            docker.run(["image", "rm", tag], check=False)


def test_a_changed_library_patch_reaches_the_image(built, tmp_path, base_image):
    """The library's setup.cfg keeps its mtime (exports rewrite only what differs): no stale wheel."""
    copy = project_copy(built, tmp_path, "imageforge-test/libpatch")

    def build():
        forge = make_forge(copy, tmp_path, base_image=base_image)
        return build_service(forge, Pair("2025.2", "demo"), BuildOptions())

    script = "from demo_lib.greeting import greet; print(greet('x'))"
    first = build()
    second = None
    try:
        assert run_in(first.reference, "python3", "-c", script) == "library patched, x"
        [patch] = (copy / "patches" / "demo-lib" / "2025.2").glob("*.patch")
        patch.write_text(patch.read_text().replace("library patched", "library patched again"))
        second = build()
        assert run_in(second.reference, "python3", "-c", script) == "library patched again, x"
    finally:
        for tag in {*first.tags, *(second.tags if second else ())}:
            docker.run(["image", "rm", tag], check=False)


def test_bindings_come_from_the_distribution_and_nothing_else_of_it(built, tmp_path, base_image):
    """releases.yaml's bindings: installed at run time, seen by the venv, nothing else of
    dist-packages is (python3-yaml's own module only); smoke still holds."""
    from imageforge.verify.service import smoke_service

    copy = project_copy(built, tmp_path, "imageforge-test/bindings")
    manifest = copy / "releases.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "pip_packages: [gunicorn]", "pip_packages: [gunicorn]\n    bindings: [python3-yaml]"
        )
    )
    dockerfile = copy / "images" / "demo" / "Dockerfile"
    with pytest.raises(ForgeError, match=r"bindings need `ARG BINDINGS` in the last stage"):
        make_forge(copy, tmp_path, base_image=base_image)
    text = dockerfile.read_text()
    last = text.rindex('ARG RUNTIME_PACKAGES=""\n')
    text = text[:last] + text[last:].replace(
        'ARG RUNTIME_PACKAGES=""\n', 'ARG RUNTIME_PACKAGES=""\nARG BINDINGS=""\n', 1
    )
    dockerfile.write_text(text)
    forge = make_forge(copy, tmp_path, base_image=base_image)
    result = build_service(forge, Pair("2025.2", "demo"), BuildOptions())
    try:
        script = "import yaml, importlib.metadata as m; print(yaml.__file__, m.version('PyYAML'))"
        where, version = run_in(result.reference, "python3", "-c", script).split()
        assert where.startswith("/usr/local/lib/forge-bindings/yaml/") and version
        # The venv stays closed: only the bindings' own files are linked in.
        assert "include-system-site-packages = false" in run_in(
            result.reference, "cat", "/var/lib/openstack/pyvenv.cfg"
        )
        report = smoke_service(forge, Pair("2025.2", "demo"), BuildOptions())
        assert report.ok, report.table()
    finally:
        for tag in result.tags:
            docker.run(["image", "rm", tag], check=False)
    original, *_ = built
    assert (
        run_in(
            original.reference,
            "python3",
            "-c",
            "import importlib.util as u; print(u.find_spec('yaml'))",
        )
        == "None"
    )


def test_an_image_from_a_target_of_the_services_dockerfile(built, tmp_path, base_image):
    """services.demo.images.demo-extra: demo's tree, patches and plugin; its own stage and packages."""
    from imageforge.image.build import build_services
    from imageforge.verify.service import smoke_service

    copy = project_copy(built, tmp_path, "imageforge-test/derived")
    add_demo_extra(copy)
    (copy / "images" / "demo-extra").mkdir()
    (copy / "images" / "demo-extra" / "smoke.yaml").write_text(
        "checks:\n  - name: file is there\n    command: [sh, -c, 'command -v file']\n"
        "    stdout: /usr/bin/file\n"
    )
    forge = make_forge(copy, tmp_path, base_image=base_image)
    pairs = [Pair("2025.2", "demo"), Pair("2025.2", "demo-extra")]
    demo, extra = build_services(forge, pairs, BuildOptions())
    try:
        assert extra.reference.rsplit("/", 1)[1] == "demo-extra:1.0.2"
        assert extra.key != demo.key
        assert run_in(extra.reference, "sh", "-c", "command -v file") == "/usr/bin/file"
        assert run_in(demo.reference, "sh", "-c", "command -v file || echo none") == "none"
        labels = docker.image_labels(extra.reference)
        assert labels["org.imageforge.upstream-commit"] == demo.inputs.service.commit
        assert labels["org.imageforge.patches"] == "1"
        assert labels["org.imageforge.project.demo-plugin"].startswith("1.0.1 ")
        report = smoke_service(forge, Pair("2025.2", "demo-extra"), BuildOptions())
        assert report.ok, report.table()
    finally:
        for tag in {*demo.tags, *extra.tags}:
            docker.run(["image", "rm", tag], check=False)


def test_the_summary_says_what_was_built_and_what_was_up_to_date(built, tmp_path, base_image):
    copy = project_copy(built, tmp_path, "imageforge-test/summary")
    # A step unique to this run: a build wholly from cache can take under the 0.1 s the
    # summary rounds to, and this test is about a build that did some work.
    dockerfile = copy / "images" / "demo" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + f"RUN echo summary-{RUN} && sleep 1\n")
    said: list[str] = []
    forge = make_forge(copy, tmp_path, base_image=base_image, log=said.append)
    first = build_service(forge, Pair("2025.2", "demo"), BuildOptions())
    try:
        summary = json.loads((tmp_path / "build" / "summary.json").read_text())
        [row] = summary["images"]
        assert (row["service"], row["release"], row["result"]) == ("demo", "2025.2", "built")
        assert row["tag"] == first.reference and row["key"] == first.key
        assert row["size"] == first.size and row["seconds"] > 0
        assert "RUN" in (tmp_path / row["log"]).read_text() and summary["ok"] is True
        assert "planned: demo (2025.2)" in said
        assert any(line.startswith("demo (2025.2): built after ") for line in said), said
        out = tmp_path / "ci" / "summary.json"
        build_service(forge, Pair("2025.2", "demo"), BuildOptions(summary_json=out))
        [row] = json.loads(out.read_text())["images"]
        assert (row["result"], row["seconds"], row["log"]) == ("up to date", 0.0, "")
        table = said[-1].splitlines()
        assert table[0].split() == ["IMAGE", "TAG", "RESULT", "SIZE", "TIME", "KEY"]
        assert table[1].split()[:4] == ["demo", "(2025.2)", first.reference, "up"]
        assert table[2] == "1 up to date" or table[2].startswith("1 up to date in ")
    finally:
        for tag in first.tags:
            docker.run(["image", "rm", tag], check=False)


def test_a_failing_step_is_named_with_its_log_tail(built, tmp_path, base_image):
    copy = project_copy(built, tmp_path, "imageforge-test/failing")
    dockerfile = copy / "images" / "demo" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "RUN echo forge-planted-failure && false\n")
    said: list[str] = []
    forge = make_forge(copy, tmp_path, base_image=base_image, log=said.append)
    log = tmp_path / "build" / "logs" / "2025.2" / "demo-2025-2.log"
    with pytest.raises(docker.DockerError) as caught:
        build_service(forge, Pair("2025.2", "demo"), BuildOptions())
    assert str(caught.value).startswith("building demo (2025.2) failed at [demo-2025-2 ")
    assert str(caught.value).endswith(f"RUN echo forge-planted-failure && false; the log: {log}")
    told = next(line for line in said if line.startswith("demo (2025.2) failed at "))
    assert "forge-planted-failure" in told and told.endswith(f"(its whole log: {log})")
    [row] = json.loads((tmp_path / "build" / "summary.json").read_text())["images"]
    assert (row["result"], row["log"]) == ("failed", str(log))
    assert "forge-planted-failure" in log.read_text()


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_inv_build_shows_progress_and_the_summary(built, tmp_path, base_image, terminal):
    """On a terminal (script(1) gives it one) a live table; in a pipe, plain lines."""
    import os
    import subprocess

    from tests.support import ROOT

    copy = project_copy(built, tmp_path, f"imageforge-test/board-{'tty' if terminal else 'pipe'}")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    env |= {
        "FORGE_MANIFEST": str(copy / "releases.yaml"),
        "FORGE_CACHE_DIR": str(tmp_path / "cache"),
        "FORGE_BUILD_DIR": str(tmp_path / "build"),
        "FORGE_BASE_IMAGE": base_image,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "COLUMNS": "160",
    }
    command = ["inv", "-r", str(ROOT), "build", "-s", "demo", "-r", "2025.2", "--force"]
    if terminal:
        command = ["script", "--quiet", "--return", "--command", " ".join(command), "/dev/null"]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    try:
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        out = proc.stdout
        if terminal:
            assert "\x1b[" in out, "drawn in place"
            drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)
            assert re.search(r"IMAGE +STATE +TIME +STEP", drawn)
            assert re.search(r"demo \(2025\.2\) +built +\d+ s", drawn)
        else:
            assert "\x1b[" not in out
            assert "planned: demo (2025.2)" in out
            assert re.search(r"^demo \(2025\.2\): built after \d+ s$", out, re.M)
        assert re.search(r"^IMAGE +TAG +RESULT +SIZE +TIME +KEY", out, re.M)
        assert re.search(r"^1 built in \d+ s \(summary: .*summary\.json\)", out, re.M)
    finally:
        for line in re.findall(r"^  tag (\S+)", proc.stdout, re.M):
            docker.run(["image", "rm", line], check=False)
