"""The synthetic service of the Docker end-to-end tests: a tiny patched pbr project.

Service ``demo`` (one patch) depends on six, pinned below its latest release,
and on the library ``demo-lib``, which release 2025.2 patches (one patch);
its image also carries the project ``demo-plugin`` (releases.yaml's
services.demo.projects, one patch), as nova carries its scheduler filters:
the image must carry all three patches.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

from imageforge.host import docker
from tests.support import ROOT, RUN
from tests.support.gitrepos import git, make_upstream
from tests.support.patches import GREETING, format_patches, greeting

REGISTRY = f"forge-e2e-{RUN}.test"
SIX_PINNED = "1.16.0"  # six's latest is newer: the pin, not the resolver, decides
LIB_GREETING = "demo_lib/greeting.py"

# The service's API: notes kept in MariaDB, as an OpenStack API keeps its state.
NOTES_API = """\
import configparser
import json

import pymysql


def _connect():
    config = configparser.ConfigParser()
    config.read("/etc/demo/demo.conf")
    db = config["database"]
    return pymysql.connect(
        host=db["host"], user=db["user"], password=db["password"], database=db["name"],
        autocommit=True,
    )


def db_sync():
    with _connect() as conn, conn.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS notes (id INT AUTO_INCREMENT PRIMARY KEY, text TEXT)"
        )


def application(environ, start_response):
    with _connect() as conn, conn.cursor() as cursor:
        if environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            text = json.loads(environ["wsgi.input"].read(length))["text"]
            cursor.execute("INSERT INTO notes (text) VALUES (%s)", (text,))
            status, data = "201 Created", {"note": {"id": cursor.lastrowid, "text": text}}
        else:
            cursor.execute("SELECT id, text FROM notes ORDER BY id")
            notes = [{"id": i, "text": t} for i, t in cursor.fetchall()]
            status, data = "200 OK", {"notes": notes}
    body = json.dumps(data).encode()
    start_response(status, [("Content-Type", "application/json")])
    return [body]
"""

# Its functional check: the same machinery as keystone's, with a real MariaDB.
FUNCTIONAL = """\
backing: [mariadb]
database: demo
files:
  /etc/demo/demo.conf: |
    [database]
    host = mariadb
    user = {database_user}
    password = {database_password}
    name = {database_name}
  /etc/demo/gunicorn.conf.py: |
    bind = "0.0.0.0:8080"
    workers = 1
    wsgi_app = "demo.api:application"
setup:
  - name: database migrations
    command: [python3, -c, "from demo.api import db_sync; db_sync()"]
serve:
  command: [sh, -c, "cd /etc/demo && exec gunicorn"]
  port: 8080
  ready: /notes
checks:
  - name: note stored
    request: POST /notes
    json: {text: hello}
    status: 201
    expect: {note.text: hello}
    save: {note_id: "json:note.id"}
  - name: notes listed
    request: GET /notes
    expect: {"notes[*].text": hello, "notes[0].id": "{note_id}"}
