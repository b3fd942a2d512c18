"""The compiled-KB cache cannot run code and is never trusted blindly (dnnfix/knowledge/cache.py)."""

import marshal
import os
import pickle
import stat
import subprocess
import sys
import textwrap

import pytest

from dnnfix.knowledge import cache as kbcache
from dnnfix.knowledge.load import load_kb

pytestmark = pytest.mark.cold_kb_cache


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("DNNFIX_CACHE_DIR", str(d))
    return d


def _fresh_load():
    """Load as a new process would (the in-memory copy forgotten)."""
    from dnnfix.knowledge import load as kbload

    kbload._LOADED.clear()
    return load_kb()


def test_round_trip_is_the_same_knowledge_base(cache_dir):
    kb = _fresh_load()
    files = list(cache_dir.glob("kb-*.bin"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    again = kbcache.read(kb._key)
    assert again is not None
    assert [(s.id, s.match, s.against) for s in again.signatures] == [(s.id, s.match, s.against) for s in kb.signatures]
    assert again.explanations == kb.explanations and again.index == kb.index and again.compat == kb.compat


def test_the_api_drift_tables_stay_encoded_until_asked_for(cache_dir):
    from dnnfix.knowledge.compat import kb_tables
    from dnnfix.knowledge.drift import derive_facts

    kb = _fresh_load()
    again = kbcache.read(kb._key)
    tables = again.compat[0]
    assert isinstance(tables, kbcache.LazyTables)
    assert all(type(dict.__getitem__(tables, k)) is bytes for k in kbcache.LAZY_TABLES)
    assert type(dict.__getitem__(tables, "tensorflow")) is dict  # the small tables are plain from the start
    # every way of reading them sees the decoded tables, and drift answers as from the YAML-built KB
    assert kb_tables(again)["api-drift"] == kb.compat[0]["api-drift"]
    cap = {"drift_import": "cached_download", "drift_from": "huggingface_hub"}
    assert derive_facts(cap, None, again.compat[0])["drift.removed_in"] == "0.26.0"
    assert type(dict.__getitem__(tables, "api-drift")) is dict  # decoded once, kept
    # a table that does not decode is an empty table, never an error
    broken = kbcache.LazyTables({"api-added": b"\x00garbage", "api-drift": marshal.dumps([1, 2])})
    assert broken.get("api-added") == {} and broken["api-drift"] == {}
    assert derive_facts(cap, None, broken).get("drift.removed_in") is None


def test_signatures_are_built_only_when_used(cache_dir):
    """A KB read from the cache builds a signature when the matcher (or anyone) first uses it; the result is the
    same as with every signature built."""
    from dnnfix.api import diagnose_text

    kb = _fresh_load()
    again = kbcache.read(kb._key)
    sigs = again.signatures
    assert isinstance(sigs, kbcache.LazySignatures) and len(sigs) == len(kb.signatures)
    built = lambda: sum(type(list.__getitem__(sigs, i)) is not bytes for i in range(len(sigs)))  # noqa: E731
    assert built() == 0
    # by_id knows the ids without building the signatures before it
    last = kb.signatures[-1]
    assert again.by_id(last.id).match == last.match and built() == 1
    assert again.by_id("no-such-signature") is None
    text = "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity)"
    first = diagnose_text(text, env={}, kb=again)
    assert 0 < built() < len(sigs) // 4  # the prefilter opened a few
    assert [(m.signature, m.score) for m in first.matches] == [
        (m.signature, m.score) for m in diagnose_text(text, env={}, kb=kb).matches
    ]
    # every read path sees built signatures
    assert sigs == kb.signatures and sigs[:2] == kb.signatures[:2] and sigs[-1].id == last.id
    assert [s.id for s in sigs] == [s.id for s in kb.signatures] and built() == len(sigs)
    assert pickle.loads(pickle.dumps(sigs)) == kb.signatures


def test_changing_the_signature_list_in_place_keeps_every_id_right(cache_dir):
    """A KB read from the cache whose list is changed in place (a tool adding or reordering signatures) builds it
    all first: no signature is ever built under another one's id, and by_id finds the new ones."""
    kb = _fresh_load()
    again = kbcache.read(kb._key)
    sigs = again.signatures
    extra = kb.signatures[0]
    sigs.insert(0, kb.signatures[-1])
    sigs.append(extra)
    assert [s.id for s in sigs[1:-1]] == [s.id for s in kb.signatures]
    assert all(s.match == k.match for s, k in zip(sigs[1:-1], kb.signatures))
    assert again.by_id(kb.signatures[-1].id) is sigs[0]
    sigs.pop(0)
    assert again.by_id(kb.signatures[-1].id).id == kb.signatures[-1].id
    assert len(sigs) == len(kb.signatures) + 1


def test_a_signature_row_that_does_not_decode_never_fires(cache_dir):
    sigs = kbcache.LazySignatures(["a", "b"], [b"\x00garbage", marshal.dumps(("x", "y"))])
    assert [s.id for s in sigs] == ["a", "b"] and all(s.match == [] and s.cause == "" for s in sigs)


class _Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_planted_pickle_runs_nothing(cache_dir, tmp_path, monkeypatch):
    """A pickle (the old format, or planted under the new name) is never unpickled: nothing runs, the KB loads."""
    kb = _fresh_load()
    monkeypatch.chdir(tmp_path)
    for name in (f"kb-{kb._key}.bin", f"kb-{kb._key}.pickle"):
        (cache_dir / name).write_bytes(pickle.dumps(_Boom()))
    again = _fresh_load()
    assert not (tmp_path / "PWNED").exists()
    assert len(again.signatures) == len(kb.signatures)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\x00garbage",
        marshal.dumps({"format": kbcache.FORMAT, "key": "x"}),
        marshal.dumps([1, 2, 3]),
    ],
)
def test_an_invalid_cache_is_rebuilt(cache_dir, payload):
    kb = _fresh_load()
    p = cache_dir / f"kb-{kb._key}.bin"
    if b"key" in payload:  # right key, wrong structure
        payload = marshal.dumps({"format": kbcache.FORMAT, "key": kb._key, "signatures": [("x",)]})
    p.write_bytes(payload)
    assert kbcache.read(kb._key) is None
    again = _fresh_load()
    assert len(again.signatures) == len(kb.signatures)
    assert kbcache.read(again._key) is not None  # rewritten


