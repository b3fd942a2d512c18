"""Known failures that look like this one: weak hints after the signatures (issue 10).

The signatures name a cause from the lines that fired. When they name fewer than three causes, the input is
compared with every known failure kept in kb/similar/exemplars.json (the knowledge base's own cases and
negatives, and the real pastes of the development set's dev part, each with its cause or with none for an
ordinary failure) by the rare words they share: a cosine over word sets, each word weighted by how rare it is
among the known failures (inverse document frequency). Causes of the nearest known failures that no signature
named are appended as hints:

- never confident, scored at most 0.2 x the similarity and never above a signature's match (the list stays
  sorted by score, signature matches first);
- only when the similarity is at least MIN_SIMILARITY and higher than that of the nearest known ordinary failure
  (a paste closer to a known plain error than to any cause gets no hint);
- marked `hint` (Match.hint), with the known case, its thread and the shared words as evidence, and the input line
  that holds most of them.

Hints are not evidence that the cause is present: the text report lists them apart ("Similar known failures"),
the notebook hook does not compute them, and `dnnfix scan` does not count them as a diagnosis. They exist so that
a paste in wording no signature knows yet still gets the likely causes to read about. Deterministic: the same
input and exemplar file give the same hints (ties broken by the case id).

scripts/build_exemplars.py writes the exemplar file; a test fails when it is out of date.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from .model import Evidence, Incident, Match

FORMAT = 2  # 2: the inverted index itself (index())
MIN_SIMILARITY = 0.2  # below this, two texts share too little to suggest anything
MIN_IDF = 1.0  # words in more than about a third of the known failures say nothing about which one this is
MAX_QUERY_WORDS = 8  # the rarest words say which known failure it is; the cost stays small on any input
SCORE_PER_SIMILARITY = 0.2  # a hint's score: at most 0.2 (identical word sets)
HINT_SIGNATURE = "similar-known-failure"
MAX_CAUSES = 3  # hints fill the causes up to this many


def words_of(text: str) -> List[str]:
    """The words two failures are compared by: runs of [a-z0-9_] of the lowercase text (normalize.words_in_order),
    starting with a letter, at least three characters long."""
    from .normalize import words_in_order

    return sorted(w for w in words_in_order(text.lower()) if len(w) > 2 and "a" <= w[0] <= "z")


def devset_id(path: str) -> str:
    """The exemplar id of the development-set case "<folder>/<file>" (tests/devset)."""
    return "devset:" + path


def exemplar_path(kb_dir: Optional[Path] = None) -> Path:
    if kb_dir is None:
        from .knowledge.load import builtin_dir

        kb_dir = builtin_dir()
    return kb_dir / "similar" / "exemplars.json"


def _rarity(n: int, df: int) -> float:
    """A word's weight among n known failures when df of them hold it (inverse document frequency): the one formula
    of the file's index, its loading and an evaluation that leaves a known failure out."""
    return math.log(n / (1 + df))


def index(rows: Sequence[Tuple[Optional[str], str, str, Sequence[str]]]) -> Dict[str, Any]:
    """The exemplar file's content for [(cause or None, id, thread address, words)]: each word in more than
    about a third of the known failures dropped (MIN_IDF), an inverted index of the others (word -> the
    exemplars holding it, ascending), and each exemplar's inverse vector length, so that loading is cheap."""
    n = len(rows)
    holders: Dict[str, List[int]] = {}
    for i, row in enumerate(rows):
        for w in set(row[3]):
            holders.setdefault(w, []).append(i)
    post = {w: ids for w, ids in sorted(holders.items()) if _rarity(n, len(ids)) > MIN_IDF}
    sq = [0.0] * n
    for w, ids in post.items():
        x = _rarity(n, len(ids)) ** 2
        for i in ids:
            sq[i] += x
    return {
        "format": FORMAT,
        "min_idf": MIN_IDF,
        "exemplars": [[c, i, s] for c, i, s, _w in rows],
        "inv_norms": [1.0 / (math.sqrt(x) or 1.0) for x in sq],
        "postings": post,
    }


