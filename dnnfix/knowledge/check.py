"""`dnnfix kb check`: every problem in every knowledge-base file, at once, as path:line:col diagnostics."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence

from .signature import Diagnostic, _did_you_mean

CASE_FILE_KEYS = ("signature", "cases")
CASE_KEYS = ("name", "expect", "form", "env", "text", "cause", "note", "confident")
EXPECTS = ("match", "no-match", "todo")
NEG_KEYS = ("name", "text", "note", "form", "env")
# cause-level cases (kb/cases/<family>.cases.yaml): this text -> that cause, whatever signature explains it
CAUSE_FILE_KEYS = ("note", "cases")
CAUSE_CASE_KEYS = (
    "name",
    "note",
    "form",
    "env",
    "text",
    "cause",
    "top",
    "confident",
    "also",
    "signature",
    "facts",
    "not_confident",
    "not_first",
    "not_ranked",
    "silent",
    "todo",
)
CAUSE_LISTS = ("not_confident", "not_first", "not_ranked")


@dataclass
class Case:
    name: str
    expect: str
    text: str
    path: str
    line: int
    signature: str = ""
    cause: str = ""  # no-match: the cause that must win instead
    env: Any = None
    form: str = ""
    confident: Any = True  # cause-level cases: True, False (ranked but not confident) or "any"
    kind: str = "signature"  # "signature" (beside a signature), "cause" (kb/cases) or "negative"
    top: int = 1
    also: Dict[str, int] = field(default_factory=dict)
    facts: Dict[str, str] = field(default_factory=dict)
    not_confident: List[str] = field(default_factory=list)
    not_first: List[str] = field(default_factory=list)
    not_ranked: List[str] = field(default_factory=list)
    silent: bool = False
    todo: str = ""
    note: str = ""

    @property
    def key(self) -> str:
        """How a failure names the case: file#name."""
        return f"{Path(self.path).name}#{self.name}"


