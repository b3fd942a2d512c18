"""Known failures that look alike (dnnfix.resemble): weak hints after the signatures, never confident, listed
apart, absent from the notebook hook; the shipped exemplar file is current and holds no sealed case."""

import json
import sys
from pathlib import Path

import pytest
from _cli import dnnfix

from dnnfix import resemble
from dnnfix.api import diagnose_text
from dnnfix.knowledge.load import load_kb
from dnnfix.model import Incident, Match

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))


def memory_of(rows):
    """A Memory from [(cause or None, id, words)], through the exemplar file's JSON."""
    doc = json.loads(json.dumps(resemble.index([(c, i, "", ws) for c, i, ws in rows])))
    return resemble.Memory(doc)


FILLER = [[None, f"filler-{k}", ["common", "words", f"filler{k}x"]] for k in range(40)]  # makes rare words rare


def mem_for(*rows):
    return memory_of([tuple(r) for r in rows] + [tuple(f) for f in FILLER])


def inc(text):
    return Incident(lines=text.split("\n"))


def sig_match(cause, score):
    return Match(cause=cause, signature="s-" + cause, title=cause, score=score, confident=score >= 0.6, evidence=[])


KB = load_kb()


def test_nearest_known_failure_gives_its_cause_as_a_weak_hint_after_the_signatures():
    mem = mem_for(
        ("torch.cuda.oom", "a", ["allocator", "fragmented", "reserved", "pinned"]),
        ("tf.gpu.oom", "b", ["bfc", "allocator", "chunk"]),
    )
    text = "the allocator reported fragmented reserved memory\nsomething common"
    hs = resemble.hints(inc(text), [sig_match("host.ram.exhausted", 0.12)], KB, mem=mem)
    assert [h.cause for h in hs] == ["torch.cuda.oom", "tf.gpu.oom"][: len(hs)] and hs[0].cause == "torch.cuda.oom"
    h = hs[0]
    assert h.hint and not h.confident and h.signature == resemble.HINT_SIGNATURE
    assert 0 < h.score <= 0.12  # never above a signature's match: the list stays sorted, signatures first
    ev = h.evidence[0]
    assert ev.kind == "similar" and "allocator" in ev.text and "fragmented" in ev.text and ev.line == 1


def test_no_hint_when_a_known_ordinary_failure_is_as_close_or_the_signatures_named_three_causes():
    mem = mem_for(
        ("torch.cuda.oom", "a", ["allocator", "fragmented", "reserved"]),
        (None, "plain", ["allocator", "fragmented", "reserved", "keyerror"]),
    )
    text = "allocator fragmented reserved keyerror"
    assert resemble.hints(inc(text), [], KB, mem=mem) == []  # nearer to the ordinary failure
    mem2 = mem_for(("torch.cuda.oom", "a", ["allocator", "fragmented", "reserved"]))
    three = [sig_match(c, 0.3) for c in ("tf.gpu.oom", "host.ram.exhausted", "jax.gpu.oom")]
    assert resemble.hints(inc("allocator fragmented reserved"), three, KB, mem=mem2) == []
    # a cause a signature already named is not repeated as a hint
    assert resemble.hints(inc("allocator fragmented reserved"), [sig_match("torch.cuda.oom", 0.4)], KB, mem=mem2) == []
    assert [h.cause for h in resemble.hints(inc("allocator fragmented reserved"), [], KB, mem=mem2)] == [
        "torch.cuda.oom"
    ]


def test_exclusion_and_threshold_and_unknown_causes():
    mem = mem_for(
        ("torch.cuda.oom", "self", ["allocator", "fragmented", "reserved"]),
        ("no.such-cause", "odd", ["allocator", "fragmented", "reserved"]),
    )
    text = "allocator fragmented reserved"
    assert resemble.hints(inc(text), [], KB, exclude=["self"], mem=mem) == []  # the other names no known cause
    assert (
        resemble.hints(
            inc("allocator plus many unrelated words here " * 3),
            [],
            KB,
            mem=mem_for(("torch.cuda.oom", "a", ["allocator"] + [f"w{k}xx" for k in range(60)])),
        )
        == []
    )  # one shared word among many: below MIN_SIMILARITY


