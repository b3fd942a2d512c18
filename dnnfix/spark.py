"""The same matcher on Apache Spark: one row per log, the diagnosis as columns.

    from pyspark.sql import SparkSession
    import dnnfix.spark as dxs

    spark = SparkSession.builder.master("local[*]").getOrCreate()   # or your cluster: the code is the same
    logs = dxs.read_logs(spark, "s3a://bucket/jobs/2026-12-04/")     # path, length, modificationTime, text
    out = dxs.diagnose(logs)                                         # + status, cause, score, confident, ...
    out.groupBy("cause").count().orderBy("count", ascending=False).show()

`diagnose` runs in Arrow batches (`mapInArrow`); each Python worker loads the knowledge base once. Extra
knowledge-base folders (`kb_paths`, DNNFIX_KB_PATH, the user folder) are read on the driver and travel with the
job, so executors need only `pip install dnnfix` of the same release. A binary `text` column (as `read_logs`
gives) is decompressed, decoded and reduced exactly as `dnnfix scan` reads a file, so both give the same answers.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

# output columns and their Arrow / Spark types
OUTPUT = (
    ("status", "string"),
    ("cause", "string"),
    ("score", "double"),
    ("confident", "boolean"),
    ("signature", "string"),
    ("title", "string"),
    ("fingerprint", "string"),
    ("evidence", "string"),
    ("matches", "string"),
    ("error", "string"),
)


def read_logs(spark, path, *, recursive: bool = True, glob: Optional[str] = None):
    """Whole log files, one row each: path, length, modificationTime, text (the file's bytes).

    `path` is any Hadoop-compatible path or list of paths (file:, hdfs:, s3a:, gs:, abfss:, ...); `glob`
    keeps file names matching it (e.g. "*.log*"). Compressed logs stay compressed here; `diagnose` reads them.
    """
    reader = spark.read.format("binaryFile")
    if recursive:
        reader = reader.option("recursiveFileLookup", "true")
    if glob:
        reader = reader.option("pathGlobFilter", glob)
    df = reader.load(path)
    return df.select("path", "length", "modificationTime", df["content"].alias("text"))


def _bundle(kb_paths: Sequence[str]) -> List[Tuple[str, Dict[str, bytes]]]:
    """The driver's extra knowledge-base folders (highest priority last), as file contents to ship."""
    from .knowledge.load import builtin_dir, kb_dirs

    builtin = str(builtin_dir().resolve())
    out = []
    for d in kb_dirs(list(kb_paths)):
        if not d.is_dir() or str(d.resolve()) == builtin:
            continue
        files: Dict[str, bytes] = {}
        for root, dnames, fnames in os.walk(d):
            dnames[:] = sorted(x for x in dnames if not x.startswith((".", "__")))
            for f in sorted(fnames):
                if f.endswith((".yaml", ".yml", ".md")):
                    p = Path(root) / f
                    files[str(p.relative_to(d))] = p.read_bytes()
        out.append((str(d), files))
    return out


_KBS: Dict[str, Any] = {}


def bundle_key(bundle: List[Tuple[str, Dict[str, bytes]]]) -> str:
    """What the shipped folders hold, in order, as a short key: the folder a worker writes them to is named by it, so
    that the same knowledge base shipped from another checkout or another temporary folder reuses that folder instead
    of leaving one more behind in the worker's temporary directory (the driver's folder names are left out)."""
    return hashlib.sha1(
        repr([sorted((k, hashlib.sha1(v).hexdigest()) for k, v in f.items()) for _n, f in bundle]).encode()
    ).hexdigest()[:16]


def _worker_kb(bundle: List[Tuple[str, Dict[str, bytes]]]):
    """The knowledge base for this Python worker: built-in + the shipped folders, loaded once per process."""
    key = bundle_key(bundle)
    kb = _KBS.get(key)
    if kb is not None:
        return kb
    import gc
    import tempfile

    from .knowledge.load import load_kb

    # only what the driver shipped: not this machine's user folder or DNNFIX_KB_PATH
    os.environ.pop("DNNFIX_KB_PATH", None)
    root = Path(tempfile.gettempdir()) / f"dnnfix-spark-kb-{os.getuid() if hasattr(os, 'getuid') else 'u'}-{key}"
    os.environ["DNNFIX_USER_KB"] = str(root / "no-user-kb")
    dirs = []
    for i, (_, files) in enumerate(bundle):
        d = root / str(i)
        for rel, data in files.items():
            p = d / rel
            if not p.is_file() or p.read_bytes() != data:
                p.parent.mkdir(parents=True, exist_ok=True)
                tmp = p.with_name(p.name + f".{os.getpid()}.tmp")
                tmp.write_bytes(data)
                os.replace(tmp, p)
        dirs.append(str(d))
    kb = load_kb(list(reversed(dirs)))
    gc.freeze()
    _KBS[key] = kb
    return kb


def diagnose_values(values, names, kb, env=None, top: Optional[int] = 3) -> Dict[str, list]:
    """Output columns for a list of texts (str or bytes; None gives an error row)."""
    from .scan import diagnose_bytes, flat

    cols: Dict[str, list] = {name: [] for name, _ in OUTPUT}
    for v, name in zip(values, names):
        if v is None:
            obj = {"input": name, "matches": [], "error": "no text (null)"}
        else:
            data = v.encode("utf-8", "surrogatepass") if isinstance(v, str) else bytes(v)
            obj = diagnose_bytes(data, name, kb, env, top)
        row = flat(obj)
        ms = obj.get("matches") or []
        row["matches"] = json.dumps(
            [{k: m[k] for k in ("cause", "signature", "score", "confident", "title", "evidence")} for m in ms],
            ensure_ascii=False,
        )
        for c, _ in OUTPUT:
            cols[c].append(row.get(c))
    return cols


def diagnose(
    df,
    text_col: str = "text",
    top: Optional[int] = 3,
    *,
    kb_paths: Sequence[str] = (),
    env=None,
    name_col: Optional[str] = None,
):
    """`df` with the diagnosis of `text_col` as columns: status (confident|possible|unknown|error), cause,
    score, confident, signature, title, fingerprint (of the final error), evidence (JSON list of the top cause's
    evidence), matches (JSON, the top `top` causes), error (why a row could not be read).

    `text_col` may be a string or a binary column; `name_col` (default: "path" when present) names each row in
    the results. `env` is a `dnnfix env --json` snapshot of the machine the jobs ran on, if known.
    """
    from pyspark.sql.types import BinaryType, BooleanType, DoubleType, StringType, StructField, StructType

    if text_col not in df.columns:
        raise ValueError(f"no column {text_col!r} in the DataFrame (columns: {', '.join(df.columns)})")
    clash = [c for c, _ in OUTPUT if c in df.columns]
    if clash:
        raise ValueError(f"the DataFrame already has column(s) {', '.join(clash)}; rename or drop them first")
    dtype = df.schema[text_col].dataType
    if not isinstance(dtype, (StringType, BinaryType)):
        raise ValueError(f"column {text_col!r} must hold strings or bytes, not {dtype.simpleString()}")
    if name_col is None and "path" in df.columns:
        name_col = "path"
    spark_types = {"string": StringType(), "double": DoubleType(), "boolean": BooleanType()}
    schema = StructType(list(df.schema.fields) + [StructField(c, spark_types[t], True) for c, t in OUTPUT])
    bundle = _bundle(kb_paths)
    env = dict(env) if env else None
    top = top or None

    def run(batches):
        import pyarrow as pa

        kb = _worker_kb(bundle)
        arrow_types = {"string": pa.string(), "double": pa.float64(), "boolean": pa.bool_()}
        for b in batches:
            values = b.column(text_col).to_pylist()
            names = b.column(name_col).to_pylist() if name_col else ["-"] * len(values)
            cols = diagnose_values(values, [str(n) if n is not None else "-" for n in names], kb, env, top)
            arrays = list(b.columns) + [pa.array(cols[c], type=arrow_types[t]) for c, t in OUTPUT]
            yield pa.RecordBatch.from_arrays(arrays, names=list(b.schema.names) + [c for c, _ in OUTPUT])

    return df.mapInArrow(run, schema)
