"""Finding, loading, merging and caching knowledge bases.

Built-in KB: `dnnfix/_kb` in an installed wheel, `kb/` beside the package in a checkout. User and team KBs:
`--kb DIR` (CLI), `DNNFIX_KB_PATH` (os.pathsep-separated), and the per-user folder. A user signature with
the same id overrides the built-in one; `disabled: true` switches it off.

Loading parses YAML once and keeps a compiled form (plain data, never a pickle: dnnfix/knowledge/cache.py) in the user cache folder,
keyed by the dnnfix version and every file's path, size and modification time, so later runs start in a few
milliseconds.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .signature import Diagnostic, Signature

FORMAT_VERSION = 22  # 17: Clause.needles (the substring prefilter: alternatives of literal runs); 20: symptom keys;
# 21: Clause.fix; 22: shared clauses (Clause.shared, KnowledgeBase.clauses)


def builtin_dir() -> Path:
    here = Path(__file__).resolve().parent.parent  # the dnnfix package folder
    packaged = here / "_kb"
    if packaged.is_dir():
        return packaged
    return here.parent / "kb"


def user_dir() -> Path:
    override = os.environ.get("DNNFIX_USER_KB")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("dnnfix", appauthor=False)) / "kb"


def kb_dirs(extra: Sequence[str] = ()) -> List[Path]:
    """Built-in KB first, then user folders in increasing priority order (last wins on id clashes)."""
    users: List[Path] = [Path(p) for p in extra]
    env = os.environ.get("DNNFIX_KB_PATH", "")
    users += [Path(p) for p in env.split(os.pathsep) if p]
    try:
        ud = user_dir()
        if ud.is_dir():
            users.append(ud)
    except (ImportError, OSError):  # without platformdirs, or an unreadable home
        pass
    seen = set()
    ordered: List[Path] = []
    for p in [builtin_dir()] + list(reversed(users)):
        key = str(p.resolve()) if p.exists() else str(p)
        if key not in seen:
            seen.add(key)
            ordered.append(p)
    return ordered


def first_user_dir(extra: Sequence[str] = ()) -> Path:
    """Where new signatures go: --kb, else the first DNNFIX_KB_PATH entry, else the per-user folder."""
    if extra:
        return Path(extra[0])
    env = [p for p in os.environ.get("DNNFIX_KB_PATH", "").split(os.pathsep) if p]
    return Path(env[0]) if env else user_dir()


@dataclass
class Explanation:
    cause: str
    title: str
    sections: Dict[str, str]  # section name -> Markdown body
    fixes: List[Dict[str, str]]  # {title, language, code, note}
    path: str = ""


@dataclass
class KnowledgeBase:
    signatures: List[Signature]
    causes: Dict[str, Dict[str, str]]
    explanations: Dict[str, Explanation]
    families: Dict[str, str]
    dirs: List[str]
    diagnostics: List[Diagnostic] = field(default_factory=list)
    # prefilter: key word -> [(signature index, clause index)]
    index: Dict[str, List[Tuple[int, int]]] = field(default_factory=dict)
    unkeyed: List[Tuple[int, int]] = field(default_factory=list)
    env_only: List[int] = field(default_factory=list)
    compat: Optional[Tuple[Dict[str, Any], List[Dict[str, Any]]]] = None  # parsed kb/compat tables
    # shared clauses (clauses.yaml) by name: {"clause": the clause mapping, "path": file, "line": n}
    clauses: Dict[str, Dict[str, Any]] = field(default_factory=dict)

    def by_id(self, sid: str) -> Optional[Signature]:
        """The (first) signature with this id, or None. The id -> position
        map is kept while the list is the same object of the same length; a KB read from the cache knows its
        ids without building its signatures."""
        sigs = self.signatures
        memo = self.__dict__.get("_by_id")
        if memo is None or memo[0] is not sigs or memo[1] != len(sigs):
            ids = getattr(sigs, "ids", None) or [s.id for s in sigs]  # LazySignatures knows them unbuilt
            first: Dict[str, int] = {}
            for i, k in enumerate(ids):
                first.setdefault(k, i)
            memo = self.__dict__["_by_id"] = (sigs, len(sigs), first)
        at = memo[2].get(sid)
        if at is None:
            return None
        s = sigs[at]
        return s if s.id == sid else next((x for x in sigs if x.id == sid), None)


def _files(dirs: Sequence[Path]) -> List[Tuple[str, int, int]]:
    out = []
    for d in dirs:
        if not d.is_dir():
            continue
        for root, dnames, fnames in os.walk(d):
            dnames[:] = sorted(x for x in dnames if not x.startswith((".", "__")))
            for f in sorted(fnames):
                if f.endswith((".yaml", ".yml", ".md")) and not f.endswith((".cases.yaml", ".cases.yml")):
                    p = os.path.join(root, f)
                    try:
                        st = os.stat(p)
                    except OSError:
                        continue
                    out.append((p, st.st_mtime_ns, st.st_size))
    return out


_LOADED: Dict[Tuple[str, ...], KnowledgeBase] = {}


def load_kb(extra: Sequence[str] = (), *, use_cache: bool = True) -> KnowledgeBase:
    """The merged knowledge base. Cached in memory per folder list and on disk per file state."""
    dirs = kb_dirs(extra)
    mem_key = tuple(str(d) for d in dirs)
    files = _files(dirs)
    from .. import __version__

    h = hashlib.sha1(repr((FORMAT_VERSION, __version__, sys.version_info[:2], mem_key, files)).encode()).hexdigest()[
        :20
    ]
    cached = _LOADED.get(mem_key)
    if cached is not None and getattr(cached, "_key", None) == h:
        return cached
    from . import cache

    kb: Optional[KnowledgeBase] = cache.read(h) if use_cache else None
    if kb is None:
        kb = build_kb(dirs, vet_builtin=False)  # kb check vets the shipped patterns; a cold first diagnosis need not
        if use_cache:
            cache.write(kb, h)
    kb._key = h  # type: ignore[attr-defined]
    _LOADED[mem_key] = kb
    return kb


def read_yaml(path: Path, diags: List[Diagnostic]):
    """Parse one KB file with positions; a problem becomes a diagnostic and None, never an exception."""
    from .yamlmarks import YamlError, load

    try:
        return load(path.read_text(encoding="utf-8"))
    except YamlError as e:
        diags.append(Diagnostic(str(path), e.line, e.col, "DNX001", f"YAML syntax error: {e.message}"))
    except UnicodeDecodeError:
        diags.append(Diagnostic(str(path), 1, 1, "DNX002", "not UTF-8 text"))
    except OSError as e:
        diags.append(Diagnostic(str(path), 1, 1, "DNX002", f"cannot read: {e.strerror or e}"))
    return None


def _top_mappings(dirs: Sequence[Path], diags: List[Diagnostic], key: str, code: str, shape: str):
    """(path, located file, mapping) for every folder's `<key>.yaml` whose top-level `<key>:` is a mapping; a file
    without one is a `code` diagnostic."""
    for d in dirs:
        p = d / f"{key}.yaml"
        loc = read_yaml(p, diags) if p.is_file() else None
        if loc is None:
            continue
        entries = loc.data.get(key) if isinstance(loc.data, dict) else None
        if not isinstance(entries, dict):
            diags.append(Diagnostic(str(p), 1, 1, code, f"{key}.yaml needs a '{key}:' mapping of {shape}"))
            continue
        yield p, loc, entries


def load_causes(dirs: Sequence[Path], diags: List[Diagnostic]) -> Dict[str, Dict[str, str]]:
    causes: Dict[str, Dict[str, str]] = {}
    for p, loc, entries in _top_mappings(dirs, diags, "causes", "DNX140", "id -> {category, summary}"):
        for cid, meta in entries.items():
            if not isinstance(meta, dict) or not all(isinstance(meta.get(k), str) for k in ("category", "summary")):
                # an entry that is not a mapping, or lacks its category or summary, would be kept empty: say so
                _bad_cause(
                    diags,
                    p,
                    loc.where("causes", cid),
                    f"needs a mapping with a category and a summary (text each), got {meta!r}",
                    cid,
                )
            meta = meta if isinstance(meta, dict) else {}
            for key, val in meta.items():
                # `origin: project` marks the project's own causes (outside evaluations score only the canonical ids);
                # a misspelt key would pass silently and lose that mark
                if key not in _CAUSE_KEYS or (key == "origin" and val != "project"):
                    where = loc.where("causes", cid, key)
                    _bad_cause(diags, p, where, f"{key}: {val!r} is not one of category, summary, origin: project", cid)
            causes[str(cid)] = dict(meta)
    return causes


_CAUSE_KEYS = frozenset(("category", "summary", "origin"))


def _bad_cause(diags: List[Diagnostic], path: Path, where: Tuple[int, int], msg: str, cid: Any) -> None:
    """A DNX142 diagnostic at a cause entry (or one of its keys) of causes.yaml."""
    line, col = where
    diags.append(Diagnostic(str(path), line, col, "DNX142", f"cause {cid}: {msg}"))


# a shared clause's name: kebab-case words, optionally grouped with dots (failed.traceback)
_CLAUSE_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*$")


def load_clauses(dirs: Sequence[Path], diags: List[Diagnostic]) -> Dict[str, Dict[str, Any]]:
    """The shared clauses of every folder's clauses.yaml (`clauses:` name -> clause mapping), by name; a later folder
    (a user KB) may define its own names or redefine a built-in one. A signature's `- use: NAME` item stands for the
    clause (compiled there, so a broken shared clause is reported at each use, naming it)."""
    out: Dict[str, Dict[str, Any]] = {}
    for p, loc, entries in _top_mappings(dirs, diags, "clauses", "DNX145", "name -> clause"):
        for name, clause in entries.items():
            line, col = loc.where("clauses", name)
            problem = ""
            if not isinstance(name, str) or not _CLAUSE_NAME.match(name):
                problem = f"name {name!r} is not kebab-case words (dots may group them: failed.traceback)"
            elif not isinstance(clause, dict):
                problem = f"'{name}' must be a clause mapping (regex, phrase, exception, frames or fact, with its keys)"
            elif "use" in clause or "fix" in clause:
                problem = (
                    f"'{name}' cannot hold '{'use' if 'use' in clause else 'fix'}' (a shared clause is used as it is)"
                )
            if problem:
                diags.append(Diagnostic(str(p), line, col, "DNX145", problem))
                continue
            out[name] = {"clause": dict(clause), "path": str(p), "line": line}
    return out


def load_families(dirs: Sequence[Path], diags: List[Diagnostic]) -> Dict[str, str]:
    fam: Dict[str, str] = {}
    for d in dirs:
        p = d / "families.yaml"
        loc = read_yaml(p, diags) if p.is_file() else None
        if loc is not None and isinstance(loc.data, dict):
            fam.update({str(k): str(v) for k, v in (loc.data.get("families") or {}).items()})
    return fam


def signature_files(dirs: Sequence[Path]) -> List[Tuple[Path, str]]:
    out = []
    builtin = builtin_dir()
    for d in dirs:
        sd = d / "signatures"
        if not sd.is_dir():
            continue
        origin = "builtin" if d == builtin else str(d)
        for p in sorted(sd.rglob("*.y*ml")):
            if p.name.endswith((".cases.yaml", ".cases.yml")) or "deprecated" in p.parts[len(sd.parts) : -1]:
                continue
            out.append((p, origin))
    return out


def build_kb(dirs: Sequence[Path], *, vet_builtin: bool = True) -> KnowledgeBase:
    """The knowledge base of these folders. vet_builtin=False: the shipped signatures' patterns are not vetted
    again (compile_signature's vet; `dnnfix kb check` vets them); a user folder's always are."""
    from .explain import load_explanations
    from .signature import compile_signature

    diags: List[Diagnostic] = []
    causes = load_causes(dirs, diags)
    shared = load_clauses(dirs, diags)
    by_id: Dict[str, Signature] = {}
    for p, origin in signature_files(dirs):
        loc = read_yaml(p, diags)
        if loc is None:
            continue
        sig = compile_signature(
            loc, str(p), causes, diags, origin, vet=vet_builtin or origin != "builtin", shared=shared
        )
        if sig is None:
            continue
        prev = by_id.get(sig.id)
        if prev is not None and prev.origin == sig.origin:
            diags.append(
                Diagnostic(
                    str(p),
                    sig.line,
                    1,
                    "DNX141",
                    f"duplicate signature id '{sig.id}'",
                    f"first defined at {prev.path}:{prev.line}; ids are unique and never reused",
                )
            )
            continue
        by_id[sig.id] = sig  # a user folder loaded later overrides a built-in id
    sigs = [s for s in by_id.values() if not s.disabled and s.status != "deprecated"]
    sigs.sort(key=lambda s: s.id)
    explanations = load_explanations(dirs, causes, diags)
    kb = KnowledgeBase(
        signatures=sigs,
        causes=causes,
        explanations=explanations,
        families=load_families(dirs, diags),
        dirs=[str(d) for d in dirs],
        diagnostics=diags,
        clauses=shared,
    )
    import yaml

    try:
        from .compat import read_tables

        kb.compat = read_tables([d / "compat" for d in dirs if (d / "compat").is_dir()])
    except (
        OSError,
        ValueError,
        yaml.YAMLError,
    ) as e:  # a broken table is reported by `dnnfix kb check`; matching goes on without it
        diags.append(Diagnostic(str(dirs[0] / "compat"), 1, 1, "DNX002", f"cannot read compatibility tables: {e}"))
    index_kb(kb)
    return kb


def _rarest_keys(kb: KnowledgeBase) -> Dict[str, int]:
    """Index each regex clause by the rarest of the whole words its match needs, per alternative.

    A word many clauses share ("expected", "cuda") would open all of them on every input holding it; the
    rarest word a clause needs (fewest clauses in this KB need it; common paste words last) opens it only where
    it can match. Only words certain to be whole tokens of the matched line are used (Clause.required), so the
    candidate lines are a superset of the lines where the pattern matches. `keys:` written in a file stay.
    """
    freq: Dict[str, int] = {}
    for sig in kb.signatures:
        for cl in sig.match:
            for alt in cl.required:
                for w in set(alt):
                    freq[w] = freq.get(w, 0) + 1
    for sig in kb.signatures:
        for cl in sig.match:
            if cl.kind != "regex" or not cl.required or cl.keys_given:
                continue
            cl.keys = _rarest_per_alternative(cl, freq)
    return freq


def _rarity(keys: Sequence[str], freq: Dict[str, int]) -> Tuple[int, int]:
    """How often the commonest of `keys` opens a clause (lower is rarer); words common in pastes count last."""
    from .signature import COMMON_IN_PASTES

    return max(((k in COMMON_IN_PASTES or len(k) < 3), freq.get(k, 0)) for k in keys) if keys else (1, 1 << 30)


def _rarest_per_alternative(cl, freq: Dict[str, int]) -> Tuple[str, ...]:
    from .signature import COMMON_IN_PASTES

    return tuple(
        sorted(
            {
                min(alt, key=lambda w: (w in COMMON_IN_PASTES or len(w) < 3, freq.get(w, 0), -len(w), w))
                for alt in cl.required
            }
        )
    )


# index key of a fact anchor on a text symptom: the fact's path (no word of an input has a dot)
SYMPTOM_KEY = "text.symptom."


def index_kb(kb: KnowledgeBase) -> None:
    kb.index.clear()
    kb.unkeyed.clear()
    kb.env_only.clear()
    freq = _rarest_keys(kb)
    given: Dict[str, int] = {}  # word -> how many clauses name it in `keys:`
    for sig in kb.signatures:
        for cl in sig.match:
            if cl.keys_given:
                for k in set(cl.keys):
                    given[k] = given.get(k, 0) + 1
    for si, sig in enumerate(kb.signatures):
        if sig.env_only:
            kb.env_only.append(si)
        for ci, cl in enumerate(sig.match):
            path = (cl.fact or {}).get("path") if cl.anchor and cl.kind == "fact" else None
            if isinstance(path, str) and path.startswith(SYMPTOM_KEY):
                # an anchor on a symptom read from the text (the log's end, a printed empty device list): opened
                # when the input shows that symptom, whatever its words (matcher.match_incident)
                kb.index.setdefault(path, []).append((si, ci))
                continue
            if not cl.anchor or cl.kind not in ("regex", "phrase", "exception"):
                continue
            keys = cl.keys
            if cl.kind == "regex" and cl.keys_given and cl.required:
                # `keys:` written in the file choose the candidate lines; the index may use instead any words the
                # clause cannot fire without: the rarest of each alternative's required words, when those are
                # rarer in this KB than the file's keys (which would open the clause only to be dismissed)
                req = _rarest_per_alternative(cl, freq)
                if _rarity(req, freq) < _rarity(keys, given):
                    keys = req
            if cl.kind == "exception":  # an exception-class anchor: indexed by the class name's word
                keys = () if "*" in cl.types else tuple(t.lower() for t in cl.types)
            if not keys:
                kb.unkeyed.append((si, ci))
                continue
            # regex: one key per top-level alternative (any may fire); phrase: either of two may drift
            for k in keys:
                kb.index.setdefault(k, []).append((si, ci))
