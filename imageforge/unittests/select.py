"""Which unit-test modules a patch concerns, read statically from the tree.

A patch concerns the test modules it adds or changes itself, and the test
modules that import a module it changes directly (``import a.b``, ``from a.b
import c``, ``from . import c``, resolved against the tree's files). Nothing
is imported or run to find them, so the choice costs milliseconds even for
nova's thousands of test modules. Changes to files other than Python modules
(policy YAML, release notes) select nothing.

The unit suite is where upstream's ``.stestr.conf`` says (``test_path``);
without one, every ``tests/unit`` folder of the tree, else every ``tests``.
"""

from __future__ import annotations

import ast
import configparser
import os
import re
from dataclasses import dataclass
from pathlib import Path

_SKIPPED_FOLDERS = {".git", ".tox", "doc", "releasenotes", "build", "node_modules"}


@dataclass(frozen=True)
class Suite:
    """The unit-test modules of a tree, by dotted name, and the folders they live in."""

    tree: Path
    roots: tuple[str, ...]  # test_path folders, relative to the tree
    modules: tuple[str, ...]  # every test module (test_*.py) under them

    def contains(self, path: str) -> bool:
        return any(path == root or path.startswith(f"{root}/") for root in self.roots)


def module_name(path: str) -> str | None:
    """``keystone/common/utils.py`` -> ``keystone.common.utils``; None for other files."""
    if not path.endswith(".py"):
        return None
    parts = path[: -len(".py")].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    return ".".join(parts)


def is_test_module(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.startswith("test_") and name.endswith(".py")


def find_suite(tree: Path) -> Suite:
    """The tree's unit suite, as stestr would discover it."""
    roots = _stestr_roots(tree) or _conventional_roots(tree)
    modules = []
    for root in roots:
        for top, dirs, files in os.walk(tree / root):
            dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_FOLDERS)
            for name in sorted(files):
                path = Path(top, name).relative_to(tree).as_posix()
                dotted = module_name(path)
                if dotted and is_test_module(path):
                    modules.append(dotted)
    return Suite(tree, tuple(roots), tuple(modules))


def selected_modules(suite: Suite, changed: list[str]) -> tuple[str, ...]:
    """The test modules that ``changed`` files (paths in the tree) concern, sorted."""
    changed_modules = {m for m in map(module_name, changed) if m}
    chosen = {
        dotted
        for path in changed
        if suite.contains(path) and is_test_module(path)
        for dotted in [module_name(path)]
        if dotted and (suite.tree / path).is_file()  # a deleted test selects nothing
    }
    if changed_modules:
        for module in suite.modules:
            if module not in chosen and imports_of(suite.tree, module) & changed_modules:
                chosen.add(module)
    return tuple(sorted(chosen))


def imports_of(tree: Path, module: str) -> set[str]:
    """The modules of the tree that ``module`` imports directly (dotted names)."""
    path = _file_of(tree, module)
    if path is None:
        return set()
    try:
        syntax = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError):
        return set()  # a test module that does not parse is not ours to judge here
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(syntax):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(package, node.module, node.level)
            if base is None:
                continue
            found.add(base)
            for alias in node.names:
                # `from a.b import c`: c is a module when the tree has one by that name.
                candidate = f"{base}.{alias.name}" if base else alias.name
                if _file_of(tree, candidate) is not None:
                    found.add(candidate)
    return {name for name in found if _file_of(tree, name) is not None}


def _absolute(package: str, module: str | None, level: int) -> str | None:
    if level == 0:
        return module or None
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def _file_of(tree: Path, module: str) -> Path | None:
    relative = Path(*module.split("."))
    for candidate in (tree / relative.with_suffix(".py"), tree / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _stestr_roots(tree: Path) -> list[str]:
    config = tree / ".stestr.conf"
    if not config.is_file():
        return []
    parser = configparser.ConfigParser()
    try:
        parser.read_string(config.read_text(errors="replace"))
        path = parser.get("DEFAULT", "test_path", fallback="")
    except configparser.Error:
        return []
    # stestr expands it as a shell would: keystone's is ${OS_TEST_PATH:-./keystone/tests/unit}
    # (the default is the suite; the variable is for running part of it).
    path = re.sub(r"\$\{\w+(?::-([^}]*))?\}", lambda m: m.group(1) or "", path)
    path = path.strip().removeprefix("./").rstrip("/")
    return [path] if path and (tree / path).is_dir() else []


def _conventional_roots(tree: Path) -> list[str]:
    units, tests = [], []
    for top, dirs, _ in os.walk(tree):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_FOLDERS and not d.startswith("."))
        relative = Path(top).relative_to(tree).as_posix()
        if relative.endswith("tests/unit") or relative == "tests/unit":
            units.append(relative)
        elif relative.endswith("/tests") or relative == "tests":
            tests.append(relative)
    chosen = units or tests
    # An outer tests/ folder holds the inner ones: keep the outermost.
    return [r for r in chosen if not any(r != o and r.startswith(f"{o}/") for o in chosen)]
