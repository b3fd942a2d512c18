"""Incident + knowledge base (+ facts) -> ranked matches with evidence.

1. Prefilter: the input's word set selects the anchor clauses whose key word occurs (an index lookup per
   word, so cost follows the input, not the number of signatures).
2. Score: a signature fires when one of its anchors fires; its score is the noisy-OR of every fired clause
   weight, times (1 - w) for every fired `against` clause. Independent evidence (message, logs, exception
   type, frames, facts) thus adds up without ever exceeding 1.
3. Rank: score, then the number of independent pieces of evidence, then id (deterministic).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import Counter
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

from . import rx
from .facts import Facts, test_fact
from .knowledge.load import SYMPTOM_KEY, KnowledgeBase
from .model import Evidence, Incident, Match  # noqa: F401  (Match and Evidence are re-exported)
from .localised import english_lines
from .normalize import words_in_order
from .knowledge.signature import Clause, Signature

CONFIDENT = 0.6
# work budget per input, in characters scanned (deterministic: the same input always gets the same answer);
# ordinary pastes use a few hundred thousand; only pathological inputs reach it
WORK_BASE = 5_000_000
WORK_PER_CHAR = 200

# `frameworks:` in the matcher. A signature whose frameworks all belong to the big three families below is weighed
# down (like an `against` clause of this strength) when the paste's frames clearly belong to another family only:
# at least FRAMEWORK_MIN_FRAMES frames of known families, none of the signature's. Any other name in the list
# (python, any, numpy, transformers ...) leaves the signature alone: those errors show frames of every framework.
FRAMEWORK_AGAINST = 0.6
FRAMEWORK_MIN_FRAMES = 2
FRAMEWORK_FAMILY = {
    "tensorflow": "tensorflow",
    "tensorflow-gpu": "tensorflow",
    "tensorflow-cpu": "tensorflow",
    "keras": "tensorflow",
    "tf_keras": "tensorflow",
    "tf-keras": "tensorflow",
    "tensorflow_hub": "tensorflow",
    "torch": "pytorch",
    "pytorch": "pytorch",
    "torchvision": "pytorch",
    "torchaudio": "pytorch",
    "lightning": "pytorch",
    "pytorch_lightning": "pytorch",
    "torch_xla": "pytorch",
    "pytorch-xla": "pytorch",
    "jax": "jax",
    "jaxlib": "jax",
    "flax": "jax",
    "optax": "jax",
}
_SIG_FAMILIES: Dict[Tuple[str, ...], frozenset] = {}


def signature_families(frameworks: Sequence[str]) -> frozenset:
    """The framework families a signature is bound to; empty when any listed name is outside them."""
    key = tuple(frameworks)
    fams = _SIG_FAMILIES.get(key)
    if fams is None:
        names = [str(f).lower() for f in key]
        fams = (
            frozenset(FRAMEWORK_FAMILY[n] for n in names)
            if names and all(n in FRAMEWORK_FAMILY for n in names)
            else frozenset()
        )
        _SIG_FAMILIES[key] = fams
    return fams


def frame_families(inc: Incident) -> Dict[str, int]:
    """How many of the paste's frames lie in each framework family."""
    out: Dict[str, int] = {}
    for fr in inc.frames:
        fam = FRAMEWORK_FAMILY.get(fr.package or "")
        if fam:
            out[fam] = out.get(fam, 0) + 1
    return out


def _other_framework(sig: Signature, frames: Dict[str, int]) -> Optional[Evidence]:
    if not frames or FRAMEWORK_AGAINST <= 0:
        return None
    fams = signature_families(sig.frameworks)
    if not fams or any(f in frames for f in fams) or sum(frames.values()) < FRAMEWORK_MIN_FRAMES:
        return None
    other = ", ".join(sorted(frames))
    return Evidence(
        "frames",
        f"frames only in {other} (this signature is for {', '.join(sorted(fams))})",
        None,
        FRAMEWORK_AGAINST,
        against=True,
    )


_DIGITS = re.compile(r"\d")


_MAX_JOINED = 8000
_NEW: Any = object()
_NONE: FrozenSet[int] = frozenset()
# the fewest regex clauses (supporting and against) for which a fired signature tries them all in one RE2 Set pass
_SET_MIN = 4
_WORDCH = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def _shape(s: str) -> str:
    return _DIGITS.sub("0", s)


# literal run -> whether it is word characters only (_Corpus.holds); the runs are the knowledge base's, so few
_WORDY_RUN: Dict[str, bool] = {}

_TERM_WIDTHS = frozenset((80, 100, 120, 132, 140, 150, 160, 180, 200, 220, 240))


def _continues(a: str, b: str) -> bool:
    """Whether line b may continue line a, cut at the paste's wrap width: b is not empty, nor shaped as a starts."""
    return bool(b.strip()) and _shape(a[:12]) != _shape(b[:12])


