"""`dnnfix tui --serve`: textual-serve starts, the page is fetched over loopback, and a browser's websocket gets
the real app (its screen, drawn by `dnnfix tui` behind Textual's web driver)."""

import asyncio
import os
import socket
import subprocess
import sys
import time

import pytest

# whole CLI / TUI / hook runs in many processes: the whole suite and the newest Python run them, the oldest
# Python's core suite in CI leaves them out (scripts/test_pythons, DNNFIX_CORE_LIGHT)
pytestmark = pytest.mark.subprocess_heavy

pytest.importorskip("textual")
pytest.importorskip("textual_serve")
aiohttp = pytest.importorskip("aiohttp")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    log = tmp_path / "log.txt"
    log.write_text("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity)\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dnnfix",
            "tui",
            str(log),
            "--serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-probe",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, NO_COLOR="1", COLUMNS="120"),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(proc.stdout.read().decode(errors="replace"))
            time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _session(base: str):
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/") as r:
            page = await r.text()
            assert r.status == 200
        assert f"ws://{base.split('//')[1]}/ws" in page
        seen = b""
        async with http.ws_connect(base + "/ws?width=120&height=40") as ws:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and b"torch.cuda.oom" not in seen:
                try:
                    msg = await ws.receive(timeout=5)
                except asyncio.TimeoutError:
                    continue
                if msg.type == aiohttp.WSMsgType.BINARY:
                    seen += msg.data
                elif msg.type == aiohttp.WSMsgType.TEXT:
                    seen += msg.data.encode()
                elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
        return page, seen


def test_serve_page_and_app_over_loopback(server):
    page, seen = asyncio.run(_session(server))
    assert "dnnfix" in page
    assert b"needs a terminal" not in seen
    assert b"torch.cuda.oom" in seen  # the app ran, loaded FILE and drew its diagnosis for the browser


def test_serve_refuses_a_missing_file(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "dnnfix", "tui", "nope.txt", "--serve"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (p.returncode, p.stderr) == (2, "dnnfix: nope.txt: no such file\n")
