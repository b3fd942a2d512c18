"""The real `dnnfix tui` in a real terminal (tmux), used as a person would: paste, read the top cause, quit."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("textual")
pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"),
    pytest.mark.subprocess_heavy,
]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "colab-dnn-library-not-found.txt"


def dnnfix_command():
    exe = Path(sys.executable).with_name("dnnfix")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dnnfix"]


class Tmux:
    """A private tmux server (its own socket in a temporary folder): the test neither sees nor disturbs a user's
    sessions, and leaves nothing behind."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.sock = Path(tempfile.mkdtemp(prefix="dnnfix-tmux-")) / "sock"  # short: socket paths are limited

    def __call__(self, *args, check=True):
        return subprocess.run(
            ["tmux", "-S", str(self.sock), *args], capture_output=True, text=True, timeout=20, check=check
        )

    def start(self, command, width=100, height=30):
        env = " ".join(
            f"{k}={v}"
            for k, v in {
                "DNNFIX_USER_KB": os.environ["DNNFIX_USER_KB"],
                "DNNFIX_CACHE_DIR": os.environ["DNNFIX_CACHE_DIR"],
                "TERM": "xterm-256color",
                "COLORTERM": "truecolor",
            }.items()
        )
        done = self.tmp / "exit-status"
        # COLUMNS/LINES (set for children when pytest runs without a terminal) would override the pane size
        self(
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            str(width),
            "-y",
            str(height),
            f"cd {ROOT} && env -u COLUMNS -u LINES {env} {command}; echo $? > {done}; sleep 60",
        )
        return done

    def screen(self):
        return self("capture-pane", "-p", "-t", "t").stdout

    def wait_for(self, needle, timeout=30.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            text = self.screen()
            if needle in text:
                return text
            time.sleep(0.2)
        raise AssertionError(f"{needle!r} never appeared; the screen was:\n{self.screen()}")

    def close(self):
        self("kill-server", check=False)
        shutil.rmtree(self.sock.parent, ignore_errors=True)


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(tmp_path)
    yield t
    t.close()


def expected_top_cause():
    from dnnfix.api import diagnose_text
    from dnnfix.knowledge.load import load_kb

    d = diagnose_text(EXAMPLE.read_text(), kb=load_kb())
    assert d.top is not None, "the shipped knowledge base no longer matches the example"
    return d.top.cause


def test_paste_into_the_real_app_shows_the_top_cause_and_quits(tmux):
    cause = expected_top_cause()
    done = tmux.start(" ".join(dnnfix_command() + ["tui", "--no-probe"]))
    tmux.wait_for("Paste")  # the app is up
    tmux("load-buffer", "-b", "failure", str(EXAMPLE))
    tmux("paste-buffer", "-p", "-b", "failure", "-t", "t")  # -p: a bracketed paste, as terminals send it
    screen = tmux.wait_for(f"selected {cause}")
    assert "confident" in screen or "possible" in screen
    assert "DNN library is not found" in screen
    tmux("send-keys", "-t", "t", "C-q")
    end = time.monotonic() + 15
    while not done.exists() and time.monotonic() < end:
        time.sleep(0.1)
    assert done.read_text().strip() == "0"


def test_redirected_stdin_is_diagnosed_and_the_keyboard_still_works(tmux):
    cause = expected_top_cause()
    done = tmux.start(" ".join(dnnfix_command() + ["tui", "--no-probe", "<", str(EXAMPLE)]), width=80, height=24)
    tmux.wait_for(f"selected {cause}")
    tmux("send-keys", "-t", "t", "F1")
    tmux.wait_for("dnnfix keys")
    tmux("send-keys", "-t", "t", "Escape")
    tmux("send-keys", "-t", "t", "C-q")
    end = time.monotonic() + 15
    while not done.exists() and time.monotonic() < end:
        time.sleep(0.1)
    assert done.read_text().strip() == "0"
