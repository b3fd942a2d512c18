"""Native stderr capture: tee file descriptor 2 into a bounded ring buffer, passing every byte through.

TensorFlow, XLA and cuDNN print the decisive lines ("Loaded runtime CuDNN library: 8.1.0 but source was
compiled with: 8.6.0") from C++ straight to fd 2, before the Python exception. In Jupyter and Colab fd 2 goes
to the server log, never to the notebook. `start()` points fd 2 at a pipe; a small *tee process* reads the
pipe, writes every byte unchanged to the original fd 2, and keeps the last `size` bytes in a shared-memory
ring that `recent()` reads.

Why a separate process and not a reader thread: a thread needs the GIL to run Python code, and C code that
writes to fd 2 while holding the GIL (module initialisers, extension code that logs without releasing it)
blocks as soon as the pipe is full. The reader could then never run again: a deadlock. The tee process needs
nothing from us, so writers are never blocked for longer than the real stderr itself would block them. It
also keeps forwarding for forked children and subprocesses (they inherit fd 2 = the pipe) and drains the
pipe after a crash of this process, so nothing written before a segfault is lost.

- Order: there is one pipe and one reader, so bytes reach the real fd 2 in exactly the order written.
- Full ring: old bytes are overwritten (it is a ring); the pipe is never left unread.
- Real stderr gone (closed terminal, `| head`): the tee keeps draining and recording, writers never block.
- Ctrl-C: the tee ignores SIGINT, so an interrupted program still gets its traceback out.
- fork: the ring is shared memory, so a forked child reads the same recent output; `os.register_at_fork`
  records that the child does not own the tee (it neither waits for it nor restores fd 2 at exit).
- `stop()` puts the original fd 2 back (the same open file, via dup2), waits briefly until the tee has
  forwarded what was written, and closes everything it opened.

POSIX only (Linux, macOS); elsewhere `start()` returns False and says why in `status()`.
"""

from __future__ import annotations

import os
import struct
import sys
import time
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    import mmap

DEFAULT_SIZE = 256 * 1024
_HEADER = 64  # seq (u64, odd while the tee writes), total bytes seen (u64), busy (u64), ready (u64)
_HDR = struct.Struct("<QQQQ")

# The tee process (runs with -I -S: no site, no user code, nothing to import but builtins).
_TEE = r"""
import os, signal, mmap, struct, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
H = 64
m = mmap.mmap(3, 0)
size = len(m) - H
hdr = struct.Struct("<QQQ")
seq = total = 0
m[0:32] = hdr.pack(0, 0, 0) + (1).to_bytes(8, "little")
out = True
last = 0.0
while True:
    try:
        b = os.read(0, 1 << 18)
    except OSError:
        break
    if not b:
        break
    m[16:24] = b"\x01\0\0\0\0\0\0\0"
    if out:
        v = memoryview(b)
        try:
            while v:
                v = v[os.write(2, v):]
        except OSError:
            out = False
    n = len(b)
    keep = b[-size:] if n > size else b
    seq += 1
    m[0:8] = seq.to_bytes(8, "little")
    pos = (total + n - len(keep)) % size  # where the kept tail sits in the stream
    first = min(len(keep), size - pos)
    m[H + pos:H + pos + first] = keep[:first]
    if first < len(keep):
        m[H:H + len(keep) - first] = keep[first:]
    total += n
    seq += 1
    m[0:24] = hdr.pack(seq, total, 0)
    # In a burst of small writes, let the pipe collect a batch (at most 1 ms) instead of waking per line.
    now = time.monotonic()
    if n < 32768 and now - last < 0.002:
        time.sleep(0.001)
    last = now
"""


class _Tee:
    def __init__(self) -> None:
        self.pid = 0
        self.owner = os.getpid()
        self.saved = -1  # the original fd 2, duplicated
        self.shm: Optional[mmap.mmap] = None  # mmap of the ring
        self.shm_fd = -1
        self.size = 0
        self.mark = 0  # ring total at the last take_since_mark()


_TEE_STATE: Optional[_Tee] = None
_REASON = "not started"
_FORK_HOOKED = False
_UNREAPED: "list[int]" = []  # tee processes that outlived stop() because children still held the pipe


def active() -> bool:
    return _TEE_STATE is not None


def status() -> str:
    """'on (pid N, K KiB ring)' or why capture is off."""
    t = _TEE_STATE
    if t is None:
        return f"off ({_REASON})"
    return f"on (tee pid {t.pid}, {t.size // 1024} KiB ring)"


