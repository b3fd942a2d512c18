"""dnnfix.spark in PySpark local mode: the same answers as `dnnfix scan` on the same logs (compressed, binary,
huge), string and binary text columns, knowledge-base folders shipped with the job. One session per module."""

import bz2
import gzip
import json
import lzma
import os
import shutil
import sys
from pathlib import Path

import pytest
from _cli import LOADED_CUDNN

pyspark = pytest.importorskip("pyspark")
pytest.importorskip("pyarrow")
pytest.importorskip("pandas")
if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
    pytest.skip("Spark needs a Java runtime", allow_module_level=True)

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")

MINI = Path(__file__).resolve().parent / "fixtures" / "kb-mini"
OOM = (
    'Traceback (most recent call last):\n  File "train.py", line 40, in <module>\n    loss.backward()\n'
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of "
    "15.77 GiB of which 1.19 GiB is free.\n"
)
NCCL = (
    "[rank3]: torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/NCCLUtils.hpp:275, "
    "unhandled system error (run with NCCL_DEBUG=INFO for details), NCCL version 2.20.5\n"
    "ncclSystemError: System call (e.g. socket, malloc) or external library call failed or device error.\n"
)
ORDINARY = "Epoch 3/50 1875/1875 [==============================] - 12s 6ms/step - loss: 0.1432 - accuracy: 0.9571\n"


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    old = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers import dnnfix from this environment
    s = (
        SparkSession.builder.master("local[2]")
        .appName("dnnfix-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()
    if old is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = old


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    d = tmp_path_factory.mktemp("fleet")
    (d / "a").mkdir()
    (d / "a" / "oom.log").write_text("step 1 loss 0.3\n" * 20 + OOM)
    (d / "a" / "oom.log.gz").write_bytes(gzip.compress(OOM.encode()))
    (d / "cudnn.log.bz2").write_bytes(bz2.compress(LOADED_CUDNN.encode()))
    (d / "nccl.log.xz").write_bytes(lzma.compress(NCCL.encode()))
    (d / "unknown.log").write_text("Traceback (most recent call last):\nKeyError: 'no label column in row 7'\n")
    (d / "fine.log").write_text("all good, finished in 3 h\n")
    (d / "model.bin").write_bytes(bytes(range(256)) * 40)
    # a big log reduced by the reader: the decisive line in the middle, the final error at the end
    body = ORDINARY * 30_000
    (d / "big.log").write_text(
        body + LOADED_CUDNN.split("\n")[0] + "\n" + body + "UnimplementedError: Graph "
        "execution error:\nDNN library is not found.\n"
    )
    return d


KEYS = ("status", "cause", "score", "confident", "signature", "title", "fingerprint", "evidence", "error")


def test_spark_gives_the_same_answers_as_scan(spark, logs):
    import dnnfix.spark as dxs
    from dnnfix.scan import expand, run_scan

    want = {row["path"]: row for _, row, _ in run_scan(expand([str(logs)]), jobs=1)}
    out = dxs.diagnose(dxs.read_logs(spark, str(logs))).drop("text").collect()
    got = {}
    for r in out:
        path, row = r["path"].replace("file://", "").replace("file:", ""), r.asDict()
        if row["error"]:  # the reason names the row's path, here a file: URI
            row["error"] = row["error"].replace(r["path"], path)
        got[path] = row
    assert set(got) == set(want) and len(got) == 8
    for path, row in want.items():
        assert {k: got[path][k] for k in KEYS} == {k: row[k] for k in KEYS}, path
    assert got[str(logs / "big.log")]["cause"] == "tf.cudnn.version-mismatch"
    assert got[str(logs / "a" / "oom.log.gz")]["cause"] == "torch.cuda.oom"
    assert got[str(logs / "model.bin")]["status"] == "error"
    top3 = json.loads(got[str(logs / "cudnn.log.bz2")]["matches"])
    assert 1 <= len(top3) <= 3 and top3[0]["cause"] == "tf.cudnn.version-mismatch"


def test_string_column_and_a_shipped_user_kb(spark):
    import dnnfix.spark as dxs

    df = spark.createDataFrame([("x", LOADED_CUDNN), ("y", None)], "name string, text string")
    rows = {r["name"]: r for r in dxs.diagnose(df, kb_paths=[str(MINI)], name_col="name", top=1).collect()}
    assert rows["x"]["cause"] == "demo.cudnn.mismatch" and rows["x"]["confident"] is True  # only in kb-mini
    assert len(json.loads(rows["x"]["matches"])) == 1
    assert rows["y"]["status"] == "error" and rows["y"]["cause"] is None


def test_bad_columns_are_refused_before_any_job(spark):
    import dnnfix.spark as dxs

    df = spark.createDataFrame([(1, "x")], "n int, cause string")
    with pytest.raises(ValueError, match="no column 'text'"):
        dxs.diagnose(df)
    with pytest.raises(ValueError, match="already has column"):
        dxs.diagnose(df, text_col="cause")
    with pytest.raises(ValueError, match="strings or bytes"):
        dxs.diagnose(df.drop("cause"), text_col="n")


def test_a_shipped_kb_is_written_once_per_content_whatever_its_folder(tmp_path):
    import dnnfix.spark as dxs

    a, b = tmp_path / "a" / "kb", tmp_path / "b" / "kb"
    shutil.copytree(MINI, a)
    shutil.copytree(MINI, b)
    ka, kb_ = dxs.bundle_key(dxs._bundle([str(a)])), dxs.bundle_key(dxs._bundle([str(b)]))
    assert ka == kb_  # the same files from two checkouts: one folder on the worker
    md = next(b.rglob("*.md"))
    md.write_text(md.read_text() + "\nedited\n")
    assert dxs.bundle_key(dxs._bundle([str(b)])) != ka  # an edit is a new knowledge base
    assert dxs.bundle_key(dxs._bundle([str(a), str(MINI)])) != ka