def _wrap_widths(lens: List[int]) -> Set[int]:
    """The widths a paste whose lines are this long may have been hard-wrapped at (terminal or mail width): many
    lines sharing one exact length, a terminal's usual widths, a re-wrap at word boundaries."""
    widths = {w: k for w, k in Counter(lens).items() if w >= 60}  # (counted in C: most lines are shorter)
    wrap: Set[int] = set()
    if widths:
        # a terminal cuts every line at its width: the longest length is shared by several lines, none is longer
        width, count = max(widths.items(), key=lambda kv: (kv[1], kv[0]))
        longer = sum(k for w, k in widths.items() if w > width)
        if count >= 3 and longer <= 2:
            wrap = {width}
        # a terminal's usual widths: one line cut there is enough to try it rejoined (a short paste shows no
        # shared width); a line longer than the width shows that the paste was not cut at it
        # (a cut just after a space leaves the line one shorter: the paste lost its trailing space)
        longest = max(widths)
        wrap |= {w for w in _TERM_WIDTHS if (w in widths or w - 1 in widths) and w >= longest}
        # text re-wrapped at word boundaries (mail, forums): no line longer than a page's width; a line within
        # a word's length of the longest continues on the next
        if longest <= 100:
            wrap |= set(range(longest - 15, longest + 1))
    return wrap


_LONG_WORD = 20  # a word this long (a path, a URL, a dotted name) moved whole to the next line explains a short line


def _long_word_cuts(src: List[str], lens: List[int], cut: List[bool]) -> None:
    """Text re-wrapped at word boundaries (mail, forums) also ends a line early where the next word is too long to
    fit: "ValidationError: Unable to parse proto from file:" (49 characters) before a 43-character path, in a paste
    wrapped at 80. Such a line counts as cut when the next line's first word is long (_LONG_WORD) and would not have fit
    in the widest line's width; it is then rejoined like any cut line, and the line after it is no fresh record."""
    width = max(lens) if lens else 0
    if not 60 <= width <= 100:  # (the re-wrap reading of _wrap_widths: no line wider than a page)
        return
    for k in range(len(src) - 1):
        # (arithmetic first: most lines are cut already, too short, or followed by a line too short to hold a long word)
        if cut[k] or lens[k] < 20 or lens[k + 1] < _LONG_WORD:
            continue
        nxt = src[k + 1].lstrip()
        word = nxt.split(None, 1)[0] if nxt else ""
        if len(word) >= _LONG_WORD and lens[k] + 1 + len(word) > width:
            cut[k] = True


