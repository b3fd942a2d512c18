"""Big logs at disk speed: head + tail + error-like middle lines with their real line numbers, bounded memory,
the decisive line found wherever it is; compressed logs read by their magic bytes."""

import bz2
import gzip
import io
import lzma

import pytest

from dnnfix import readinput
from dnnfix.readinput import InputError, read_input, read_stream

CUDNN = (
    b"2024-01-01 00:00:00.000000: E tensorflow/compiler/xla/stream_executor/cuda/cuda_dnn.cc:429] Loaded runtime "
    b"CuDNN library: 8.1.0 but source was compiled with: 8.6.0.  CuDNN library needs to have matching major "
    b"version and equal or higher minor version.\n"
)
FINAL = (
    b'Traceback (most recent call last):\n  File "train.py", line 9, in <module>\n    model.fit(x, y)\n'
    b"tensorflow.python.framework.errors_impl.UnimplementedError: Graph execution error:\n\nDNN library is not found.\n"
)
ORDINARY = b"Epoch 3/50 1875/1875 [==============================] - 12s 6ms/step - loss: 0.1432 - accuracy: 0.9571\n"


@pytest.fixture(params=["ahocorasick_rs", "bytes.find"])
def engine(request, monkeypatch):
    """Both candidate-line finders: the automaton (when installed) and the plain fallback."""
    if request.param == "ahocorasick_rs":
        pytest.importorskip("ahocorasick_rs")
        monkeypatch.delenv("DNNFIX_NO_AHOCORASICK", raising=False)
    else:
        monkeypatch.setenv("DNNFIX_NO_AHOCORASICK", "1")
    monkeypatch.setattr(readinput, "_FINDER", None)
    assert readinput.finder().engine == request.param
    yield request.param
    readinput._FINDER = None


def numbered_log(n_lines, special):
    """Line k (1-based) reads 'line k ...'; `special` maps a line number to an error-like text."""
    out = io.BytesIO()
    for k in range(1, n_lines + 1):
        if k in special:
            out.write(b"line %d %s\n" % (k, special[k]))
        else:
            out.write(b"line %d ordinary progress step loss 0.25 accuracy 0.5 padding padding padding\n" % k)
    return out.getvalue()


def test_kept_lines_carry_their_real_line_numbers(engine):
    n = 120_000  # ~10 MB: above the whole-read threshold
    special = {
        50_000: b"RuntimeError: CUDA error: an illegal memory access",
        70_001: b"NCCL WARN timeout",
        90_000: b"E1204 10:11:12.345678 123 x.cc:1] not a glog line (does not start the line)",
    }
    t = read_stream(io.BytesIO(numbered_log(n, special)), "x")
    assert t.truncated and t.size > readinput.SMALL
    real = t.line_map
    lines = t.text.split("\n")
    checked = 0
    for i, ln in enumerate(lines, 1):
        if ln.startswith("line "):
            assert real(i) == int(ln.split()[1]), (i, ln)
            checked += 1
        elif ln.startswith("[... dnnfix kept"):
            assert real(i) is None
    kept = {int(ln.split()[1]) for ln in lines if ln.startswith("line ")}
    assert {50_000, 70_001} <= kept and 1 in kept and n in kept
    assert 60_000 not in kept and 90_000 not in kept and checked == len(kept)


def test_glog_and_native_log_levels(engine):
    special = {30_000: b"x", 30_001: b"y", 30_002: b"z"}
    data = bytearray(numbered_log(60_000, special))
    for k, text in (
        (30_000, b"E1204 10:11:12.345678  77 gpu.cc:1] failed to allocate"),
        (30_001, b"I1204 10:11:12.345678  77 gpu.cc:1] info only"),
        (30_002, b"2024-01-01 10:00:00: W tensorflow/core/x.cc:9] slow"),
    ):
        data = data.replace(b"line %d %s\n" % (k, special[k]), text + b"\n")
    t = read_stream(io.BytesIO(bytes(data)), "x")
    assert "failed to allocate" in t.text and ": W tensorflow/core/x.cc" in t.text and "info only" not in t.text


def test_memory_is_bounded_when_every_line_looks_like_an_error(engine):
    data = b"".join(b"RuntimeError: CUDA failure number %d\n" % k for k in range(600_000))  # ~23 MB
    data += b"RuntimeError: CUDA failure number 7\n" * 200_000  # a repeated line is kept once
    t = read_stream(io.BytesIO(data), "x")
    budget = readinput.HEAD + readinput.TAIL + readinput.MIDDLE_MAX + 2 * readinput.CHUNK + 1000
    assert t.truncated and len(t.text) < budget
    # the first and the last error-like lines of the middle are both kept, not those in between
    assert "failure number 10000\n" in t.text and "failure number 595000\n" in t.text
    assert "failure number 300000\n" not in t.text


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_decisive_line_anywhere_in_a_big_log(tmp_path, where):
    from dnnfix.api import diagnose_text
    from dnnfix.knowledge.load import load_kb

    n = 100_000
    body = [ORDINARY] * n
    at = {"start": 0, "middle": n // 2, "end": n}[where]
    body.insert(at, CUDNN)
    p = tmp_path / "big.log"
    p.write_bytes(b"".join(body) + FINAL)
    t = read_input(str(p))
    assert t.truncated
    d = diagnose_text(t.text, kb=load_kb(), truncated=True, line_map=t.line_map)
    assert d.top.cause == "tf.cudnn.version-mismatch"
    # evidence names the file's own line numbers
    assert at + 1 in d.top.lines and n + 7 in d.top.lines


def test_long_line_without_newline_and_crlf():
    data = b"x" * (6 << 20) + b"\r\nRuntimeError: CUDA error\r\n" + ORDINARY * 50_000
    t = read_stream(io.BytesIO(data), "x")
    assert t.truncated and "RuntimeError: CUDA error" in t.text


@pytest.mark.parametrize("kind", ["gzip", "bz2", "xz", "zstd"])
def test_compressed_logs_read_like_plain_ones(tmp_path, kind):
    data = numbered_log(80_000, {40_000: b"RuntimeError: CUDA out of memory."})
    if kind == "zstd":
        zstandard = pytest.importorskip("zstandard")
        packed = zstandard.ZstdCompressor().compress(data)
    else:
        packed = {"gzip": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[kind](data)
    plain = read_stream(io.BytesIO(data), "x")
    p = tmp_path / f"log.{kind}"
    p.write_bytes(packed)
    t = read_input(str(p))
    assert t.text == plain.text and t.segments == plain.segments and t.size == plain.size
    assert t.compression == {"bz2": "bzip2"}.get(kind, kind)


def test_damaged_compressed_and_binary_inputs_give_one_sentence(tmp_path):
    p = tmp_path / "cut.gz"
    p.write_bytes(gzip.compress(ORDINARY * 100_000)[:5000])
    with pytest.raises(InputError, match="damaged gzip data"):
        read_input(str(p))
    b = tmp_path / "model.bin.gz"
    b.write_bytes(gzip.compress(bytes(range(256)) * 100))
    with pytest.raises(InputError, match="gzip-compressed binary data"):
        read_input(str(b))


def test_small_inputs_are_read_whole_without_a_line_map():
    t = read_stream(io.BytesIO(b"a\nb\n"), "x")
    assert t.text == "a\nb\n" and not t.truncated and t.line_map is None
