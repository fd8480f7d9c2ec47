"""inv patches.test on the synthetic service, in real Docker test images.

demo's upstream tree has a unit suite (.stestr.conf, demo/tests/unit): a
greeting test, a check of ``demo.checks.is_even``, and one test upstream
left broken. Its series changes the greeting (selecting the greeting test),
and the tests add a patch that adds a test module, then a wrong patch that
inverts ``is_even``.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from imageforge.config.manifest import Pair
from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.unittests.check import prove_series, report_text
from tests.support import RUN
from tests.support.projects import make_forge
from tests.support.synthetic import project_copy

pytestmark = pytest.mark.docker
PAIR = Pair("2025.2", "demo")
BROKEN_UPSTREAM = "demo.tests.unit.test_checks.TestChecks.test_known_broken"


def _patch(files: dict[str, tuple[str | None, str]], subject: str) -> str:
    """A git patch of ``files``: path -> (old text, None for a new file; new text)."""
    diffs = []
    for path, (old, new) in files.items():
        head = f"diff --git a/{path} b/{path}\n" + ("new file mode 100644\n" if old is None else "")
        lines = difflib.unified_diff(
            (old or "").splitlines(True),
            new.splitlines(True),
            "/dev/null" if old is None else f"a/{path}",
            f"b/{path}",
        )
        diffs.append(head + "".join(lines))
    return f"From: Dev <dev@example.org>\nSubject: [PATCH] {subject}\n\n---\n" + "".join(diffs)


@pytest.fixture
def copy(built, tmp_path, request):
    """The synthetic project under a registry of this test's own; its test images removed after."""
    registry = f"imageforge-test/{request.node.name.removeprefix('test_')[:40]}"
    project = project_copy(built, tmp_path, registry)
    yield project
    listed = docker.run(
        ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", f"{registry}-{RUN}/*"], check=False
    )
    for image in listed.stdout.split():
        docker.run(["image", "rm", image], check=False)


def _add_to_series(project: Path, name: str, text: str, project_name: str = "demo") -> None:
    series = project / "patches" / project_name / "2025.2"
    (series / name).write_text(text)
    with (series / "series").open("a") as listing:
        listing.write(f"{name}\n")


def test_a_series_is_proven_by_the_tests_near_it(built, copy, tmp_path, base_image):
    forge = make_forge(copy, tmp_path, base_image=base_image)
    tree = built[3] / "build" / "sources" / "2025.2" / "demo" / "tree"
    added = (
        "import unittest\n\nfrom demo import checks\n\n\n"
        "class TestAdded(unittest.TestCase):\n"
        "    def test_odd(self):\n        self.assertFalse(checks.is_even(7))\n"
    )
    _add_to_series(
        copy,
        "0002-test.patch",
        _patch({"demo/tests/unit/test_added.py": (None, added)}, "Test odd numbers"),
    )

    report = prove_series(forge, PAIR)
    text = report_text(report)
    rows = {row.patch: row.modules for row in report.rows}
    # The greeting patch selects the test importing demo.greeting; the new test, itself.
    assert rows == {
        "0001-Patch-the-greeting.patch": ("demo.tests.unit.test_greeting",),
        "0002-test.patch": ("demo.tests.unit.test_added",),
    }, text
    assert report.ok, text
    assert report.comparison.added == ("demo.tests.unit.test_added.TestAdded.test_odd",), text
    assert report.patched["demo.tests.unit.test_added.TestAdded.test_odd"].status == "passed"
    assert "1 tests added by the series: 1 pass" in text
    assert not report.cached

    # Unchanged: both runs are read back, no container runs.
    again = prove_series(forge, PAIR)
    assert again.cached and again.ok  # read back: no container ran
    assert again.patched == report.patched

    # A wrong patch: is_even inverted. test_checks imports demo.checks: selected, and
    # its test_even newly fails; the test broken upstream fails both ways, apart.
    checks = (tree / "demo" / "checks.py").read_text()
    _add_to_series(
        copy,
        "0003-wrong.patch",
        _patch({"demo/checks.py": (checks, checks.replace("== 0", "!= 0"))}, "Invert is_even"),
    )
    wrong = prove_series(forge, PAIR)
    text = report_text(wrong)
    assert not wrong.ok, text
    assert wrong.comparison.newly_failed == (
        "demo.tests.unit.test_added.TestAdded.test_odd",
        "demo.tests.unit.test_checks.TestChecks.test_even",
    ), text
    assert wrong.comparison.preexisting == (BROKEN_UPSTREAM,), text
    assert "NEWLY FAILED demo.tests.unit.test_checks.TestChecks.test_even" in text
    assert "AssertionError: False is not true" in text  # the assertion's last lines
    row = next(r for r in wrong.rows if r.patch == "0003-wrong.patch")
    assert set(row.modules) == {
        "demo.tests.unit.test_added",
        "demo.tests.unit.test_checks",
    }, text

    # --all-tests: the whole suite, where .stestr.conf's test_path says once expanded.
    whole = prove_series(forge, PAIR, all_tests=True)
    assert "demo.tests.unit.test_greeting.TestGreeting.test_names_the_person" in whole.patched
    assert whole.comparison.newly_failed == wrong.comparison.newly_failed, report_text(whole)


def test_a_library_series_runs_in_a_service_environment(copy, tmp_path, base_image):
    forge = make_forge(copy, tmp_path, base_image=base_image)
    test = (
        "import unittest\n\nfrom demo_lib.greeting import greet\n\n\n"
        "class TestGreeting(unittest.TestCase):\n"
        "    def test_patched(self):\n"
        "        self.assertEqual(greet('x'), 'library patched, x')\n"
    )
    files = {
        "demo_lib/tests/__init__.py": (None, '"""Tests."""\n'),
        "demo_lib/tests/test_greeting.py": (None, test),
    }
    _add_to_series(copy, "0002-test.patch", _patch(files, "Test the greeting"), "demo-lib")
    report = prove_series(forge, Pair("2025.2", "demo-lib"))
    text = report_text(report)
    assert report.ok, text
    assert report.patched["demo_lib.tests.test_greeting.TestGreeting.test_patched"].status == (
        "passed"
    ), text


def test_a_project_without_a_series_or_tests_is_one_line(copy, tmp_path, base_image):
    forge = make_forge(copy, tmp_path, base_image=base_image)
    with pytest.raises(
        ForgeError, match=r"^nothing \(2025.2\): not a service, carried project or patched library"
    ):
        prove_series(forge, Pair("2025.2", "nothing"))
    with pytest.raises(
        ForgeError, match=r"^demo-plugin \(2025.2\): no patch series \(patches/demo-plugin/2025.2/"
    ):
        shutil.rmtree(copy / "patches" / "demo-plugin")
        prove_series(forge, Pair("2025.2", "demo-plugin"))
