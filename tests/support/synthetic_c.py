"""A synthetic C project, built through the same path as the Python services.

``hello`` is a few files of C with a Makefile, tagged v1.0.0 the way OVS and
OVN tag releases, and a patch that changes what it prints. Its image is
declared ``build: c`` in releases.yaml and built from images/hello/ on the
shared c-builder and c-base images.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from tests.support import ROOT, RUN
from tests.support.gitrepos import UpstreamRepo, git
from tests.support.patches import format_patches

REGISTRY = f"forge-c-{RUN}.test"

HELLO_C = """\
#include <stdio.h>
#include <string.h>
#include "version.h"

#define GREETING "hello from C"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("%s\\n", HELLO_VERSION);
        return 0;
    }
    printf("%s\\n", GREETING);
    return 0;
}
"""

MAKEFILE = """\
PREFIX ?= /usr

hello: hello.c version.h
\t$(CC) $(CFLAGS) -O2 -o hello hello.c

install: hello
\tinstall -D -m 755 hello $(DESTDIR)$(PREFIX)/bin/hello
\tinstall -D -m 644 hello.schema $(DESTDIR)$(PREFIX)/share/hello/hello.schema
"""

DOCKERFILE = """\
# hello, built from C: the source is compiled in c-builder with no network,
# and only what `make install` installed is copied onto c-base.
ARG BUILDER_IMAGE=imageforge/c-builder
ARG RUNTIME_IMAGE=imageforge/c-base

FROM ${BUILDER_IMAGE} AS build
RUN --network=none \\
    --mount=type=bind,from=source,target=/src \\
    --mount=type=cache,target=/build-cache,id=forge-c-build-hello,sharing=locked \\
    --mount=type=cache,target=/root/.ccache \\
    build-c

FROM ${RUNTIME_IMAGE}
ARG RUNTIME_PACKAGES=""
RUN --mount=type=bind,from=build,source=/forge/runtime,target=/forge \\
    --mount=type=secret,id=cacert \\
    --mount=type=cache,target=/var/cache/apt,sharing=locked \\
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \\
    install-runtime hello
COPY --from=build --link /forge/install/ /
USER hello
"""

SMOKE = """\
checks:
  - name: hello reports the upstream version
    command: [hello, --version]
    stdout: "{version}"
  - name: the patched greeting is built in
    command: [hello]
    stdout: hello from C, patched
  - name: the schema is installed
    command: [ls, /usr/share/hello/hello.schema]
    stdout: /usr/share/hello/hello.schema
"""

# Containers of the checked image sharing a run volume, as OVN's functional
# check runs its databases and a chassis: a "daemon" publishes the greeting,
# the other container waits for it, and a command check reads it.
FUNCTIONAL = """\
volumes: [shared]
containers:
  - name: writer
    user: root
    root_because: it writes the run's volume, which Docker creates owned by root
    volumes: {shared: /run/shared}
    steps:
      - name: greeting daemon
        start: [sh, -c, "while true; do hello > /run/shared/.g && mv /run/shared/.g /run/shared/greeting; sleep 1; done"]
  - name: reader
    volumes: {shared: /run/shared}
    steps:
      - name: the greeting appears
        run: [test, -s, /run/shared/greeting]
        retry: 60
checks:
  - name: the reader sees the patched greeting
    in: reader
    command: [cat, /run/shared/greeting]
    stdout: hello from C, patched
  - name: the writer runs as root, the reader as the image's user
    in: reader
    command: [id, -u]
    stdout: "42424"
"""


def c_project(root: Path) -> Path:
    """releases.yaml, images/ and patches/ for the C service 'hello' in release 2025.2."""
    path = root / "upstream" / "hello"
    path.mkdir(parents=True)
    git(path, "init", "--quiet", "--initial-branch=master")
    git(path, "config", "uploadpack.allowFilter", "true")
    repo = UpstreamRepo(path=path, name="hello")
    repo.commit(
        {
            "hello.c": HELLO_C,
            "version.h": '#define HELLO_VERSION "1.0.0"\n',
            "Makefile": MAKEFILE,
            "hello.schema": '{"name": "hello", "version": "1.0.0"}\n',
        },
        "hello 1.0.0",
    )
    repo.tag("v1.0.0")
    requirements = root / "upstream" / "requirements"
    requirements.mkdir()
    git(requirements, "init", "--quiet", "--initial-branch=master")
    (requirements / "upper-constraints.txt").write_text("six===1.16.0\n")
    git(requirements, "add", "--all")
    git(requirements, "commit", "--quiet", "-m", "Constraints")
    project = root / "project"
    for shared in (
        "python-base",
        "venv-builder",
        "shared-deps",
        "shared-runtime",
        "c-base",
        "c-builder",
    ):
        shutil.copytree(ROOT / "images" / shared, project / "images" / shared)
    (project / "images" / "hello").mkdir(parents=True)
    (project / "images" / "hello" / "Dockerfile").write_text(DOCKERFILE)
    (project / "images" / "hello" / "smoke.yaml").write_text(SMOKE)
    (project / "images" / "hello" / "functional.yaml").write_text(FUNCTIONAL)
    (project / "releases.yaml").write_text(
        textwrap.dedent(
            f"""\
            defaults: {{registry: {REGISTRY}, base_image: imageforge/debian:bookworm, requirements_repo: {requirements.as_uri()}}}
            services:
              hello: {{repo: {repo.url}, build: c}}
            releases:
              2025.2:
                requirements: {{ref: master}}
                services: {{hello: {{ref: v1.0.0}}}}
            """
        )
    )
    folder = project / "patches" / "hello" / "2025.2"
    patches = format_patches(
        repo,
        "v1.0.0",
        folder,
        [({"hello.c": HELLO_C.replace('"hello from C"', '"hello from C, patched"')}, "Patch it")],
    )
    (folder / "series").write_text("".join(f"{p.name}\n" for p in patches))
    return project
