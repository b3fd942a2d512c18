"""Fleet triage: diagnose many log files on all cores and summarise them (`dnnfix scan`).

Each file gets exactly the object `dnnfix match --json --no-probe FILE` prints, plus its `path`; the summary
groups them by top cause and clusters the unknown ones by fingerprint. A worker process loads the knowledge
base once; results come back in input order, so output is deterministic whatever the number of workers.
Also used by dnnfix.spark for one row's bytes (`diagnose_bytes`).
"""

from __future__ import annotations

import fnmatch
import glob
import io
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

STATE_FORMAT = "dnnfix-scan-state/1"
# flat columns of one result (CSV, Parquet, and the Spark output columns share these names)
COLUMNS = (
    "path",
    "status",
    "cause",
    "signature",
    "score",
    "confident",
    "title",
    "fingerprint",
    "exception_type",
    "exception_message",
    "evidence",
    "causes",
    "elapsed_ms",
    "error",
)


# ---------------------------------------------------------------- inputs
def expand(args: Sequence[str], include: Sequence[str] = ()) -> List[str]:
    """Files named by PATH arguments: files, directories (recursive, hidden entries skipped), globs.

    A name that matches nothing is kept, so that it is reported as unreadable. Order: as given, each folder
    sorted; every file once.
    """
    out: List[str] = []
    seen = set()

    def add(p: str) -> None:
        if p not in seen:
            seen.add(p)
            out.append(p)

    def wanted(name: str) -> bool:
        return not include or any(fnmatch.fnmatch(name, pat) for pat in include)

    for arg in args:
        if os.path.isdir(arg):
            found = []
            for root, dnames, fnames in os.walk(arg):
                dnames[:] = [d for d in dnames if not d.startswith(".")]
                found += [os.path.join(root, f) for f in fnames if not f.startswith(".") and wanted(f)]
            found = [p for p in found if os.path.isfile(p)]  # no FIFOs or sockets: reading one would wait forever
            for p in sorted(found):
                add(p)
        elif not os.path.lexists(arg) and any(c in arg for c in "*?["):
            hits = sorted(glob.glob(arg, recursive=True))
            for h in hits:
                if os.path.isdir(h):
                    out_dir = expand([h], include)
                    for p in out_dir:
                        add(p)
                elif os.path.isfile(h):
                    add(h)
            if not hits:
                add(arg)
        else:
            add(arg)
    return out


# ---------------------------------------------------------------- one input
def _to_obj(t, name: str, kb, env, top: Optional[int], full: bool = True) -> Dict[str, Any]:
    from .api import diagnose_text
    from .render_json import row_dict, to_dict

    d = diagnose_text(
        t.text,
        env=env,
        kb=kb,
        name=name,
        truncated=t.truncated,
        env_is_probe=env is None,
        line_map=t.line_map,
        similar=full,
    )
    if top:
        d.matches = d.matches[:top]
    # the whole JSON object where a line is written; a scan that writes none needs only its row's keys
    return to_dict(d, kb) if full else row_dict(d, kb)


def diagnose_file(
    path: str,
    kb,
    env=None,
    top: Optional[int] = None,
    listed: bool = False,
    full: bool = True,
) -> Dict[str, Any]:
    """The `dnnfix match --json` object for one file, plus `path`; `vanished` when a `listed` file is gone.
    full=False: only the keys a scan's row reads (render_json.row_dict), for a scan that writes no JSON lines: no
    "similar known failures" hints (nothing but the JSON line shows them: a row, the summary and the CSV/Parquet
    columns read the signatures' matches only) and no fixes filled."""
    from .readinput import InputError, read_input
    from .render_json import error_dict

    try:
        t = read_input(path)
    except InputError as e:
        obj = error_dict(path, str(e))
        if listed and not os.path.lexists(path):
            obj["vanished"] = True
    else:
        obj = _guarded(t, path, kb, env, top, full)
    obj["path"] = path
    return obj


def _guarded(t, name: str, kb, env, top, full: bool = True) -> Dict[str, Any]:
    """One log's result; a failure inside dnnfix on one log becomes that log's error, never the scan's end."""
    try:
        return _to_obj(t, name, kb, env, top, full)
    except Exception as e:  # a bug in dnnfix on some input
        from .render_json import error_dict

        return error_dict(name, f"{name}: dnnfix could not diagnose it ({type(e).__name__}: {e})")


