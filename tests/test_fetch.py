"""models.fetch against a local HTTP server and a local wheel: verification, atomicity, locking, offline."""

from __future__ import annotations

import hashlib
import http.server
import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from edgevision import models
from edgevision.models.cards import CardError, card_from_dict
from edgevision.models.fetch import ChecksumError, FetchError

PAYLOAD = os.urandom(300_000)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class Server:
    """Serves ``routes[path] = (bytes, mode)``; mode "ok", "truncate" (half the body, full
    Content-Length) or "slow" (chunks with pauses). Counts requests per path."""

    def __init__(self):
        self.routes: dict[str, tuple[bytes, str]] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                if self.path not in server.routes:
                    self.send_error(404)
                    return
                body, mode = server.routes[self.path]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "truncate":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                step = 32_768
                for start in range(0, len(body), step):
                    self.wfile.write(body[start:start + step])
                    if mode == "slow":
                        time.sleep(0.15)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEVISION_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("EDGEVISION_OFFLINE", raising=False)
    return tmp_path / "home"


def url_card(urls, sha=SHA, size=None, name="thing"):
    return card_from_dict({
        "schema": 1, "name": name, "kind": "asset",
        "file": {"name": f"{name}.bin", "size": size or len(PAYLOAD), "sha256": sha},
        "sources": [{"kind": "url", "url": u} for u in urls],
    })


def leftovers(home: Path) -> list[str]:
    """Files in the cache other than lock files."""
    return sorted(p.name for p in home.rglob("*") if p.is_file() and not p.name.endswith(".lock"))


def test_good_file_is_fetched_once(server, home):
    server.routes["/a.bin"] = (PAYLOAD, "ok")
    card = url_card([server.url + "/a.bin"])
    path = models.fetch(card)
    assert path == home / "models" / "thing" / "thing.bin"
    assert path.read_bytes() == PAYLOAD
    assert models.fetch(card) == path and models.is_cached(card)
    assert server.hits["/a.bin"] == 1
    assert leftovers(home) == ["thing.bin"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() makes files: a shared cache stays readable


def test_wrong_checksum_is_an_error_and_leaves_nothing(server, home):
    server.routes["/a.bin"] = (PAYLOAD[::-1], "ok")  # same size, other bytes
    with pytest.raises(FetchError, match="sha256") as info:
        models.fetch(url_card([server.url + "/a.bin"]))
    assert "Put the file by hand at: " + str(home / "models" / "thing" / "thing.bin") in str(info.value)
    assert leftovers(home) == []


def test_truncated_transfer_is_an_error_and_leaves_nothing(server, home):
    server.routes["/a.bin"] = (PAYLOAD, "truncate")
    with pytest.raises(FetchError, match="interrupted|bytes"):
        models.fetch(url_card([server.url + "/a.bin"]))
    assert leftovers(home) == []


def test_later_sources_are_tried_in_order(server, home):
    server.routes["/bad.bin"] = (b"x" * len(PAYLOAD), "ok")
    server.routes["/good.bin"] = (PAYLOAD, "ok")
    card = url_card([server.url + "/missing.bin", server.url + "/bad.bin", server.url + "/good.bin"])
    assert models.fetch(card).read_bytes() == PAYLOAD
    assert server.hits == {"/missing.bin": 1, "/bad.bin": 1, "/good.bin": 1}


def test_corrupt_cached_file_and_stale_partials_are_replaced(server, home):
    server.routes["/a.bin"] = (PAYLOAD, "ok")
    card = url_card([server.url + "/a.bin"])
    target = models.local_path(card)
    target.parent.mkdir(parents=True)
    target.write_bytes(PAYLOAD[:-1] + b"!")  # right size, wrong bytes
    (target.parent / ".thing.bin.abc123.part").write_bytes(b"partial from a killed process")
    assert not models.is_cached(card)
    assert models.fetch(card).read_bytes() == PAYLOAD
    assert leftovers(home) == ["thing.bin"]


def test_offline_mode_uses_the_cache_and_never_the_network(server, home, monkeypatch):
    server.routes["/a.bin"] = (PAYLOAD, "ok")
    card = url_card([server.url + "/a.bin"])
    monkeypatch.setenv("EDGEVISION_OFFLINE", "1")
    with pytest.raises(FetchError, match="EDGEVISION_OFFLINE") as info:
        models.fetch(card)
    message = str(info.value)
    assert f"Put the file by hand at: {models.local_path(card)}" in message and SHA in message
    assert server.url + "/a.bin" in message
    # Put by hand: used as it is.
    models.local_path(card).parent.mkdir(parents=True, exist_ok=True)
    models.local_path(card).write_bytes(PAYLOAD)
    assert models.fetch(card).read_bytes() == PAYLOAD
    # A wrong file put by hand is reported, not used.
    models.local_path(card).write_bytes(PAYLOAD[:-1])
    with pytest.raises(FetchError, match="does not match the card"):
        models.fetch(card)
    assert server.hits == {}


CHILD = """
import sys, time
from edgevision.models.cards import card_from_dict
from edgevision.models import fetch
card = card_from_dict({{"schema": 1, "name": "thing", "kind": "asset",
    "file": {{"name": "thing.bin", "size": {size}, "sha256": "{sha}"}},
    "sources": [{{"kind": "url", "url": "{url}"}}]}})
start = time.monotonic()
print(fetch(card), start, time.monotonic())
"""


def test_concurrent_fetches_from_two_processes(server, home):
    server.routes["/slow.bin"] = (PAYLOAD, "slow")  # about 1.4 s
    script = CHILD.format(size=len(PAYLOAD), sha=SHA, url=server.url + "/slow.bin")
    env = {**os.environ, "EDGEVISION_HOME": str(home)}
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), results
    lines = [out.split() for out, _ in results]
    assert {line[0] for line in lines} == {str(home / "models" / "thing" / "thing.bin")}
    (a_start, a_end), (b_start, b_end) = [(float(line[1]), float(line[2])) for line in lines]
    assert max(a_start, b_start) < min(a_end, b_end)  # the two fetches really overlapped
    assert server.hits["/slow.bin"] == 1  # the second waited on the lock, then found the file
    assert (home / "models" / "thing" / "thing.bin").read_bytes() == PAYLOAD
    assert leftovers(home) == ["thing.bin"]


