"""Native stderr capture: every byte still reaches fd 2, in order, and the recent ones become evidence."""

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="native capture is POSIX only")

CUDNN = b"Loaded runtime CuDNN library: 8.1.0 but source was compiled with: 8.6.0.  CuDNN library needs to have matching major version and equal or higher minor version."


def _run(tmp_path, body, env=None, timeout=120, **kw):
    p = tmp_path / "prog.py"
    p.write_text(textwrap.dedent(body))
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([sys.executable, str(p)], cwd=tmp_path, env=e, capture_output=True, timeout=timeout, **kw)


def test_c_level_write_reaches_fd2_and_the_ring_byte_for_byte(tmp_path):
    """Bytes written by C (libc write) and by Python arrive unchanged on fd 2 and in the ring, in order."""
    p = _run(
        tmp_path,
        """
        import ctypes, os, sys
        from dnnfix import capture
        assert capture.start()
        blob = bytes(range(256)) * 3 + b"no newline at the end"
        libc = ctypes.CDLL(None)
        assert libc.write(2, blob, len(blob)) == len(blob)
        sys.stderr.write("python text ü\\n")
        sys.stderr.flush()
        os.write(2, b"\\x00\\xff os.write line\\n")
        open("ring.bin", "wb").write(capture.recent())
        capture.stop()
        os.write(2, b"after stop\\n")
    """,
    )
    assert p.returncode == 0, p.stderr
    expected = (
        bytes(range(256)) * 3 + b"no newline at the end" + "python text ü\n".encode() + b"\x00\xff os.write line\n"
    )
    assert p.stderr == expected + b"after stop\n"
    assert (tmp_path / "ring.bin").read_bytes() == expected


def test_captured_c_line_becomes_evidence_in_the_report(tmp_path):
    """A cuDNN line printed by C before the exception is quoted as evidence, and still shown once on fd 2."""
    line = CUDNN + b"\n"
    p = _run(
        tmp_path,
        f"""
        import ctypes
        import dnnfix; dnnfix.install(capture=True)
        line = {line!r}
        ctypes.CDLL(None).write(2, line, len(line))
        raise RuntimeError("DNN library is not found.")
    """,
    )
    err = p.stderr.decode()
    assert p.returncode == 1
    assert err.startswith(CUDNN.decode() + "\nTraceback (most recent call last):")
    report = err[err.index("dnnfix: what most likely caused this error") :]
    assert "tf.cudnn.version-mismatch" in report
    assert "+ line 1: Loaded runtime CuDNN library: 8.1.0 but source was compiled with: 8.6.0" in report
    assert err.count("Loaded runtime CuDNN library") == 1 + report.count("Loaded runtime CuDNN library")


def test_writer_holding_the_gil_never_deadlocks(tmp_path):
    """8 MiB written by C while holding the GIL (far more than the pipe holds) gets through, in order."""
    p = _run(
        tmp_path,
        """
        import ctypes
        from dnnfix import capture
        assert capture.start(size=64 * 1024)
        data = b"".join(b"%09d\\n" % i for i in range(800_000))  # 8 MB, every line numbered
        ctypes.PyDLL(None).write(2, data, len(data))  # PyDLL keeps the GIL during the call
        capture.settle(30)  # recent() waits at most 0.5 s; relaying 8 MB takes longer on a loaded machine
        open("ring.bin", "wb").write(capture.recent())
        capture.stop()
    """,
        timeout=60,
    )
    assert p.returncode == 0
    data = b"".join(b"%09d\n" % i for i in range(800_000))
    assert p.stderr == data
    ring = (tmp_path / "ring.bin").read_bytes()
    assert len(ring) == 64 * 1024 and data.endswith(ring)