class Memory:
    """The known failures as weighted word vectors: the inverted index of the exemplar file (index())."""

    def __init__(self, doc: Dict[str, Any]) -> None:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("min_idf") != MIN_IDF:
            raise ValueError("not an exemplar file of this version")
        rows: List[list] = doc["exemplars"]
        n = len(rows)
        self.cause: List[Optional[str]] = [r[0] for r in rows]
        self.case: List[str] = [r[1] for r in rows]
        self.source: List[str] = [r[2] for r in rows]
        self.inv_norm: List[float] = doc["inv_norms"]
        self.post: Dict[str, List[int]] = doc["postings"]
        if len(self.inv_norm) != n:
            raise ValueError("exemplar file: one inverse norm per exemplar")
        # a word's weight: how rare it is among the known failures
        self.idf: Dict[str, float] = {w: _rarity(n, len(ids)) for w, ids in self.post.items()}
        # the weighted words, rarest first (ties by the word): an input's rarest are found by one set intersection
        order = sorted(self.idf, key=lambda w: (-self.idf[w], w))
        self.rank: Dict[str, int] = {w: k for k, w in enumerate(order)}
        self.known = frozenset(order)
        self._ids: Optional[Dict[str, int]] = None  # exemplar id -> row, built when an evaluation leaves one out

    def shared(self, i: int, words: Iterable[str]) -> List[str]:
        """The weighted words of exemplar i among `words`, rarest first."""
        from bisect import bisect_left

        out = []
        for w in self.known.intersection(words):
            ids = self.post[w]
            k = bisect_left(ids, i)
            if k < len(ids) and ids[k] == i:
                out.append(w)
        return sorted(out, key=self.rank.__getitem__)

    def nearest(self, words: Iterable[str], exclude: Sequence[str] = (), floor: float = 0.0) -> List[Tuple[float, int]]:
        """(similarity, exemplar) for the exemplars at least `floor` alike that share a weighted word with the
        input (its MAX_QUERY_WORDS rarest), best first. `exclude`: exemplar ids left out as if they were not in the
        file (an evaluation of a known failure against the others): their words count neither in the rarity of a
        word nor as query words that only they share."""
        left = self._left_out(words, exclude) if exclude else None
        if left is not None:
            idf, q = left
        else:
            idf = self.idf
            q = sorted(self.known.intersection(words), key=self.rank.__getitem__)[:MAX_QUERY_WORDS]
        if not q:
            return []
        qnorm = math.sqrt(sum(idf[w] ** 2 for w in q))
        dot: Dict[int, float] = {}
        get = dot.get
        post = self.post
        for w in q:
            x = idf[w] * idf[w]
            for i in post.get(w, ()):
                dot[i] = get(i, 0.0) + x
        inv = self.inv_norm
        least = floor * qnorm  # s / (qnorm * norm) >= floor  <=>  s * inv_norm >= floor * qnorm
        out = [(s * inv[i] / qnorm, i) for i, s in dot.items() if s * inv[i] >= least]
        if exclude:
            skip = set(exclude)
            out = [t for t in out if self.case[t[1]] not in skip]
        out.sort(key=lambda t: (-t[0], self.case[t[1]]))
        return out

    def _left_out(self, words: Iterable[str], exclude: Sequence[str]) -> Optional[Tuple[Dict[str, float], List[str]]]:
        """The weights and the query nearest() uses with the `exclude` exemplars taken out of the file: each word's
        rarity counted over the others (a word only they hold is no query word). The other exemplars keep their
        stored norms (computed with them in): a small difference, only in evaluations. None when no excluded id is
        in the file (the stored weights hold as they are)."""
        from bisect import bisect_left

        if self._ids is None:
            self._ids = {c: i for i, c in enumerate(self.case)}
        gone = sorted(self._ids[c] for c in set(exclude) if c in self._ids)
        if not gone:
            return None
        n = len(self.case) - len(gone)
        idf: Dict[str, float] = {}
        for w in self.known.intersection(words):
            ids = self.post[w]
            df = len(ids)
            for i in gone:
                k = bisect_left(ids, i)
                if k < len(ids) and ids[k] == i:
                    df -= 1
            if df > 0 and n > 0:
                weight = _rarity(n, df)
                if weight > MIN_IDF:
                    idf[w] = weight
        q = sorted(idf, key=lambda w: (-idf[w], w))[:MAX_QUERY_WORDS]
        return idf, q


