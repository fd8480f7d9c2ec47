"""Which test modules a patch concerns: read from the tree's imports, nothing imported."""

from __future__ import annotations

from pathlib import Path

from imageforge.unittests.select import find_suite, imports_of, module_name, selected_modules

TREE = {
    ".stestr.conf": "[DEFAULT]\ntest_path=./svc/tests/unit\ntop_dir=./\n",
    "svc/__init__.py": "",
    "svc/common/__init__.py": "",
    "svc/common/utils.py": "def f():\n    return 1\n",
    "svc/common/other.py": "",
    "svc/api.py": "from svc.common import utils\n",
    "svc/tests/__init__.py": "",
    "svc/tests/functional/test_api.py": "import svc.common.utils\n",
    "svc/tests/unit/__init__.py": "",
    "svc/tests/unit/fakes.py": "import svc.common.other\n",
    "svc/tests/unit/test_absolute.py": "import svc.common.utils as u\n",
    "svc/tests/unit/test_from_package.py": "from svc.common import utils\n",
    "svc/tests/unit/test_from_module.py": "from svc.common.utils import f\n",
    "svc/tests/unit/common/__init__.py": "",
    "svc/tests/unit/common/test_relative.py": "from ....common import utils\n",
    "svc/tests/unit/test_api.py": "from svc import api\n",
    "svc/tests/unit/test_fakes.py": "from svc.tests.unit import fakes\n",
    "svc/tests/unit/test_unrelated.py": "import os\nfrom svc.common import other\n",
    "svc/tests/unit/test_broken.py": "def (:\n",
}


def _tree(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def test_the_suite_is_where_stestr_looks(tmp_path):
    suite = find_suite(_tree(tmp_path, TREE))
    assert suite.roots == ("svc/tests/unit",)
    # Functional tests and helpers are not unit-test modules.
    assert "svc.tests.functional.test_api" not in suite.modules
    assert "svc.tests.unit.fakes" not in suite.modules
    assert "svc.tests.unit.common.test_relative" in suite.modules


def test_a_test_path_with_a_shell_default_is_read_as_stestr_reads_it(tmp_path):
    # keystone's: the variable is for running part of the suite, the default is the suite.
    files = {
        **TREE,
        ".stestr.conf": "[DEFAULT]\ntest_path=${OS_TEST_PATH:-./svc/tests}\ntop_dir=./\n",
    }
    suite = find_suite(_tree(tmp_path, files))
    # Not the tests/unit folder a tree without .stestr.conf would give.
    assert suite.roots == ("svc/tests",)


def test_a_changed_module_selects_the_tests_importing_it_directly(tmp_path):
    suite = find_suite(_tree(tmp_path, TREE))
    assert selected_modules(suite, ["svc/common/utils.py"]) == (
        "svc.tests.unit.common.test_relative",
        "svc.tests.unit.test_absolute",
        "svc.tests.unit.test_from_module",
        "svc.tests.unit.test_from_package",
    )
    # svc.api imports utils, but test_api imports svc.api only: not direct, not selected.


def test_a_changed_helper_selects_its_importers_and_a_changed_test_itself(tmp_path):
    suite = find_suite(_tree(tmp_path, TREE))
    assert selected_modules(suite, ["svc/tests/unit/fakes.py"]) == ("svc.tests.unit.test_fakes",)
    assert selected_modules(suite, ["svc/tests/unit/test_api.py"]) == ("svc.tests.unit.test_api",)


def test_files_that_are_not_modules_select_nothing(tmp_path):
    suite = find_suite(_tree(tmp_path, TREE))
    assert selected_modules(suite, ["etc/policy.yaml", "releasenotes/notes/x.yaml"]) == ()
    # A deleted test module selects nothing; a test that does not parse imports nothing.
    assert selected_modules(suite, ["svc/tests/unit/test_gone.py"]) == ()
    assert imports_of(tmp_path, "svc.tests.unit.test_broken") == set()


def test_without_stestr_conf_the_unit_folders_are_the_suite(tmp_path):
    files = {k: v for k, v in TREE.items() if k != ".stestr.conf"}
    files["lib/tests/test_top.py"] = "import lib\n"
    files["lib/__init__.py"] = ""
    suite = find_suite(_tree(tmp_path, files))
    assert suite.roots == ("svc/tests/unit",)  # tests/unit wins over a tests folder
    (tmp_path / "svc" / "tests" / "unit").rename(tmp_path / "svc" / "tests" / "moved")
    assert find_suite(tmp_path).roots == ("lib/tests", "svc/tests")


def test_module_names():
    assert module_name("a/b/c.py") == "a.b.c"
    assert module_name("a/b/__init__.py") == "a.b"
    assert module_name("a/b-c/d.py") is None
    assert module_name("a/b.txt") is None
