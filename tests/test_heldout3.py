"""Third held-out generalisation guard: dnnfix on tests/heldout3/, pastes written independently of the knowledge
base and of both earlier held-out sets (tests/heldout/, tests/heldout2/). This set is meant as the final, unbiased
estimate on real-world-shaped pastes; do not tune the knowledge base against its individual files.
See tests/heldout3/README.md."""
import importlib.util
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
HELDOUT3 = REPO / "tests" / "heldout3"

TOP1_MIN = 0.85
TOP3_MIN = 0.93
NEG_CLAIM_MAX = 0.03


def _load_eval():
    """Import scripts/heldout_eval.py as a module."""
    spec = importlib.util.spec_from_file_location("heldout_eval", REPO / "scripts" / "heldout_eval.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """Evaluate the third held-out set once per module against the shipped knowledge base only."""
    tmp = tmp_path_factory.mktemp("heldout3")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DNNFIX_USER_KB", str(tmp / "no-user-kb"))
        mp.setenv("DNNFIX_CACHE_DIR", str(tmp / "cache"))
        mp.delenv("DNNFIX_KB_PATH", raising=False)
        mp.delenv("DNNFIX_DISABLE", raising=False)
        ev = _load_eval()
        return ev.evaluate(ev.load_cases(HELDOUT3))


def _summary(res):
    """A short list of misses for assertion messages."""
    return "\n".join(f"{m['path']}: {[(g['cause'], g['score']) for g in m['got']]}" for m in res["misses"])


def test_every_canonical_cause_has_pastes():
    """Every folder names a known cause and holds 2 to 4 pastes; every canonical cause has a folder; there are
    at least 40 negatives."""
    known = yaml.safe_load((REPO / "kb" / "causes.yaml").read_text(encoding="utf-8"))["causes"]
    folders = [d for d in HELDOUT3.iterdir() if d.is_dir() and d.name != "negatives"]
    assert len(folders) >= 56
    for d in folders:
        assert d.name in known, f"unknown cause folder {d.name}"
        n = len(list(d.glob("*.txt")))
        assert 2 <= n <= 4, f"{d.name}: {n} pastes"
    shared = REPO.parent / "shared" / "causes.yaml"
    if shared.is_file():
        for cid in yaml.safe_load(shared.read_text(encoding="utf-8"))["causes"]:
            assert (HELDOUT3 / cid).is_dir(), f"no heldout3 pastes for {cid}"
    assert len(list((HELDOUT3 / "negatives").glob("*.txt"))) >= 40


def test_heldout3_top1(result):
    """The expected cause ranks first on at least 85% of the third held-out pastes."""
    assert result["top1_rate"] >= TOP1_MIN, _summary(result)


def test_heldout3_top3(result):
    """The expected cause is in the top 3 on at least 93% of the third held-out pastes."""
    assert result["top3_rate"] >= TOP3_MIN, _summary(result)


def test_heldout3_negatives_no_confident_claim(result):
    """dnnfix makes a confident claim on at most 3% of the third held-out set's ordinary failures."""
    assert result["negative_claim_rate"] <= NEG_CLAIM_MAX, result["negative_claims"]
