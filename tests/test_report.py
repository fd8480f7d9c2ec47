"""The one check-report type: a table per image, one line per image for several."""

from __future__ import annotations

from imageforge.report import CheckReport, Finding, overall


def test_a_report_is_a_table_with_its_heading_and_count():
    report = CheckReport(
        "demo/2025.2",
        "registry.test/demo:1.0: 40.1 MB, 9 layers",
        [Finding("version", True, "1.0"), Finding("no setuid file", False, "found /bin/su")],
    )
    assert not report.ok
    assert report.table().splitlines() == [
        "registry.test/demo:1.0: 40.1 MB, 9 layers",
        "CHECK           RESULT  DETAIL",
        "version         pass    1.0",
        "no setuid file  FAIL    found /bin/su",
        "1 passed, 1 failed",
    ]


def test_timed_steps_show_their_seconds_and_long_details_follow_the_table():
    report = CheckReport(
        "demo/2025.2",
        "demo 2025.2: demo:1.0",
        [
            Finding("mariadb ready", True, "", 2.04),
            Finding("migrations", False, "exit 1:\nboom", 0.5),
        ],
        column="STEP",
        notes=["log of demo (last lines):\nTraceback"],
        seconds=9.6,
    )
    lines = report.table().splitlines()
    assert lines[1].split() == ["STEP", "RESULT", "SECONDS", "DETAIL"]
    assert lines[2].split() == ["mariadb", "ready", "pass", "2.0"]
    assert lines[3].split() == ["migrations", "FAIL", "0.5", "exit", "1:"]
    assert lines[4:] == [
        "",
        "migrations:",
        "exit 1:",
        "boom",
        "",
        "log of demo (last lines):",
        "Traceback",
        "1 passed, 1 failed in 10 s",
    ]


def test_no_finding_is_no_pass():
    assert not CheckReport("demo/2025.2", "demo").ok


def test_several_images_end_with_one_line_each():
    good = CheckReport("a/2025.2", "a", [Finding("x", True)])
    bad = CheckReport("b/2025.2", "b", [Finding("x", True), Finding("y", False)])
    summary, failed = overall([good, bad], "smoke checks")
    assert summary.splitlines() == [
        "IMAGE     SMOKE CHECKS  PASSED  FAILED",
        "a/2025.2  pass          1       0",
        "b/2025.2  FAIL          1       1",
    ]
    assert failed == ["b/2025.2"]
    assert overall([good], "smoke checks") == ("", [])
