"""Requests and their expectations, against a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from imageforge.verify.functional.api import Request, describe, lookup, saved, send, verify


class Notes(BaseHTTPRequestHandler):
    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/raw":  # what arrived, for a file sent as the body
            self._answer(201, {"length": len(raw), "type": self.headers["Content-Type"]})
            return
        body = json.loads(raw)
        self._answer(201, {"note": {"id": 7, "text": body["text"]}}, {"X-Note": "seven"})

    def do_GET(self):
        if self.path == "/file":
            self._raw(200, b"payload")
        else:
            self._answer(200, {"notes": [{"id": 7, "text": "hello"}, {"id": 8, "text": "bye"}]})

    def _answer(self, status, data, headers=None):
        self._raw(status, json.dumps(data).encode(), headers)

    def _raw(self, status, payload, headers=None):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Notes)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_status_values_and_saves(server):
    request = Request(
        "store",
        "POST",
        "/notes",
        json={"text": "hi"},
        status=201,
        expect=(("note.text", "hi"), ("note.id", "7")),
        save=(("id", "json:note.id"), ("tag", "header:x-note")),
    )
    answer = send(server, request)
    assert verify(request, answer) == []
    assert saved(request, answer) == {"id": "7", "tag": "seven"}


def test_one_of_a_list_and_what_differs(server):
    good = Request("list", "GET", "/notes", expect=(("notes[*].text", "bye"),))
    assert verify(good, send(server, good)) == []
    bad = Request("list", "GET", "/notes", expect=(("notes[*].text", "nope"), ("notes[0].id", 8)))
    assert verify(bad, send(server, bad)) == [
        "notes[*].text: 'nope' is not among ['hello', 'bye']",
        "notes[0].id: expected 8, got 7",
    ]


def test_a_wrong_status_shows_request_and_response(server):
    request = Request("store", "POST", "/notes", json={"text": "hi"}, status=200)
    answer = send(server, request)
    assert verify(request, answer) == ["expected status 200, got 201"]
    shown = describe(server, request, answer)
    assert shown.splitlines()[0] == f"> POST {server}/notes"
    assert "< 201" in shown and '"text": "hi"' in shown


def test_body_checksum(server):
    digest = hashlib.sha256(b"payload").hexdigest()
    assert (
        verify(
            Request("f", "GET", "/file", body_sha256=digest),
            send(server, Request("f", "GET", "/file")),
        )
        == []
    )


def test_lookup_paths():
    data = {"a": [{"b": 1}, {"b": 2}]}
    assert lookup(data, "a[*].b") == [1, 2]
    assert lookup(data, "a[1].b") == [2]
    assert lookup(data, "a.0.b") == []


def test_text_the_body_must_contain():
    from imageforge.verify.functional.api import Answer, Request, verify

    page = Answer(200, {}, b'<input type="hidden" name="next" value="/project/stacks/" />')
    assert verify(Request("p", "GET", "/", body_contains='value="/project/stacks/"'), page) == []
    assert verify(Request("p", "GET", "/", body_contains="/project/dnszones/"), page) == [
        "the body does not contain '/project/dnszones/'"
    ]


def test_a_hopeless_answer_is_named(server):
    from imageforge.verify.functional.api import hopeless

    waiting = Request(
        "wait",
        "GET",
        "/notes",
        expect=(("notes[0].text", "done"),),
        fail_when=(("notes[*].text", "bye"),),
    )
    answer = send(server, waiting)
    assert verify(waiting, answer) != []
    assert hopeless(waiting, answer) == "notes[*].text is 'bye'"
    assert hopeless(Request("wait", "GET", "/notes"), answer) is None


def test_a_file_is_sent_as_the_body(server, tmp_path):
    payload = tmp_path / "kernel"
    payload.write_bytes(b"\x00\x01forge")
    request = Request("upload", "POST", "/raw", body_file=str(payload), status=201)
    answer = send(server, request)
    assert answer.json() == {"length": 7, "type": "application/octet-stream"}
    with pytest.raises(ValueError, match=r"body_file .*/missing: No such file"):
        send(server, Request("upload", "POST", "/raw", body_file=str(tmp_path / "missing")))