"""


# Upstream's unit tests (inv patches.test): a suite as stestr finds it, a test
# requirement only the test image installs, and one test upstream left broken.
UNIT_TESTS = {
    # The test path with a shell default, as keystone's.
    ".stestr.conf": "[DEFAULT]\ntest_path=${OS_TEST_PATH:-./demo/tests/unit}\ntop_dir=./\n",
    "test-requirements.txt": "iniconfig # MIT\n",
    "demo/checks.py": "def is_even(number):\n    return number % 2 == 0\n",
    "demo/tests/__init__.py": "",
    "demo/tests/unit/__init__.py": "",
    "demo/tests/unit/test_checks.py": (
        "import unittest\n\nimport iniconfig  # noqa: F401 (a test requirement)\n\n"
        "from demo import checks\n\n\n"
        "class TestChecks(unittest.TestCase):\n"
        "    def test_even(self):\n"
        "        self.assertTrue(checks.is_even(2))\n"
        "        self.assertFalse(checks.is_even(3))\n\n"
        "    def test_known_broken(self):\n"
        "        self.assertEqual(1, 2, 'broken upstream, before any patch')\n"
    ),
    "demo/tests/unit/test_greeting.py": (
        "import unittest\n\nfrom demo.greeting import greet\n\n\n"
        "class TestGreeting(unittest.TestCase):\n"
        "    def test_names_the_person(self):\n"
        "        self.assertTrue(greet('x').endswith(', x'))\n"
    ),
}


def synthetic_project(root: Path) -> Path:
    """releases.yaml, images/ and patches/ for service 'demo' in release 2025.2."""
    service = make_upstream(root / "upstream", "demo")
    service.checkout("stable/2025.2")
    service.commit(
        {
            "requirements.txt": "pbr>=5.5.0\nsix\ndemo-lib\nPyMySQL\n",
            "demo/api.py": NOTES_API,
            **UNIT_TESTS,
        },
        "Depend on six and demo-lib; keep notes in a database; unit tests",
    )
    service.tag("1.0.2")
    library = make_upstream(root / "upstream", "demo-lib")  # tags 1.0.0 and 1.0.1
    plugin = make_upstream(root / "upstream", "demo-plugin")
    requirements = root / "upstream" / "requirements"
    requirements.mkdir()
    git(requirements, "init", "--quiet", "--initial-branch=master")
    (requirements / "upper-constraints.txt").write_text(
        f"pbr===6.1.1\nsix==={SIX_PINNED}\nDemo_Lib===1.0.1\n"
    )
    git(requirements, "add", "--all")
    git(requirements, "commit", "--quiet", "-m", "Constraints")
    project = root / "project"
    shutil.copytree(ROOT / "images" / "python-base", project / "images" / "python-base")
    shutil.copytree(ROOT / "images" / "venv-builder", project / "images" / "venv-builder")
    for shared in ("shared-deps", "shared-runtime"):
        shutil.copytree(ROOT / "images" / shared, project / "images" / shared)
    shutil.copytree(ROOT / "images" / "backing", project / "images" / "backing")
    shutil.copytree(ROOT / "images" / "unit-tests", project / "images" / "unit-tests")
    (project / "images" / "demo").mkdir(parents=True)
    (project / "images" / "demo" / "Dockerfile").write_text(
        (ROOT / "images" / "keystone" / "Dockerfile").read_text().replace("keystone", "demo")
    )
    (project / "images" / "demo" / "smoke.yaml").write_text(
        textwrap.dedent(
            """\
            checks:
              - name: demo-manage reports the upstream version
                command: [demo-manage, --version]
                stdout: "{version}"
              - name: the patched greeting is used
                command: [python3, -c, "from demo.greeting import greet; print(greet('x'))"]
                stdout: patched, x
              - name: the patched library is used
                command: [python3, -c, "from demo_lib.greeting import greet; print(greet('x'))"]
                stdout: library patched, x
              - name: the carried plugin is installed, patched
                command: [python3, -c, "from demo_plugin.greeting import greet; print(greet('x'))"]
                stdout: plugin patched, x
            """
        )
    )
    (project / "images" / "demo" / "functional.yaml").write_text(FUNCTIONAL)
    (project / "releases.yaml").write_text(
        textwrap.dedent(
            f"""\
            defaults: {{registry: {REGISTRY}, base_image: imageforge/debian:bookworm, requirements_repo: {requirements.as_uri()}}}
            services:
              demo:
                repo: {service.url}
                pip_packages: [gunicorn]
                projects: {{demo-plugin: {{repo: {plugin.url}}}}}
            libraries:
              demo-lib: {{repo: {library.url}}}
            releases:
              2025.2:
                requirements: {{ref: master}}
                services: {{demo: {{ref: 1.0.2, projects: {{demo-plugin: {{ref: 1.0.1}}}}}}}}
                libraries: {{demo-lib: {{}}}}
            """
        )
    )
    folder = project / "patches" / "demo" / "2025.2"
    patches = format_patches(
        service, "1.0.2", folder, [({GREETING: greeting("patched")}, "Patch the greeting")]
    )
    (folder / "series").write_text("".join(f"{p.name}\n" for p in patches))
    folder = project / "patches" / "demo-lib" / "2025.2"
    patches = format_patches(
        library,
        "1.0.1",
        folder,
        [({LIB_GREETING: greeting("library patched")}, "Patch the library")],
    )
    (folder / "series").write_text("".join(f"{p.name}\n" for p in patches))
    folder = project / "patches" / "demo-plugin" / "2025.2"
    patches = format_patches(
        plugin,
        "1.0.1",
        folder,
        [({"demo_plugin/greeting.py": greeting("plugin patched")}, "Patch the plugin")],
    )
    (folder / "series").write_text("".join(f"{p.name}\n" for p in patches))
    return project


def project_copy(built, tmp_path: Path, registry: str) -> Path:
    """The synthetic project of ``built`` copied to change it, its images tagged under ``registry``."""
    _, _, project, _ = built
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    manifest = copy / "releases.yaml"
    manifest.write_text(manifest.read_text().replace(REGISTRY, f"{registry}-{RUN}"))
    return copy


def add_demo_extra(project: Path) -> None:
    """services.demo.images.demo-extra: a target of demo's Dockerfile (stage "extra", the
    runtime stage again) with the runtime package ``file``, as nova-compute is of nova's."""
    manifest = project / "releases.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "pip_packages: [gunicorn]",
            "pip_packages: [gunicorn]\n    images: {demo-extra: {target: extra, runtime_packages: [file]}}",
        )
    )
    dockerfile = project / "images" / "demo" / "Dockerfile"
    text = dockerfile.read_text()
    last = text.rindex("FROM ${RUNTIME_IMAGE}\n")
    stage = text[last:].replace("FROM ${RUNTIME_IMAGE}\n", "FROM ${RUNTIME_IMAGE} AS extra\n", 1)
    dockerfile.write_text(text[:last] + stage + "\n" + text[last:])


def ca_marker_certificate(tmp_path_factory) -> tuple[Path, str]:
    """The host bundle plus a certificate of our own whose text we can look for in layers."""
    work = tmp_path_factory.mktemp("ca")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=forge-e2e-marker",
            "-keyout",
            str(work / "key.pem"),
            "-out",
            str(work / "marker.pem"),
        ],
        check=True,
        capture_output=True,
    )
    marker = (work / "marker.pem").read_text()
    bundle = work / "bundle.pem"
    host = Path(os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"))
    bundle.write_text((host.read_text() if host.is_file() else "") + marker)
    # A line from the middle of the certificate's base64: unique to it.
    return bundle, marker.splitlines()[5]


def run_in(image: str, *command: str) -> str:
    return docker.run(
        ["run", "--rm", "--entrypoint", command[0], image, *command[1:]]
    ).stdout.strip()
