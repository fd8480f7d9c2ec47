"""The ``apt-state`` build context: what the steps that install packages must know of apt.

Every step that installs OS packages (python-base's and c-base's first, each
image's runtime stage) mounts it at /run/forge-apt-state. It holds:

- ``state``: the host's apt index state (image.aptindex). The step's cache
  key follows the mount's content, so BuildKit runs it again exactly when the
  distribution has published something, and only then.
- ``preferences`` and ``apt.conf`` (read through APT_CONFIG): on a rebuild
  with ``--pin-packages``, each package at the version the package lock
  recorded (priority 1001: chosen even when the index serves a newer one), so
  that the rebuild installs what the image had as long as the mirror serves it.

Planning computes it; a build writes it, under build/apt-state/<digest>.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from imageforge.context import Forge
from imageforge.host.files import under
from imageforge.image import aptindex

MOUNTED_AT = "/run/forge-apt-state"


@dataclass(frozen=True)
class AptState:
    folder: Path
    files: tuple[tuple[str, str], ...]

    def write(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, text in self.files:
            (self.folder / name).write_text(text)


def apt_state(forge: Forge, pins: dict[str, str] | None = None) -> AptState:
    """The context for a build whose packages are pinned to ``pins`` (none: the index decides)."""
    state = aptindex.index_state(aptindex.index_files(forge))
    preferences = "".join(
        f"Package: {name}\nPin: version {version}\nPin-Priority: 1001\n\n"
        for name, version in sorted((pins or {}).items())
    )
    files = (
        ("state", state + "\n"),
        ("preferences", preferences),
        ("apt.conf", f'Dir::Etc::Preferences "{MOUNTED_AT}/preferences";\n'),
    )
    digest = hashlib.sha256(repr(files).encode()).hexdigest()[:16]
    return AptState(under(forge.build_dir / "apt-state", digest), files)
