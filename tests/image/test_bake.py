"""The bake file: one graph for a selection, shared images as target contexts."""

from __future__ import annotations

from pathlib import Path

from imageforge.image.bake import (
    BakeImage,
    bake_command,
    bake_definition,
    split_extra_args,
    target_name,
    write_bake_file,
)
from imageforge.image.plan import ImageBuild, shared_image_build

IMAGES = Path("/forge/images")


def service(name: str, release: str, base: str, *, push: bool = False) -> BakeImage:
    shared = [
        shared_image_build(IMAGES, shared, base, Path("/ca.pem"), "linux/amd64")
        for shared in ("python-base", "venv-builder")
    ]
    image = ImageBuild(
        name=name,
        folder=IMAGES / name,
        tags=(f"registry.test/{name}:{release}",),
        build_args=(("BUILDER_IMAGE", shared[1].tags[0]), ("RUNTIME_IMAGE", shared[0].tags[0])),
        contexts=(("source", Path(f"/build/{release}/{name}")),),
        labels=(("org.imageforge.release", release),),
        ca_bundle=Path("/ca.pem"),
        platform="linux/amd64,linux/arm64",
        push=push,
    )
    return BakeImage(target_name(name, release), [*shared, image])


def test_services_on_one_base_share_its_shared_targets():
    definition = bake_definition(
        [
            service("glance", "2025.2", "debian:bookworm"),
            service("nova", "2025.2", "debian:bookworm"),
            service("nova", "2026.1", "ubuntu:noble"),
        ]
    )
    assert definition["group"]["default"]["targets"] == [
        "python-base-debian-bookworm",
        "venv-builder-debian-bookworm",
        "glance-2025-2",
        "nova-2025-2",
        "python-base-ubuntu-noble",
        "venv-builder-ubuntu-noble",
        "nova-2026-1",
    ]
    targets = definition["target"]
    assert targets["nova-2026-1"]["contexts"] == {
        "source": "/build/2026.1/nova",
        "imageforge/python-base:ubuntu-noble": "target:python-base-ubuntu-noble",
        "imageforge/venv-builder:ubuntu-noble": "target:venv-builder-ubuntu-noble",
    }
    assert targets["python-base-ubuntu-noble"]["args"] == {
        "BASE_IMAGE": "ubuntu:noble",
        "SOURCE_DATE_EPOCH": "946684800",
    }
    glance = targets["glance-2025-2"]
    assert glance["platforms"] == ["linux/amd64", "linux/arm64"]
    assert glance["secret"] == ["id=cacert,src=/ca.pem"]
    assert glance["output"] == ["type=docker"]
    assert glance["labels"] == {"org.imageforge.release": "2025.2"}


def test_a_push_outputs_only_the_service_images():
    definition = bake_definition([service("glance", "2025.2", "debian:bookworm", push=True)])
    assert definition["group"]["default"]["targets"] == ["glance-2025-2"]
    targets = definition["target"]
    assert targets["glance-2025-2"]["output"] == ["type=registry"]
    # Built inside the graph for the service, exported nowhere.
    assert "output" not in targets["python-base-debian-bookworm"]


def test_cache_options_go_to_every_target_and_the_rest_to_bake():
    extra = (
        "--cache-from",
        "type=gha,scope=x",
        "--cache-to=type=gha,mode=max",
        "--progress=plain",
    )
    per_target, rest = split_extra_args(extra)
    assert per_target == {"cache-from": ["type=gha,scope=x"], "cache-to": ["type=gha,mode=max"]}
    assert rest == ["--progress=plain"]
    definition = bake_definition([service("glance", "2025.2", "debian:bookworm")], extra)
    for spec in definition["target"].values():
        assert spec["cache-to"] == ["type=gha,mode=max"]
    assert bake_command(Path("/b.json"), extra) == [
        "docker",
        "buildx",
        "bake",
        "--file",
        "/b.json",
        "--progress=plain",
    ]


def test_the_bake_file_is_named_by_its_content(tmp_path):
    one = bake_definition([service("glance", "2025.2", "debian:bookworm")])
    two = bake_definition([service("nova", "2025.2", "debian:bookworm")])
    first = write_bake_file(tmp_path, one)
    assert write_bake_file(tmp_path, one) == first
    assert write_bake_file(tmp_path, two) != first
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [first.name, write_bake_file(tmp_path, two).name]
    )


def test_target_names_are_what_bake_accepts():
    assert target_name("keystone", "2025.2") == "keystone-2025-2"
    assert target_name("python-base", "registry:5000/x:y") == "python-base-registry-5000-x-y"