def make_wheel(directory: Path, members: dict[str, bytes]) -> Path:
    """A minimal pure-Python wheel, enough for `pip download`."""
    wheel = directory / "edgevision_fake_assets-1.0-py3-none-any.whl"
    info = "edgevision_fake_assets-1.0.dist-info"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
        z.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: edgevision-fake-assets\nVersion: 1.0\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
    return wheel


def test_pypi_source_extracts_the_member_and_its_siblings(home, tmp_path, monkeypatch):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    other = b"second member" * 1000
    make_wheel(wheels, {"fake/one.bin": PAYLOAD, "fake/two.bin": other})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))

    def wheel_card(name, member, data):
        return card_from_dict({
            "schema": 1, "name": name, "kind": "asset",
            "file": {"name": f"{name}.bin", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
            "sources": [{"kind": "pypi", "requirement": "edgevision-fake-assets==1.0", "member": member}]})

    one, two = wheel_card("one", "fake/one.bin", PAYLOAD), wheel_card("two", "fake/two.bin", other)
    monkeypatch.setattr(sys.modules["edgevision.models.fetch"], "all_cards", lambda: {"one": one, "two": two})
    assert models.fetch(one).read_bytes() == PAYLOAD
    assert models.is_cached(two)  # placed from the same download
    assert models.local_path(two).read_bytes() == other
    missing = wheel_card("three", "fake/three.bin", b"x")
    with pytest.raises(FetchError, match="no member fake/three.bin"):
        models.fetch(missing)
    absent = card_from_dict({
        "schema": 1, "name": "absent", "kind": "asset", "file": {"name": "a.bin", "sha256": SHA},
        "sources": [{"kind": "pypi", "requirement": "edgevision-no-such-package==9.9", "member": "x"}]})
    with pytest.raises(FetchError, match="pip download.*failed"):
        models.fetch(absent)
    assert sorted(leftovers(home)) == ["one.bin", "two.bin"]


def test_user_supplied_file_message_and_use(home):
    card = card_from_dict({"schema": 1, "name": "mine", "kind": "model", "how_to_get": "export it from AI Hub",
                           "file": {"name": "mine.tflite"}})
    with pytest.raises(FetchError, match="export it from AI Hub") as info:
        models.fetch(card)
    assert f"Put the file by hand at: {home / 'models' / 'mine' / 'mine.tflite'}" in str(info.value)
    models.local_path(card).parent.mkdir(parents=True)
    models.local_path(card).write_bytes(b"anything")
    assert models.fetch(card) == models.local_path(card)


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown model 'no_such_model'; known models: .*pose_detection"):
        models.fetch("no_such_model")
    with pytest.raises(TypeError, match="model name"):
        models.card(3)


BAD_CARDS = {
    "schema": ({"schema": 2}, "schema must be 1"),
    "no file": ({}, "missing file"),
    "bad sha": ({"file": {"name": "a.bin", "sha256": "abc"}}, "64 lower-case hex"),
    "path in name": ({"file": {"name": "../a.bin"}}, "plain file name"),
    "source without sha": ({"file": {"name": "a.bin"}, "sources": [{"kind": "url", "url": "http://x"}]},
                           "needs file.sha256"),
    "bad source": ({"sources": [{"kind": "ftp"}]}, "kind = one of"),
    "bad size": ({"file": {"name": "a.bin", "size": -3}}, "positive integer"),
    "bad shape": ({"inputs": [{"name": "x", "shape": [1, "h"]}]}, "shape must be a list of positive integers"),
}


@pytest.mark.parametrize("case", list(BAD_CARDS))
def test_malformed_cards_are_rejected(case):
    data = {"schema": 1, "name": "c", "kind": "model", "file": {"name": "c.tflite"}}
    change, words = BAD_CARDS[case]
    data.update(change)
    if case == "no file":
        del data["file"]
    with pytest.raises(CardError, match=words):
        card_from_dict(data)


def test_checksum_error_is_a_fetch_error():
    assert issubclass(ChecksumError, FetchError)