def supported() -> Optional[str]:
    """None when capture can work here, else the reason it cannot."""
    if os.name != "posix":
        return "native capture needs a POSIX system"
    if not hasattr(os, "posix_spawn"):
        return "os.posix_spawn is not available"
    if not sys.executable or not os.path.exists(sys.executable):
        return "no Python interpreter to run the tee process"
    try:
        os.fstat(2)
    except OSError:
        return "file descriptor 2 is closed"
    return None


def _high_fd(fd: int) -> int:
    """Move fd to >= 10 (close-on-exec), so the spawn's dup2 actions cannot clobber each other."""
    import fcntl

    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


def _shared_file(size: int) -> int:
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("dnnfix-stderr-ring")
    else:  # macOS: an unlinked temporary file
        import tempfile

        fh = tempfile.TemporaryFile(prefix="dnnfix-ring-")
        fd = os.dup(fh.fileno())
        fh.close()
    os.ftruncate(fd, _HEADER + size)
    return fd


def start(size: int = DEFAULT_SIZE, ready_timeout: float = 2.0) -> bool:
    """Start capturing fd 2. True when capture is on (already on counts). Never raises."""
    global _TEE_STATE, _REASON, _FORK_HOOKED
    if _TEE_STATE is not None:
        return True
    _reap(_UNREAPED)
    why = supported()
    if why:
        _REASON = why
        return False
    t = _Tee()
    r = w = -1
    try:
        import mmap

        t.size = max(4096, int(size))
        t.shm_fd = _high_fd(_shared_file(t.size))
        t.shm = mmap.mmap(t.shm_fd, _HEADER + t.size)
        r, w = os.pipe()
        r, w = _high_fd(r), _high_fd(w)
        try:
            import fcntl

            fcntl.fcntl(w, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)  # room for bursts (Linux)
        except (OSError, ImportError):
            pass
        t.saved = _high_fd(os.dup(2))
        actions = [
            (os.POSIX_SPAWN_DUP2, r, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, t.saved, 2),
            (os.POSIX_SPAWN_DUP2, t.shm_fd, 3),
        ]
        t.pid = os.posix_spawn(
            sys.executable, [sys.executable, "-I", "-S", "-c", _TEE], dict(os.environ), file_actions=actions
        )
        os.close(r)
        r = -1
        # Only redirect fd 2 once the tee runs: if it failed to start, writers would get EPIPE.
        deadline = time.monotonic() + ready_timeout
        while _HDR.unpack_from(t.shm, 0)[3] != 1:
            if os.waitpid(t.pid, os.WNOHANG)[0] or time.monotonic() > deadline:
                raise OSError("the tee process did not start")
            time.sleep(0.0005)
        _flush_std()
        os.dup2(w, 2)
        os.close(w)
        w = -1
    except Exception as e:  # capture is optional: leave fd 2 as it was
        _REASON = f"could not start: {type(e).__name__}: {e}"
        for fd in (r, w):
            if fd >= 0:
                os.close(fd)
        _kill(t)
        _close(t)
        return False
    _TEE_STATE = t
    if not _FORK_HOOKED:
        os.register_at_fork(after_in_child=_after_fork_child)
        _FORK_HOOKED = True
    return True


def _flush_std() -> None:
    for s in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__):
        try:
            if s is not None:
                s.flush()
        except Exception:  # noqa: BLE001 - any stream object (Jupyter's, a user's wrapper): its flush is not ours
            pass


def _kill(t: _Tee) -> None:
    if t.pid and t.owner == os.getpid():
        try:
            import signal

            os.kill(t.pid, signal.SIGKILL)
            os.waitpid(t.pid, 0)
        except OSError:
            pass


def _close(t: _Tee) -> None:
    if t.shm is not None:
        try:
            t.shm.close()
        except (OSError, BufferError, ValueError):
            pass
        t.shm = None
    for fd in (t.shm_fd, t.saved):
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass
    t.shm_fd = t.saved = -1


def _after_fork_child() -> None:
    t = _TEE_STATE
    if t is not None:
        t.owner = -1  # the tee belongs to the parent: never wait for it or signal it from here


def _pending(fd: int) -> int:
    """Bytes written to the pipe behind fd but not yet read by the tee (0 when unknown)."""
    try:
        import fcntl
        import termios

        buf = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
        return struct.unpack("i", buf)[0]
    except (OSError, ImportError, struct.error):
        return 0