@dataclass
class CheckResult:
    diagnostics: List[Diagnostic] = field(default_factory=list)
    cases: List[Case] = field(default_factory=list)
    cause_cases: List[Case] = field(default_factory=list)
    negatives: List[Case] = field(default_factory=list)
    allow: List[Dict[str, str]] = field(default_factory=list)
    kb: Any = None

    @property
    def errors(self) -> List[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def _load_list_file(path: Path, diags: List[Diagnostic], code: str, what: str):
    """A cases or negatives file: its Located form when it is a mapping with a 'cases' list, else None."""
    from .load import read_yaml

    loc = read_yaml(path, diags)
    if loc is None:
        return None
    if not isinstance(loc.data, dict) or not isinstance(loc.data.get("cases"), list):
        diags.append(
            Diagnostic(
                str(path),
                1,
                1,
                code,
                f"a {what} file is a mapping with "
                + ("'signature' and a 'cases' list" if what == "cases" else "a 'cases' list"),
            )
        )
        return None
    return loc


def _case_head(
    c: Any, i: int, loc: Any, p: str, keys: Any, parts: str, names: "set[str]", diags: List[Diagnostic]
) -> "str | None":
    """The checks every case of a cases file gets (signature and cause-level files alike): a mapping, known keys,
    a name unique in its file. The case's name, or None when it is no mapping (nothing more to check)."""
    line, col = loc.where("cases", i)
    if not isinstance(c, dict):
        diags.append(Diagnostic(p, line, col, "DNX205", f"a case is a mapping with {parts}"))
        return None
    for k in c:
        if k not in keys:
            l2, c2 = loc.where("cases", i, k, "<key>")
            diags.append(Diagnostic(p, l2, c2, "DNX206", f"unknown key '{k}' in a case", _did_you_mean(k, keys)))
    if not isinstance(c.get("name"), str) or not c.get("name"):
        diags.append(Diagnostic(p, line, col, "DNX211", "a case needs a name (unique in its file)"))
    name = str(c.get("name") or f"case-{i + 1}")
    if name in names:
        diags.append(Diagnostic(p, line, col, "DNX207", f"duplicate case name '{name}'"))
    names.add(name)
    return name


def load_cases(path: Path, sig_ids: Dict[str, Any], diags: List[Diagnostic]) -> List[Case]:
    loc = _load_list_file(path, diags, "DNX201", "cases")
    if loc is None:
        return []
    data = loc.data
    p = str(path)
    for k in data:
        if k not in CASE_FILE_KEYS:
            line, col = loc.where(k, "<key>")
            diags.append(Diagnostic(p, line, col, "DNX202", f"unknown key '{k}'", _did_you_mean(k, CASE_FILE_KEYS)))
    sid = data.get("signature")
    expected_sid = path.name[: -len(".cases.yaml")] if path.name.endswith(".cases.yaml") else None
    if sid not in sig_ids:
        line, col = loc.where("signature")
        diags.append(
            Diagnostic(
                p,
                line,
                col,
                "DNX203",
                f"cases for unknown signature '{sid}'",
                _did_you_mean(sid, sig_ids) or "the signature id, as in the signature file",
            )
        )
    elif expected_sid and sid != expected_sid and expected_sid in sig_ids:
        line, col = loc.where("signature")
        diags.append(
            Diagnostic(
                p,
                line,
                col,
                "DNX204",
                f"file is named for '{expected_sid}' but holds cases of '{sid}'",
                severity="warning",
            )
        )
    out: List[Case] = []
    names: "set[str]" = set()
    for i, c in enumerate(data["cases"]):
        line, col = loc.where("cases", i)
        name = _case_head(c, i, loc, p, CASE_KEYS, "name, expect and text", names, diags)
        if name is None:
            continue
        expect = c.get("expect")
        if expect not in EXPECTS:
            l2, c2 = loc.where("cases", i, "expect")
            diags.append(
                Diagnostic(
                    p,
                    l2,
                    c2,
                    "DNX208",
                    f"expect must be one of {', '.join(EXPECTS)}, got {expect!r}",
                    _did_you_mean(expect, EXPECTS),
                )
            )
            continue
        text = c.get("text")
        if not isinstance(text, str) or not text.strip():
            diags.append(Diagnostic(p, line, col, "DNX209", f"case '{name}' has no text"))
            continue
        env = c.get("env")
        if env is not None and not isinstance(env, dict):
            l2, c2 = loc.where("cases", i, "env")
            diags.append(Diagnostic(p, l2, c2, "DNX210", "env must be a (partial) snapshot mapping"))
            env = None
        out.append(
            Case(
                name=name,
                expect=expect,
                text=text,
                path=p,
                line=line,
                signature=str(sid or ""),
                cause=str(c.get("cause") or ""),
                env=env,
                form=str(c.get("form") or ""),
                confident=bool(c.get("confident", True)),
                note=str(c.get("note") or ""),
            )
        )
    return out


def load_cause_cases(
    path: Path, causes: Dict[str, Any], sig_ids: Dict[str, Any], diags: List[Diagnostic]
) -> List[Case]:
    """kb/cases/<family>.cases.yaml: cause-level expectations (this text -> that cause first / in the top N /
    confident or not / nothing confident), optionally with an `env:` snapshot."""
    from .load import read_yaml

    loc = read_yaml(path, diags)
    if loc is None:
        return []
    p = str(path)
    data = loc.data
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        diags.append(Diagnostic(p, 1, 1, "DNX250", "a cause-level cases file is a mapping with a 'cases' list"))
        return []
    for k in data:
        if k not in CAUSE_FILE_KEYS:
            line, col = loc.where(k, "<key>")
            diags.append(Diagnostic(p, line, col, "DNX202", f"unknown key '{k}'", _did_you_mean(k, CAUSE_FILE_KEYS)))
    out: List[Case] = []
    names: "set[str]" = set()

    def bad_cause(cid: Any, i: int, *where: Any) -> bool:
        if isinstance(cid, str) and cid in causes:
            return False
        l2, c2 = loc.where("cases", i, *where)
        diags.append(Diagnostic(p, l2, c2, "DNX252", f"unknown cause {cid!r}", _did_you_mean(str(cid), causes)))
        return True

    for i, c in enumerate(data["cases"]):
        line, col = loc.where("cases", i)
        name = _case_head(c, i, loc, p, CAUSE_CASE_KEYS, "name, text and an expectation", names, diags)
        if name is None:
            continue
        text = c.get("text")
        if not isinstance(text, str) or not text.strip():
            diags.append(Diagnostic(p, line, col, "DNX209", f"case '{name}' has no text"))
            continue
        ok = True
        cause = c.get("cause")
        if cause is not None and bad_cause(cause, i, "cause"):
            ok = False
        lists: Dict[str, List[str]] = {}
        for k in CAUSE_LISTS:
            v = c.get(k, [])
            if not isinstance(v, list):
                l2, c2 = loc.where("cases", i, k)
                diags.append(Diagnostic(p, l2, c2, "DNX251", f"{k} is a list of cause ids"))
                ok = False
                continue
            for j, cid in enumerate(v):
                ok = not bad_cause(cid, i, k, j) and ok
            lists[k] = [str(x) for x in v]
        also = c.get("also", {})
        if not isinstance(also, dict) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in also.values()
        ):
            l2, c2 = loc.where("cases", i, "also")
            diags.append(Diagnostic(p, l2, c2, "DNX251", "also maps cause ids to a rank limit (cause: N, N >= 1)"))
            ok, also = False, {}
        for cid in also:
            ok = not bad_cause(cid, i, "also", cid) and ok
        top = c.get("top", 1)
        if not isinstance(top, int) or isinstance(top, bool) or top < 1:
            l2, c2 = loc.where("cases", i, "top")
            diags.append(Diagnostic(p, l2, c2, "DNX251", f"top is a rank limit (an integer >= 1), got {top!r}"))
            ok = False
        confident = c.get("confident", True)
        if confident not in (True, False, "any"):
            l2, c2 = loc.where("cases", i, "confident")
            diags.append(Diagnostic(p, l2, c2, "DNX251", f"confident is true, false or any, got {confident!r}"))
            ok = False
        facts = c.get("facts", {})
        if not isinstance(facts, dict) or cause is None and facts:
            l2, c2 = loc.where("cases", i, "facts")
            diags.append(
                Diagnostic(
                    p,
                    l2,
                    c2,
                    "DNX251",
                    "facts maps capture names to the values the cause's match must capture (and needs a cause)",
                )
            )
            ok, facts = False, {}
        sig = c.get("signature")
        if sig is not None and sig not in sig_ids:
            l2, c2 = loc.where("cases", i, "signature")
            diags.append(
                Diagnostic(p, l2, c2, "DNX203", f"unknown signature '{sig}'", _did_you_mean(str(sig), sig_ids))
            )
            ok = False
        silent = c.get("silent", False)
        todo = c.get("todo", "")
        if not isinstance(silent, bool) or not isinstance(todo, str):
            l2, c2 = loc.where("cases", i, "silent" if not isinstance(silent, bool) else "todo")
            diags.append(Diagnostic(p, l2, c2, "DNX251", "silent is true or false; todo is the reason it still fails"))
            ok = False
        if silent and cause is not None and confident is True:
            diags.append(
                Diagnostic(
                    p,
                    line,
                    col,
                    "DNX253",
                    f"case '{name}' wants '{cause}' confident and nothing confident (silent)",
                    "say confident: false or any",
                )
            )
            ok = False
        if cause is None and not silent and not sig and not also and not any(lists.values()):
            diags.append(
                Diagnostic(
                    p,
                    line,
                    col,
                    "DNX253",
                    f"case '{name}' expects nothing",
                    "give a cause, silent: true, signature, also or a not_* list",
                )
            )
            ok = False
        env = c.get("env")
        if env is not None and not isinstance(env, dict):
            l2, c2 = loc.where("cases", i, "env")
            diags.append(Diagnostic(p, l2, c2, "DNX210", "env must be a (partial) snapshot mapping"))
            ok = False
        if not ok:
            continue
        out.append(
            Case(
                name=name,
                expect="todo" if todo else "cause",
                text=text,
                path=p,
                line=line,
                kind="cause",
                signature=str(sig or ""),
                cause=str(cause or ""),
                env=env,
                form=str(c.get("form") or ""),
                confident=confident,
                top=top,
                also={str(k): v for k, v in also.items()},
                facts={str(k): str(v) for k, v in facts.items()},
                silent=silent,
                todo=todo,
                not_confident=lists.get("not_confident", []),
                not_first=lists.get("not_first", []),
                not_ranked=lists.get("not_ranked", []),
                note=str(c.get("note") or ""),
            )
        )
    return out