class _Corpus:
    """The input as the matcher sees it: lines, lowercase lines, word -> line index, virtual message lines."""

    def __init__(self, inc: Incident):
        self.frame_fw: Optional[Dict[str, int]] = None  # frame_families(inc), computed when first needed
        lines = list(inc.lines)
        linenos = list(range(1, len(lines) + 1))
        # exception messages joined into one line each, so that hard-wrapped messages still match
        self.message_idx: List[int] = []
        # whether self.words are exactly the words of the input's own lines (no word made by a rejoined cut, a cap
        # or a reading in English): then resemble.hints takes them instead of finding them again
        self.plain_words = True
        for e in inc.exceptions:
            if "\n" in e.message:
                # capped like any input line (normalize.py): a huge message must not cost more than its start
                joined = " ".join(x.strip() for x in e.message.split("\n"))
                if len(joined) > _MAX_JOINED:
                    self.plain_words = False
                lines.append(joined[:_MAX_JOINED])
                linenos.append(e.lineno_in_text or 0)
                self.message_idx.append(len(lines) - 1)
        # hard-wrapped pastes (terminal or mail width): many lines share one exact length; rejoin each such
        # line with the next, with and without a space (the wrap may have cut inside a word)
        n_real = len(inc.lines)
        lens = list(map(len, inc.lines))
        wrap = _wrap_widths(lens)
        wrap_shown: Set[int] = set()
        if inc.prefixes:
            # each line's width on screen, with the log prefix that cleaning took off: a terminal cut "web-1  | ..."
            # lines at its width, prefix included
            shown = list(lens)
            for k, extra in inc.prefixes.items():
                shown[k] += extra
            wrap_shown = _wrap_widths(shown)
        if wrap_shown:
            # a line was cut where its own width, or its width on screen, is one the paste was cut at
            cut = [w in wrap or w + 1 in wrap or s in wrap_shown or s + 1 in wrap_shown for w, s in zip(lens, shown)]
            wrap, lens = wrap | wrap_shown, shown
        elif wrap:
            cut = [w in wrap or w + 1 in wrap for w in lens]
            _long_word_cuts(inc.lines, lens, cut)
        if wrap:
            # a line that starts as a line of the paste starts where nothing was cut before it ("[rank0]", "Epoch ",
            # a timestamp) is the next record of a log, not the rest of a cut line
            fresh: Set[str] = set()
            prev = False
            for ln, was_cut in zip(inc.lines, cut):
                if not prev:
                    fresh.add(ln[:6])
                prev = was_cut
            added = 0
            src = inc.lines
            i = 0
            while i < n_real - 1 and added < 2000:
                # a run: lines cut at the width, then the line that ends the record; records of a log (same-shaped
                # starts) are not wrapped text
                j = i
                while (
                    j < n_real - 1
                    and j - i < 64
                    and src[j + 1][:6] not in fresh
                    and cut[j]
                    and _continues(src[j], src[j + 1])
                ):
                    j += 1
                if j == i:
                    i += 1
                    continue
                for k in range(i, j):  # each cut rejoined alone (as before), with and without a space
                    a, b = src[k], src[k + 1]
                    lines.append(a + b)
                    linenos.append(k + 1)
                    lines.append(a + " " + b.lstrip())
                    linenos.append(k + 1)
                    added += 1
                if j - i > 1:  # a record cut more than once: the whole of it
                    run = src[i : j + 1]
                    whole = ["".join(run), " ".join([run[0]] + [r.lstrip() for r in run[1:]])]
                    # cuts of both kinds in one record: at the full width inside a word, shorter after a space
                    full = max(lens[i:j])
                    mixed = run[0] + "".join(
                        (r if lens[i + k] == full else " " + r.lstrip()) for k, r in enumerate(run[1:])
                    )
                    if mixed not in whole:
                        whole.append(mixed)
                    for joined in whole:
                        lines.append(joined[:_MAX_JOINED])
                        linenos.append(i + 1)
                i = j
            if added:
                self.plain_words = False
        self._index(lines, linenos)
        # operating-system texts in the user's language (dlerror, strerror, signals, Windows errors): each such
        # line again, read in English, for signatures written against the English texts (localised.py)
        english = english_lines(inc.lines, "" if self.ascii_lower else "\n".join(inc.lines), self.words)
        first = len(lines)
        self.english = range(first, first + len(english))  # the lines read in English (indexes in self.lines)
        if english:
            self.plain_words = False
            self._index(lines + [en for _i, en in english], linenos + [i + 1 for i, _en in english])
        self.present: Dict[str, bool] = {}  # literal run -> whether the lowercase text holds it
        self._word_blob: Optional[str] = None
        self._text: Optional[str] = None
        self._starts: Optional[List[int]] = None
        self._bytes: Optional[bytes] = None
        self._clean: Optional[bool] = None
        self._lines: Dict[str, List[int]] = {}
        self._union: Dict[Tuple[str, ...], List[int]] = {}
        # set by match_incident from _plan(kb): id(clause) -> its regex may run over the whole text; its required
        # words as sets
        self.whole_ok: Dict[int, bool] = {}
        self.required: Dict[int, Tuple[frozenset, ...]] = {}
        self.fact_keys: Dict[int, Tuple[str, str]] = {}
        self.splits: Dict[int, Any] = {}
        self.sets: Dict[int, Any] = {}
        self.gates: Dict[int, Any] = {}
        # results of regex clauses already evaluated on this input (signatures share patterns)
        self.memo: Dict[Tuple[Any, ...], Any] = {}
        msg_lines = set(self.message_idx)
        for e in inc.exceptions:
            if e.lineno_in_text:
                msg_lines.add(e.lineno_in_text - 1)
        log_lines = {lg.lineno_in_text - 1 for lg in inc.logs}
        for k, (i, _en) in enumerate(english):  # a line read in English is a message or log line as its source is
            if i in msg_lines:
                msg_lines.add(first + k)
            if i in log_lines:
                log_lines.add(first + k)
        self.message_lines = msg_lines
        self.log_lines = log_lines

    def _index(self, lines: List[str], linenos: List[int]) -> None:
        self.lines = lines
        self.linenos = linenos
        self.lower = list(map(str.lower, lines))
        # a deterministic work budget (characters scanned), proportional to the input's size
        total = sum(map(len, lines))
        self.avg_len = total / len(lines) if lines else 0.0
        self.work = 0.0
        self.budget = WORK_BASE + WORK_PER_CHAR * total
        # the input's words in order of first appearance, from one pass over the whole text; the lines that hold
        # a word are looked up only for the words a clause asks about (_lines_with)
        self.total = total
        self._lower_text, self._lower_starts = rx.join_lines(self.lower)
        self.words: Dict[str, None] = words_in_order(self._lower_text)
        # ASCII text: a clause's literal runs (Clause.needles) can be looked for in the lowercase text as they are
        self.ascii_lower = self._lower_text.isascii()

    def text(self) -> Tuple[str, List[int]]:
        """All lines joined by newlines, and where each line starts in it."""
        if self._text is None:
            self._text, self._starts = rx.join_lines(self.lines)
        return self._text, self._starts  # type: ignore[return-value]

    def split(self, sig: Signature) -> Tuple[Tuple[Tuple[int, Clause, bool], ...], Tuple[Tuple[int, Clause], ...]]:
        """A signature's anchors (index, clause, whether the index keys it: a keyed regex or phrase) and its
        supporting clauses (index, clause), worked out once per signature (kept in the plan by id, with the
        clause list itself, so that a signature edited since is split again)."""
        got = self.splits.get(id(sig))
        if got is None or got[0] is not sig.match:
            anchors = tuple(
                (ci, cl, bool(cl.keys) and cl.kind in ("regex", "phrase"))
                for ci, cl in enumerate(sig.match)
                if cl.anchor
            )
            supports = tuple((ci, cl) for ci, cl in enumerate(sig.match) if not cl.anchor)
            got = self.splits[id(sig)] = (sig.match, anchors, supports)
        return got[1], got[2]

    def words_met(self, cl: Clause) -> bool:
        """Whether the input holds every word of some alternative a regex clause's matches need (Clause.required;
        True for a clause that needs none)."""
        if not cl.required:
            return True
        sets = self.required.get(id(cl))
        if sets is None:  # the first evaluation of this clause
            sets = self.required[id(cl)] = tuple(frozenset(alt) for alt in cl.required)
        words = self.words.keys()
        return any(alt <= words for alt in sets)

    def gate(self, sig: Signature) -> Optional[Dict[int, Clause]]:
        """For a signature all of whose anchors are keyed (a regex or phrase the index opens by a word): anchor index
        -> its regex clause, whose needed words (words_met) must be in the input for it to fire; a phrase anchor is
        left out (it cannot be told before trying). None for a signature with an anchor tried whatever the input's
        words (a fact, an exception class, an unkeyed regex) or one that needs all its anchors (env_only)."""
        got = self.gates.get(id(sig), _NEW)
        if got is not _NEW and got[0] is sig.match:
            return got[1]
        anchors, _ = self.split(sig)
        gate: Optional[Dict[int, Clause]] = None
        if not sig.env_only and all(keyed for _ci, _cl, keyed in anchors):
            gate = {ci: cl for ci, cl, _keyed in anchors if cl.kind == "regex"}
        self.gates[id(sig)] = (sig.match, gate)
        return gate

    def unmatched(self, sig: Signature) -> FrozenSet[int]:
        """The supporting (index in sig.match) and against (-1 - index in sig.against) regex clauses of a signature
        that match no line: one pass of an RE2 Set over the whole text (rx.PatternSet) for all of them, where the
        signature has enough of them to be worth it. A pattern that needs Python's re joins by its form without
        look-arounds (a superset), which proves a miss in ASCII text only (ascii_clean)."""
        plan = self.sets.get(id(sig))
        if plan is None or plan[0] is not sig.match or plan[1] is not sig.against:
            members: List[Tuple[int, bool]] = []  # (clause key, whether a miss of its form in the Set is proof alone)
            forms: List[str] = []
            clauses = [(ci, cl) for ci, cl in enumerate(sig.match) if not cl.anchor]
            clauses += [(-1 - ai, cl) for ai, cl in enumerate(sig.against)]
            for key, cl in clauses:
                if cl.kind != "regex" or not cl.pattern:
                    continue
                pat = rx.compiled(cl.pattern)
                if not pat.whole_text_safe():
                    continue
                if pat.engine == "re2":
                    members.append((key, True))
                    forms.append(cl.pattern)
                else:
                    relaxed = rx.without_lookarounds(cl.pattern)
                    if relaxed is not None and rx.re2_compile(relaxed) is not None:
                        members.append((key, False))
                        forms.append(relaxed)
            pset = rx.pattern_set(forms) if len(forms) >= _SET_MIN else None
            plan = self.sets[id(sig)] = (sig.match, sig.against, tuple(members), pset)
        pset = plan[3]
        if pset is None:
            return _NONE
        hits = pset.matching(self.encoded())
        if hits is None:
            return _NONE
        clean: Optional[bool] = None
        out = []
        for k, (key, alone) in enumerate(plan[2]):
            if k in hits:
                continue
            if not alone:
                if clean is None:
                    clean = self.ascii_clean()
                if not clean:
                    continue
            out.append(key)
        return frozenset(out)

    def holds(self, run: str) -> bool:
        """Whether the lowercase text holds `run`. A run of word characters only can lie only inside one of the
        text's words, so the words joined by spaces (each once: a fraction of the text) are searched instead."""
        wordy = _WORDY_RUN.get(run)
        if wordy is None:
            wordy = _WORDY_RUN[run] = run.isalnum() or run.replace("_", "").isalnum()
        if wordy:
            if self._word_blob is None:
                self._word_blob = " ".join(self.words)
            return run in self._word_blob
        return run in self._lower_text

    def encoded(self) -> bytes:
        """text() as UTF-8 bytes (RE2 searches bytes), encoded once for every pattern."""
        if self._bytes is None:
            self._bytes = self.text()[0].encode("utf-8", "surrogatepass")
        return self._bytes

    def ascii_clean(self) -> bool:
        """Whether text() is ASCII with none of the characters where Python's re and RE2 read classes apart
        (rx._ODD_ASCII): there, a look-around pattern's RE2 superset that finds nothing proves it matches nothing."""
        if self._clean is None:
            text = self.text()[0]
            self._clean = text.isascii() and not any(ch in text for ch in rx.ODD_ASCII_CHARS)
        return self._clean

    def first_in(self, pat: rx.Pattern, cands: Sequence[int]) -> Optional[Tuple[int, rx.Match]]:
        """The first line of `cands` (in order) where `pat` matches, like pat.search_lines, starting with one pass
        over the whole text: no match there means none in any line; a first match on a candidate line is the
        first among the candidates too (every earlier candidate line is an earlier line)."""
        if pat.whole_text_safe():
            if pat.engine == "re2":
                text, starts = self.text()
                hit = pat.search_text(text, starts, encoded=self.encoded())
                if hit is None:
                    return None
                k = hit[0]
                if isinstance(cands, range) or k in cands:
                    return hit
            elif self.ascii_clean():
                # the lines where the pattern's form without look-arounds matches, from one RE2 pass over the text
                # already joined: re runs on those of them that are candidates, in line order
                text, starts = self.text()
                hits = pat.superset_lines(text, starts)
                if hits is not None:
                    within = cands if isinstance(cands, range) else set(cands)
                    lines = self.lines
                    for k in hits:
                        if k in within:
                            m = pat.search(lines[k])
                            if m is not None:
                                return k, m
                    return None
        return pat.search_lines(self.lines, cands)

    def _lines_with(self, word: str) -> List[int]:
        """The lines (in order) that hold `word` (one of self.words) as a whole word: each place the word occurs
        in the lowercase text, with no word character on either side."""
        idx = self._lines.get(word)
        if idx is None:
            text, starts, n = self._lower_text, self._lower_starts, len(word)
            idx = []
            i = text.find(word)
            while i >= 0:
                j = i + n
                if (i == 0 or text[i - 1] not in _WORDCH) and (j >= len(text) or text[j] not in _WORDCH):
                    k = bisect.bisect_right(starts, i) - 1
                    if not idx or idx[-1] != k:
                        idx.append(k)
                i = text.find(word, j)
            self._lines[word] = idx
        return idx

    def candidates(self, cl: Clause) -> Sequence[int]:
        idx: Sequence[int]
        if cl.keys:
            # a phrase's words may drift; a regex has one key per top-level alternative: any of them may hold
            union = self._union.get(cl.keys)
            if union is None:
                lists = [self._lines_with(k) for k in cl.keys if k in self.words]
                if len(lists) == 1:
                    union = lists[0]  # already in line order
                else:
                    union = sorted(set().union(*lists)) if lists else []
                self._union[cl.keys] = union
            idx = union
        else:
            idx = range(len(self.lines))
        if cl.where == "message":
            return [i for i in idx if i in self.message_lines]
        if cl.where == "log":
            return [i for i in idx if i in self.log_lines]
        return idx