def test_a_folder_others_can_write_is_refused(cache_dir):
    cache_dir.mkdir(mode=0o777)
    os.chmod(cache_dir, 0o777)
    _fresh_load()
    assert not list(cache_dir.iterdir())  # nothing written there, nothing read
    link = cache_dir.parent / "link"
    link.symlink_to(cache_dir)
    assert not kbcache._safe_dir(link, create=False)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give a file away")
def test_a_file_owned_by_another_user_is_ignored(cache_dir):
    kb = _fresh_load()
    p = cache_dir / f"kb-{kb._key}.bin"
    os.chown(p, 12345, 12345)
    assert kbcache.read(kb._key) is None
    os.chown(cache_dir, 12345, 12345)
    assert not kbcache._safe_dir(cache_dir, create=False)


def test_the_fallback_temp_folder_planted_by_another_user_is_not_used(tmp_path):
    """With no usable per-user cache, a world-writable dnnfix-cache-<uid> in the temp folder is left alone."""
    uid = os.getuid()
    planted = tmp_path / f"dnnfix-cache-{uid}"
    planted.mkdir()
    os.chmod(planted, 0o777)
    env = dict(os.environ, TMPDIR=str(tmp_path), XDG_CACHE_HOME="/proc/no-such-place", HOME="/proc/no-such-place")
    env.pop("DNNFIX_CACHE_DIR", None)
    code = textwrap.dedent("""
        from dnnfix.api import diagnose_text
        d = diagnose_text("RuntimeError: CUDA error: out of memory", probe=False)
        print(d.matches[0].cause)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("torch.")
    assert not list(planted.iterdir())
