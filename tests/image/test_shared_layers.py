"""The release's shared layers, as images/venv-builder/shared-layers plans them."""

from __future__ import annotations

import random
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "images" / "venv-builder" / "shared-layers"
MB = 1_000_000


@pytest.fixture(scope="module")
def planner() -> ModuleType:
    loader = SourceFileLoader("shared_layers", str(SCRIPT))
    module = ModuleType(loader.name)
    loader.exec_module(module)
    return module


def _taken(plan, project):
    """What ``project`` gets from the layers it takes, one list per layer."""
    return [dists for group, dists in plan if project in group]


def _check(plan, closures, layers):
    """No image gains a distribution or gets one twice, and none takes more than ``layers``."""
    for project, closure in closures.items():
        got = [d for dists in _taken(plan, project) for d in dists]
        assert set(got) <= closure, project
        assert len(got) == len(set(got)), project
        assert len(_taken(plan, project)) <= layers, project


def test_the_common_part_first_then_the_groups_that_save_most(planner):
    closures = {
        "keystone": {"oslo.db==1", "sqlalchemy==2", "ldap==1"},
        "nova": {"oslo.db==1", "sqlalchemy==2", "libvirt==1", "os-vif==1"},
        "neutron": {"oslo.db==1", "sqlalchemy==2", "os-vif==1", "ovs==1"},
        "horizon": {"django==5", "ldap==1"},
    }
    sizes = {"oslo.db==1": 2 * MB, "sqlalchemy==2": 9 * MB, "os-vif==1": 1 * MB, "ldap==1": MB}
    plan = planner.plan_layers(closures, sizes, 4)
    assert plan[0] == (frozenset(closures), [])  # nothing all four need: the venv alone
    assert plan[1] == (frozenset({"keystone", "nova", "neutron"}), ["oslo.db==1", "sqlalchemy==2"])
    assert (frozenset({"keystone", "horizon"}), ["ldap==1"]) in plan
    assert (frozenset({"nova", "neutron"}), ["os-vif==1"]) in plan
    assert len(plan) == 4  # libvirt, ovs and django: one image each, in their own deps layers
    _check(plan, closures, 4)


def test_a_project_out_of_slots_keeps_the_rest_in_its_own_layer(planner):
    closures = {
        "a": {"big==1", "mid==1", "small==1"},
        "b": {"big==1", "mid==1"},
        "c": {"big==1", "small==1"},
        "d": {"mid==1"},
    }
    sizes = {"big==1": 8 * MB, "mid==1": 4 * MB, "small==1": 2 * MB}
    plan = planner.plan_layers(closures, sizes, 2)
    # Each image takes the common layer and one more: a's is the bigger saving.
    assert plan[1] == (frozenset({"a", "b", "c"}), ["big==1"])
    # a, b and c have no slot left: mid and small stay in each image's own deps layer.
    assert len(plan) == 2
    _check(plan, closures, 2)


def test_a_layer_too_small_to_matter_is_not_made(planner):
    closures = {"a": {"tiny==1", "x==1"}, "b": {"tiny==1", "y==1"}, "c": {"z==1"}}
    plan = planner.plan_layers(closures, {"tiny==1": 1000}, 4)
    assert plan == [(frozenset(closures), [])]


def test_one_version_is_one_distribution(planner):
    closures = {"a": {"six==1.16", "x==1"}, "b": {"six==1.17", "x==1"}}
    plan = planner.plan_layers(closures, {"six==1.16": MB, "six==1.17": MB, "x==1": MB}, 4)
    assert plan == [(frozenset(closures), ["x==1"])]


def test_random_rows_never_give_an_image_what_it_lacks(planner):
    rng = random.Random(34)
    dists = [f"d{i}==1" for i in range(60)]
    sizes = {d: rng.randint(1, 20) * 100_000 for d in dists}
    for _ in range(40):
        closures = {f"p{i}": set(rng.sample(dists, rng.randint(5, 40))) for i in range(12)}
        layers = rng.randint(1, 6)
        plan = planner.plan_layers(closures, sizes, layers)
        _check(plan, closures, layers)
        common = set.intersection(*closures.values())
        assert set(plan[0][1]) == common
