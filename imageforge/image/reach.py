"""Which of the release's patched libraries an image's requirements reach.

A patched library goes only into the images that need it: a patched
glance_store is glance's, not nova's. So an image's inputs (its libraries
context, its labels, its content key, its SBOM pedigree) hold only the
libraries its dependency layer's requirements lead to, and a change to a
library's series rebuilds only those images.

The requirements are resolved once with ``uv pip compile``, with the library
trees themselves as a second input (so a library the index lacks, or a
built version it lacks, still resolves), universally (for every Python and
platform, so the base image's Python need not be known here). uv annotates
every entry with what requires it: a library is reached when anything but
its own input file does. The answer is kept under build/reach/ by a digest
of everything it depends on. When uv cannot resolve (offline with a cold
cache, an index that does not answer), every library is taken, as before,
and the log says so.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from pathlib import Path

from imageforge.context import Forge
from imageforge.host import process
from imageforge.host.files import write_atomically
from imageforge.patches.export import Export

# "    # via X" (one) or "    # via" then "    #   X" lines (several).
_VIA = re.compile(r"^\s+#\s+(?:via\s+)?(?!via$)(\S.*)$")


def reached_libraries(
    forge: Forge,
    requirements: list[str],
    constraints: str,
    libraries: tuple[Export, ...],
    what: str,
) -> tuple[Export, ...]:
    """The ``libraries`` that ``requirements`` lead to under ``constraints`` (the file's text).

    ``what`` names the image in the log. The answer is kept under build/reach/
    by its inputs, so asking again (smoke, verify) writes nothing.
    """
    if not libraries:
        return ()
    trees = [str(library.tree) for library in libraries]
    inputs = [requirements, constraints, [lib.tree_digest for lib in libraries]]
    digest = hashlib.sha256(json.dumps([inputs, trees]).encode()).hexdigest()
    answer = forge.build_dir / "reach" / f"{digest[:24]}.json"
    try:
        reached = {str(tree) for tree in json.loads(answer.read_text())}
    except (OSError, ValueError, TypeError):  # none yet, or edited by hand: ask uv again
        found = _resolve(forge, requirements, constraints, trees, what)
        if found is None:
            return libraries
        reached = found
        answer.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(answer, json.dumps(sorted(reached)) + "\n")
    for library in libraries:
        if str(library.tree) not in reached:
            forge.log(
                f"{what}: {library.project} is patched in this release, but no requirement of "
                "this image reaches it: left out"
            )
    return tuple(library for library in libraries if str(library.tree) in reached)


def _resolve(
    forge: Forge, requirements: list[str], constraints_text: str, trees: list[str], what: str
) -> set[str] | None:
    """The library ``trees`` that something in ``requirements`` requires, or None (logged)."""
    with tempfile.TemporaryDirectory(prefix="forge-reach-") as scratch:
        wanted, own = Path(scratch, "requirements.txt"), Path(scratch, "libraries.txt")
        resolved = Path(scratch, "resolved.txt")
        constraints = Path(scratch, "constraints.txt")
        constraints.write_text(constraints_text)
        wanted.write_text("".join(f"{line}\n" for line in requirements))
        own.write_text("".join(f"{tree}\n" for tree in trees))
        command = [
            "uv",
            "pip",
            "compile",
            "--quiet",
            "--universal",
            "--no-header",
            "--constraint",
            str(constraints),
            "--output-file",
            str(resolved),
            str(wanted),
            str(own),
            *(["--offline"] if forge.offline else []),
        ]
        try:
            result = process.run(command, check=False)
            said = process.last_words(result.stderr.decode(errors="replace"))
        except process.ProcessError as err:  # no uv on this host
            result, said = None, str(err)
        if result is None or result.returncode != 0:
            forge.log(
                f"{what}: could not resolve its requirements to see which patched libraries they "
                f"reach ({said}); taking all"
            )
            return None
        required_by = _annotations(resolved.read_text())
    return {tree for tree in trees if any(_requires(via, own) for via in required_by.get(tree, ()))}


def _requires(via: str, own: Path) -> bool:
    """Whether an annotation names a requirer: not a constraints file, not the libraries' own.

    uv prints the files relative to the working directory when it can.
    """
    if via.startswith("-c "):
        return False
    if via.startswith("-r "):
        return Path(via[3:]).resolve() != own.resolve()
    return True


def _annotations(compiled: str) -> dict[str, set[str]]:
    """Each entry of uv's annotated output (its first line) and what it is required by."""
    found: dict[str, set[str]] = {}
    entry = ""
    for line in compiled.splitlines():
        if line and not line.startswith((" ", "#")):
            entry = line.split(" ;", 1)[0].strip()
            found[entry] = set()
        elif entry and (via := _VIA.match(line)):
            found[entry].add(via.group(1).strip())
    return found
