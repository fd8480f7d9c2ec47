"""What a series changes against its baseline, and results read back instead of run again."""

from __future__ import annotations

from imageforge.unittests.results import cached_run, compare, confirmed, last_lines, module_of
from imageforge.unittests.runner import Outcome

P, F = Outcome("passed", 0.5), Outcome("failed", 0.5, "Traceback\n  x\nAssertionError: no")


def test_only_what_the_series_changes_counts():
    patched = {"t.a": F, "t.b": F, "t.c": P, "t.new_ok": P, "t.new_bad": F, "t.d": P}
    baseline = {"t.a": P, "t.b": F, "t.c": F, "t.d": P}
    found = compare(patched, baseline)
    assert found.newly_failed == ("t.a", "t.new_bad")
    assert found.preexisting == ("t.b",)
    assert found.fixed == ("t.c",)
    assert found.added == ("t.new_bad", "t.new_ok")
    assert not found.ok
    assert compare({"t.a": P}, {"t.a": F}).ok


def test_a_test_that_passes_alone_is_order_dependent():
    found = confirmed(compare({"t.a": F, "t.b": F}, {"t.a": P, "t.b": P}), {"t.a": P, "t.b": F})
    assert found.newly_failed == ("t.b",)
    assert found.order_dependent == ("t.a",)


def test_results_are_run_once_per_environment_tree_and_module(tmp_path):
    asked = []

    def run(modules):
        asked.append(modules)
        return {f"{m}.T.test": F for m in modules or ("all",)}

    first, cached = cached_run(tmp_path, "env", "tree", ("m1",), run)
    assert (first, cached) == ({"m1.T.test": F}, False)
    assert cached_run(tmp_path, "env", "tree", ("m1",), run) == ({"m1.T.test": F}, True)
    # A selection that grows runs only what it adds; another image or tree runs again.
    both, cached = cached_run(tmp_path, "env", "tree", ("m1", "m2"), run)
    assert set(both) == {"m1.T.test", "m2.T.test"} and not cached
    cached_run(tmp_path, "env2", "tree", ("m1",), run)
    cached_run(tmp_path, "env", "tree2", ("m1",), run)
    cached_run(tmp_path, "env", "tree", None, run)
    assert cached_run(tmp_path, "env", "tree", None, run)[1]
    assert asked == [("m1",), ("m2",), ("m1",), ("m1",), None]


def test_a_test_belongs_to_the_longest_selected_module():
    modules = ("a.tests.test_x", "a.tests.test_x_more")
    assert module_of("a.tests.test_x_more.T.test", modules) == "a.tests.test_x_more"
    assert module_of("a.tests.test_x.T.test", modules) == "a.tests.test_x"
    assert module_of("a.tests.test_y.T.test", modules) is None


def test_a_failure_shows_its_last_lines():
    assert last_lines(F.detail, 2) == "  x\nAssertionError: no"
    assert last_lines("b'" + "x" * 1000 + "'", width=10) == "b'xxxxxxx…"
