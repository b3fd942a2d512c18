"""Matcher behaviour on a tiny fixture knowledge base: evidence, against, facts, ranking, determinism."""

from pathlib import Path

import pytest

from dnnfix.api import diagnose_text, fixes_for
from dnnfix.knowledge.load import build_kb

MINI = Path(__file__).parent / "fixtures" / "kb-mini"
LOADED = (
    "E tensorflow/stream_executor/cuda/cuda_dnn.cc:361] Loaded runtime CuDNN library: 8.0.5 but source was "
    "compiled with: 8.1.0.\nUnimplementedError: Graph execution error:\nDNN library is not found."
)
ONLY_MESSAGE = (
    "tensorflow.python.framework.errors_impl.UnimplementedError: Graph execution error:\nDNN library is not found."
)


@pytest.fixture(scope="module")
def kb():
    k = build_kb([MINI])
    assert k.diagnostics == []
    return k


def test_decisive_log_line_ranks_mismatch_first_with_evidence_and_captures(kb):
    d = diagnose_text(LOADED, kb=kb)
    top = d.matches[0]
    assert (top.cause, top.confident) == ("demo.cudnn.mismatch", True)
    assert top.facts["loaded"] == "8.0.5" and top.facts["compiled"] == "8.1.0"
    assert any("Loaded runtime CuDNN library: 8.0.5" in e.text and e.line == 1 for e in top.evidence)
    assert top.lines == [1, 2, 3]


def test_against_clause_lowers_the_look_alike(kb):
    d = diagnose_text(LOADED, kb=kb)
    missing = next(m for m in d.matches if m.cause == "demo.cudnn.missing")
    assert not missing.confident and any(e.against for e in missing.evidence)


def test_fact_comparison_from_snapshot_and_tables_changes_ranking(kb):
    alone = diagnose_text(ONLY_MESSAGE, kb=kb)
    assert not alone.confident  # the message alone is not proof
    derived = {"cuda": {"cudnn_version": "8.1.0"}}
    import dnnfix.api as api

    orig = api.derive
    api.derive = lambda snap, kb=None: {"expected": {"tf": {"cudnn": "8.9"}}}
    try:
        d = diagnose_text(ONLY_MESSAGE, kb=kb, env=derived)
    finally:
        api.derive = orig
    top = d.matches[0]
    assert top.cause == "demo.cudnn.mismatch" and top.confident
    assert any(e.kind == "fact" and "8.1.0 < expected.tf.cudnn = 8.9" in e.text for e in top.evidence)


def test_unknown_facts_never_fire(kb):
    d = diagnose_text(ONLY_MESSAGE, kb=kb, env={"python": {"version": "3.10"}})
    assert all(e.kind != "fact" for m in d.matches for e in m.evidence)


def test_fixes_quote_captured_facts(kb):
    top = diagnose_text(LOADED, kb=kb).matches[0]
    fixes = fixes_for(top, kb)
    assert fixes[0]["language"] == "bash" and "nvidia-cudnn-cu12==8.1.0.*" in fixes[0]["code"]


def test_fixes_quote_the_versions_the_paste_shows_when_no_snapshot_says():
    """Without a probe or --env, a version the paste's own package list shows fills {{tf_version}} (not the
    template's example value); a snapshot, when there is one, still speaks first."""
    from dnnfix.knowledge.load import load_kb

    kb = load_kb([])
    text = (
        "Traceback (most recent call last):\n"
        '  File "/home/user/env/lib/python3.11/site-packages/tcn/tcn.py", line 6, in <module>\n'
        "    from keras.src.saving import register_keras_serializable\n"
        "ModuleNotFoundError: No module named 'keras.src'\n\n"
        "tensorflow                2.12.0          mkl_py311h34a0fa1_0\n"
    )
    top = diagnose_text(text, kb=kb).matches[0]
    assert top.cause == "keras.tf-version-mismatch"
    assert "TensorFlow here: 2.12.0" in fixes_for(top, kb)[0]["code"]
    snap = {"packages": {"tensorflow": "2.13.1", "keras": "3.0.0"}}
    top = diagnose_text(text, kb=kb, env=snap).matches[0]
    assert "TensorFlow here: 2.13.1" in fixes_for(top, kb)[0]["code"]


def test_nothing_fits_is_an_honest_answer(kb):
    d = diagnose_text(
        'Traceback (most recent call last):\n  File "a.py", line 1\nFileNotFoundError: data/train.csv', kb=kb
    )
    assert d.matches == [] and d.fingerprint.startswith("dnnfix-") and d.family.startswith("FileNotFoundError")