def test_a_left_out_known_failure_counts_as_absent_for_the_rarity_of_words_and_the_query():
    """An evaluation leaves a development-set case out of the known failures it is compared with: the words only
    it holds take no query place, and the others' rarity is counted without it, so that the answer is the one the
    paste got before it joined the file (not a hint pushed below the threshold by its own words)."""
    own = ["ownword1", "ownword2", "ownword3", "ownword4", "ownword5", "ownword6", "ownword7", "ownword8"]
    shared = ["allocator", "fragmented"]
    rows = [
        ("torch.cuda.oom", "self", own + shared),
        ("torch.cuda.oom", "other", shared + ["reserved", "pinned"]),
    ]
    with_self = mem_for(*rows)
    without = mem_for(rows[1])
    words = own + shared
    # the query of eight rarest words is all the case's own words when it counts: nothing else shares them
    near_in = with_self.nearest(words, exclude=["self"])
    assert near_in and with_self.case[near_in[0][1]] == "other"
    left = with_self._left_out(words, ["self"])
    assert left is not None
    idf, q = left
    assert set(q) == set(shared)  # the words only the left-out case holds are no query words
    ref = without.nearest(words)
    assert [without.case[i] for _s, i in ref] == ["other"]
    assert abs(idf["allocator"] - without.idf["allocator"]) < 1e-9  # rarity counted over the others
    # with nothing left out, the case's own words fill the eight query places, and the case itself is nearest
    q_all = sorted(with_self.known.intersection(words), key=with_self.rank.__getitem__)[:8]
    assert set(q_all) == set(own)
    assert with_self.nearest(words) and with_self.case[with_self.nearest(words)[0][1]] == "self"
    # an id that is not in the file changes nothing
    assert with_self._left_out(words, ["not-there"]) is None
    assert with_self.nearest(words, exclude=["not-there"]) == with_self.nearest(words)


def test_missing_or_broken_exemplar_file_means_no_hints(tmp_path):
    assert resemble.memory(tmp_path) is None  # no file
    (tmp_path / "similar").mkdir()
    (tmp_path / "similar" / "exemplars.json").write_text('{"format": 999}')
    resemble._MEMORY.pop(str(tmp_path), None)
    assert resemble.memory(tmp_path) is None
    good = resemble.index([("torch.cuda.oom", "a", "", ["allocator"])])
    (tmp_path / "similar" / "exemplars.json").write_text(json.dumps(dict(good, inv_norms=[])))  # one short
    resemble._MEMORY.pop(str(tmp_path), None)
    assert resemble.memory(tmp_path) is None
    (tmp_path / "similar" / "exemplars.json").write_text("not json")
    resemble._MEMORY.pop(str(tmp_path), None)
    assert resemble.memory(tmp_path) is None


@pytest.mark.shipped_data
def test_shipped_exemplar_file_is_current_and_holds_no_sealed_case():
    import build_exemplars
    from heldout_eval import sealed

    rows = build_exemplars.exemplars()
    text = build_exemplars.render(rows)
    assert resemble.exemplar_path(REPO / "kb").read_text(encoding="utf-8") == text, (
        "kb/similar/exemplars.json is out of date: run python scripts/build_exemplars.py"
    )
    devset = [i[len("devset:") :] for _c, i, _s, _w in rows if i.startswith("devset:")]
    assert devset and not [p for p in devset if sealed(p)]
    assert all(s.startswith("https://") for _c, i, s, _w in rows if i.startswith("devset:"))


@pytest.fixture(scope="module")
def known_unmatched():
    """A real paste of the development set's dev part that no signature recognises but that resembles itself."""
    from heldout_eval import load_cases

    for c in load_cases(REPO / "tests" / "devset", "dev"):
        if c["expected"] is None:
            continue
        d = diagnose_text(c["text"], probe=False, kb=KB, similar=False)
        if not d.matches:
            return c
    pytest.fail("every dev case has a signature match: pick another integration text")


