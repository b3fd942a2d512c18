"""`dnnfix kb check`: every problem in every knowledge-base file, at once, as path:line:col diagnostics."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from .signature import Diagnostic, _did_you_mean

CASE_FILE_KEYS = ("signature", "cases")
CASE_KEYS = ("name", "expect", "form", "env", "text", "cause", "note", "confident")
EXPECTS = ("match", "no-match", "todo")
NEG_KEYS = ("name", "text", "note", "form", "env")


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
    confident: bool = True


@dataclass
class CheckResult:
    diagnostics: List[Diagnostic] = field(default_factory=list)
    cases: List[Case] = field(default_factory=list)
    negatives: List[Case] = field(default_factory=list)
    allow: List[Dict[str, str]] = field(default_factory=list)
    kb: Any = None

    @property
    def errors(self) -> List[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def _load_list_file(path: Path, diags: List[Diagnostic], code: str, what: str):
    """A cases or negatives file: its Located form when it is a mapping with a 'cases' list, else None."""
    from .kbload import read_yaml

    loc = read_yaml(path, diags)
    if loc is None:
        return None
    if not isinstance(loc.data, dict) or not isinstance(loc.data.get("cases"), list):
        diags.append(Diagnostic(str(path), 1, 1, code, f"a {what} file is a mapping with " +
                                ("'signature' and a 'cases' list" if what == "cases" else "a 'cases' list")))
        return None
    return loc


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
        diags.append(Diagnostic(p, line, col, "DNX203", f"cases for unknown signature '{sid}'",
                                _did_you_mean(sid, sig_ids) or "the signature id, as in the signature file"))
    elif expected_sid and sid != expected_sid and expected_sid in sig_ids:
        line, col = loc.where("signature")
        diags.append(Diagnostic(p, line, col, "DNX204", f"file is named for '{expected_sid}' but holds cases of '{sid}'",
                                severity="warning"))
    out: List[Case] = []
    names = set()
    for i, c in enumerate(data["cases"]):
        line, col = loc.where("cases", i)
        if not isinstance(c, dict):
            diags.append(Diagnostic(p, line, col, "DNX205", "a case is a mapping with name, expect and text"))
            continue
        for k in c:
            if k not in CASE_KEYS:
                l2, c2 = loc.where("cases", i, k, "<key>")
                diags.append(Diagnostic(p, l2, c2, "DNX206", f"unknown key '{k}' in a case", _did_you_mean(k, CASE_KEYS)))
        if not isinstance(c.get("name"), str) or not c.get("name"):
            diags.append(Diagnostic(p, line, col, "DNX211", "a case needs a name (unique in its file)"))
        name = str(c.get("name") or f"case-{i + 1}")
        if name in names:
            diags.append(Diagnostic(p, line, col, "DNX207", f"duplicate case name '{name}'"))
        names.add(name)
        expect = c.get("expect")
        if expect not in EXPECTS:
            l2, c2 = loc.where("cases", i, "expect")
            diags.append(Diagnostic(p, l2, c2, "DNX208", f"expect must be one of {', '.join(EXPECTS)}, got {expect!r}",
                                    _did_you_mean(expect, EXPECTS)))
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
        out.append(Case(name=name, expect=expect, text=text, path=p, line=line, signature=str(sid or ""),
                        cause=str(c.get("cause") or ""), env=env, form=str(c.get("form") or ""),
                        confident=bool(c.get("confident", True))))
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
                diags.append(Diagnostic(p, l2, c2, "DNX222", f"unknown key '{k}' in a negative case", _did_you_mean(k, NEG_KEYS)))
        name = str(c.get("name") or f"case-{i + 1}")
        if name in names:
            diags.append(Diagnostic(p, line, col, "DNX207", f"duplicate case name '{name}'"))
        names.add(name)
        out.append(Case(name=name, expect="negative", text=c["text"], path=p, line=line,
                        env=c.get("env") if isinstance(c.get("env"), dict) else None))
    return out


def check(extra: Sequence[str] = ()) -> CheckResult:
    """Load every file of every KB folder fresh (no cache) and collect all diagnostics."""
    from .kbload import build_kb, kb_dirs, read_yaml

    dirs = kb_dirs(extra)
    kb = build_kb(dirs)
    res = CheckResult(diagnostics=list(kb.diagnostics), kb=kb)
    sig_ids = {s.id: s for s in kb.signatures}
    for d in dirs:
        sd = d / "signatures"
        if sd.is_dir():
            for p in sorted(sd.rglob("*.cases.yaml")):
                res.cases.extend(load_cases(p, sig_ids, res.diagnostics))
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
                    res.diagnostics.append(Diagnostic(str(ap), line, col, "DNX230",
                                                      "an allow entry needs signature, case (file.cases.yaml#name) and reason"))
                else:
                    res.allow.append({k: str(v) for k, v in e.items()})
        for cp in sorted((d / "compat").glob("*.yaml")) if (d / "compat").is_dir() else []:
            read_yaml(cp, res.diagnostics)
    # signatures without cases (only for the built-in KB: user drafts may be in progress)
    with_cases = {c.signature for c in res.cases}
    for s in kb.signatures:
        if s.id not in with_cases:
            res.diagnostics.append(Diagnostic(s.path, s.line, 1, "DNX240", f"signature '{s.id}' has no cases file",
                                              f"add {Path(s.path).name[:-5]}.cases.yaml beside it", severity="warning"))
    # causes with no explanation
    for cid in kb.causes:
        if cid not in kb.explanations and any(s.cause == cid for s in kb.signatures):
            res.diagnostics.append(Diagnostic(str(Path(kb.dirs[0]) / "causes.yaml"), 1, 1, "DNX241",
                                              f"cause '{cid}' has signatures but no explanation causes/{cid}.md",
                                              severity="warning"))
    res.diagnostics.sort(key=lambda d: (d.path, d.line, d.col, d.code))
    return res
