"""`frameworks:` in the matcher: a signature bound to TensorFlow, PyTorch or JAX is weighed down when the paste's
frames belong to another of them only (conservatively: unbound lists, mixed frames and a single frame change
nothing), and scripts/frameworks_migration.py removes the hand-written clauses this makes redundant."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

from dnnfix import matcher
from dnnfix.api import diagnose_text
from dnnfix.knowledge.load import load_kb

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "fw,fams",
    [
        (["tensorflow", "keras"], {"tensorflow"}),
        (["pytorch"], {"pytorch"}),
        (["torch"], {"pytorch"}),
        (["jax"], {"jax"}),
        (["jax", "tensorflow", "pytorch-xla"], {"jax", "tensorflow", "pytorch"}),
        (["tensorflow", "numpy"], set()),
        (["any"], set()),
        (["python", "torch"], set()),
        ([], set()),
    ],
)
def test_only_lists_of_known_frameworks_bind_a_signature(fw, fams):
    assert matcher.signature_families(fw) == fams


def _inc(*packages):
    return SimpleNamespace(frames=[SimpleNamespace(package=p) for p in packages])


@pytest.mark.parametrize(
    "fw,packages,down",
    [
        (["tensorflow"], ["torch", "torch"], True),
        (["tensorflow"], ["user", "torch", "torchvision", "stdlib"], True),
        (["tensorflow"], ["torch"], False),  # one frame is not clearly another framework
        (["tensorflow"], ["torch", "torch", "keras"], False),  # its own framework is in the paste too
        (["tensorflow", "numpy"], ["torch", "torch"], False),  # not bound
        (["pytorch"], ["jax", "jaxlib"], True),
        (["pytorch"], ["transformers", "transformers"], False),  # not a framework family: no claim
        (["jax"], [], False),
    ],
)
def test_weighed_down_only_when_frames_clearly_belong_elsewhere(fw, packages, down):
    sig = SimpleNamespace(frameworks=tuple(fw))
    ev = matcher._other_framework(sig, matcher.frame_families(_inc(*packages)))
    assert (ev is not None) is down
    if down:
        assert ev.against and ev.weight == matcher.FRAMEWORK_AGAINST and "frames only in" in ev.text


TORCH_TB = (
    'Traceback (most recent call last):\n  File "/content/train.py", line 41, in <module>\n    out = model(x)\n'
    '  File "/usr/local/lib/python3.10/dist-packages/torch/nn/modules/module.py", line 1518, in _call_impl\n'
    "    return forward_call(*args, **kwargs)\n"
    '  File "/usr/local/lib/python3.10/dist-packages/torch/nn/modules/linear.py", line 114, in forward\n'
    "    return F.linear(input, self.weight, self.bias)\n"
)
WARN = (
    "WARNING:tensorflow:Your input ran out of data; interrupting training. Make sure that your dataset or "
    "generator can generate at least `steps_per_epoch * epochs` batches (in this case, 1000 batches).\n"
)


def test_the_rule_decides_a_real_ranking(monkeypatch):
    """A Keras warning above a torch traceback: with the rule the traceback's cause wins, without it the warning."""
    kb = load_kb()
    text = WARN + TORCH_TB + "RuntimeError: CUDA error: device-side assert triggered\n"
    ms = diagnose_text(text, kb=kb).matches
    assert ms[0].cause == "torch.cuda.device-side-assert"
    ood = next(m for m in ms if m.cause == "tf.data.out-of-data")
    assert not ood.confident and any(e.against and "frames only in pytorch" in e.text for e in ood.evidence)
    monkeypatch.setattr(matcher, "FRAMEWORK_AGAINST", 0.0)
    assert diagnose_text(text, kb=kb).matches[0].cause == "tf.data.out-of-data"


def _migration():
    spec = importlib.util.spec_from_file_location("frameworks_migration", ROOT / "scripts" / "frameworks_migration.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


SIG = """id: x
frameworks: [tensorflow]
match:
  - regex: 'boom'
    weight: 0.9
  - frames: {package: torch}   # match clauses stay
    weight: 0.1
against:
  - frames: {package: torch}
    weight: 0.8
  # a comment about the next clause
  - regex: 'jaxlib'
    weight: 0.8
  - frames: {package: jax}
    weight: 0.6
falsepositives: []
"""


def test_migration_removes_only_the_redundant_against_clauses():
    mod = _migration()
    text, n = mod.remove_clauses(SIG, ["torch", "jax"])
    assert n == 2
    assert text == SIG.replace("  - frames: {package: torch}\n    weight: 0.8\n", "").replace(
        "  - frames: {package: jax}\n    weight: 0.6\n", ""
    )
    only, n = mod.remove_clauses(
        "id: y\nagainst:\n  - frames: {package: torch}\n    weight: 0.8\nfalsepositives: []\n", ["torch"]
    )
    assert n == 1 and only == "id: y\nfalsepositives: []\n"


def test_the_shipped_kb_has_no_hand_written_clause_the_frameworks_rule_covers():
    """The migration ran (32 clauses in 22 signatures removed, no case or held-out paste changed); a new
    `against: - frames: {package: X}` that `frameworks:` already implies fails here, with the script's listing."""
    found = _migration().redundant(load_kb())
    assert not found, [f"{r['signature']}: against frames {{package: {r['package']}}}" for r in found]
