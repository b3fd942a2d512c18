"""Reading pasted input safely: files, stdin, compressed logs, huge logs, binary and undecodable data.

A huge log keeps its head, its tail (where the final error is), and the lines in between that look like
errors or native log lines, so the decisive start-up line printed 100 MB earlier is still seen. The file is
streamed in blocks; one pass over each block's bytes finds the candidate lines (a multi-pattern automaton
from `ahocorasick_rs` when it is installed, else `bytes.find` per marker), so ordinary lines cost no Python
work. Memory stays bounded whatever the size, and every kept line keeps its real line number in the file
(`Text.line_map`), so evidence quotes "line 2260418" of the log, not of the reduced text.
"""

from __future__ import annotations

import bisect
import os
import re
from collections import deque
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, List, Optional, Tuple

CHUNK = 1 << 20  # read block
SMALL = 2 << 20  # read whole up to this size
# A reduced log is what the matcher reads line by line: ~20,000 lines at most keeps a 1 GB log in ~1 s.
HEAD = 256 << 10
TAIL = 1 << 20
MIDDLE_MAX = 1 << 20  # error-like middle lines: the first half and the last half of this budget
LONG_LINE = 16 << 10  # a kept middle line is cut to this length

# Markers of lines worth keeping from the middle of a huge log: errors, native log lines at W/E/F, GPU stack
# words, NaN losses, missing libraries. Plain byte strings, so that one multi-pattern pass finds them all.
MARKERS: Tuple[bytes, ...] = (
    b"Error",
    b"Exception",
    b"Traceback",
    b"error:",
    b"FATAL",
    b"Fatal",
    b"Killed",
    b"Aborted",
    b"Illegal instruction",
    b"Segmentation fault",
    b"CUDA",
    b"CuDNN",
    b"cuDNN",
    b"cudnn",
    b"CUDNN",
    b"cuBLAS",
    b"CUBLAS",
    b"NCCL",
    b"libcu",
    b"dlopen",
    b"driver",
    b"Driver",
    b"out of memory",
    b"OOM",
    b"] W ",
    b"] E ",
    b"NaN",
    b": nan",
    b"=nan",
    b"not found",
    b"GLIBC",
    b"Could not",
    b"could not",
    b"Unable to",
    b"unable to",
)
# glog lines at W/E/F ("E1204 10:11:12.345 ...") and "...: E tensorflow/x.cc" lines: a marker, then a check
_GLOG_MARKERS = (b"\nW0", b"\nW1", b"\nE0", b"\nE1", b"\nF0", b"\nF1")
_GLOG = re.compile(rb"[WEF]\d{4} ")
_CC_MARKERS = (b": W ", b": E ", b": F ")
_CC = re.compile(rb": [WEF] [\w/]+\.cc")


