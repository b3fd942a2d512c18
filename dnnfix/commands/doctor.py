"""`dnnfix doctor [--env SNAPSHOT] [--json] [--frameworks]`: what will break on this machine, before it does.

One rule language: every `env_only: true` signature of the knowledge base (dnnfix.api.diagnose_env), whose
fact clauses compare the machine with the versions its builds expect (derived from the tables in kb/compat/);
the same signatures rank as causes in `dnnfix match`, so doctor and match never disagree on the same facts.
Then the GPU feature gates of kb/compat/gpu-features.yaml (bf16, FlashAttention, FP8, Triton ...) per GPU.
Exit status: 1 when an error or warning was found, 0 when none, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Dict, List, Optional


def register(sub) -> None:
    p = sub.add_parser(
        "doctor",
        help="check this machine for known-bad combinations before anything fails",
        description="Probe this machine (or read a snapshot) and check it against the "
        "compatibility tables and the environment-only signatures.",
    )
    p.add_argument(
        "--env", metavar="SNAPSHOT.json", help="check a snapshot from `dnnfix env --json` instead of this machine"
    )
    p.add_argument("--json", action="store_true", help="print the findings as one JSON object")
    p.add_argument(
        "--frameworks",
        action="store_true",
        help="also import each installed framework in a child process (build info, visible GPUs)",
    )
    p.add_argument(
        "--kb", action="append", default=argparse.SUPPRESS, metavar="DIR", help="an extra knowledge-base folder"
    )
    p.set_defaults(func=run)


def _signature_findings(snapshot: Dict[str, Any], kb, source: str) -> List[Dict[str, Any]]:
    """Every environment-only signature whose conditions all hold and that nothing speaks against."""
    from ..api import diagnose_env, fixes_for

    sev = {s.id: s.severity for s in kb.signatures}
    out = []
    for m in diagnose_env(snapshot, kb=kb, source=source):
        if any(e.against for e in m.evidence):
            continue
        out.append(
            {
                "id": m.signature,
                "cause": m.cause,
                "severity": sev.get(m.signature, "error"),
                "title": m.title,
                "message": _cause_summary(kb, m.cause, m.facts),
                "evidence": [e.format() for e in m.evidence if not e.against],
                "fixes": fixes_for(m, kb),
                "source": "signature",
                "score": m.score,
            }
        )
    return out


def _cause_summary(kb, cause: str, facts: Dict[str, Any]) -> str:
    from ..knowledge.explain import fill

    ex = kb.explanations.get(cause)
    text = (getattr(ex, "sections", {}) or {}).get("What happened", "") if ex is not None else ""
    text = " ".join(fill(text, facts).split())
    return text if len(text) <= 400 else text[:397] + "..."


_FEATURE_WORDS = {
    "bf16": "bfloat16",
    "tf32": "TF32",
    "flash-attn-2": "FlashAttention 2",
    "flash-attn-3": "FlashAttention 3",
    "torch-sdpa-flash": "PyTorch SDPA flash kernel",
    "fp8": "FP8",
    "mxfp8": "MXFP8",
    "nvfp4": "NVFP4",
    "triton": "Triton / torch.compile (inductor)",
    "int8-cublaslt": "fast int8 matmul (bitsandbytes)",
}


def feature_findings(snapshot: Dict[str, Any], kb) -> List[Dict[str, Any]]:
    """Per GPU, the accelerator features its compute capability does not pass (kb/compat/gpu-features.yaml)."""
    from ..knowledge import compat

    rows = compat.rows("gpu-features", "features", compat.kb_tables(kb))
    out = []
    seen = set()
    for g in snapshot.get("gpus") or []:
        if not isinstance(g, dict):
            continue
        cc = g.get("compute_capability")
        name = str(g.get("name") or "GPU")
        if not cc or (name, str(cc)) in seen:
            continue
        seen.add((name, str(cc)))
        have = compat.vkey(cc)[:2]
        missing = []
        for r in rows:
            only = [compat.vkey(x)[:2] for x in r.get("only") or []]
            ok = have in only if only else have >= compat.vkey(r.get("min_compute_capability"))[:2]
            if not ok:
                missing.append(
                    f"{_FEATURE_WORDS.get(r['feature'], r['feature'])} (needs "
                    f"{'exactly ' + ', '.join(r['only']) if r.get('only') else str(r['min_compute_capability']) + '+'})"
                )
        if missing:
            out.append(
                {
                    "id": "gpu-feature-gates",
                    "cause": "gpu.feature.unsupported",
                    "severity": "info",
                    "title": f"{name} (compute capability {cc}) cannot run: "
                    + ", ".join(m.split(" (")[0] for m in missing),
                    "message": "The libraries check the compute capability before they run these and refuse this card "
                    "(a permissive framework call such as torch.cuda.is_bf16_supported() may still say yes); "
                    "pick settings this generation supports before a long run.",
                    "evidence": [f"gpus.{g.get('index', 0)}.compute_capability = {cc}; " + m for m in missing],
                    "fixes": [],
                    "source": "gpu-features",
                }
            )
    return out


def findings(
    snapshot: Dict[str, Any], kb_paths: Optional[List[str]] = None, source: str = "env", kb=None
) -> List[Dict[str, Any]]:
    """Environment-only signature findings (one per cause, strongest first), then GPU feature gates."""
    from ..knowledge.load import load_kb

    kb = kb or load_kb(list(kb_paths or []))
    result: List[Dict[str, Any]] = []
    seen = set()
    for f in _signature_findings(snapshot, kb, source):
        if f["cause"] not in seen:
            seen.add(f["cause"])
            result.append(f)
    order = {"error": 0, "warning": 1, "info": 2}
    result.sort(key=lambda f: order.get(f["severity"], 3))  # stable: score order within a severity
    try:
        result.extend(feature_findings(snapshot, kb))
    except Exception:  # noqa: BLE001 - a broken table loses the gates, never the report
        pass
    return result


def run(args) -> int:
    t0 = time.perf_counter()
    if args.env:
        from .match import snapshot_arg

        snapshot = snapshot_arg(args.env)
        if snapshot is None:
            return 2
    else:
        from .. import probe

        snapshot = probe.collect(frameworks=args.frameworks)
    from ..knowledge import compat
    from ..knowledge.load import load_kb

    kb = load_kb(getattr(args, "kb", []) or [])
    found = findings(snapshot, source="env" if args.env else "probe", kb=kb)
    bad = [f for f in found if f["severity"] in ("error", "warning")]
    if args.json:
        out = {
            "ok": not bad,
            "findings": found,
            "expected": compat.derive(snapshot, compat.kb_tables(kb)).get("expected", {}),
            "snapshot": snapshot,
            "elapsed_ms": round((time.perf_counter() - t0) * 1000, 1),
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        from ..term import Style, use_color

        print(render(found, snapshot, Style(use_color(sys.stdout)), source=args.env))
    return 1 if bad else 0


# ---------------------------------------------------------------- text report
def summary(snapshot: Dict[str, Any]) -> str:
    """One line: the machine as doctor saw it."""
    parts = []
    py = (snapshot.get("python") or {}).get("version")
    if py:
        parts.append(f"Python {py}")
    o = snapshot.get("os") or {}
    if o.get("system"):
        parts.append(f"{o['system']} {o.get('machine', '')}".strip() + (" (WSL)" if o.get("wsl") else ""))
    gpus = snapshot.get("gpus")
    if gpus is None:
        parts.append("GPUs unknown")
    elif not gpus:
        parts.append("no GPU")
    else:
        names = sorted({g.get("name", "?") for g in gpus})
        parts.append(f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''} ({', '.join(names)})")
    drv = (snapshot.get("driver") or {}).get("version")
    if drv:
        parts.append(f"driver {drv}")
    pk = snapshot.get("packages") or {}
    for name in ("tensorflow", "tensorflow-cpu", "keras", "torch", "jax", "numpy"):
        if pk.get(name):
            parts.append(f"{name} {pk[name]}")
    return ", ".join(parts)


def _unknowns(snapshot: Dict[str, Any]) -> List[str]:
    notes = []
    probes = snapshot.get("probes") or {}
    if snapshot.get("gpus") is None and probes.get("nvml", "ok") != "ok":
        notes.append(f"GPU facts unknown: NVML {probes['nvml']}")
    for k, v in probes.items():
        if k != "nvml" and v != "ok" and not v.startswith("skipped"):
            notes.append(f"{k}: {v}")
    return notes


def render(found: List[Dict[str, Any]], snapshot: Dict[str, Any], style=None, source: Optional[str] = None) -> str:
    style = style or (lambda text, *a: text)
    marks = {"error": ("x", "red"), "warning": ("!", "yellow"), "info": ("i", "blue")}
    lines = [style("dnnfix doctor", "bold") + ": " + summary(snapshot) + (f"  [{source}]" if source else "")]
    counts = {s: sum(1 for f in found if f["severity"] == s) for s in ("error", "warning", "info")}
    if not counts["error"] and not counts["warning"]:
        notes = counts["info"]
        lines.append(
            style(
                "No known problem found."
                + (
                    f" {notes} note{'s' if notes > 1 else ''} (info: not a problem by "
                    "itself; it explains a missing GPU if you see one):"
                    if notes
                    else ""
                ),
                "green",
            )
        )
    else:
        words = [f"{n} {s}{'s' if n > 1 else ''}" for s, n in counts.items() if n and s != "info"]
        lines.append(style(f"{' and '.join(words)} found:", "bold"))
    for f in found:
        mark, colour = marks.get(f["severity"], ("?", "grey"))
        lines.append("")
        lines.append(style(f"[{mark}] {f['title']}", "bold", colour) + style(f"  ({f['cause']})", "dim"))
        if f.get("message"):
            lines.append("    " + f["message"])
        for e in f.get("evidence") or []:
            lines.append(style(f"    evidence: {e}", "dim"))
        for fix in f.get("fixes") or []:
            lines.append(style(f"    fix: {fix['title']}", "green"))
            for code_line in str(fix.get("code", "")).splitlines():
                lines.append("        " + code_line)
    unknowns = _unknowns(snapshot)
    if unknowns:
        lines.append("")
        for n in unknowns:
            lines.append(style(f"note: {n}", "dim"))
    return "\n".join(lines)
