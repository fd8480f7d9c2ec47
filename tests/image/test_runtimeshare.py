"""The release's shared runtime stages, as image.runtimeshare plans them."""

from __future__ import annotations

import random

from imageforge.image.runtimeshare import RuntimeStage, plan_stages

MB = 1 << 20
# The real row's runtime packages (releases.yaml 2025.2), sizes made up.
ROW = {
    "nova": frozenset({"iproute2", "openssh-client", "qemu-utils"}),
    "glance": frozenset({"qemu-utils", "ceph-common", "python3-rados", "python3-rbd"}),
    "cinder": frozenset(
        {"qemu-utils", "lvm2", "open-iscsi", "ceph-common", "python3-rados", "python3-rbd"}
    ),
    "nova-compute": frozenset(
        {"ceph-common", "iproute2", "openssh-client", "qemu-utils", "swtpm", "python3-rados"}
        | {"python3-rbd", "python3-libvirt"}
    ),
    "neutron": frozenset({"iproute2", "iptables", "openvswitch-common"}),
    "keystone": frozenset(),
}
SIZES = {"ceph-common": 90, "qemu-utils": 12, "iproute2": 3, "openssh-client": 4}


def by_size(packages: frozenset[str]) -> int:
    return sum(SIZES.get(p, 1) * MB for p in packages)


def _chain(stages: list[RuntimeStage], image: str) -> list[RuntimeStage]:
    served = [s for s in stages if image in s.images]
    return min(served, key=lambda s: len(s.images)).chain() if served else []


def _check(stages, wants, depth):
    """Each image gets exactly packages it asks for, once each, in a chain of nested stages."""
    for image, asked in wants.items():
        chain = _chain(stages, image)
        got = [p for stage in chain for p in stage.packages]
        assert set(got) <= asked, image
        assert len(got) == len(set(got)), image
        assert len(chain) <= depth, image
        assert chain == [s for s in stages if image in s.images], image
        for stage in chain:
            assert stage.parent is None or stage.images < stage.parent.images


def test_the_storage_clients_nest_inside_what_the_hypervisor_tools_share():
    stages = plan_stages(ROW, by_size)
    _check(stages, ROW, 3)
    storage = frozenset({"glance", "cinder", "nova-compute"})
    qemu = storage | {"nova"}
    assert [s.images for s in stages][:2] == [qemu, storage]
    assert stages[0].packages == ("qemu-utils",) and stages[0].parent is None
    assert stages[1].packages == ("ceph-common", "python3-rados", "python3-rbd")
    assert stages[1].parent == stages[0]
    # keystone asks for nothing: python-base stays its runtime base.
    assert not _chain(stages, "keystone")


def test_groups_that_overlap_without_nesting_are_not_both_taken():
    wants = {
        "a": frozenset({"x", "y"}),
        "b": frozenset({"x", "y"}),
        "c": frozenset({"y", "z"}),
        "d": frozenset({"z"}),
    }
    stages = plan_stages(wants, lambda ps: len(ps) * 8 * MB)
    _check(stages, wants, 3)
    groups = {s.images for s in stages}
    # {a, b, c} (y) nests {a, b} (x); {c, d} (z) overlaps {a, b, c}.
    assert groups == {frozenset("abc"), frozenset("ab")}


def test_a_stage_too_small_to_matter_is_not_made():
    wants = {"a": frozenset({"tiny"}), "b": frozenset({"tiny"})}
    assert plan_stages(wants, lambda ps: len(ps) * 1000) == []


def test_a_chain_is_never_longer_than_the_depth():
    wants = {
        "a": frozenset({"p1", "p2", "p3"}),
        "b": frozenset({"p1", "p2", "p3"}),
        "c": frozenset({"p1", "p2"}),
        "d": frozenset({"p1"}),
    }
    stages = plan_stages(wants, lambda ps: len(ps) * 8 * MB, depth=2)
    _check(stages, wants, 2)
    assert len(_chain(stages, "a")) == 2


def test_the_same_chain_has_the_same_identity():
    one = plan_stages(ROW, by_size)
    again = plan_stages(dict(reversed(list(ROW.items()))), by_size)
    assert [s.digest for s in one] == [s.digest for s in again]
    assert len({s.digest for s in one}) == len(one)


def test_random_rows_give_each_image_only_what_it_asks_for():
    rng = random.Random(34)
    packages = [f"pkg{i}" for i in range(14)]
    for _ in range(40):
        wants = {f"img{i}": frozenset(rng.sample(packages, rng.randint(0, 6))) for i in range(10)}
        sizes = {p: rng.randint(1, 60) * MB for p in packages}
        stages = plan_stages(wants, lambda ps, s=sizes: sum(s[p] for p in ps), depth=3)
        _check(stages, wants, 3)