def load_negatives(path: Path, diags: List[Diagnostic]) -> List[Case]:
    loc = _load_list_file(path, diags, "DNX220", "negatives")
    if loc is None:
        return []
    data = loc.data
    p = str(path)
    out = []
    names = set()
    for i, c in enumerate(data["cases"]):
        line, col = loc.where("cases", i)
        if not isinstance(c, dict) or not isinstance(c.get("text"), str) or not c["text"].strip():
            diags.append(Diagnostic(p, line, col, "DNX221", "a negative case needs a name and a non-empty text"))
            continue
        for k in c:
            if k not in NEG_KEYS:
                l2, c2 = loc.where("cases", i, k, "<key>")
                diags.append(
                    Diagnostic(p, l2, c2, "DNX222", f"unknown key '{k}' in a negative case", _did_you_mean(k, NEG_KEYS))
                )
        name = str(c.get("name") or f"case-{i + 1}")
        if name in names:
            diags.append(Diagnostic(p, line, col, "DNX207", f"duplicate case name '{name}'"))
        names.add(name)
        out.append(
            Case(
                name=name,
                expect="negative",
                text=c["text"],
                path=p,
                line=line,
                kind="negative",
                env=c.get("env") if isinstance(c.get("env"), dict) else None,
            )
        )
    return out


