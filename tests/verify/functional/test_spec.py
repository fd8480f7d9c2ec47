"""functional.yaml: its data format, and mistakes named by file, line and key."""

from __future__ import annotations

import textwrap

import pytest

from imageforge.errors import ManifestError
from imageforge.verify.functional.api import Request
from imageforge.verify.functional.run import render
from imageforge.verify.functional.spec import Serve, Step, load_functional
from tests.support import ROOT

MINIMAL = """\
backing: [mariadb]
database: demo
setup:
  - {name: migrations, command: [demo-manage, db_sync]}
serve: {command: [gunicorn], port: 8080, ready: /}
checks:
  - name: listed
    request: GET /notes
    headers: {X-Auth-Token: "{token}"}
    expect: {"notes[*].text": hello}
    save: {first: "json:notes.0.id"}
"""


def write(tmp_path, text):
    path = tmp_path / "functional.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_spec_loads_as_data(tmp_path):
    spec = load_functional(write(tmp_path, MINIMAL), "demo")
    assert spec.backing == ("mariadb",)
    assert spec.databases == ("demo",)
    assert spec.setup == (Step("migrations", ("demo-manage", "db_sync")),)
    assert spec.serve == Serve(("gunicorn",), 8080, "/")
    assert spec.checks == (
        Request(
            "listed",
            "GET",
            "/notes",
            headers=(("X-Auth-Token", "{token}"),),
            expect=(("notes[*].text", "hello"),),
            save=(("first", "json:notes.0.id"),),
        ),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("port: 8080", "port: http"), "functional.yaml:5: serve.port: expected a port number"),
        (
            ("port: 8080", "port: 99999"),
            "functional.yaml:5: serve.port: expected a port number (1-65535), got 99999",
        ),
        (
            ("backing: [mariadb]", "backing: [mariadb]\nfiles: {/etc/demo/demo.conf:rw: x}"),
            "functional.yaml:2: files./etc/demo/demo.conf:rw: expected a plain absolute path "
            "(no ':', ',' or '..')",
        ),
        (
            ("request: GET /notes", "request: FETCH /notes"),
            "functional.yaml:8: checks.0.request: expected METHOD /path",
        ),
        (("database: demo", "databse: demo"), "functional.yaml:2: databse: unknown key"),
        (
            ('"json:notes.0.id"', "notes.0.id"),
            "functional.yaml:11: checks.0.save.first: expected header:NAME or json:PATH",
        ),
        (
            (
                "{name: migrations, command: [demo-manage, db_sync]}",
                "{name: migrations, command: demo-manage}",
            ),
            "functional.yaml:4: setup.0.command: expected a list of strings",
        ),
    ],
)
def test_mistakes_name_file_line_and_key(tmp_path, change, message):
    path = write(tmp_path, MINIMAL.replace(*change))
    with pytest.raises(ManifestError) as caught:
        load_functional(path, "demo")
    assert str(caught.value).startswith(f"{tmp_path}/{message}")


def test_checks_that_are_not_a_list_are_named(tmp_path):
    path = write(tmp_path, MINIMAL.split("checks:")[0] + "checks: {listed: GET /notes}\n")
    with pytest.raises(
        ManifestError, match=r"functional.yaml:6: checks: expected a list of checks"
    ):
        load_functional(path, "demo")


def test_an_unknown_value_in_a_template_is_named(tmp_path):
    with pytest.raises(
        Exception, match=r"\{databse_url\} is not a value of this run \(database_url, token\)"
    ):
        render("connection = {databse_url}", {"database_url": "x", "token": "t"}, tmp_path)
    assert render("a {{literal}} {token}", {"token": "t"}, tmp_path) == "a {literal} t"


@pytest.mark.parametrize(
    "service", sorted(p.parent.name for p in ROOT.glob("images/*/functional.yaml"))
)
def test_the_shipped_specs_load(service):
    spec = load_functional(ROOT / "images" / service / "functional.yaml", service)
    assert spec.checks and (spec.serve or spec.parts)


def test_a_json_body_keeps_yaml_types(tmp_path):
    text = (
        MINIMAL
        + "  - name: set\n    request: PUT /x\n    json: {generation: 0, flag: true, name: n}\n"
    )
    spec = load_functional(write(tmp_path, text), "demo")
    assert spec.checks[1].json == {"generation": 0, "flag": True, "name": "n"}