def _quote(s: str, limit: int = 160, start: int = 0, end: int = 0) -> str:
    """The line, or around the part [start:end] that fired when the line is long."""
    if len(s.strip()) <= limit:
        return s.strip()
    if end > start:
        pad = max(20, (limit - (end - start)) // 2)
        a, b = max(0, start - pad), min(len(s), end + pad)
        if b - a > limit + 40:
            b = a + limit + 40
        return ("..." if a > 0 else "") + s[a:b].strip() + ("..." if b < len(s) else "")
    return s.strip()[: limit - 3] + "..."


_fuzz: Any = None


def _load_fuzz():
    global _fuzz
    from rapidfuzz import fuzz

    _fuzz = fuzz
    return fuzz


def _eval(cl: Clause, corpus: _Corpus, inc: Incident, facts: Facts, captures: Dict[str, Any]) -> Optional[Evidence]:
    if cl.kind == "regex":
        if cl.required and not corpus.words_met(cl):
            return None  # the key word may be there, but not all the words every match needs
        if cl.needles and corpus.ascii_lower:
            present = corpus.present
            for runs in cl.needles:
                for run in runs:
                    there = present.get(run)
                    if there is None:  # clauses share runs ("cuda", "error"): each is looked for once per input
                        there = present[run] = corpus.holds(run)
                    if not there:
                        break
                else:
                    break  # this alternative's literal runs are all there: the regex may match
            else:
                return None  # no alternative has all its literal runs in the text: no line can match
        memo_key = (cl.pattern, cl.keys, cl.where)
        found = corpus.memo.get(memo_key, corpus)  # the corpus itself marks "not computed yet"
        if found is corpus:
            pat = rx.compiled(cl.pattern)
            whole = corpus.whole_ok.get(id(cl))
            if whole is None:
                whole = corpus.whole_ok[id(cl)] = _whole_text_ok(cl)
            if pat.engine == "re2" and whole:
                # one pass of RE2 over the whole text finds the same first line as the search of the candidate
                # lines (every match holds a key word: its line is a candidate), with no line lists to build
                corpus.work += corpus.total + len(corpus.lines)
                text, starts = corpus.text()
                found = pat.search_text(text, starts, encoded=corpus.encoded())
            else:
                cands = corpus.candidates(cl)
                if not cands:
                    found = None  # no line holds the clause's word: nothing to compile or search
                else:
                    corpus.work += len(cands) * (corpus.avg_len + 1)
                    found = corpus.first_in(pat, cands)
            corpus.memo[memo_key] = found
        if found is None:
            return None
        i, m = found
        for k, v in m.groups.items():
            if v is not None and k not in captures:
                captures[k] = v
        return Evidence(
            "regex", _quote(corpus.lines[i], start=m.start, end=m.end), corpus.linenos[i] or None, cl.weight
        )
    if cl.kind == "phrase":
        fuzz = _fuzz or _load_fuzz()
        needle = cl.phrase.lower()
        best, best_i = 0.0, -1
        cands = corpus.candidates(cl)
        corpus.work += len(cands) * (corpus.avg_len + len(needle)) * 4  # fuzzy alignment costs more per char
        # partial_ratio aligns the shorter string inside the longer: a line much shorter than the phrase ("Version")
        # would score 100 as a piece of it. A line must be long enough to hold the phrase at the ratio asked.
        shortest = len(needle) * cl.min_ratio / 100.0
        lower = corpus.lower
        for i in cands:
            if len(lower[i]) < shortest:
                continue
            s = fuzz.partial_ratio(needle, lower[i], score_cutoff=cl.min_ratio)
            if s > best:
                best, best_i = s, i
                if s >= 100:
                    break
        if best_i >= 0:
            al = fuzz.partial_ratio_alignment(needle, corpus.lower[best_i])
            text = (
                _quote(corpus.lines[best_i], start=al.dest_start, end=al.dest_end)
                if al
                else _quote(corpus.lines[best_i])
            )
            return Evidence(
                "phrase", text + f'  (~{best:.0f}% like "{cl.phrase}")', corpus.linenos[best_i] or None, cl.weight
            )
        return None
    if cl.kind == "exception":
        excs = inc.exceptions[-1:] if cl.last_only else inc.exceptions
        for e in reversed(excs):
            if "*" in cl.types or e.name in cl.types:
                return Evidence("exception", f"exception {e.name}", e.lineno_in_text, cl.weight)
        return None
    if cl.kind == "frames":
        for fr in inc.frames:
            if (cl.package and fr.package == cl.package) or (
                cl.path_rx and rx.compiled(cl.path_rx).search(fr.file.replace("\\", "/")) is not None
            ):
                what = f"frames in {fr.package}" if cl.package else f"frame {fr.file}"
                return Evidence("frames", what, fr.lineno_in_text, cl.weight)
        return None
    if cl.kind == "fact":
        if captures:  # the condition may name a captured value
            said = test_fact(facts, cl.fact or {}, captures)
        else:  # signatures share conditions ("a GPU is listed", "torch < 2"): each is tested once per input
            key = corpus.fact_keys.get(id(cl))
            if key is None:
                key = corpus.fact_keys[id(cl)] = _fact_key(cl.fact or {})
            said = corpus.memo.get(key, corpus)
            if said is corpus:
                said = corpus.memo[key] = test_fact(facts, cl.fact or {}, captures)
        return Evidence("fact", said, None, cl.weight) if said else None
    return None


def score_signature(
    sig: Signature,
    corpus: _Corpus,
    inc: Incident,
    facts: Facts,
    tables: Optional[Dict[str, Any]] = None,
    opened: Optional[Set[int]] = None,
) -> Optional[Match]:
    """`opened`: the indexed anchors whose key word the input holds; a keyed regex or phrase anchor outside it
    cannot fire (no line holds its key), so it is not tried."""
    captures: Dict[str, Any] = {}
    fired: Dict[int, Evidence] = {}
    anchors, supports = corpus.split(sig)
    # anchors first: most candidates stop here, before any supporting clause is evaluated
    every = sig.env_only  # a known-bad combination holds only when all of its conditions do
    for ci, cl, keyed in anchors:
        if keyed and opened is not None and ci not in opened:
            if every:
                return None
            continue
        ev = _eval(cl, corpus, inc, facts, captures)
        if ev is not None:
            fired[ci] = ev
        elif every:
            return None
    if not fired:
        return None
    # the signature fired: its other regex clauses (supports, againsts) are first tried together in one pass
    skip = corpus.unmatched(sig)
    if any(k.startswith("drift_") for k in captures):  # a missing name: look it up in the API-drift table
        from .knowledge.drift import derive_facts

        captures.update(derive_facts(captures, facts, tables, "\n".join(corpus.lines)))
    for ci, cl in supports:
        if ci in skip:
            continue
        ev = _eval(cl, corpus, inc, facts, captures)
        if ev is not None:
            fired[ci] = ev
    if corpus.english and len(fired) > 1:
        _drop_doubles(sig, fired, corpus)
    evidence = [fired[ci] for ci in sorted(fired)]
    miss = 1.0
    for ci in fired:
        miss *= 1.0 - sig.match[ci].weight
    score = 1.0 - miss
    for ai, cl in enumerate(sig.against):
        if -1 - ai in skip:
            continue
        ev = _eval(cl, corpus, inc, facts, dict(captures))  # against clauses may compare with captured facts
        if ev is not None:
            ev.against = True
            evidence.append(ev)
            score *= 1.0 - cl.weight
    if sig.frameworks and inc.frames:
        if corpus.frame_fw is None:
            corpus.frame_fw = frame_families(inc)
        ev = _other_framework(sig, corpus.frame_fw)
        if ev is not None:
            evidence.append(ev)
            score *= 1.0 - ev.weight
    score = round(score, 4)
    return Match(
        cause=sig.cause,
        signature=sig.id,
        title=sig.title,
        score=score,
        confident=score >= CONFIDENT,
        evidence=evidence,
        facts=_importable(captures),
        status=sig.status,
        fix_first=next((sig.match[ci].fix for ci in sorted(fired) if sig.match[ci].fix), sig.fix_first),
    )


# a framework's display name captured as `module` ("TFBertModel requires the PyTorch library", RLlib's "PyTorch was
# specified as the framework"): the fixes fill {{module}} into `pip install` and `import`, which need the package's name
# ("pip install PyTorch" installs a stub that refuses; "import PyTorch" fails)
_IMPORT_NAMES = {
    "PyTorch": "torch",
    "pytorch": "torch",  # transformers 5.x: "You need to install pytorch to use this method or class"
    "TorchAO": "torchao",  # accelerate: "TorchAO is not available. Please install it or use a different backend."
    "TensorFlow": "tensorflow",
    "Flax": "flax",
    "JAX": "jax",
    "Keras": "keras",
    "FlashAttention": "flash_attn",  # transformers 5.x: "the package for FlashAttention2 doesn't seem to be installed"
    "PEFT": "peft",  # diffusers: "PEFT backend is required for this method"
    "Ray": "ray",  # vLLM: "Failed to import Ray, please install Ray"; ultralytics: "Ray Tune required but not found"
    "Pycocotools": "pycocotools",
    "vLLM": "vllm",  # Unsloth: "Please install vLLM before enabling `fast_inference`"
    "Unsloth": "unsloth",
    "TF-Keras": "tf_keras",  # TensorFlow Probability: "Failed to import TF-Keras"
    "DeepSpeed": "deepspeed",  # Lightning: "you must have DeepSpeed installed"
}


def _importable(captures: Dict[str, Any]) -> Dict[str, Any]:
    """`module` as the name `import` takes: a display name from the table, and a distribution name as pip spells it
    ("liger-kernel", "unsloth-zoo", "auto-gptq": no module name holds a hyphen; pip accepts either spelling)."""
    name = captures.get("module")
    if name in _IMPORT_NAMES:
        captures["module"] = _IMPORT_NAMES[name]
    elif isinstance(name, str) and "-" in name:
        captures["module"] = name.replace("-", "_")
    return captures


def _drop_doubles(sig: Signature, fired: Dict[int, Evidence], corpus: _Corpus) -> None:
    """A line read in English (localised.py) is the same line again: a regex clause that fired only on the English
    reading of a line where another clause of the signature fired as pasted (a clause written for the localised
    form) counts once, as pasted."""
    where: Dict[int, Tuple[bool, Optional[int]]] = {}
    for ci in fired:
        cl = sig.match[ci]
        hit = corpus.memo.get((cl.pattern, cl.keys, cl.where)) if cl.kind == "regex" else None
        if hit:
            where[ci] = (hit[0] in corpus.english, corpus.linenos[hit[0]])
    pasted = {line for translated, line in where.values() if not translated}
    for ci, (translated, line) in where.items():
        if translated and line in pasted:
            del fired[ci]


def _fact_key(cond: Dict[str, Any]) -> Tuple[str, str]:
    """A fact condition as a memo key: equal conditions (written in different signatures) share one."""
    import json

    return ("fact", json.dumps(cond, sort_keys=True, default=str))


def _plan(
    kb: KnowledgeBase,
) -> Tuple[
    Dict[int, bool],
    Dict[int, Tuple[frozenset, ...]],
    Dict[int, Tuple[str, str]],
    Dict[int, Any],
    Dict[int, Any],
    Dict[int, Any],
]:
    """What the matcher works out once per clause and keeps on the knowledge base, by id(clause), filled as
    clauses are first evaluated (_eval):
    - whole: True for the regex clauses whose search over the whole text gives the same answer as over their
      candidate lines (_whole_text_ok);
    - required: a regex clause's required words as sets, one per alternative (tested against the input's words
      in one step);
    - fact_keys: a fact clause's condition as a memo key (_fact_key);
    - splits: by id(signature), its anchors and supporting clauses (_Corpus.split);
    - sets: by id(signature), its supporting and against regex clauses in one RE2 Set (_Corpus.unmatched);
    - gates: by id(signature), the words its keyed anchors need (_Corpus.gate)."""
    plan = kb.__dict__.get("_matcher_plan")
    if plan is None:
        plan = kb.__dict__["_matcher_plan"] = ({}, {}, {}, {}, {}, {})
    return plan


def _whole_text_ok(cl: Clause) -> bool:
    """No keys (every line is a candidate), or a key in every alternative of the words its matches need (a
    match's line holds that key as a whole word)."""
    if cl.where != "any":
        return False
    return not cl.keys or bool(cl.required) and all(any(k in alt for k in cl.keys) for alt in cl.required)


def hold_back_experimental(matches: List[Match]) -> List[Match]:
    """`status: experimental` signatures are offered but never shown as confident. Front-ends that act on
    confidence without a person asking (the notebook hook) apply this; `dnnfix match` and `kb test` keep the raw
    scores, so that cases can show when an experimental signature deserves promotion
    (scripts/promote_signatures)."""
    for m in matches:
        if m.confident and m.status == "experimental":
            m.confident = False
    return matches


def match_incident(
    inc: Incident, kb: KnowledgeBase, facts: Optional[Facts] = None, stats: Optional[Dict[str, Any]] = None
) -> List[Match]:
    """Ranked matches. `stats`, when given, receives what the work budget left out ("skipped": how many
    candidate signatures were not tried, "candidates": how many there were)."""
    facts = facts or Facts(text=inc.facts)
    corpus = _Corpus(inc)
    corpus.whole_ok, corpus.required, corpus.fact_keys, corpus.splits, corpus.sets, corpus.gates = _plan(kb)
    # signature -> the indexed anchors whose key word the input holds (None: try every anchor)
    todo: Dict[int, Optional[Set[int]]] = {}
    # the input's words, and the symptoms it shows (keyed by their fact path: no word holds a dot)
    symptoms = [SYMPTOM_KEY + kind for kind in inc.facts.get("symptom") or ()]
    index = kb.index
    # the input's words that key some clause (most words key none: a log's numbers, paths, names), found by a set
    # intersection, in the input's order of first appearance
    keyed: List[str] = list(index.keys() & corpus.words.keys())
    if len(keyed) > 1:
        place = dict(zip(corpus.words, range(len(corpus.words))))
        keyed.sort(key=place.__getitem__)
    for w in itertools.chain(keyed, symptoms):
        for si, ci in index.get(w, ()):
            opened = todo.get(si, _NEW)
            if opened is _NEW:
                todo[si] = {ci}
            elif opened is not None:
                opened.add(ci)
    for si, _ci in kb.unkeyed:
        todo[si] = None
    if facts.snapshot:
        for si in kb.env_only:
            todo[si] = None
    out: List[Match] = []
    order = list(todo)
    done = 0
    for si in order:
        if corpus.work > corpus.budget:
            break  # the budget for an input this size is spent: what was found so far is the answer
        sig = kb.signatures[si]
        done += 1
        opened = todo[si]
        if opened is not None:
            # a signature whose anchors are all keyed cannot fire when no opened anchor has every word of some
            # alternative it needs (the test _eval makes first): dismissed without trying it
            gate = corpus.gate(sig)
            if gate is not None and not any(ci not in gate or corpus.words_met(gate[ci]) for ci in opened):
                continue
        m = score_signature(sig, corpus, inc, facts, kb.compat[0] if kb.compat else None, opened=opened)
        if m is not None:
            out.append(m)
    if stats is not None:
        stats["candidates"], stats["skipped"] = len(order), len(order) - done
        if corpus.plain_words:
            stats["words"] = corpus.words
    out.sort(key=lambda m: (-m.score, -sum(1 for e in m.evidence if not e.against), m.signature))
    return out
