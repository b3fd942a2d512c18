"""Environment scenarios (tests/fixtures/scenarios/*.yaml): the same symptom ranks by the machine's facts.

Each scenario is a paste (`text`), optionally the failing machine's snapshot (`env`, as `dnnfix env --json`
writes it; without it the facts come from the environment report inside the paste), and the cause `dnnfix
match` must name first and confident (`expect`; null: no confident claim at all, the environment must keep
dnnfix silent or leave the text's own cause first). `dnnfix doctor` on the same facts must agree.
"""

import glob
import json
import os

import pytest
import yaml

from dnnfix.api import diagnose_text
from dnnfix.commands import doctor
from dnnfix.knowledge.load import load_kb

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = sorted(glob.glob(os.path.join(REPO, "tests", "fixtures", "scenarios", "*.yaml")))


def _load(path):
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def kb():
    return load_kb()


def test_enough_scenarios_of_each_kind():
    """At least 40 scenarios; some explained by a snapshot, some by a pasted report, some kept silent."""
    docs = [_load(f) for f in FILES]
    assert len(docs) >= 40
    assert sum(1 for d in docs if d.get("env") is None and d["expect"]) >= 5  # facts from the paste alone
    assert sum(1 for d in docs if d["expect"] is None) >= 8  # the environment keeps dnnfix silent
    assert len({d["expect"] for d in docs if d["expect"]}) >= 12
    assert len({d["name"] for d in docs}) == len(docs)


@pytest.mark.parametrize("path", FILES, ids=[os.path.basename(f)[:-5] for f in FILES])
def test_scenario(path, kb):
    """match names the expected cause first and confident (or claims nothing); doctor agrees on the same facts."""
    sc = _load(path)
    d = diagnose_text(sc["text"], env=sc.get("env"), kb=kb)
    confident = [m for m in d.matches if m.confident]
    got = confident[0].cause if confident else None
    assert got == sc["expect"], [(m.signature, m.cause, m.score) for m in d.matches[:4]]

    env_only = {s.id for s in kb.signatures if s.env_only}
    found = doctor.findings(d.facts.snapshot, kb=kb) if d.facts.snapshot else []
    doc_causes = [f["cause"] for f in found if f["source"] == "signature"]
    # doctor never sees a problem that match does not list among its candidates ...
    assert set(doc_causes) <= {m.cause for m in d.matches}, (doc_causes, [m.cause for m in d.matches])
    # ... and match never claims a machine finding that doctor does not report
    for m in confident:
        if m.signature in env_only:
            assert m.cause in doc_causes, (m.signature, doc_causes)
    if confident and confident[0].signature in env_only:
        assert doc_causes[0] == sc["expect"], doc_causes
        # the facts are the evidence, each with its source
        facts = [e.text for e in confident[0].evidence if e.kind == "fact" and not e.against]
        where = "(from --env snapshot)" if sc.get("env") else "(from the pasted environment report)"
        assert any(where in t for t in facts), facts


def test_scenarios_through_the_cli(tmp_path, capsys):
    """`dnnfix match --env SNAPSHOT` on a symptom-only paste names the environment cause with the facts."""
    from dnnfix.cli import main

    sc = _load(next(f for f in FILES if f.endswith("01-driver-old-torch-repl-false.yaml")))
    (tmp_path / "env.json").write_text(json.dumps(sc["env"]))
    (tmp_path / "paste.txt").write_text(sc["text"])
    assert main(["match", "--json", "--env", str(tmp_path / "env.json"), str(tmp_path / "paste.txt")]) == 0
    out = json.loads(capsys.readouterr().out.splitlines()[0])
    top = out["matches"][0]
    assert top["cause"] == "gpu.driver.too-old" and top["confident"]
    assert any("driver.version = 470.182.03" in e and "from --env snapshot" in e for e in json.dumps(top).split('"'))
    main(["doctor", "--env", str(tmp_path / "env.json")])
    assert "gpu.driver.too-old" in capsys.readouterr().out


def test_unexplained_symptom_says_what_it_saw():
    """A symptom with nothing to explain it: what the output showed and what the environment showed."""
    sc = _load(next(f for f in FILES if "silent-healthy-machine-repl-false" in f))
    d = diagnose_text(sc["text"], env=sc["env"])
    assert not d.confident
    assert "No Python exception was found" not in d.family
    assert "torch.cuda.is_available() -> False" in d.family
    assert "NVIDIA GeForce RTX 3090" in d.family and "from --env snapshot" in d.family
    bare = diagnose_text("Epoch 3/10\n 812/1875 [====>.....] - loss: 0.41\nSegmentation fault (core dumped)\n")
    assert not bare.confident
    assert "ends abruptly" in bare.family and "Segmentation fault (core dumped)" in bare.family


def test_hook_and_tui_paths_rank_the_same_finding():
    """The hook (a live exception + this machine's probe) and the TUI (a paste + the probe) name the same cause."""
    from dnnfix.api import diagnose_exception

    sc = _load(next(f for f in FILES if f.endswith("01-driver-old-torch-repl-false.yaml")))
    try:
        raise RuntimeError(
            "Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU "
            "and installed a driver from http://www.nvidia.com/Download/index.aspx"
        )
    except RuntimeError as e:
        live = diagnose_exception(e, env=sc["env"], probe=False, env_is_probe=True)
    assert live.top.cause == "gpu.driver.too-old" and live.top.confident
    assert any("(probed on this machine)" in ev.text for ev in live.top.evidence)
    tui = diagnose_text(sc["text"], env=sc["env"], env_is_probe=True)
    assert tui.top.cause == "gpu.driver.too-old" and tui.top.confident