class _Finder:
    """Start offsets of the lines of a block that hold a marker, in order, each line once."""

    def __init__(self) -> None:
        self._pats = MARKERS + _GLOG_MARKERS + _CC_MARKERS
        self._n_plain = len(MARKERS)
        self._n_glog = len(_GLOG_MARKERS)
        self._ac = None
        if not os.environ.get("DNNFIX_NO_AHOCORASICK"):
            try:
                import ahocorasick_rs

                self._ac = ahocorasick_rs.BytesAhoCorasick(list(self._pats))
            except Exception:  # not installed, or an incompatible release: the plain finder below
                self._ac = None

    @property
    def engine(self) -> str:
        return "ahocorasick_rs" if self._ac is not None else "bytes.find"

    def _hits(self, block: bytes):
        """(start, end, kind) of marker occurrences: kind 0 plain, 1 glog (verify), 2 .cc (verify)."""
        ng = self._n_plain + self._n_glog
        if self._ac is not None:
            for idx, s, e in self._ac.find_matches_as_indexes(block):
                yield s, e, 0 if idx < self._n_plain else (1 if idx < ng else 2)
            return
        hits = []
        for idx, pat in enumerate(self._pats):
            kind = 0 if idx < self._n_plain else (1 if idx < ng else 2)
            find = block.find
            i = find(pat)
            while i >= 0:
                hits.append((i, i + len(pat), kind))
                # the next occurrence on a later line only: one hit per line is enough
                j = block.find(b"\n", i + len(pat))
                if j < 0:
                    break
                i = find(pat, j)
        hits.sort()
        yield from hits

    def line_starts(self, block: bytes) -> List[int]:
        out: List[int] = []
        line_end = -1  # end of the last kept line (offset of its newline)
        if block[:1] in (b"W", b"E", b"F") and _GLOG.match(block, 0):
            out.append(0)
            line_end = block.find(b"\n")
            if line_end < 0:
                return out
        for s, e, kind in self._hits(block):
            if kind == 1:
                s += 1  # the marker starts at the newline before the line
                if s <= line_end or not _GLOG.match(block, s):
                    continue
            elif s <= line_end:
                continue
            elif kind == 2 and not _CC.match(block, s):
                continue
            start = block.rfind(b"\n", 0, s) + 1
            out.append(start)
            line_end = block.find(b"\n", e)
            if line_end < 0:
                break
        return out


_FINDER: Optional[_Finder] = None


def finder() -> _Finder:
    global _FINDER
    if _FINDER is None:
        _FINDER = _Finder()
    return _FINDER


def salient_lines(block: bytes):
    """The whole lines of `block` that hold an error-like marker, each once, in order."""
    for start in finder().line_starts(block):
        end = block.find(b"\n", start)
        yield block[start:] if end < 0 else block[start : end + 1]


class InputError(Exception):
    """The input could not be read or analysed; str() is the one-sentence reason."""


@dataclass
class Text:
    text: str
    size: int
    truncated: bool = False
    replaced: int = 0  # undecodable bytes replaced
    # for a reduced huge log: (line of the text, real line of the file) at each place the numbering jumps
    segments: List[Tuple[int, int]] = field(default_factory=list)
    compression: str = ""  # gzip | bzip2 | xz | zstd when the input was compressed

    @property
    def line_map(self) -> Optional[Callable[[int], Optional[int]]]:
        """Text line (1-based) -> line of the original input, or None when they are the same."""
        if not self.segments:
            return None
        starts = [s[0] for s in self.segments]
        segs = self.segments

        def real(n: int) -> Optional[int]:
            i = bisect.bisect_right(starts, n) - 1
            if i < 0:
                return n
            base_out, base_real = segs[i]
            return base_real + (n - base_out) if base_real else None

        return real


_TEXT_BYTES = bytes(range(9, 14)) + bytes(range(32, 256))


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample[:8192]:
        # UTF-16 text has NULs too: accept it when it has a BOM
        return not sample.startswith((b"\xff\xfe", b"\xfe\xff"))
    if not sample:
        return False
    head = sample[:8192]
    ctrl = len(head.translate(None, _TEXT_BYTES))  # control bytes other than \t \n \v \f \r (one C pass)
    return ctrl / len(head) > 0.1


def _decode(data: bytes) -> Text:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Text(data.decode("utf-16", errors="replace"), len(data))
    try:
        return Text(data.decode("utf-8"), len(data))
    except UnicodeDecodeError:
        s = data.decode("utf-8", errors="replace")
        return Text(s, len(data), replaced=s.count("\ufffd"))


# ---------------------------------------------------------------- compressed input (by magic bytes)
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"))


def compression_of(head: bytes) -> str:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return ""


def _decompressing(fh: BinaryIO, kind: str, name: str) -> BinaryIO:
    if kind == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[return-value]
    if kind == "bzip2":
        import bz2

        return bz2.BZ2File(fh, "rb")  # type: ignore[return-value]
    if kind == "xz":
        import lzma

        return lzma.LZMAFile(fh, "rb")  # type: ignore[return-value]
    try:
        import zstandard
    except ImportError:
        raise InputError(
            f"{name} is zstd-compressed; reading it needs the zstandard package: pip install zstandard"
        ) from None
    return zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)


