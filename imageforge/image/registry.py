"""What a registry holds: looking a content key up, adding tags, reading manifests.

Reads go through ``docker buildx imagetools`` (the pushes' own credentials and
registry settings). Tags are added with skopeo, because ``imagetools create``
of a single image wraps it in a new manifest list, a new digest that no
signature covers; ``skopeo copy --preserve-digests`` within the repository
writes the same manifest under a new tag, and moves no layer. Both read
Docker's login (~/.docker/config.json).
"""

from __future__ import annotations

import json

from imageforge.host import docker, process

# What registries answer for a reference they do not hold.
_ABSENT = ("not found", "manifest unknown", "name unknown", "404")


def exists(reference: str) -> bool:
    """True when the registry holds ``reference``; an unreachable registry is an error."""
    shown = docker.run(["buildx", "imagetools", "inspect", "--raw", reference], check=False)
    if shown.returncode == 0:
        return True
    said = shown.stderr.lower()
    if any(word in said for word in _ABSENT):
        return False
    raise docker.DockerError(
        f"cannot ask the registry for {reference}: {docker.last_words(shown.stderr)}"
    )


def add_tags(source: str, tags: tuple[str, ...] | list[str]) -> None:
    """Point ``tags`` at the very manifest (digest unchanged) ``source`` names."""
    for tag in tags:
        process.run(
            [
                "skopeo",
                "copy",
                "--quiet",
                "--all",
                "--preserve-digests",
                *_tls(source, "--src-tls-verify"),
                *_tls(tag, "--dest-tls-verify"),
                f"docker://{source}",
                f"docker://{tag}",
            ],
            what=f"tagging {tag}",
        )


def create_list(tags: tuple[str, ...] | list[str], sources: list[str]) -> None:
    """Tag, in the registry, one manifest list made of the images ``sources`` name."""
    command = ["buildx", "imagetools", "create"]
    for tag in tags:
        command += ["--tag", tag]
    docker.run([*command, *sources])


def _tls(reference: str, option: str) -> list[str]:
    """A registry on loopback speaks plain HTTP (as Docker assumes for 127.0.0.0/8)."""
    host = reference.split("/", 1)[0].rsplit(":", 1)[0]
    loopback = host in ("localhost", "[::1]") or host.startswith("127.")
    return [f"{option}=false"] if loopback else []


def manifest_of(reference: str) -> dict:
    """The registry's manifest (or manifest list) of ``reference``, as buildx reports it."""
    shown = docker.run(
        ["buildx", "imagetools", "inspect", reference, "--format", "{{json .Manifest}}"]
    )
    return json.loads(shown.stdout)


def platform_digests(manifest: dict) -> dict[str, str]:
    """{platform: digest} of a manifest list (empty for one image); attestations left out."""
    return {
        "/".join(filter(None, (p.get("os"), p.get("architecture"), p.get("variant")))): m["digest"]
        for m in manifest.get("manifests", [])
        if (p := m.get("platform") or {}).get("os") not in (None, "unknown")
    }


def repository_of(reference: str) -> str:
    """registry/name of registry/name:tag (a registry's port is not a tag)."""
    name, _, tag = reference.rpartition(":")
    return name if name and "/" not in tag else reference


def config_of(reference: str) -> dict:
    """The image config of ``reference``; for a manifest list, that of each platform.

    Keys are platforms (``linux/amd64``) when several, else the one config under "".
    """
    shown = docker.run(
        ["buildx", "imagetools", "inspect", reference, "--format", "{{json .Image}}"]
    )
    found = json.loads(shown.stdout)
    if isinstance(found, dict) and "config" not in found and "architecture" not in found:
        return found
    return {"": found}
