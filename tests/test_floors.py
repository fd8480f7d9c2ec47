"""The house: a module imports only from its own room or from rooms on a lower floor."""

from __future__ import annotations

import ast

from tests.support import ROOT

PACKAGE = ROOT / "imageforge"
# Lowest first. A room may import from itself and from any room before it.
FLOORS = [
    "errors",
    "present",
    "report",
    "host",
    "config",
    "context",
    "upstream",
    "constraints",
    "patches",
    "image",
    "unittests",
    "verify",
    "publish",
    "maintain",
]


def room_of(module: str) -> str | None:
    """imageforge.host.git -> host; imageforge.errors -> errors; the package itself: None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] != "__init__" else None


def imports_of(path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("imageforge.")
        ):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("imageforge.")}
    return found


def test_every_room_has_a_floor():
    rooms = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    rooms -= {"__init__", "__pycache__", "py"}
    assert rooms <= set(FLOORS), f"rooms without a floor: {sorted(rooms - set(FLOORS))}"


def test_no_import_goes_up_a_floor():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        room = room_of(module)
        if room is None:
            continue
        for imported in imports_of(path):
            there = room_of(imported)
            if there is not None and FLOORS.index(there) > FLOORS.index(room):
                upward.append(f"{module} imports {imported}")
    assert upward == []