def diagnose_bytes(data: bytes, name: str, kb, env=None, top: Optional[int] = None) -> Dict[str, Any]:
    """The same object for a file's bytes (decompressed, decoded and reduced exactly like a file)."""
    from .readinput import InputError, read_stream
    from .render_json import error_dict

    try:
        t = read_stream(io.BytesIO(data), name)
    except InputError as e:
        obj = error_dict(name, str(e))
    else:
        obj = _guarded(t, name, kb, env, top)
    obj["path"] = name
    return obj


def _real_matches(obj: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The matches that name a failure: those the report marks as harmless log noise, and hints (known failures
    that only look alike, resemble.py), are left out."""
    return [m for m in obj.get("matches") or [] if not m.get("noise") and not m.get("hint")]


def status_of(obj: Dict[str, Any]) -> str:
    if obj.get("error"):
        return "error"
    m = _real_matches(obj)
    if not m:
        return "unknown"
    return "confident" if m[0].get("confident") else "possible"


def flat(obj: Dict[str, Any]) -> Dict[str, Any]:
    """One result as a flat row (COLUMNS); the top cause is the first match that is not log noise."""
    m = _real_matches(obj)
    top = m[0] if m else {}
    exc = obj.get("exception") or {}
    msg = (exc.get("message") or "").strip().split("\n", 1)[0][:300]
    row = {
        "path": obj.get("path") or obj.get("input"),
        "status": status_of(obj),
        "cause": top.get("cause"),
        "signature": top.get("signature"),
        "score": top.get("score"),
        "confident": bool(top.get("confident", False)),
        "title": top.get("title"),
        "fingerprint": obj.get("fingerprint") or None,
        "exception_type": exc.get("type"),
        "exception_message": msg or None,
        "evidence": json.dumps(top.get("evidence") or [], ensure_ascii=False),
        "causes": ";".join(x["cause"] for x in m[:3]) or None,
        "elapsed_ms": obj.get("elapsed_ms"),
        "error": obj.get("error"),
    }
    if obj.get("vanished"):
        row["_vanished"] = True  # not a column: the summary lists it apart from the unreadable
    return row


# ---------------------------------------------------------------- worker processes
_W: Dict[str, Any] = {}


def _init(kb_paths: Sequence[str], env, top, lines: bool = True) -> None:
    import gc

    from .knowledge.load import load_kb

    _W["kb"] = load_kb(list(kb_paths))
    _W["env"], _W["top"], _W["lines"] = env, top, lines
    gc.freeze()  # the knowledge base lives as long as the worker: keep it out of every collection


def _work(item: Tuple[str, bool]) -> Tuple[str, Dict[str, Any], Optional[Tuple[int, int]]]:
    path, listed = item
    st = _stat(path)
    obj = diagnose_file(path, _W["kb"], _W["env"], _W["top"], listed, full=_W["lines"])
    # the JSON line only where someone reads it (JSON Lines output, the state file): a summary needs the row
    return (json.dumps(obj, ensure_ascii=False) if _W["lines"] else ""), flat(obj), st


def _stat(path: str) -> Optional[Tuple[int, int]]:
    try:
        s = os.stat(path)
        return s.st_size, s.st_mtime_ns
    except OSError:
        return None


def run_scan(
    paths: Sequence[str],
    *,
    jobs: int = 0,
    kb_paths: Sequence[str] = (),
    env=None,
    top: Optional[int] = None,
    state: Optional["State"] = None,
    lines: bool = True,
) -> Iterator[Tuple[str, Dict[str, Any], bool]]:
    """(JSON line, flat row, reused from state) per path, in input order. jobs 0 = all cores. lines=False: the
    caller writes no JSON Lines, so a scanned path's line is "" (a state file still gets its lines)."""
    jobs = jobs or (os.cpu_count() or 1)
    lines = lines or state is not None
    todo: List[Tuple[str, bool]] = []  # (path, it existed when the scan began)
    reused: Dict[str, str] = {}
    for p in paths:
        line = state.lookup(p) if state is not None else None
        if line is not None:
            reused[p] = line
        else:
            todo.append((p, os.path.lexists(p)))

    def fresh() -> Iterator[Tuple[str, Dict[str, Any], Optional[Tuple[int, int]]]]:
        if not todo:
            return
        if jobs <= 1 or len(todo) < 2:
            _init(kb_paths, env, top, lines)
            for p in todo:
                yield _work(p)
            return
        import concurrent.futures as cf

        n = min(jobs, len(todo))
        chunk = max(1, min(64, len(todo) // (n * 8)))
        with cf.ProcessPoolExecutor(max_workers=n, initializer=_init, initargs=(list(kb_paths), env, top, lines)) as ex:
            yield from ex.map(_work, todo, chunksize=chunk)

    it = fresh()
    for p in paths:
        if p in reused:
            line = reused[p]
            yield line, flat(json.loads(line)), True
            continue
        line, row, st = next(it)
        if state is not None and st is not None and row["status"] != "error":
            state.remember(p, st, line)
        yield line, row, False


# ---------------------------------------------------------------- incremental state
class State:
    """path -> (size, mtime_ns, JSON line), valid for one dnnfix release, knowledge base, snapshot and --top."""

    def __init__(self, path: str, key: str) -> None:
        self.path, self.key = path, key
        self.files: Dict[str, list] = {}
        self.new: Dict[str, list] = {}
        try:
            with open(path, "r", encoding="utf-8") as fh:
                data = json.load(fh)
            if data.get("format") == STATE_FORMAT and data.get("key") == key:
                self.files = {k: v for k, v in data.get("files", {}).items() if isinstance(v, list) and len(v) == 3}
        except (OSError, ValueError, AttributeError):
            pass  # no state yet, or an unusable one: everything is scanned again

    def lookup(self, p: str) -> Optional[str]:
        old = self.files.get(p)
        st = _stat(p)
        if old is None or st is None or (old[0], old[1]) != st:
            return None
        self.new[p] = old
        return old[2]

    def remember(self, p: str, st: Tuple[int, int], line: str) -> None:
        self.new[p] = [st[0], st[1], line]

    def save(self) -> None:
        files = dict(self.files)
        files.update(self.new)
        files = {k: v for k, v in files.items() if os.path.lexists(k)}
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"format": STATE_FORMAT, "key": self.key, "files": files}, fh, ensure_ascii=False)
        os.replace(tmp, self.path)


def state_key(kb, env, top) -> str:
    import hashlib

    from . import __version__

    raw = json.dumps([__version__, getattr(kb, "_key", ""), env or {}, top], sort_keys=True, default=str)
    return hashlib.sha1(raw.encode()).hexdigest()[:20]


# ---------------------------------------------------------------- summary
@dataclass
class Summary:
    examples: int = 3
    total: int = 0
    reused: int = 0
    split: Counter = field(default_factory=Counter)  # confident / possible / unknown
    causes: Dict[str, list] = field(default_factory=dict)  # cause -> [count, confident, title, examples]
    clusters: Dict[str, list] = field(default_factory=dict)  # fingerprint -> [count, label, examples, causes]
    errors: List[Tuple[str, str]] = field(default_factory=list)
    vanished: List[str] = field(default_factory=list)
    seconds: float = 0.0
    jobs: int = 1

    def add(self, row: Dict[str, Any], reused: bool = False) -> None:
        self.total += 1
        self.reused += reused
        st = row["status"]
        if st == "error":
            if row.get("_vanished"):
                self.vanished.append(row["path"])
            else:
                self.errors.append((row["path"], row["error"]))
            return
        self.split[st] += 1
        if row["cause"]:
            c = self.causes.setdefault(row["cause"], [0, 0, row["title"] or "", []])
            c[0] += 1
            c[1] += st == "confident"
            if len(c[3]) < self.examples:
                c[3].append(row["path"])
        if st != "confident":
            fp = row["fingerprint"] or "-"
            label = ": ".join(x for x in (row["exception_type"], row["exception_message"]) if x) or "(no exception)"
            k = self.clusters.setdefault(fp, [0, label, [], Counter()])
            k[0] += 1
            if len(k[2]) < self.examples:
                k[2].append(row["path"])
            if row["cause"]:
                k[3][row["cause"]] += 1

    @property
    def diagnosed(self) -> int:
        return sum(self.split.values())

    def ranked_causes(self):
        return sorted(self.causes.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))

    def ranked_clusters(self):
        return sorted(self.clusters.items(), key=lambda kv: (-kv[1][0], kv[0]))

    def to_dict(self, clusters: int = 10) -> Dict[str, Any]:
        n = self.diagnosed or 1
        return {
            "inputs": self.total,
            "diagnosed": self.diagnosed,
            "unchanged": self.reused,
            "seconds": round(self.seconds, 3),
            "jobs": self.jobs,
            "split": {k: self.split.get(k, 0) for k in ("confident", "possible", "unknown")},
            "causes": [
                {
                    "cause": c,
                    "count": v[0],
                    "share": round(v[0] / n, 4),
                    "confident": v[1],
                    "title": v[2],
                    "examples": v[3],
                }
                for c, v in self.ranked_causes()
            ],
            "unknown_clusters": [
                {
                    "fingerprint": fp,
                    "count": v[0],
                    "error": v[1],
                    "examples": v[2],
                    "possible_causes": [c for c, _ in v[3].most_common(3)],
                }
                for fp, v in self.ranked_clusters()[:clusters]
            ],
            "unreadable": [{"path": p, "error": e} for p, e in self.errors],
            "vanished": self.vanished,
        }

    def render(self, causes: int = 20, clusters: int = 10, width: int = 110) -> str:
        def cut(s: str, w: int) -> str:
            return s if len(s) <= w else s[: max(0, w - 3)] + "..."

        n = self.diagnosed
        share = (lambda k: f"{k / n:.1%}") if n else (lambda k: "-")
        rate = f", {self.total / self.seconds:,.0f} logs/s" if self.seconds > 0 else ""
        extra = []
        if self.reused:
            extra.append(f"{self.reused:,} unchanged since the last scan")
        if self.errors:
            extra.append(f"{len(self.errors):,} unreadable")
        if self.vanished:
            extra.append(f"{len(self.vanished):,} vanished")
        out = [
            f"dnnfix scan: {self.total:,} logs in {self.seconds:.1f} s ({self.jobs} worker"
            f"{'s' if self.jobs != 1 else ''}{rate}); {n:,} diagnosed" + "".join(f", {x}" for x in extra)
        ]
        out.append(
            "  "
            + "   ".join(
                f"{k} {self.split.get(k, 0):,} ({share(self.split.get(k, 0))})"
                for k in ("confident", "possible", "unknown")
            )
        )
        if self.causes:
            out += ["", "top cause of each log:", f"  {'logs':>6} {'share':>6} {'conf.':>6}  {'cause':<40} examples"]
            ranked = self.ranked_causes()
            for c, (k, conf, _title, ex) in ranked[:causes]:
                out.append(f"  {k:>6,} {share(k):>6} {conf:>6,}  {cut(c, 40):<40} {cut(', '.join(ex), width - 64)}")
            if len(ranked) > causes:
                out.append(f"  ... and {len(ranked) - causes} more causes (--json --summary-only lists all)")
        if self.clusters:
            out += [
                "",
                "no confident cause, clustered by error fingerprint (teach dnnfix one: "
                "dnnfix kb new EXAMPLE --cause CAUSE-ID):",
                f"  {'logs':>6}  {'fingerprint':<19} {'error':<50} example",
            ]
            ranked = self.ranked_clusters()
            for fp, (k, label, ex, _c) in ranked[:clusters]:
                out.append(f"  {k:>6,}  {fp:<19} {cut(label, 50):<50} {cut(ex[0], width - 80)}")
            if len(ranked) > clusters:
                out.append(f"  ... and {len(ranked) - clusters} more clusters")
        if self.errors:
            out += ["", f"unreadable ({len(self.errors):,}; exit status 2):"]
            out += [f"  {e}" for _, e in self.errors[:50]]
            if len(self.errors) > 50:
                out.append(f"  ... and {len(self.errors) - 50} more (see the JSON Lines output)")
        if self.vanished:
            out += ["", f"vanished during the scan ({len(self.vanished):,}):"]
            out += [f"  {p}" for p in self.vanished[:50]]
        return "\n".join(out)


def summarize(rows: Iterable[Dict[str, Any]], examples: int = 3) -> Summary:
    s = Summary(examples=examples)
    for r in rows:
        s.add(r)
    return s