_MEMORY: Dict[Optional[str], Any] = {}


def memory(kb_dir: Optional[Path] = None) -> Optional[Memory]:
    """The exemplar memory, loaded once per process; None when the file is missing or unreadable (no hints)."""
    key = None if kb_dir is None else str(kb_dir)
    if key not in _MEMORY:
        p = exemplar_path(kb_dir)
        try:
            with open(p, encoding="utf-8") as fh:
                _MEMORY[key] = Memory(json.load(fh))
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):  # no usable file: no hints
            _MEMORY[key] = None
    return _MEMORY[key]


def hints(
    inc: Incident,
    matches: List[Match],
    kb,
    exclude: Sequence[str] = (),
    mem: Optional[Memory] = None,
    words: Optional[Dict[str, None]] = None,
) -> List[Match]:
    """Hint matches for the causes of the nearest known failures that `matches` does not name (see the module
    doc). `exclude`: exemplar ids to leave out (an evaluation never lets a case resemble itself). `words`: the
    input's words when the caller has them already (the matcher's, match_incident's stats), else found here."""
    named = list(dict.fromkeys(m.cause for m in matches))
    room = MAX_CAUSES - len(named)
    if room <= 0 or not inc.lines:
        return []
    mem = mem or memory()
    if mem is None:
        return []
    from .normalize import words_in_order

    if words is None:
        words = words_in_order("\n".join(inc.lines).lower())
    near = mem.nearest(words, exclude, floor=MIN_SIMILARITY)
    if not near:
        return []
    ordinary = next((s for s, i in near if mem.cause[i] is None), 0.0)
    causes = getattr(kb, "causes", None) or {}
    ceiling = min((m.score for m in matches), default=1.0)
    out: List[Match] = []
    seen = set(named)
    for sim, i in near:
        if sim <= ordinary or len(out) >= room:  # (nearest() kept only those at least MIN_SIMILARITY alike)
            break
        cause = mem.cause[i]
        if cause is None or cause in seen or (causes and cause not in causes):
            continue
        seen.add(cause)
        out.append(_hint(inc, mem, i, sim, cause, causes, ceiling, words.keys()))
    return out


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def _line_holding(lines: List[str], wanted: List[str]) -> Optional[int]:
    """The (1-based) line holding most of the `wanted` words as whole words (runs of [a-z0-9_], as
    normalize.words_in_order splits them), the first such line on a tie; None when none does. Each word's places
    in the lowercase text are found with str.find and kept where no word character stands on either side (two
    whole-word places never overlap, so each word can be looked for on its own)."""
    if not wanted or not lines:
        return None
    import bisect

    from . import rx

    text, starts = rx.join_lines([ln.lower() for ln in lines])
    size = len(text)
    found: Dict[int, set] = {}
    for w in wanted:
        n = len(w)
        i = text.find(w)
        while i >= 0:
            j = i + n
            if (i == 0 or text[i - 1] not in _WORD_CHARS) and (j >= size or text[j] not in _WORD_CHARS):
                found.setdefault(bisect.bisect_right(starts, i) - 1, set()).add(w)
            i = text.find(w, i + 1)
    best, line = 0, None
    for k in sorted(found):
        if len(found[k]) > best:
            best, line = len(found[k]), k + 1
    return line


def _hint(inc: Incident, mem: Memory, i: int, sim: float, cause: str, causes, ceiling: float, words) -> Match:
    top = mem.shared(i, words)[:6]
    line = _line_holding(inc.lines, top)
    where = f" ({mem.source[i]})" if mem.source[i] else ""
    text = f"resembles the known failure {mem.case[i]}{where}: shared words {', '.join(top)}; similarity {sim:.2f}"
    meta = causes.get(cause) if isinstance(causes, dict) else None
    title = (meta.get("summary") if isinstance(meta, dict) else None) or cause
    return Match(
        cause=cause,
        signature=HINT_SIGNATURE,
        title=f"Similar to a known failure: {title}",
        score=round(min(SCORE_PER_SIMILARITY * sim, ceiling), 4),
        confident=False,
        evidence=[Evidence("similar", text, line, 0.0)],
        hint=True,
    )