class _Peek:
    """A binary stream with its first bytes already read (to sniff compression) put back in front."""

    def __init__(self, fh: BinaryIO, first: bytes) -> None:
        self.fh, self.first = fh, first

    def read(self, n: int = -1) -> bytes:
        if self.first:
            if n is None or n < 0:
                b, self.first = self.first + self.fh.read(), b""
            else:
                b, self.first = self.first[:n], self.first[n:]
            return b
        return self.fh.read(n)


def _reader(fh: BinaryIO, name: str):
    """A read(n) function that decompresses when the stream is compressed, and the compression's name."""
    first = fh.read(8)
    kind = compression_of(first)
    src: BinaryIO = _Peek(fh, first)  # type: ignore[assignment]
    if not kind:
        return src.read, ""
    dec = _decompressing(src, kind, name)

    def read(n: int) -> bytes:
        try:
            return dec.read(n)
        except InputError:
            raise
        except MemoryError:
            raise
        except Exception as e:  # noqa: BLE001 - corrupt or cut data: each decompressor (zstandard is third-party) has its own errors
            raise InputError(f"{name}: damaged {kind} data ({e})") from None

    return read, kind


# ---------------------------------------------------------------- reading
def read_stream(fh: BinaryIO, name: str) -> Text:
    read, kind = _reader(fh, name)
    first = b""
    while len(first) < CHUNK:  # a decompressor may return less than asked
        b = read(CHUNK - len(first))
        if not b:
            break
        first += b
    if _looks_binary(first):
        what = f"{kind}-compressed binary data" if kind else "binary data"
        raise InputError(f"{name} looks like {what}, not text (a traceback or log is expected)")
    buf = [first]
    total = len(first)
    while total <= SMALL:
        b = read(CHUNK)
        if not b:
            t = _decode(b"".join(buf))
            t.compression = kind
            return t
        buf.append(b)
        total += len(b)
    t = _reduce(b"".join(buf), read, total)
    t.compression = kind
    return t


