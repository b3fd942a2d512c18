"""`status` means something: an `experimental` signature is offered but never shown as confident by the notebook
hook (the rule lives in the match layer, dnnfix.matcher.hold_back_experimental; front-ends pass a flag), and
scripts/promote_signatures says which ones the cases and the development set's dev part support."""

import importlib.machinery
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

from dnnfix.api import diagnose_text
from dnnfix.knowledge.load import load_kb
from dnnfix.matcher import hold_back_experimental

ROOT = Path(__file__).resolve().parent.parent
SIG = "tf-no-kernel-binaries-for-capability"  # status: experimental in the shipped KB
WARN = (
    "2021-01-14 19:02:11.901822: W tensorflow/core/common_runtime/gpu/gpu_device.cc:1737] TensorFlow was not "
    "built with CUDA kernel binaries compatible with compute capability 8.6. CUDA kernels will be jit-compiled "
    "from PTX, which could take 30 minutes or longer.\n"
)


@pytest.fixture(scope="module")
def kb():
    kb = load_kb()
    sig = next((s for s in kb.signatures if s.id == SIG), None)
    if sig is None or sig.status != "experimental":
        pytest.skip(f"{SIG} is no longer experimental: pick another experimental signature for this test")
    return kb


def test_hold_back_turns_only_experimental_confidence_off():
    ms = [
        SimpleNamespace(status="experimental", confident=True),
        SimpleNamespace(status="stable", confident=True),
        SimpleNamespace(status="test", confident=True),
        SimpleNamespace(status="experimental", confident=False),
    ]
    assert [m.confident for m in hold_back_experimental(ms)] == [False, True, True, False]


def test_match_keeps_raw_confidence_and_the_flag_holds_it_back(kb):
    raw = next(m for m in diagnose_text(WARN, kb=kb).matches if m.signature == SIG)
    held = next(m for m in diagnose_text(WARN, kb=kb, experimental_confident=False).matches if m.signature == SIG)
    assert raw.confident and not held.confident
    assert held.score == raw.score  # offered with the same rank and score, only not as a confident claim


def test_the_notebook_hook_never_shows_an_experimental_signature_as_confident(kb):
    from dnnfix import hook
    from dnnfix.panel import build

    exc = RuntimeError("the cell was interrupted")
    shown = build(exc, kb, log_text=WARN, probe=False, html=False)
    assert any(m.signature == SIG and m.confident for m in shown.diagnosis.matches)  # the panel alone: raw
    panel = hook.diagnose_bounded(exc, WARN, html=False)
    mine = [m for m in panel.diagnosis.matches if m.signature == SIG]
    assert mine and not any(m.confident for m in mine)


def _script():
    path = ROOT / "scripts" / "promote_signatures"
    loader = importlib.machinery.SourceFileLoader("promote_signatures", str(path))
    spec = importlib.util.spec_from_loader("promote_signatures", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def test_promotion_needs_cases_and_dev_support(tmp_path):
    """A planted experimental signature: promoted only with its cases passing and a dev record it ranks first
    on; a wrong confident dev claim keeps it experimental; --write changes only its status line."""
    from dnnfix.knowledge.check import check

    kb = tmp_path / "kb"
    (kb / "signatures" / "local").mkdir(parents=True)
    sig = kb / "signatures" / "local" / "zz-widget-overheated.yaml"
    sig.write_text(
        "id: zz-widget-overheated\ncause: host.disk.full\ntitle: t\nstatus: experimental\n"
        "match:\n  - regex: 'ZZWidget\\s+overheated\\s+at\\s+(?P<temp>\\d+)'\n    weight: 0.9\n"
    )
    cases = "".join(f"  - name: m{i}\n    expect: match\n    text: 'ZZWidget overheated at {i}0'\n" for i in range(3))
    (kb / "signatures" / "local" / "zz-widget-overheated.cases.yaml").write_text(
        "signature: zz-widget-overheated\ncases:\n"
        + cases
        + "  - name: nm\n    expect: no-match\n    text: 'ZZWidget cooled down'\n"
    )
    res = check([str(kb)])
    res.cause_cases, res.negatives = res.cause_cases[:5], res.negatives[:5]  # a few: the rule, not the corpus
    mod = _script()
    right = [{"path": "host.disk.full/a.yaml", "expected": "host.disk.full", "text": "ZZWidget overheated at 99\n"}]
    wrong = [{"path": "negatives/b.yaml", "expected": None, "text": "ZZWidget overheated at 12\n"}]
    v = {x["signature"]: x for x in mod.assess(res, right, only="zz-widget-overheated")}["zz-widget-overheated"]
    assert v["promote"] and v["dev_right"] == 1, v
    v = {x["signature"]: x for x in mod.assess(res, right + wrong, only="zz-widget-overheated")}["zz-widget-overheated"]
    assert not v["promote"] and len(v["dev_wrong"]) == 1
    v = {x["signature"]: x for x in mod.assess(res, [], only="zz-widget-overheated")}["zz-widget-overheated"]
    assert not v["promote"] and "dev" in v["reasons"][0]
    before = sig.read_text()
    assert mod.promote(str(sig))
    assert sig.read_text() == before.replace("status: experimental", "status: test")