def _settle(t: _Tee, timeout: float) -> None:
    """Wait (bounded) until the bytes written to fd 2 before this call are forwarded and in the ring.

    Target: the ring's byte count now, plus what still sits in the pipe, plus the chunk the tee is handling
    (busy flag; it is recorded when the sequence number moves on). A flood of later output does not delay us.
    """
    m = t.shm
    if m is None:
        return
    deadline = time.monotonic() + timeout
    seq, total, busy, _ = _HDR.unpack_from(m, 0)
    target = total + _pending(2)
    rechecked = False
    while time.monotonic() < deadline:
        seq2, total2, busy2, _ = _HDR.unpack_from(m, 0)
        if total2 >= target and not (busy and seq2 == seq):
            if rechecked:
                return
            # a chunk read just before we looked may not have raised the busy flag yet: look once more
            time.sleep(0.0003)
            seq, _, busy, _ = _HDR.unpack_from(m, 0)
            rechecked = True
            continue
        time.sleep(0.0003)


def _reap(pids: "list[int]") -> None:
    for pid in list(pids):
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                pids.remove(pid)
        except ChildProcessError:
            pids.remove(pid)


def stop(drain_timeout: float = 2.0) -> None:
    """Put the original fd 2 back and close everything; wait (bounded) until the tee forwarded all bytes."""
    global _TEE_STATE, _REASON
    t = _TEE_STATE
    if t is None:
        return
    _TEE_STATE = None
    _REASON = "stopped"
    _flush_std()
    _settle(t, drain_timeout)
    try:
        os.dup2(t.saved, 2)  # our end of the pipe closes here; the tee sees EOF unless children still hold it
    except OSError:
        pass
    if t.owner == os.getpid():
        # The tee exits at EOF; if children still hold the pipe it keeps forwarding for them and is reaped later.
        _UNREAPED.append(t.pid)
        deadline = time.monotonic() + 0.2
        while _UNREAPED and time.monotonic() < deadline:
            _reap(_UNREAPED)
            if t.pid not in _UNREAPED:
                break
            time.sleep(0.001)
    _close(t)


def settle(timeout: float = 0.5) -> None:
    """Wait (bounded) until output already written to fd 2 is in the ring."""
    t = _TEE_STATE
    if t is not None and t.shm is not None:
        _flush_std()
        _settle(t, timeout)


def _snapshot(t: _Tee) -> "tuple[int, bytes]":
    m = t.shm
    if m is None:
        return 0, b""
    size = t.size
    for _ in range(200):
        seq1, total = _HDR.unpack_from(m, 0)[:2]
        if seq1 & 1:
            time.sleep(0)
            continue
        data = m[_HEADER : _HEADER + size]
        if _HDR.unpack_from(m, 0)[0] == seq1:
            break
    else:  # the tee never paused (a flood of output): accept a possibly torn oldest part
        seq1, total = _HDR.unpack_from(m, 0)[:2]
        data = m[_HEADER : _HEADER + size]
    if total <= size:
        return total, data[:total]
    pos = total % size
    return total, data[pos:] + data[:pos]


def recent(max_bytes: Optional[int] = None) -> bytes:
    """The last bytes written to fd 2 (at most the ring size), oldest first."""
    t = _TEE_STATE
    if t is None or t.shm is None:
        return b""
    settle()
    _, data = _snapshot(t)
    return data[-max_bytes:] if max_bytes else data


def total_bytes() -> int:
    """How many bytes went through fd 2 since start()."""
    t = _TEE_STATE
    return _snapshot(t)[0] if t is not None and t.shm is not None else 0


def take_since_mark(advance: bool = True) -> str:
    """Text written to fd 2 since the previous call (whole lines, as much as the ring still holds).

    The hook passes this as the log of an incident, so an old warning from a previous notebook cell is not
    blamed for a later, unrelated error.
    """
    t = _TEE_STATE
    if t is None or t.shm is None:
        return ""
    settle()
    total, data = _snapshot(t)
    new = total - t.mark
    if advance:
        t.mark = total
    if new <= 0:
        return ""
    chunk = data[-new:] if new < len(data) else data
    if new > len(data):  # the start was overwritten: drop the partial first line
        nl = chunk.find(b"\n")
        chunk = chunk[nl + 1 :] if nl >= 0 else chunk
    return chunk.decode("utf-8", "replace")
