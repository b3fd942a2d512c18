"""The GPU feature table (kb/compat/gpu-features.yaml): capability gates per feature and per architecture."""

from pathlib import Path

import yaml

from dnnfix.knowledge import compat

KB = Path(__file__).resolve().parent.parent / "kb"
COLUMNS = {
    "bf16": "bf16",
    "flash_attn_2": "flash-attn-2",
    "flash_attn_3": "flash-attn-3",
    "fp8": "fp8",
    "triton": "triton",
}


def _features():
    return {r["feature"]: r for r in compat.rows("gpu-features", "features")}


def _passes(row, capability):
    if row.get("only"):
        return capability in row["only"]
    return compat.vkey(capability) >= compat.vkey(row["min_compute_capability"])


def test_every_feature_row_names_the_code_that_checks_it():
    """Each gate cites the repository and path that refuses, and the start of its message."""
    rows = compat.rows("gpu-features", "features")
    assert {"bf16", "flash-attn-2", "flash-attn-3", "fp8", "triton"} <= {r["feature"] for r in rows}
    for r in rows:
        assert compat.vkey(r["min_compute_capability"]), r
        owner_repo, path = r["checked_by"].split(" ", 2)[:2]
        assert owner_repo.count("/") == 1 and "/" in path, r
        assert len(r["wording"]) >= 20, r


def test_architecture_columns_follow_the_feature_gates():
    """Every yes/no of the architectures table is what the feature rows give for that capability."""
    feats = _features()
    rows = compat.rows("gpu-features", "architectures")
    assert len(rows) >= 10
    for r in rows:
        for column, feature in COLUMNS.items():
            assert r[column] == _passes(feats[feature], r["compute_capability"]), (r["arch"], column)


def test_well_known_cards():
    """Spot checks: the free notebook GPUs fail bf16 and FlashAttention 2; Ada is the first with FP8."""
    by_cap = {r["compute_capability"]: r for r in compat.rows("gpu-features", "architectures")}
    t4, p100, a100, l4, h100 = by_cap["7.5"], by_cap["6.0"], by_cap["8.0"], by_cap["8.9"], by_cap["9.0"]
    assert "Tesla T4" in t4["examples"] and not t4["bf16"] and not t4["flash_attn_2"] and t4["triton"]
    assert not p100["triton"]
    assert a100["bf16"] and a100["flash_attn_2"] and not a100["fp8"]
    assert l4["fp8"] and not l4["flash_attn_3"]
    assert all(h100[c] for c in COLUMNS)


def test_signatures_quote_the_same_thresholds():
    """The messages the accelerator signatures match carry the thresholds the table states."""
    feats = _features()
    sig_dir = KB / "signatures" / "accelerators"
    bf16 = yaml.safe_load((sig_dir / "gpu-bf16-needs-ampere.yaml").read_text())
    triton = yaml.safe_load((sig_dir / "triton-gpu-too-old.yaml").read_text())
    fp8 = yaml.safe_load((sig_dir / "gpu-fp8-needs-ada-hopper.yaml").read_text())
    assert any("at\\s+least\\s+8\\.0" in c.get("regex", "") for c in bf16["match"])
    assert feats["bf16"]["min_compute_capability"] == "8.0"
    assert any("too\\s+old" in c.get("regex", "") for c in triton["match"])
    assert feats["triton"]["min_compute_capability"] == "7.0"
    assert any("(?:9\\.0|8\\.9)" in c.get("regex", "") for c in fp8["match"])
    assert feats["fp8"]["min_compute_capability"] == "8.9"
