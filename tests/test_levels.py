"""Clause strengths as named levels (dnnfix.knowledge.signature.LEVELS), defined against the confidence threshold."""

import re
from pathlib import Path

from dnnfix.matcher import CONFIDENT
from dnnfix.knowledge.signature import LEVELS

REPO = Path(__file__).resolve().parent.parent


def _or(*ws):
    miss = 1.0
    for w in ws:
        miss *= 1 - w
    return 1 - miss


def test_levels_mean_what_contributing_says():
    L = LEVELS
    for name in ("decisive", "strong", "solid"):
        assert L[name] >= CONFIDENT, name  # confident alone
    assert _or(L["moderate"], L["hint"]) >= CONFIDENT  # moderate + hint is enough
    assert _or(L["hint"], L["hint"]) < CONFIDENT  # two hints are not
    assert L["moderate"] < CONFIDENT and L["trace"] < L["hint"]
    assert L["capture"] == 0.0  # captures a value, adds nothing
    assert L["decisive"] * (1 - L["moderate"]) >= CONFIDENT - 0.1  # a decisive message survives a moderate against
    assert L["solid"] * (1 - L["hint"]) < CONFIDENT  # a solid one does not survive any against
    assert L["strong"] * (1 - L["strong"]) < CONFIDENT


def test_builtin_signatures_use_levels_only():
    """The built-in knowledge base writes every weight as a level (numbers stay allowed in user KBs)."""
    bad = []
    for p in sorted((REPO / "kb" / "signatures").rglob("*.yaml")):
        if p.name.endswith(".cases.yaml"):
            continue
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            m = re.match(r"^\s*(?:-\s+)?weight:\s*(\S+)", line)
            if m and m.group(1) not in LEVELS:
                bad.append(f"{p.relative_to(REPO)}:{n}: {m.group(1)}")
    assert not bad, "\n".join(bad[:20])


def test_compiler_accepts_levels_and_numbers(tmp_path):
    from dnnfix.knowledge.signature import compile_signature
    from dnnfix.knowledge.yamlmarks import load

    text = (
        "id: x-y\ncause: torch.cuda.oom\ntitle: t\nstatus: test\nmatch:\n"
        "  - regex: 'CUDA out of memory'\n    weight: decisive\n"
        "  - regex: 'Tried to allocate'\n    weight: 0.4\n"
        "  - regex: 'reserved in total'\n    weight: strongest\n"
    )
    diags = []
    sig = compile_signature(load(text), "x.yaml", {"torch.cuda.oom": {}}, diags)
    assert sig is None  # the typo is an error
    assert any(d.code == "DNX114" and "did you mean 'strong'" in d.format() for d in diags)
    diags = []
    sig = compile_signature(load(text.replace("strongest", "hint")), "x.yaml", {"torch.cuda.oom": {}}, diags)
    assert [c.weight for c in sig.match] == [LEVELS["decisive"], 0.4, LEVELS["hint"]]
