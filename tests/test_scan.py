"""`dnnfix scan`: the same object as `dnnfix match --json --no-probe` per file (plus its path), on all cores,
from folders, globs and compressed logs; summary, CSV/Parquet, incremental state, unreadable and vanished."""

import bz2
import csv
import gzip
import json
import lzma
import os

import pytest
from _cli import LOADED_CUDNN, dnnfix

OOM = (
    'Traceback (most recent call last):\n  File "train.py", line 40, in <module>\n    loss.backward()\n'
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of "
    "15.77 GiB of which 1.19 GiB is free.\n"
)
UNKNOWN = "Traceback (most recent call last):\n  File \"prep.py\", line {n}, in <module>\nKeyError: 'no label column in row {n}'\n"


def write(path, text, kind=""):
    data = text.encode()
    packed = {"": lambda b: b, "gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[kind](data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(packed)
    return str(path)


@pytest.fixture
def fleet(tmp_path):
    d = tmp_path / "logs"
    files = [
        write(d / "a" / "job-1.log", "step 1 loss 0.3\n" * 50 + OOM),
        write(d / "a" / "job-2.log.gz", "step 1 loss 0.3\n" * 10 + OOM, "gz"),
        write(d / "b" / "job-3.log.bz2", LOADED_CUDNN, "bz2"),
        write(d / "b" / "job-4.log.xz", UNKNOWN.format(n=1), "xz"),
        write(d / "b" / "job-5.log", UNKNOWN.format(n=2)),
        write(d / "job-6.txt", "all good, finished in 3 h\n"),
    ]
    write(d / ".hidden" / "skip.log", OOM)  # hidden folders are not walked
    return d, sorted(files)


def rows_of(out):
    rows = [json.loads(line) for line in out.splitlines()]
    for r in rows:
        r.pop("elapsed_ms")
    return rows


def test_each_result_is_the_match_object_plus_path(fleet):
    d, files = fleet
    rc, out, err = dnnfix("scan", "--json", "-j", "2", str(d))
    assert rc == 0, err
    rows = rows_of(out)
    assert [r["path"] for r in rows] == files  # folders walked in sorted order, hidden ones skipped
    rc, mout, _ = dnnfix("match", "--json", "--no-probe", *files)
    expected = rows_of(mout)
    assert [{k: v for k, v in r.items() if k != "path"} for r in rows] == expected
    by = {os.path.basename(r["path"]): r for r in rows}
    assert by["job-2.log.gz"]["matches"][0]["cause"] == by["job-1.log"]["matches"][0]["cause"] == "torch.cuda.oom"
    assert by["job-3.log.bz2"]["matches"][0]["cause"] == "tf.cudnn.version-mismatch"
    assert "dnnfix scan: 6 logs" in err  # the summary goes to stderr when the JSON Lines take stdout
    # one worker, a glob: the same answers
    rc, out1, _ = dnnfix("scan", "--json", "-j", "1", "-q", str(d / "b" / "*.log*"))
    assert rows_of(out1) == [r for r in rows if "/b/" in r["path"]]


def test_summary_counts_causes_and_clusters_unknown_errors(fleet):
    d, files = fleet
    rc, out, err = dnnfix("scan", "--summary-only", "--json", str(d))
    assert rc == 0, err
    s = json.loads(out)
    assert s["inputs"] == 6 and s["diagnosed"] == 6
    assert (
        s["split"]["confident"] == 3 and s["split"]["confident"] + s["split"]["possible"] + s["split"]["unknown"] == 6
    )
    top = s["causes"][0]
    assert top["cause"] == "torch.cuda.oom" and top["count"] == 2 and top["share"] == pytest.approx(2 / 6, abs=1e-3)
    assert len(top["examples"]) == 2
    # the two KeyErrors differ only in a number: one fingerprint, one cluster of two
    cl = s["unknown_clusters"][0]
    assert cl["count"] == 2 and cl["error"].startswith("KeyError") and len(cl["examples"]) == 2
    rc, text, _ = dnnfix("scan", str(d))
    assert rc == 0 and "torch.cuda.oom" in text and "confident 3 (50.0%)" in text and "KeyError" in text


def test_unreadable_inputs_are_listed_and_exit_2(fleet, tmp_path):
    d, files = fleet
    binary = tmp_path / "model.bin"
    binary.write_bytes(bytes(range(256)) * 40)
    rc, out, err = dnnfix("scan", "--json", str(d), str(binary), str(tmp_path / "missing.log"))
    assert rc == 2
    rows = rows_of(out)
    assert len(rows) == 8 and sum(1 for r in rows if r.get("error")) == 2
    assert "unreadable (2; exit status 2)" in err and "missing.log: no such file" in err and "binary data" in err


def test_state_skips_unchanged_logs_and_rescans_changed_ones(fleet, tmp_path):
    from dnnfix.knowledge.load import load_kb

    d, files = fleet
    state = tmp_path / "state.json"
    for _ in range(3):  # the state is void when the knowledge base changes: retry if someone edited it meanwhile
        key = load_kb()._key
        rc, first, _ = dnnfix("scan", "--json", "--state", str(state), str(d))
        assert rc == 0 and state.is_file()
        rc, again, err = dnnfix("scan", "--json", "--state", str(state), str(d))
        if load_kb()._key == key:
            break
    assert rc == 0 and "6 unchanged since the last scan" in err and rows_of(again) == rows_of(first)
    changed = d / "b" / "job-5.log"
    changed.write_text(OOM + "\n# rewritten\n")
    os.utime(changed, ns=(1, 1))
    rc, third, err = dnnfix("scan", "--json", "--state", str(state), str(d))
    assert "5 unchanged" in err
    row = next(r for r in rows_of(third) if r["path"] == str(changed))
    assert row["matches"][0]["cause"] == "torch.cuda.oom"


def test_a_summary_only_scan_skips_the_json_lines_but_still_fills_the_state(fleet, tmp_path):
    from dnnfix.scan import State, expand, run_scan, state_key
    from dnnfix.knowledge.load import load_kb

    d, files = fleet
    paths = expand([str(d)])
    want = [line for line, _, _ in run_scan(paths, jobs=1)]
    assert all(json.loads(line)["path"] for line in want)
    rows = [(line, row) for line, row, _ in run_scan(paths, jobs=1, lines=False)]
    assert [line for line, _ in rows] == [""] * len(paths)

    def same(row):
        return {k: v for k, v in row.items() if k != "elapsed_ms"}

    assert [same(row) for _, row in rows] == [same(row) for _, row, _ in run_scan(paths, jobs=1)]
    # without JSON lines the "similar known failures" hints are not worked out: they are in no row (a hint is never a
    # row's cause), so the rows above are the same; the JSON lines of the full scan do carry them
    assert any(any(m.get("hint") for m in json.loads(line)["matches"]) for line in want)
    kb = load_kb()
    state = State(str(tmp_path / "state.json"), state_key(kb, None, None))
    got = [line for line, _, _ in run_scan(paths, jobs=1, state=state, lines=False)]
    # a state file needs the lines: they are made whatever the caller writes
    assert [same(json.loads(line)) for line in got] == [same(json.loads(line)) for line in want]
    state.save()
    rc, out, err = dnnfix("scan", "--json", "--summary-only", "--state", str(tmp_path / "state.json"), str(d))
    assert rc == 0 and json.loads(out)["unchanged"] == len(paths)


def test_a_log_that_vanishes_mid_scan_is_reported_not_fatal(fleet):
    from dnnfix.scan import Summary, expand, run_scan

    d, files = fleet
    paths = expand([str(d)])
    summary = Summary()
    out = []
    for _, row, reused in run_scan(paths, jobs=1):
        if not out:
            os.unlink(paths[-1])  # listed and present when the scan began, gone before it is read
        out.append(row)
        summary.add(row, reused)
    assert len(out) == 6 and summary.vanished == [paths[-1]] and not summary.errors
    assert "vanished during the scan (1)" in summary.render()


def test_csv_and_parquet_outputs(fleet, tmp_path):
    d, files = fleet
    args = ["scan", "-q", "--csv", str(tmp_path / "r.csv"), str(d)]
    try:
        import pyarrow.parquet as pq
    except ImportError:
        pq = None
    if pq is not None:
        args[1:1] = ["--parquet", str(tmp_path / "r.parquet")]
    rc, out, err = dnnfix(*args)
    assert rc == 0, err
    with open(tmp_path / "r.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["path"] for r in rows] == files
    assert rows[0]["cause"] == "torch.cuda.oom" and rows[0]["status"] == "confident"
    assert json.loads(rows[0]["evidence"])  # the top cause's evidence, as JSON
    if pq is not None:
        t = pq.read_table(tmp_path / "r.parquet").to_pylist()
        assert [r["path"] for r in t] == files and t[0]["confident"] is True and isinstance(t[0]["score"], float)


def test_bad_arguments_give_one_sentence(tmp_path):
    rc, _, err = dnnfix("scan", "-j", "-1", str(tmp_path))
    assert rc == 2 and "-j must be" in err
    (tmp_path / "empty").mkdir()
    rc, _, err = dnnfix("scan", str(tmp_path / "empty"))
    assert rc == 2 and "no files under" in err


def test_one_log_that_breaks_the_matcher_does_not_end_the_scan(fleet, monkeypatch):
    from dnnfix import scan

    d, files = fleet
    real = scan._to_obj

    def flaky(t, name, *a):
        if name.endswith("job-5.log"):
            raise RecursionError("deep")
        return real(t, name, *a)

    monkeypatch.setattr(scan, "_to_obj", flaky)
    rows = [row for _, row, _ in scan.run_scan(scan.expand([str(d)]), jobs=1)]
    bad = [r for r in rows if r["status"] == "error"]
    assert len(rows) == 6 and len(bad) == 1 and "could not diagnose it (RecursionError: deep)" in bad[0]["error"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_folders_yield_regular_files_only(fleet):
    from dnnfix.scan import expand

    d, files = fleet
    os.mkfifo(d / "a" / "pipe.log")  # reading it would wait for a writer forever
    assert expand([str(d)]) == files and expand([str(d / "a" / "*.log")]) == [files[0]]


def test_a_row_from_the_light_object_is_the_row_from_the_whole_object():
    """A scan that writes no JSON lines builds only the keys its row reads (render_json.row_dict, no fixes filled):
    for every shipped case and negative the row is the one the whole object (to_dict) gives."""
    from dnnfix.api import diagnose_text
    from dnnfix.knowledge.check import check
    from dnnfix.render_json import row_dict, to_dict
    from dnnfix.scan import flat

    res = check()
    kb = res.kb
    n = 0
    for c in list(res.cases) + list(res.negatives):
        d = diagnose_text(c.text, kb=kb, similar=False)
        whole, light = flat(to_dict(d, kb)), flat(row_dict(d, kb))
        assert whole == light, c.text[:200]
        n += bool(whole["cause"])
        assert all("fixes" not in m for m in row_dict(d, kb)["matches"])
    assert n > 1000
