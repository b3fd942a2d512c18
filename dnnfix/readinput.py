"""Reading pasted input safely: files, stdin, huge logs, binary and undecodable data.

A huge log keeps its head, its tail (where the final error is), and the lines in between that look like
errors or native log lines, so the decisive start-up line printed 100 MB earlier is still seen. Memory and
time stay bounded whatever the size.
"""
from __future__ import annotations

import os
import re
from collections import deque
from dataclasses import dataclass
from typing import BinaryIO, Optional

CHUNK = 1 << 20
SMALL = 8 << 20  # read whole up to this size
HEAD = 1 << 20
TAIL = 4 << 20
MIDDLE_MAX = 3 << 20
# Lines worth keeping from the middle of a huge log: errors, native log lines at W/E/F, GPU stack words.
_SALIENT = re.compile(
    rb"Error|Exception|Traceback|error:|FATAL|Fatal|Killed|Aborted|Illegal instruction|Segmentation fault|"
    rb"CUDA|CuDNN|cuDNN|cudnn|CUDNN|cuBLAS|CUBLAS|NCCL|libcu|dlopen|driver|Driver|out of memory|OOM|"
    rb"(?m:^[WEF]\d{4} )|\] (?:W|E) |: [WEF] [\w/]+\.cc")


def salient_lines(block: bytes):
    """The whole lines of `block` that hold an error-like word, each once, in order (linear time)."""
    pos = 0
    n = len(block)
    while pos < n:
        m = _SALIENT.search(block, pos)
        if not m:
            return
        start = block.rfind(b"\n", 0, m.start()) + 1
        end = block.find(b"\n", m.end())
        end = n if end < 0 else end + 1
        yield block[start:end]
        pos = end


class InputError(Exception):
    """The input could not be read or analysed; str() is the one-sentence reason."""


@dataclass
class Text:
    text: str
    size: int
    truncated: bool = False
    replaced: int = 0  # undecodable bytes replaced


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample[:8192]:
        # UTF-16 text has NULs too: accept it when it has a BOM
        return not sample.startswith((b"\xff\xfe", b"\xfe\xff"))
    if not sample:
        return False
    ctrl = sum(1 for b in sample[:8192] if b < 9 or 13 < b < 32)
    return ctrl / min(len(sample), 8192) > 0.1


def _decode(data: bytes) -> Text:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Text(data.decode("utf-16", errors="replace"), len(data))
    try:
        return Text(data.decode("utf-8"), len(data))
    except UnicodeDecodeError:
        s = data.decode("utf-8", errors="replace")
        return Text(s, len(data), replaced=s.count("\ufffd"))


def read_stream(fh: BinaryIO, name: str) -> Text:
    first = fh.read(CHUNK)
    if _looks_binary(first):
        raise InputError(f"{name} looks like binary data, not text (a traceback or log is expected)")
    buf = [first]
    total = len(first)
    while total <= SMALL:
        b = fh.read(CHUNK)
        if not b:
            data = b"".join(buf)
            return _decode(data)
        buf.append(b)
        total += len(b)
    # Huge: keep head, salient middle lines, and a tail ring.
    data = b"".join(buf)
    head = data[:HEAD]
    head = head[: head.rfind(b"\n") + 1] or head
    rest = data[HEAD:]
    middle: deque = deque()
    mid_bytes = 0
    tail: deque = deque()
    tail_bytes = 0

    def push_tail(block: bytes) -> None:
        nonlocal tail_bytes, mid_bytes
        tail.append(block)
        tail_bytes += len(block)
        while tail_bytes - len(tail[0]) >= TAIL:
            old = tail.popleft()
            tail_bytes -= len(old)
            for line in salient_lines(old):
                middle.append(line if line.endswith(b"\n") else line + b"\n")
                mid_bytes += len(line)
                while mid_bytes > MIDDLE_MAX:
                    mid_bytes -= len(middle.popleft())

    push_tail(rest)
    while True:
        b = fh.read(CHUNK)
        if not b:
            break
        total += len(b)
        push_tail(b)
    tail_data = b"".join(tail)
    cut = tail_data.find(b"\n")
    if 0 <= cut < len(tail_data) - 1:
        tail_data = tail_data[cut + 1:]
    omitted = total - len(head) - len(tail_data)
    note = f"[... dnnfix kept the head, the tail and {len(middle)} error-like lines of {omitted} omitted bytes ...]\n".encode()
    t = _decode(head + b"".join(middle) + note + tail_data)
    t.size, t.truncated = total, True
    return t


def read_input(name: str, stdin: Optional[BinaryIO] = None) -> Text:
    """Read a FILE argument ('-' = standard input). Raises InputError with a one-sentence reason."""
    if name == "-":
        import sys

        fh = stdin if stdin is not None else sys.stdin.buffer
        t = read_stream(fh, "standard input")
    else:
        if os.path.isdir(name):
            raise InputError(f"{name} is a directory; give a file (or several)")
        try:
            with open(name, "rb") as fh:
                t = read_stream(fh, name)
        except FileNotFoundError:
            raise InputError(f"{name}: no such file") from None
        except PermissionError:
            raise InputError(f"{name}: permission denied") from None
        except IsADirectoryError:
            raise InputError(f"{name} is a directory; give a file (or several)") from None
        except OSError as e:
            raise InputError(f"{name}: cannot read ({e.strerror or e})") from None
    return t