def _reduce(data: bytes, read, total: int) -> Text:
    """Huge input: the head, the error-like lines of the middle (with their line numbers), the tail."""
    head = data[:HEAD]
    cut = head.rfind(b"\n") + 1
    head = head[:cut] if cut else head + b"\n"  # one line longer than HEAD: cut (and end) it
    rest = data[cut:] if cut else data[HEAD:]
    del data
    head_lines = head.count(b"\n")
    find = finder()

    half = MIDDLE_MAX // 2
    first_part: List[Tuple[int, bytes]] = []  # the first error-like lines, up to half the budget
    first_bytes = 0
    last_part: deque = deque()  # then a ring of the latest ones
    last_bytes = 0
    seen: set = set()  # kept line texts: a line repeated a million times is kept once

    def keep(lineno: int, line: bytes) -> None:
        nonlocal first_bytes, last_bytes
        if len(line) > LONG_LINE:
            line = line[:LONG_LINE] + b"\n"
        if line in seen:
            return
        seen.add(line)
        if first_bytes < half:
            first_part.append((lineno, line))
            first_bytes += len(line)
            return
        last_part.append((lineno, line))
        last_bytes += len(line)
        while last_bytes > half:
            _, old = last_part.popleft()
            last_bytes -= len(old)
            seen.discard(old)

    def scan(block: bytes, lineno: int) -> None:
        """Keep the error-like lines of `block` (whole lines), whose first line is `lineno`."""
        pos = 0
        for start in find.line_starts(block):
            lineno += block.count(b"\n", pos, start)
            end = block.find(b"\n", start)
            end = len(block) if end < 0 else end + 1
            line = block[start:end]
            keep(lineno, line if line.endswith(b"\n") else line + b"\n")
            pos = start

    tail: deque = deque()  # (block, its first line number)
    tail_bytes = 0
    next_line = head_lines + 1

    def push(block: bytes) -> None:
        nonlocal tail_bytes, next_line
        tail.append((block, next_line))
        tail_bytes += len(block)
        next_line += block.count(b"\n")
        while tail_bytes - len(tail[0][0]) >= TAIL:
            old, at = tail.popleft()
            tail_bytes -= len(old)
            scan(old, at)

    def blocks(carry: bytes, final: bool) -> bytes:
        """Push whole-line blocks of about CHUNK bytes; return the unfinished rest."""
        while len(carry) >= CHUNK or (final and carry):
            nl = carry.rfind(b"\n", 0, CHUNK) + 1 or carry.find(b"\n", CHUNK) + 1
            if nl == 0:
                if not final and len(carry) < 4 * CHUNK:
                    break  # a very long line: wait a little for its end
                nl = len(carry)
            push(carry[:nl])
            carry = carry[nl:]
        return carry

    carry = blocks(rest, False)
    while True:
        b = read(CHUNK)
        if not b:
            break
        total += len(b)
        carry = blocks(carry + b, False)
    if carry and not carry.endswith(b"\n"):
        carry += b"\n"
    blocks(carry, True)
    tail_data = b"".join(blk for blk, _ in tail)
    tail_first = tail[0][1] if tail else next_line
    if len(tail_data) > TAIL:  # the tail proper: its last TAIL bytes from a line start
        cut = tail_data.find(b"\n", len(tail_data) - TAIL) + 1
        if 0 < cut < len(tail_data):
            scan(tail_data[:cut], tail_first)
            tail_first += tail_data.count(b"\n", 0, cut)
            tail_data = tail_data[cut:]
    middle = first_part + list(last_part)
    omitted = total - len(head) - len(tail_data)
    note = (
        f"[... dnnfix kept the head, the tail and {len(middle)} error-like lines of {omitted} omitted bytes, "
        f"lines {head_lines + 1}-{tail_first - 1} ...]\n"
    ).encode()
    segments: List[Tuple[int, int]] = [(1, 1)]
    out_line = head_lines + 1
    for lineno, _ in middle:
        if segments[-1][1] + (out_line - segments[-1][0]) != lineno:
            segments.append((out_line, lineno))
        out_line += 1
    segments.append((out_line, 0))  # the note is no line of the file
    segments.append((out_line + 1, tail_first))
    t = _decode(b"".join([head, *(ln for _, ln in middle), note, tail_data]))
    t.size, t.truncated, t.segments = total, True, segments
    return t


def open_input(name: str) -> BinaryIO:
    """Open a FILE argument for reading bytes; raises InputError with a one-sentence reason."""
    if os.path.isdir(name):
        raise InputError(f"{name} is a directory; give a file (or several)")
    try:
        return open(name, "rb")
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{name} is a directory; give a file (or several)") from None
    except OSError as e:
        raise InputError(f"{name}: cannot read ({e.strerror or e})") from None


def read_input(name: str, stdin: Optional[BinaryIO] = None) -> Text:
    """Read a FILE argument ('-' = standard input). Raises InputError with a one-sentence reason."""
    if name == "-":
        import sys

        if stdin is None:
            if sys.stdin is None or getattr(sys.stdin, "buffer", None) is None:
                raise InputError("standard input is closed: give a FILE, or pipe the text in")
            stdin = sys.stdin.buffer
        try:
            return read_stream(stdin, "standard input")
        except (OSError, ValueError) as e:  # a closed or unreadable descriptor
            raise InputError(f"standard input cannot be read ({getattr(e, 'strerror', None) or e})") from None
    with open_input(name) as fh:
        try:
            return read_stream(fh, name)
        except OSError as e:
            raise InputError(f"{name}: cannot read ({e.strerror or e})") from None
