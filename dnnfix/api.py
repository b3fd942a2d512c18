"""The public entry points: text or exception in, Diagnosis out. Used by the CLI, hook, TUI and tests."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from .facts import Facts
from .matcher import Match, match_incident
from .model import Diagnosis, Incident  # noqa: F401  (Diagnosis is re-exported)

GENERIC = (
    "This error is not one dnnfix knows. Read the last exception line and the frame just above it "
    "that belongs to your code."
)


def derive(snapshot: Mapping[str, Any], kb=None) -> Dict[str, Any]:
    """Facts derived from the compatibility tables of `kb` (the default KB's when None; empty when the tables
    or module are unavailable)."""
    if not snapshot:
        return {}
    try:
        from .knowledge import compat

        return compat.derive(dict(snapshot), compat.kb_tables(kb)) or {}
    except (ImportError, OSError, TypeError, ValueError):  # no tables (yaml missing, unreadable) or an odd snapshot
        return {}


def probe_snapshot(quick: bool = True) -> Dict[str, Any]:
    try:
        from . import probe

        return probe.collect(quick=quick) or {}
    except Exception:  # noqa: BLE001 - the probes run third-party code (frameworks, NVML): never cost the diagnosis
        return {}


def make_facts(inc: Incident, env: Optional[Mapping[str, Any]], probed: bool = False, kb=None) -> Facts:
    """Three sources, one model: a snapshot of the failing machine (--env) wins over an environment report
    pasted with the error, which wins over this machine's probe. A probe speaks only for a paste that
    plausibly happened here and holds no report of its own."""
    from .facts import merge_layers

    report = inc.facts.get("report") or {}
    layers = []
    if env and not probed:
        layers.append(("env", dict(env)))
    if report:
        layers.append(("paste", report))
    if env and probed and not report and from_this_machine(inc, env):
        layers.append(("probe", dict(env)))
    snap, sources = merge_layers(layers)
    if report and snap.get("gpus"):
        _fill_capabilities(snap, kb)
    return Facts(snapshot=snap, text=inc.facts, derived=derive(snap, kb), sources=sources)


def _fill_capabilities(snap: Dict[str, Any], kb) -> None:
    """A pasted GPU list names cards: their compute capability comes from the GPU table."""
    try:
        from .knowledge.compat import capability_for, kb_tables

        tabs = kb_tables(kb)
        gpus = []
        for g in snap["gpus"]:
            g = dict(g)
            if not g.get("compute_capability"):
                cc = capability_for(str(g.get("name", "")), tabs)
                if cc:
                    g["compute_capability"] = cc
            gpus.append(g)
        snap["gpus"] = gpus
    except (ImportError, OSError, TypeError, ValueError, KeyError, AttributeError):  # no tables, or odd gpus entries
        pass


def from_this_machine(inc: Incident, snap: Mapping[str, Any]) -> bool:
    """Whether a pasted failure plausibly happened here, so that this machine's probe may speak for it.

    A paste from a colleague or an issue tracker names files that do not exist here, another OS or another
    Python: then facts about this machine would mislead, and the text is diagnosed alone.
    """
    import os

    text_os = inc.facts.get("os")
    snap_os = (snap.get("os") or {}).get("system") if isinstance(snap.get("os"), Mapping) else None
    if text_os and snap_os and text_os != snap_os:
        return False
    text_py = inc.facts.get("python")
    snap_py = (snap.get("python") or {}).get("version") if isinstance(snap.get("python"), Mapping) else None
    if text_py and snap_py and not str(snap_py).startswith(str(text_py) + "."):
        return False
    installed = snap.get("packages")
    if not isinstance(installed, Mapping):
        installed = {}
    for name, said in (inc.facts.get("versions") or {}).items():
        have = installed.get(name) or (installed.get("tensorflow-cpu") if name == "tensorflow" else None)
        if have and str(have).split(".")[0] != str(said).split(".")[0]:
            return False  # the paste names another major release than the one installed here
    paths = [fr.file for fr in inc.frames if os.path.isabs(fr.file)][:20]
    if paths and not any(os.path.exists(p) for p in paths):
        return False
    return True


def _line_one(_n: int) -> int:
    return 1


def _finish(
    name: str,
    inc: Incident,
    facts: Facts,
    kb,
    t0: float,
    top: Optional[int],
    line_map: Optional[Callable[[int], Optional[int]]] = None,
    experimental_confident: bool = True,
    similar: bool = True,
    exclude_similar: Sequence[str] = (),
) -> Diagnosis:
    from .facts import derived
    from .normalize import fingerprint, last_line

    stats: Dict[str, Any] = {}
    matches = match_incident(inc, kb, facts, stats=stats)
    if similar:  # weak hints from known failures that look alike, after every signature match (resemble.py)
        from .resemble import hints

        matches.extend(hints(inc, matches, kb, exclude_similar, words=stats.get("words")))
    if not experimental_confident:
        from .matcher import hold_back_experimental

        hold_back_experimental(matches)
    if line_map is None and inc.one_line:  # a paste that lost its newlines (or had them escaped): its only line
        line_map = _line_one
    if line_map is not None:  # a reduced huge log: evidence names the line of the real file
        import dataclasses

        for m in matches:
            m.evidence = [dataclasses.replace(e, line=line_map(e.line)) if e.line else e for e in m.evidence]
    if top is not None:
        matches = matches[:top]
    aliases = facts.aliases() if matches else {}
    for m in matches:
        for k, v in aliases.items():
            m.facts.setdefault(k, v)
        for k, v in derived(m.facts).items():  # placeholders worked out from the match's own values
            m.facts.setdefault(k, v)
    d = Diagnosis(input=name, incident=inc, matches=matches, elapsed_ms=0.0, facts=facts)
    final = inc.final
    if final is not None:
        d.fingerprint = fingerprint(final.type, final.message)
    elif inc.lines:
        last = last_line(inc.lines)
        d.fingerprint = fingerprint("text", last)
    if not d.confident:
        d.family = family_text(inc, kb, facts)
    if stats.get("skipped"):
        d.notes.append(
            f"matching stopped early: {stats['skipped']} of {stats['candidates']} candidate signatures "
            "were not tried (the work budget for an input of this size was spent); the causes shown are "
            "those found before"
        )
    if inc.truncated:
        d.notes.append("the input was very large: dnnfix read its head, its tail and the error-like lines between")
    d.elapsed_ms = round((time.perf_counter() - t0) * 1000, 3)
    return d


def symptom_text(inc: Incident, facts: Optional[Facts]) -> str:
    """What the paste showed without a known cause, and what the environment showed beside it."""
    sym = inc.facts.get("symptom") or {}
    words = {
        "no_gpu": "no usable GPU",
        "backend_init": "a GPU backend that did not start",
        "cuda_libs": "CUDA libraries that could not be loaded",
        "dnn_status": "a cuDNN/cuBLAS status error",
        "arch": "a GPU the installed build has no code for",
        "native_import": "a framework's native part failing to import",
        "log_end": "a log that ends abruptly (the process was killed or crashed)",
        "cut_short": "a command whose output stops at ^C (it was interrupted)",
        "shadowed_import": "a file of the user's own imported instead of the package it is named like",
        "spawned_main": "a spawned worker re-running the script's top-level code (no __main__ guard)",
    }
    kind, line = next(iter(sym.items()))
    out = f'The output shows {words.get(kind, kind)}: "{line}". '
    env = _env_summary(facts) if facts is not None else ""
    if env:
        out += f"The environment showed {env}; none of dnnfix's known causes explains the symptom with these facts."
    else:
        out += (
            "No facts about the failing machine were available: run `dnnfix env --json > env.json` there and "
            "`dnnfix match --env env.json`, or paste `nvidia-smi` and `python -m torch.utils.collect_env` output."
        )
    return out


def _env_summary(facts: Facts) -> str:
    snap = facts.snapshot
    parts = []
    gpus = snap.get("gpus")
    if isinstance(gpus, list):
        names = sorted({str(g.get("name", "?")) for g in gpus if isinstance(g, Mapping)})
        parts.append("no GPU" if not gpus else f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''} ({', '.join(names)})")
    drv = (snap.get("driver") or {}).get("version") if isinstance(snap.get("driver"), Mapping) else None
    if drv:
        parts.append(f"driver {drv}")
    pk = snap.get("packages")
    if not isinstance(pk, Mapping):
        pk = {}
    for name in ("torch", "tensorflow", "jax", "jaxlib"):
        if pk.get(name):
            parts.append(f"{name} {pk[name]}")
    o = snap.get("os")
    if not isinstance(o, Mapping):
        o = {}
    if o.get("system"):
        parts.append(o["system"] + (" (WSL)" if o.get("wsl") else ""))
    if not parts:
        return ""
    srcs = sorted({v for v in facts.sources.values()})
    from .facts import SOURCE_WORDS

    where = " and ".join(SOURCE_WORDS.get(s, s) for s in srcs)
    return ", ".join(parts) + (f" ({where})" if where else "")


def family_text(inc: Incident, kb, facts: Optional[Facts] = None) -> str:
    final = inc.final
    seen = inc.facts.get("symptom_seen")
    if seen and (final is None or inc.facts.get("symptom")):
        return symptom_text(inc, facts)
    if final is None:
        return "No Python exception was found in the text; dnnfix looked at the log lines only. " + GENERIC
    fam = kb.families.get(final.name)
    if fam is None:
        for base in ("Error", "Exception", "Warning"):
            if final.name.endswith(base) and final.name in kb.families:
                fam = kb.families[final.name]
    return f"{final.name}: {fam}" if fam else f"{final.name}: {GENERIC}"


def diagnose_text(
    text: str,
    *,
    env: Optional[Mapping[str, Any]] = None,
    probe: bool = False,
    kb=None,
    kb_paths: Sequence[str] = (),
    top: Optional[int] = None,
    name: str = "-",
    truncated: bool = False,
    env_is_probe: bool = False,
    line_map: Optional[Callable[[int], Optional[int]]] = None,
    experimental_confident: bool = True,
    similar: bool = True,
    exclude_similar: Sequence[str] = (),
) -> Diagnosis:
    """Diagnose a pasted text. experimental_confident=False: matches of `status: experimental` signatures are
    never confident (matcher.hold_back_experimental). similar=False: no hints from known failures that look
    alike (resemble.py); exclude_similar: known failures (exemplar ids) that may not be named as alike (an
    evaluation leaves out the case itself)."""
    from .knowledge.load import load_kb
    from .parse import parse_text

    kb = kb or load_kb(kb_paths)
    t0 = time.perf_counter()
    inc = parse_text(text, truncated=truncated)
    probed = env_is_probe
    if env is None and probe:
        env, probed = probe_snapshot(), True
    return _finish(
        name,
        inc,
        make_facts(inc, env, probed, kb),
        kb,
        t0,
        top,
        line_map,
        experimental_confident,
        similar=similar,
        exclude_similar=exclude_similar,
    )


def diagnose_exception(
    exc: BaseException,
    *,
    log_text: str = "",
    env: Optional[Mapping[str, Any]] = None,
    probe: bool = True,
    kb=None,
    kb_paths: Sequence[str] = (),
    top: Optional[int] = None,
    env_is_probe: bool = False,
    experimental_confident: bool = True,
    similar: bool = True,
) -> Diagnosis:
    """Diagnose a live exception. The notebook hook passes experimental_confident=False: matches of
    `status: experimental` signatures are then never confident (matcher.hold_back_experimental); and
    similar=False: no hints from known failures that look alike (resemble.py) under a user's traceback."""
    from .knowledge.load import load_kb
    from .parse import parse_exception

    kb = kb or load_kb(kb_paths)
    t0 = time.perf_counter()
    inc = parse_exception(exc, log_text=log_text)
    probed = env_is_probe
    if env is None and probe:
        env, probed = probe_snapshot(), True
    return _finish(
        "<exception>",
        inc,
        make_facts(inc, env, probed, kb),
        kb,
        t0,
        top,
        experimental_confident=experimental_confident,
        similar=similar,
    )


def diagnose_env(
    snapshot: Mapping[str, Any], *, kb=None, kb_paths: Sequence[str] = (), source: str = "env"
) -> List[Match]:
    """Environment-only signatures that hold on this snapshot (for `dnnfix doctor`)."""
    from .knowledge.load import load_kb
    from .matcher import score_signature, _Corpus

    kb = kb or load_kb(kb_paths)
    inc = Incident(lines=[])
    facts = Facts(snapshot=snapshot, derived=derive(snapshot, kb), sources={k: source for k in snapshot})
    corpus = _Corpus(inc)
    out = []
    for si in kb.env_only:
        m = score_signature(kb.signatures[si], corpus, inc, facts)
        if m is not None:
            for k, v in facts.aliases().items():
                m.facts.setdefault(k, v)
            out.append(m)
    out.sort(key=lambda m: (-m.score, m.signature))
    return out


def fixes_for(match: Match, kb) -> List[Dict[str, str]]:
    """The cause's fixes with this match's facts filled in (the fix the match names leads: its fired clause's `fix`,
    else the signature's `fix_first`)."""
    from .report import fixes_of

    return fixes_of(match, kb)