def test_a_known_real_failure_no_signature_knows_gets_its_cause_as_a_hint(known_unmatched, tmp_path):
    c = known_unmatched
    d = diagnose_text(c["text"], probe=False, kb=KB)
    assert d.matches and d.matches[0].hint and d.matches[0].cause == c["expected"]
    assert not any(m.confident for m in d.matches)
    # an evaluation leaves the case itself out
    own = diagnose_text(c["text"], probe=False, kb=KB, exclude_similar=[resemble.devset_id(c["path"])])
    assert all(c["path"] not in m.evidence[0].text for m in own.matches)
    p = tmp_path / "paste.txt"
    p.write_text(c["text"], encoding="utf-8")
    rc, out, err = dnnfix("match", "--json", "--no-probe", str(p))
    assert rc == 0, err
    obj = json.loads(out)
    assert obj["schema_version"] == 3
    first = obj["matches"][0]
    assert first["hint"] is True and first["cause"] == c["expected"] and first["confident"] is False
    assert first["signature"] == "similar-known-failure" and resemble.devset_id(c["path"]) in first["evidence"][0]
    assert obj["causes"] == []  # the report's causes are signatures that fired
    rc, text, _ = dnnfix("match", "--no-probe", str(p))
    assert rc == 0 and "No known cause fits with confidence." in text
    assert "Similar known failures" in text and c["expected"] in text
    # dnnfix scan counts it as unknown (a hint is no diagnosis) and writes the same object
    rc, out, err = dnnfix("scan", "--json", "-q", str(p))
    row = json.loads(out.splitlines()[0])
    same = lambda o: {k: v for k, v in o.items() if k not in ("path", "elapsed_ms")}  # noqa: E731
    assert same(row) == same(obj)
    rc, out, err = dnnfix("scan", "--summary-only", "--json", str(p))
    assert json.loads(out)["split"]["unknown"] == 1


def test_the_notebook_panel_never_computes_hints(monkeypatch):
    from dnnfix.panel import build

    called = []
    monkeypatch.setattr(resemble, "hints", lambda *a, **k: called.append(a) or [])
    try:
        raise KeyError("no label column")
    except KeyError as e:
        p = build(e, KB, probe=False)
    assert p is not None and called == []
    d = diagnose_text("KeyError: 'no label column'", probe=False, kb=KB)
    assert called  # the same text through diagnose_text does ask for hints
    assert not [m for m in d.matches if m.hint]


def test_the_tui_lists_hints_after_the_signatures(known_unmatched):
    from dnnfix.tui.present import listed

    d = diagnose_text("CUDA out of memory. Tried to allocate 2.00 GiB\n" + known_unmatched["text"], probe=False, kb=KB)
    rows = listed(d, KB)
    kinds = [m.hint for m in rows]
    assert rows and kinds == sorted(kinds)  # signatures first, then hints
    if any(kinds):
        assert all(m.title.startswith("Similar to a known failure") for m in rows if m.hint)
    d = diagnose_text(known_unmatched["text"], probe=False, kb=KB)
    assert [m.cause for m in listed(d, KB)] == [m.cause for m in d.matches] and d.matches[0].hint


def test_the_text_report_lists_hints_beside_a_confident_cause_only_with_all(known_unmatched, tmp_path):
    from dnnfix.render_text import lines, plain
    from dnnfix.report import build

    text = "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB\n" + known_unmatched["text"]
    d = diagnose_text(text, probe=False, kb=KB)
    assert d.confident and any(m.hint for m in d.matches), [(m.cause, m.hint) for m in d.matches]
    from dnnfix.term import Style

    quiet = plain(lines(build(d, KB)), Style(False))
    loud = plain(lines(build(d, KB, show_all=True)), Style(False))
    assert "Similar known failures" not in quiet and "Similar known failures" in loud


def test_the_matchers_words_are_handed_on_only_when_they_are_the_inputs_own():
    """match_incident passes its words to the hints only when they are exactly the words of the input's lines; then
    the hints are those found from the lines themselves."""
    from dnnfix.matcher import match_incident
    from dnnfix.normalize import words_in_order
    from dnnfix.parse import parse_text

    plain = 'Traceback (most recent call last):\n  File "a.py", line 1, in <module>\nValueError: allocator\nfragmented'
    wrapped = "\n".join(["x" * 79 + "ab", "cd" + "y" * 79, "z" * 79 + "ef", "gh tail"])  # a terminal's 81-column cut
    for text, handed in ((plain, True), (wrapped, False)):
        p = parse_text(text)
        stats: dict = {}
        match_incident(p, KB, stats=stats)
        assert ("words" in stats) == handed, text
        if handed:
            assert set(stats["words"]) == set(words_in_order("\n".join(p.lines).lower()))
            mem = mem_for(("torch.cuda.oom", "near", ["allocator", "fragmented"]))
            assert resemble.hints(p, [], KB, mem=mem, words=stats["words"]) == resemble.hints(p, [], KB, mem=mem)
