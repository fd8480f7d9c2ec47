"""What a service's venv holds besides the service: the input of the dependency layer.

The build installs the dependencies in a layer of their own, whose only inputs
are the file written here (the service's requirements, those of its extras and
the release's pip packages), the constraints and the patched libraries. A patch
to the service changes none of them, so BuildKit reuses that layer and the
rebuild installs the service alone (without dependencies) on top.

The requirements are read the way pbr reads them: ``requirements.txt`` unless
pyproject.toml lists static ``[project] dependencies``; extras from
pyproject.toml's ``[project.optional-dependencies]`` or else setup.cfg's
``[extras]``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from imageforge.errors import ForgeError
from imageforge.host.files import write_atomically

REQUIREMENTS = "requirements.txt"
SERVICE = "service.txt"


def dependency_lines(
    tree: Path, extras: tuple[str, ...], pip_packages: tuple[str, ...], name: str
) -> list[str]:
    """Every requirement the venv needs besides the service, one per line, comments dropped.

    ``name`` (e.g. ``keystone (2025.2)``) is how an error names the service.
    """
    project = _pyproject(tree, name).get("project", {})
    dynamic = project.get("dynamic", [])
    if "dependencies" in project and "dependencies" not in dynamic:
        lines = list(project["dependencies"])
    else:
        lines = _requirement_lines(tree / REQUIREMENTS)
    declared = _extras(tree, project, name)
    for extra in extras:
        if extra not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise ForgeError(
                f"{name}: extra {extra!r} is not declared by the source "
                f"(pyproject.toml or setup.cfg [extras]; declared: {known}); fix extras in releases.yaml"
            )
        lines += declared[extra]
    return [*lines, *pip_packages]


TEST_REQUIREMENTS = "test-requirements.txt"
# The extras projects declare their test dependencies under (pyproject.toml, setup.cfg).
TEST_EXTRAS = ("test", "tests", "testing")


def test_requirement_lines(tree: Path, name: str) -> list[str]:
    """What a project's unit tests need: test-requirements.txt and its test extras.

    Includes (``-r``), constraints (``-c``) and editable lines are left out:
    the release's constraints apply, and the project is installed by itself.
    """
    lines = [
        line
        for line in _requirement_lines(tree / TEST_REQUIREMENTS)
        if not line.startswith(("-r", "-c", "-e", "--"))
    ]
    declared = _extras(tree, _pyproject(tree, name).get("project", {}), name)
    for extra in TEST_EXTRAS:
        lines += declared.get(extra, [])
    return lines


def write_context(folder: Path, lines: list[str], service_package: str) -> Path:
    """``folder`` holding requirements.txt with ``lines`` and service.txt naming the service.

    A dependency may pull the service itself in from the index (tempest's
    plugins require tempest); the deps layer removes it again, as the service
    layer installs it from the patched source. Files are rewritten only when
    they change.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (
        (REQUIREMENTS, "".join(f"{line}\n" for line in lines)),
        (SERVICE, f"{service_package}\n"),
    ):
        target = folder / name
        if not target.is_file() or target.read_text() != text:
            write_atomically(target, text)
    return folder


def _requirement_lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return [line for line in map(_strip_comment, path.read_text().splitlines()) if line]


def _strip_comment(line: str) -> str:
    # "python-ldap>=3.0.0 # PSF": pbr's license comments; a '#' inside a URL
    # fragment has no space before it.
    line = line.strip()
    if line.startswith("#"):
        return ""
    return line.split(" #", 1)[0].split("\t#", 1)[0].strip()


def _pyproject(tree: Path, name: str) -> dict:
    path = tree / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ForgeError(f"{name}: {path}: {err}") from err


def _extras(tree: Path, project: dict, name: str) -> dict[str, list[str]]:
    optional = project.get("optional-dependencies")
    if optional:
        return {key: list(values) for key, values in optional.items()}
    setup_cfg = tree / "setup.cfg"
    if not setup_cfg.is_file():
        return {}
    extras: dict[str, list[str]] = {}
    for key, lines in _section(setup_cfg.read_text(), "extras"):
        # pbr allows "extra:marker" keys: the marker applies to every line.
        extra, _, marker = key.partition(":")
        for line in filter(None, map(_strip_comment, lines)):
            if marker:
                line = f"{line} and {marker}" if ";" in line else f"{line}; {marker}"
            extras.setdefault(extra.strip(), []).append(line)
    return extras


def _section(text: str, wanted: str) -> list[tuple[str, list[str]]]:
    """The keys of one ini section with their (continued) value lines.

    Read by hand rather than with configparser: setup.cfg files mix ``key:``
    and ``key =`` styles elsewhere, and pbr's marker keys hold ``:`` and ``=``.
    """
    entries: list[tuple[str, list[str]]] = []
    inside = False
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            inside = stripped[1:-1].strip() == wanted
            continue
        if not inside or not stripped or stripped.startswith(("#", ";")):
            continue
        if raw[0] in " \t" and entries:
            entries[-1][1].append(stripped)
        else:
            key, _, value = (
                stripped.rpartition("=") if stripped.endswith("=") else stripped.partition("=")
            )
            entries.append((key.strip(), [value.strip()] if value.strip() else []))
    return entries
