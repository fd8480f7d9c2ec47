"""Real patch files for tests: commits on an upstream repo exported with git format-patch."""

from __future__ import annotations

from pathlib import Path

GREETING = "demo/greeting.py"


def format_patches(
    repo, base: str, out: Path, commits: list[tuple[dict[str, str], str]]
) -> list[Path]:
    """Commit ``commits`` on a branch from ``base`` and export them with git format-patch."""
    repo.git("checkout", "--quiet", "-B", "patching", base)
    for files, message in commits:
        repo.commit(files, message)
    out.mkdir(parents=True, exist_ok=True)
    names = repo.git("format-patch", "--quiet", "-o", str(out), f"{base}..patching").split()
    repo.checkout("master")
    return [Path(name) for name in names] or sorted(out.glob("*.patch"))


def greeting(text: str) -> str:
    """demo/greeting.py with ``text`` as the greeting."""
    return f'GREETING = "{text}"\n\n\ndef greet(name):\n    return f"{{GREETING}}, {{name}}"\n'


def write_series(folder: Path, patches: list[Path]) -> Path:
    """Move ``patches`` into ``folder`` with a series file listing them in order."""
    folder.mkdir(parents=True, exist_ok=True)
    for patch in patches:
        patch.rename(folder / patch.name)
    (folder / "series").write_text("".join(f"{p.name}\n" for p in patches))
    return folder