def test_same_input_same_answer(kb):
    a = diagnose_text(LOADED, kb=kb)
    b = diagnose_text(LOADED, kb=kb)
    assert [(m.signature, m.score, [e.format() for e in m.evidence]) for m in a.matches] == [
        (m.signature, m.score, [e.format() for e in m.evidence]) for m in b.matches
    ]


def test_prefilter_skips_signatures_whose_words_are_absent(kb, monkeypatch):
    import dnnfix.matcher as matcher

    calls = []
    orig = matcher.score_signature
    monkeypatch.setattr(matcher, "score_signature", lambda sig, *a, **k: calls.append(sig.id) or orig(sig, *a, **k))
    diagnose_text("KeyError: 'label'", kb=kb)
    assert calls == []
    diagnose_text("Could not load dynamic library 'libcudnn.so.8'", kb=kb)
    assert calls == ["demo-missing"]


def test_wrapped_message_still_matches(kb):
    wrapped = "UnimplementedError: Graph execution error: Loaded runtime CuDNN library: 8.0.5 but source\nwas compiled with: 8.1.0."
    assert diagnose_text(wrapped, kb=kb).matches[0].cause == "demo.cudnn.mismatch"


def test_terminal_wrapped_paste_is_rejoined():
    """A paste cut at a fixed terminal width (even inside a word) still matches its signature."""
    from dnnfix.testing import assert_matches

    msg = (
        "RuntimeError: one of the variables needed for gradient computation has been modified by an inplace "
        "operation: [torch.FloatTensor [32, 10]], which is output 0 of AsStridedBackward0, is at version 2; "
        "expected version 1 instead. Hint: the backtrace further above shows the operation that failed."
    )
    wrapped = "\n".join(msg[i : i + 72] for i in range(0, len(msg), 72))
    assert_matches(wrapped, "torch.autograd.inplace-modified")


def test_one_line_cut_at_a_usual_terminal_width_is_rejoined():
    """A short paste shows no shared width; one line cut at 80 or 120 columns (even just after a space, which
    the paste then lost) is tried rejoined, and a record cut more than once is rejoined whole."""
    from dnnfix.testing import assert_matches

    line = (
        "2017-12-15 22:17:31.710780: F tensorflow/core/platform/cpu_feature_guard.cc:35] The TensorFlow library "
        "was compiled to use AVX2 instructions, but these aren't available on your machine."
    )
    for width in (80, 120):
        assert_matches("\n".join(line[i : i + width] for i in range(0, len(line), width)), "cpu.avx.unsupported")
    cut_at_space = "Could not install packages due to an EnvironmentError: [Errno 28] No space left \non device"
    assert len(cut_at_space.split("\n")[0]) == 80
    assert_matches(cut_at_space, "host.disk.full")


def test_a_prefixed_log_cut_at_the_terminal_width_is_rejoined():
    """A docker compose (or other collector) log cut by the terminal: the width on screen includes the
    "service-1  | " prefix that cleaning takes off, so the cut is found at the screen's width (the prefix's length
    is kept on the incident), and a message cut inside a word ("compatibl" / "e with") still matches."""
    from dnnfix.parse import parse_text
    from dnnfix.testing import assert_matches

    lines = [
        "web-1  | NVIDIA GeForce RTX 5070 Ti with CUDA capability sm_120 is not compatible with the current PyTorch "
        "installation.",
        "web-1  | The current PyTorch install supports CUDA capabilities sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90.",
    ]
    cut = "\n".join(ln[i : i + 80] for ln in lines for i in range(0, len(ln), 80))
    assert "compatibl\ne with" in cut
    inc = parse_text(cut)
    assert inc.prefixes == {0: len("web-1  | "), 2: len("web-1  | ")}
    assert len(inc.lines[0]) + inc.prefixes[0] == 80
    assert_matches(cut, "gpu.arch.unsupported")


def test_text_rewrapped_at_word_boundaries_is_rejoined():
    """Mail and forums re-wrap at word boundaries: lines of different lengths near the page's width (no usual
    terminal width, no width shared by three lines). Each such line is tried joined with the next."""
    import textwrap

    from dnnfix.testing import assert_matches

    line = (
        "2024-01-01 10:00:00.000000: E external/local_xla/xla/stream_executor/cuda/cuda_dnn.cc:535] Loaded runtime "
        "CuDNN library: 8.1.0 but source was compiled with: 8.9.4.  CuDNN library needs to have matching major "
        "version and equal or higher minor version. If using a binary install, upgrade your CuDNN library."
    )
    for width in (64, 72):
        wrapped = textwrap.wrap(line, width, break_on_hyphens=False)
        assert len({len(w) for w in wrapped}) == len(wrapped) and max(map(len, wrapped)) < 80
        assert_matches("\n".join(wrapped), "tf.cudnn.version-mismatch")


