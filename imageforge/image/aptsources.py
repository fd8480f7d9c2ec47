"""Which Debian mirror this host uses, read from its apt configuration.

The forge never names a mirror itself: hosts that cannot pull images build
their base from the mirror their own apt already trusts (or FORGE_APT_MIRROR).
"""

from __future__ import annotations

from pathlib import Path

from imageforge.errors import ForgeError

APT_DIR = Path("/etc/apt")


def host_debian_mirror(
    suite: str = "bookworm", apt_dir: Path = APT_DIR, override: str | None = None
) -> str:
    """``override`` (FORGE_APT_MIRROR), else the first mirror configured for ``suite``."""
    if override:
        return override
    for source in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        mirror = _from_deb822(source.read_text(encoding="utf-8"), suite)
        if mirror:
            return mirror
    for source in [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]:
        if source.is_file():
            mirror = _from_one_line(source.read_text(encoding="utf-8"), suite)
            if mirror:
                return mirror
    raise ForgeError(
        f"no apt source for Debian {suite} in {apt_dir} (set FORGE_APT_MIRROR to a Debian mirror)"
    )


def host_update_suites(
    suite: str = "bookworm", apt_dir: Path = APT_DIR
) -> tuple[tuple[str, str], ...]:
    """(mirror, suite) of ``suite``'s updates and security suites, as far as the host has them.

    A base image made from the main suite alone could never pick up a
    security fix; it gets the same update suites its host trusts.
    """
    found = []
    for extra in (f"{suite}-updates", f"{suite}-security"):
        try:
            found.append((host_debian_mirror(extra, apt_dir), extra))
        except ForgeError:
            continue  # the host has no such suite: neither has the image
    return tuple(found)


def sources_list(mirror: str, suite: str, updates: tuple[tuple[str, str], ...]) -> str:
    """An image's /etc/apt/sources.list: the main suite, then the update suites."""
    lines = [f"deb {mirror} {suite} main", *(f"deb {uri} {name} main" for uri, name in updates)]
    return "\n".join(lines) + "\n"


def _from_deb822(text: str, suite: str) -> str | None:
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        if "deb" in fields.get("types", "").split() and suite in fields.get("suites", "").split():
            uris = fields.get("uris", "").split()
            if uris:
                return uris[0]
    return None


def _from_one_line(text: str, suite: str) -> str | None:
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words and words[0] == "deb":
            # Skip an options block such as [arch=amd64 signed-by=...].
            if words[1].startswith("["):
                while words and not words[1].endswith("]"):
                    words.pop(1)
                words.pop(1)
            if len(words) >= 3 and words[2] == suite:
                return words[1]
    return None