def _group_names(pattern: str) -> List[str]:
    import re

    try:
        return list(re.compile(pattern).groupindex)
    except (re.error, RecursionError, ValueError):
        return []  # an invalid pattern is DNX118's business


def check_fix_first(kb, diags: List[Diagnostic]) -> None:
    """DNX242: a signature's fix_first, and a clause's fix, must name one of its cause's fixes (a typo would silently
    keep the order)."""
    for sig in kb.signatures:
        if sig.disabled:
            continue
        named = [(sig.fix_first, "fix_first", sig.line)] if sig.fix_first else []
        named += [(cl.fix, "fix of a clause", cl.line or sig.line) for cl in sig.match if cl.fix]
        if not named:
            continue
        ex = kb.explanations.get(sig.cause)
        titles = [f["title"] for f in ex.fixes] if ex is not None else []
        for title, what, line in named:
            if title in titles:
                continue
            diags.append(
                Diagnostic(
                    sig.path,
                    line,
                    1,
                    "DNX242",
                    f"{what} {title!r} of signature '{sig.id}' names no fix of causes/{sig.cause}.md",
                    _did_you_mean(title, titles) or (f"its fixes: {'; '.join(titles)}" if titles else ""),
                )
            )


def check_placeholders(kb, diags: List[Diagnostic]) -> None:
    """Every {{name}} / {{name|fallback}} in an explanation names something a match of that cause can carry:
    a named group of one of the cause's signatures or a value worked out from one (facts.DERIVED_FROM: the pip
    name `package` of a captured module), a fact alias (Facts.aliases), or, when a signature of the
    cause captures a drift_* group, a drift.* fact of the API-drift table. Anything else prints as <name>."""
    from .explain import _PLACEHOLDER
    from ..facts import ALIAS_NAMES, DERIVED_FROM

    captures: Dict[str, set] = {}
    for sig in kb.signatures:
        names = captures.setdefault(sig.cause, set())
        for cl in list(sig.match) + list(sig.against):
            if getattr(cl, "kind", "") == "regex" and cl.pattern:
                names.update(_group_names(cl.pattern))
    for cid, ex in sorted(kb.explanations.items()):
        if not ex.path or cid not in captures:
            continue
        try:
            text = Path(ex.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # reported when the explanation was loaded
        known = captures[cid] | {d for d, src in DERIVED_FROM.items() if captures[cid] & set(src)}
        drift = any(n.startswith("drift_") for n in known)
        for lineno, line in enumerate(text.splitlines(), 1):
            for m in _PLACEHOLDER.finditer(line):
                name = m.group(1)
                if name in known or name in ALIAS_NAMES or (drift and name.startswith("drift.")):
                    continue
                pool = sorted(known | set(ALIAS_NAMES))
                hint = _did_you_mean(name, pool) or (
                    f"the signatures of {cid} capture: {', '.join(sorted(known))}"
                    if known
                    else f"no signature of {cid} captures anything: use a fact alias or write it out"
                )
                diags.append(
                    Diagnostic(
                        ex.path,
                        lineno,
                        m.start() + 1,
                        "DNX158",
                        f"placeholder '{{{{{name}}}}}' is neither captured by a signature of '{cid}' "
                        "nor a known fact alias"
                        + (" (its fallback is shown)" if m.group(2) is not None else " (it prints as <" + name + ">)"),
                        hint,
                        severity="warning",
                    )
                )


def check(extra: Sequence[str] = ()) -> CheckResult:
    """Load every file of every KB folder fresh (no cache) and collect all diagnostics."""
    from .load import build_kb, kb_dirs, read_yaml

    dirs = kb_dirs(extra)
    kb = build_kb(dirs)
    res = CheckResult(diagnostics=list(kb.diagnostics), kb=kb)
    sig_ids = {s.id: s for s in kb.signatures}
    for d in dirs:
        sd = d / "signatures"
        if sd.is_dir():
            for p in sorted(sd.rglob("*.cases.yaml")):
                res.cases.extend(load_cases(p, sig_ids, res.diagnostics))
        cd = d / "cases"
        if cd.is_dir():
            for p in sorted(cd.glob("*.cases.yaml")):
                res.cause_cases.extend(load_cause_cases(p, kb.causes, sig_ids, res.diagnostics))
        nd = d / "negatives"
        if nd.is_dir():
            for p in sorted(nd.glob("*.yaml")):
                res.negatives.extend(load_negatives(p, res.diagnostics))
        ap = d / "allow.yaml"
        if ap.is_file():
            loc = read_yaml(ap, res.diagnostics)
            entries = (loc.data or {}).get("allow") if loc is not None and isinstance(loc.data, dict) else None
            for i, e in enumerate(entries or []):
                if not isinstance(e, dict) or not e.get("reason") or not (e.get("signature") and e.get("case")):
                    line, col = loc.where("allow", i)
                    res.diagnostics.append(
                        Diagnostic(
                            str(ap),
                            line,
                            col,
                            "DNX230",
                            "an allow entry needs signature, case (file.cases.yaml#name) and reason",
                        )
                    )
                else:
                    res.allow.append({k: str(v) for k, v in e.items()})
        for cp in sorted((d / "compat").glob("*.yaml")) if (d / "compat").is_dir() else []:
            read_yaml(cp, res.diagnostics)
    # signatures without cases (only for the built-in KB: user drafts may be in progress)
    with_cases = {c.signature for c in res.cases}
    for s in kb.signatures:
        if s.id not in with_cases:
            res.diagnostics.append(
                Diagnostic(
                    s.path,
                    s.line,
                    1,
                    "DNX240",
                    f"signature '{s.id}' has no cases file",
                    f"add {Path(s.path).name[:-5]}.cases.yaml beside it",
                    severity="warning",
                )
            )
    # causes with no explanation
    for cid in kb.causes:
        if cid not in kb.explanations and any(s.cause == cid for s in kb.signatures):
            res.diagnostics.append(
                Diagnostic(
                    str(Path(kb.dirs[0]) / "causes.yaml"),
                    1,
                    1,
                    "DNX241",
                    f"cause '{cid}' has signatures but no explanation causes/{cid}.md",
                    severity="warning",
                )
            )
    # shared clauses no signature uses
    used = {c.shared for s in kb.signatures for c in s.match + s.against}
    for name, spec in kb.clauses.items():
        if name not in used:
            res.diagnostics.append(
                Diagnostic(
                    spec["path"],
                    spec["line"],
                    1,
                    "DNX146",
                    f"shared clause '{name}' is used by no signature",
                    "use it (`- use: " + name + "`) or remove it",
                    severity="warning",
                )
            )
    check_fix_first(kb, res.diagnostics)
    check_placeholders(kb, res.diagnostics)
    res.diagnostics.sort(key=lambda d: (d.path, d.line, d.col, d.code))
    return res