def test_a_short_line_is_no_piece_of_a_phrase():
    """A fuzzy phrase is looked for in lines long enough to hold it: a line that is one of its words ("Version",
    left alone by a cut) is no match for a long phrase."""
    from dnnfix.knowledge.load import load_kb

    text = (
        "2020-05-28 11:16:19.820524: I tensorflow/compiler/xla/service/service.cc:175]   StreamExecutor device (0): "
        "Host, Default\n Version\n"
    )
    causes = [m.cause for m in diagnose_text(text, kb=load_kb([])).matches]
    assert "tf.cudnn.version-mismatch" not in causes


def test_a_live_probe_speaks_only_for_pastes_from_this_machine(tmp_path):
    """This machine's facts are dropped for a paste naming another OS, Python, framework release or absent files."""
    from dnnfix.api import from_this_machine
    from dnnfix.parse import parse_text

    here = tmp_path / "train.py"
    here.write_text("")
    snap = {"os": {"system": "Linux"}, "python": {"version": "3.11.7"}, "packages": {"tensorflow-cpu": "2.21.0"}}
    local = parse_text(f'Traceback (most recent call last):\n  File "{here}", line 1, in <module>\nValueError: x')
    assert from_this_machine(local, snap)
    for text in (
        '  File "C:\\\\Users\\\\a\\\\x.py", line 1, in f\nValueError: x',
        '  File "/nowhere/at/all/x.py", line 1, in f\nValueError: x',
        ">>> tf.__version__\n'1.15.5'\nAttributeError: 'Tensor' object has no attribute 'numpy'",
        '  File "/usr/lib/python3.8/site-packages/x.py", line 1, in f\nValueError: x',
    ):
        assert not from_this_machine(parse_text(text), snap), text


def _shipped_case_texts(step: int):
    from dnnfix.knowledge.check import check

    res = check()
    texts = [c.text for c in res.cases] + [c.text for c in res.negatives]
    noise = "Epoch 3/50 1875/1875 [====] - 12s 6ms/step - loss: 0.0421\nI tensorflow/core/common_runtime/gpu/gpu_device.cc:1886] Created device /job:localhost/replica:0/task:0/device:GPU:0 with 14000 MB memory\n"
    return res.kb, [(noise * (i % 3)) + t for i, t in enumerate(texts[::step])]


@pytest.mark.shipped_data
def test_shared_work_per_input_gives_the_answers_of_each_signature_alone():
    """The matcher shares work between signatures on one input (the whole-text searches, fact conditions tested once,
    the plan kept on the knowledge base, stopping an all-conditions signature at its first miss). Scoring each
    candidate signature alone, on a fresh corpus with nothing shared, must give the same matches and evidence."""
    from dnnfix import matcher
    from dnnfix.api import make_facts
    from dnnfix.parse import parse_text

    kb, texts = _shipped_case_texts(5)
    assert len(texts) > 300
    compared = 0
    for text in texts:
        inc = parse_text(text)
        facts = make_facts(inc, None, False, kb)
        shared = {
            (m.signature, m.score, tuple(str(e) for e in m.evidence)) for m in matcher.match_incident(inc, kb, facts)
        }
        alone = set()
        for sig in kb.signatures:
            m = matcher.score_signature(sig, matcher._Corpus(inc), inc, facts, kb.compat[0] if kb.compat else None)
            if m is not None:
                alone.add((m.signature, m.score, tuple(str(e) for e in m.evidence)))
        assert shared == alone, text[:300]
        compared += len(alone)
    assert compared > 300


def test_first_line_found_from_the_whole_text_is_the_first_candidate_line():
    """_Corpus.first_in starts with one search of the whole text; it must find what a search of the candidate lines
    finds, for every regex clause of the shipped KB that has candidate lines in the input."""
    from dnnfix import matcher, rx
    from dnnfix.parse import parse_text

    kb, texts = _shipped_case_texts(11)
    clauses = [cl for s in kb.signatures for cl in list(s.match) + list(s.against) if cl.kind == "regex"]
    checked = 0
    for text in texts:
        corpus = matcher._Corpus(parse_text(text))
        for cl in clauses:
            cands = corpus.candidates(cl)
            if not cands:
                continue
            pat = rx.compiled(cl.pattern)
            want = pat.search_lines(corpus.lines, cands)
            got = corpus.first_in(pat, cands)
            assert (got is None) == (want is None), cl.pattern
            if got is not None:
                assert (got[0], got[1].start, got[1].end, got[1].groups) == (
                    want[0],
                    want[1].start,
                    want[1].end,
                    want[1].groups,
                ), cl.pattern
                checked += 1
    assert checked > 100