def test_slow_reader_of_the_real_stderr_loses_nothing(tmp_path):
    """When whoever reads fd 2 is slow, the program waits as it would without capture; nothing is lost."""
    src = tmp_path / "prog.py"
    src.write_text(
        textwrap.dedent("""
        import sys
        from dnnfix import capture
        assert capture.start(size=4096)
        for i in range(200_000):
            sys.stderr.write("line %06d\\n" % i)
        capture.stop()
        print("done")
    """)
    )
    proc = subprocess.Popen([sys.executable, str(src)], cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    got = bytearray()
    while True:
        chunk = proc.stderr.read1(8192)
        if not chunk:
            break
        got += chunk
        if len(got) < 200_000:
            time.sleep(0.002)  # a slow terminal for the first part
    out = proc.stdout.read()
    assert proc.wait(timeout=60) == 0
    assert out == b"done\n"
    assert bytes(got) == b"".join(b"line %06d\n" % i for i in range(200_000))


def test_forked_child_and_subprocess_output_pass_through_and_are_recorded(tmp_path):
    """fork: the child writes through the same tee and sees the shared ring; a subprocess's stderr passes too."""
    p = _run(
        tmp_path,
        """
        import os, subprocess, sys
        from dnnfix import capture
        assert capture.start()
        os.write(2, b"parent before fork\\n")
        pid = os.fork()
        if pid == 0:
            os.write(2, b"child line\\n")
            ok = b"parent before fork" in capture.recent() and b"child line" in capture.recent()
            os._exit(0 if ok else 7)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0, status
        subprocess.run([sys.executable, "-c", "import os; os.write(2, b'subprocess line\\\\n')"], check=True)
        ring = capture.recent()
        assert b"child line" in ring and b"subprocess line" in ring, ring
        capture.stop()
    """,
    )
    assert p.returncode == 0, p.stderr
    assert p.stderr == b"parent before fork\nchild line\nsubprocess line\n"


def test_stop_restores_fd2_and_ends_the_tee(tmp_path):
    """After stop(): fd 2 is the same open file as before and the tee process is gone (reaped)."""
    p = _run(
        tmp_path,
        """
        import json, os
        from dnnfix import capture
        before = os.fstat(2)
        assert capture.start()
        pid = capture._TEE_STATE.pid
        during = os.fstat(2)
        capture.stop()
        after = os.fstat(2)
        gone = not os.path.exists(f"/proc/{pid}") if os.path.isdir("/proc") else True
        print(json.dumps([(before.st_dev, before.st_ino) == (after.st_dev, after.st_ino),
                          (during.st_dev, during.st_ino) != (before.st_dev, before.st_ino), gone]))
    """,
    )
    assert json.loads(p.stdout) == [True, True, True]


def test_ctrl_c_to_the_process_group_does_not_kill_the_tee(tmp_path):
    """SIGINT to the whole group (Ctrl-C in a terminal): the tee survives, the traceback still gets out."""
    import signal

    p = _run(
        tmp_path,
        """
        import os, signal, time
        import dnnfix; dnnfix.install(capture=True)
        os.killpg(os.getpgid(0), signal.SIGINT)
        time.sleep(5)
    """,
        start_new_session=True,
        # a terminal's program starts with SIGINT at its default; a test runner started in the background by a
        # non-interactive shell (CI) passes SIGINT on as ignored, and Python would then never see it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert p.returncode != 0
    assert p.stderr.decode().rstrip().endswith("KeyboardInterrupt")
    assert b"dnnfix" not in p.stderr


def test_capture_is_off_by_default_outside_kernels(monkeypatch):
    """Scripts and terminals: off unless asked (DNNFIX_CAPTURE or install(capture=True)); kernels: on."""
    from dnnfix.hook import capture_default

    class Kernelish:
        kernel = object()

    monkeypatch.delenv("DNNFIX_CAPTURE", raising=False)
    assert capture_default(None) is False
    assert capture_default(Kernelish()) is True
    monkeypatch.setenv("DNNFIX_CAPTURE", "1")
    assert capture_default(None) is True
    monkeypatch.setenv("DNNFIX_CAPTURE", "0")
    assert capture_default(Kernelish()) is False


@pytest.mark.framework
def test_real_tensorflow_startup_line_is_captured_and_part_of_the_incident(tmp_path):
    """TensorFlow's own C++ start-up log line reaches fd 2 unchanged and is in the diagnosed incident."""
    pytest.importorskip("tensorflow")
    p = _run(
        tmp_path,
        """
        import atexit, json
        import dnnfix, dnnfix.hook
        from dnnfix import capture
        dnnfix.install(capture=True)
        def dump():
            panel = dnnfix.hook.last()
            json.dump({"ring": capture.recent().decode("utf-8", "replace") if capture.active() else "",
                       "log": panel.log_text, "lines": panel.diagnosis.incident.lines}, open("out.json", "w"))
        atexit.register(dump)
        import tensorflow as tf
        tf.reshape(tf.range(6), (4, 4))  # InvalidArgumentError
    """,
        env={"TF_CPP_MIN_LOG_LEVEL": "0", "CUDA_VISIBLE_DEVICES": ""},
        timeout=300,
    )
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 1, err
    out = json.loads((tmp_path / "out.json").read_text())
    tf_lines = [ln for ln in out["log"].splitlines() if ".cc:" in ln and ("cpu_feature_guard" in ln or "port.cc" in ln)]
    assert tf_lines, out["log"]
    for ln in tf_lines:
        assert ln + "\n" in err  # on fd 2, byte for byte (the terminal copy)
        assert any(ln.strip() in x for x in out["lines"])  # in the incident the matcher saw
