"""The compiled-KB cache: plain data, in a folder only its owner can write, never trusted blindly.

Nothing loaded from the cache can run code: the file holds only plain data (tuples, lists, dicts, strings,
numbers) in marshal's format, which builds values and never calls anything (a pickle can call any function);
only the knowledge base's own data classes (a fixed list) are rebuilt from it, with their types checked. Anything unexpected (a parse
error, an unknown class or field, a wrong type, a file or folder owned by someone else or writable by others)
means "no cache": the KB is built from its YAML sources again and the cache rewritten, never an error.

Files are written atomically (a temporary file in the same folder, then rename), with mode 0600 in a folder of
mode 0700. A fallback folder in the shared temp directory is used only when it is a real directory (not a
link) owned by this user and not writable by others.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

MAX_CACHE_BYTES = 64 * 1024 * 1024


class CacheError(ValueError):
    """The cache file is not a knowledge base this version wrote."""


FORMAT = "dnnfix-kb-7"  # 3: Signature.severity; 4: Signature.fix_first; 5: API-drift tables encoded apart;
# 6: each signature encoded apart (LazySignatures); 7: Clause.shared, KnowledgeBase.clauses


# the compatibility tables kept encoded in the cache until first asked for: the API-drift tables are a third of the
# file and are read only when an API-mismatch signature fires (decoding them cost every first diagnosis ~2 ms)
LAZY_TABLES = ("api-added", "api-drift")


class LazyTables(dict):
    """kb.compat[0] read from the cache: LAZY_TABLES stay marshal bytes until looked up (then decoded once; a table
    that does not decode is empty, never an error). Every read path (item, get, items, values, copy, dict(...),
    ==) sees decoded tables."""

    def _decoded(self, key: Any, value: Any) -> Any:
        if type(value) is bytes:
            import marshal

            try:
                value = marshal.loads(value)
            except (ValueError, EOFError, TypeError):
                value = {}
            if type(value) is not dict:
                value = {}
            dict.__setitem__(self, key, value)
        return value

    def __getitem__(self, key: Any) -> Any:
        return self._decoded(key, dict.__getitem__(self, key))

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default

    def __iter__(self):  # overridden so that dict(self) goes through __getitem__, not the raw entries
        return dict.__iter__(self)

    def items(self):
        return [(k, self[k]) for k in dict.keys(self)]

    def values(self):
        return [self[k] for k in dict.keys(self)]

    def copy(self) -> dict:
        return dict(self.items())

    def __eq__(self, other: object) -> bool:
        return dict(self.items()) == other

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None


class LazySignatures(list):
    """kb.signatures read from the cache: each signature stays marshal bytes until it is first used (then it is
    built once, its types checked, and kept in its place). A diagnosis uses the few signatures the prefilter opens,
    so a first diagnosis no longer builds all of them (~3,600 clause objects). Every read path (index, slice, loop,
    ==, +, copy, `in`) sees built signatures; ids are known without building anything (by_id). A row that does not
    decode becomes a signature that never fires, never an error."""

    def __init__(self, ids: List[str], rows: List[bytes]) -> None:
        super().__init__(rows)
        self.ids: Optional[List[str]] = ids  # position -> id while nothing has moved; None once the list changed

    def _settle(self) -> None:
        """Build every signature and forget the ids by position: after an insert, removal or reordering the list is
        a plain list of signatures (by_id then reads the ids from them)."""
        if self.ids is not None:
            for i in range(len(self)):
                self._built(i)
            self.ids = None

    def _built(self, i: int) -> Any:
        v = list.__getitem__(self, i)
        if type(v) is bytes and self.ids is not None:
            v = _signature_from(v, self.ids[i])
            list.__setitem__(self, i, v)
        return v

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self._built(j) for j in range(*i.indices(len(self)))]
        return self._built(i if i >= 0 else len(self) + i)

    def __iter__(self):
        for i in range(len(self)):
            yield self._built(i)

    def __reversed__(self):
        for i in reversed(range(len(self))):
            yield self._built(i)

    def __contains__(self, x: object) -> bool:
        return any(s == x for s in self)

    def __eq__(self, other: object) -> bool:
        return list(self) == (list(other) if isinstance(other, list) else other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None

    def __add__(self, other: Any) -> list:
        return list(self) + list(other)

    def copy(self) -> list:
        return list(self)

    def index(self, x: Any, *args: Any) -> int:
        return list(self).index(x, *args)

    def count(self, x: Any) -> int:
        return list(self).count(x)

    def __repr__(self) -> str:
        return repr(list(self))

    def __reduce__(self):  # a copy (pickle, deepcopy) is a plain list of built signatures
        return (list, (list(self),))


def _settling(name: str) -> Any:
    base = getattr(list, name)

    def method(self: LazySignatures, *args: Any, **kwargs: Any) -> Any:
        self._settle()
        return base(self, *args, **kwargs)

    method.__name__ = name
    return method


# every way of changing the list in place first builds it all (the ids by position would no longer hold)
for _name in (
    "__setitem__",
    "__delitem__",
    "__iadd__",
    "__imul__",
    "append",
    "extend",
    "insert",
    "pop",
    "remove",
    "clear",
    "sort",
    "reverse",
):
    setattr(LazySignatures, _name, _settling(_name))


def _signature_from(blob: bytes, sid: str) -> Any:
    import marshal

    from .signature import Clause, Signature

    try:
        head, match, against, tail = marshal.loads(blob)
        sig = _build(
            Signature, (*head, [_build(Clause, c) for c in match], [_build(Clause, c) for c in against], *tail)
        )
        _check_signature(sig)
        if sig.id != sid:
            raise CacheError("signature id")
        return sig
    except (ValueError, EOFError, TypeError, KeyError, RecursionError):  # CacheError is a ValueError
        return Signature(id=sid, cause="", title="(not readable from the KB cache)", status="test", match=[])


def _row(obj: Any) -> tuple:
    return tuple(getattr(obj, f.name) for f in dataclasses.fields(obj))


_NFIELDS: dict = {}


def _build(cls: type, row: Any) -> Any:
    n = _NFIELDS.get(cls)
    if n is None:
        n = _NFIELDS[cls] = len(dataclasses.fields(cls))
    if type(row) is not tuple or len(row) != n:
        raise CacheError(f"bad {cls.__name__} row")
    return cls(*row)


def dumps(kb: Any, key: str) -> bytes:
    """The KB as plain data (tuples, lists, dicts, strings, numbers) in marshal's format.

    marshal.dumps refuses anything that is not plain data, so an object that sneaked into the KB means no
    cache (ValueError), not an unsafe one."""
    import marshal

    doc: Dict[str, Any] = {
        "format": FORMAT,
        "key": key,
        "signature_ids": [s.id for s in kb.signatures],
        "signatures": [
            marshal.dumps((_row(s)[:4], [_row(c) for c in s.match], [_row(c) for c in s.against], _row(s)[6:]))
            for s in kb.signatures
        ],
        "explanations": {k: _row(e) for k, e in kb.explanations.items()},
        "diagnostics": [_row(d) for d in kb.diagnostics],
        "plain": {
            f.name: getattr(kb, f.name)
            for f in dataclasses.fields(kb)
            if f.name not in ("signatures", "explanations", "diagnostics")
        },
        "extra": {
            k: v
            for k, v in vars(kb).items()
            if not k.startswith("_") and k not in {f.name for f in dataclasses.fields(kb)}
        },
    }
    if kb.compat:
        tables, rules = kb.compat
        doc["plain"]["compat"] = (
            {k: marshal.dumps(dict(v)) if k in LAZY_TABLES and type(v) is dict else v for k, v in dict(tables).items()},
            rules,
        )
    return marshal.dumps(doc)


def loads(data: bytes, key: str) -> Any:
    import marshal

    from .load import Explanation, KnowledgeBase
    from .signature import Diagnostic

    try:
        doc = marshal.loads(data)
    except (ValueError, EOFError, TypeError) as e:
        raise CacheError(f"not a cache file: {e}") from None
    if type(doc) is not dict or doc.get("format") != FORMAT or doc.get("key") != key:
        raise CacheError("not this knowledge base")
    try:
        ids, rows = doc["signature_ids"], doc["signatures"]
        if type(ids) is not list or type(rows) is not list or len(ids) != len(rows):
            raise CacheError("bad signatures")
        if not all(type(i) is str for i in ids) or not all(type(r) is bytes for r in rows):
            raise CacheError("bad signatures")
        sigs = LazySignatures(ids, rows)
        explanations = {k: _build(Explanation, v) for k, v in doc["explanations"].items()}
        diagnostics = [_build(Diagnostic, d) for d in doc["diagnostics"]]
        plain = doc["plain"]
        if type(plain) is not dict:
            raise CacheError("bad plain part")
        kb = KnowledgeBase(signatures=sigs, explanations=explanations, diagnostics=diagnostics, **plain)
        if kb.compat:
            tables, rules = kb.compat
            if type(tables) is not dict:
                raise CacheError("bad compat tables")
            kb.compat = (LazyTables(tables), rules)
    except (TypeError, ValueError, KeyError) as e:
        raise CacheError(f"bad structure: {e}") from None
    _check_types(kb)
    extra = doc.get("extra") or {}
    if type(extra) is not dict:
        raise CacheError("bad extra")
    for k, v in extra.items():
        setattr(kb, k, v)
    return kb


def _check_signature(s: Any) -> None:
    from .signature import Clause

    if not isinstance(s.id, str) or not isinstance(s.cause, str) or not isinstance(s.match, list):
        raise CacheError("signature fields")
    for cl in s.match + s.against:
        if not isinstance(cl, Clause) or not isinstance(cl.kind, str) or not isinstance(cl.weight, float):
            raise CacheError("clause fields")
        if not isinstance(cl.pattern, str) or not isinstance(cl.keys, tuple):
            raise CacheError("clause fields")


def _check_types(kb: Any) -> None:
    """The plain parts; each signature is checked when it is built (LazySignatures)."""
    for name in ("causes", "explanations", "families", "index", "clauses"):
        if not isinstance(getattr(kb, name), dict):
            raise CacheError(name)


# ---------------------------------------------------------------- folders
def _safe_dir(path: Path, create: bool) -> bool:
    """A folder this user owns, that nobody else can write to (created with mode 0700 when asked)."""
    try:
        if create and not os.path.lexists(path):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode):
        return False  # a symlink or a file planted in its place
    if hasattr(os, "getuid"):
        if st.st_uid != os.getuid() or st.st_mode & 0o022:
            return False
    return True


def cache_dirs() -> List[Path]:
    """Where the compiled KB may live: DNNFIX_CACHE_DIR ("" turns caching off), else the per-user cache folder,
    else a per-user folder in the temp directory."""
    base = os.environ.get("DNNFIX_CACHE_DIR")
    if base == "":
        return []
    if base:
        return [Path(base)]
    out = []
    try:
        from platformdirs import user_cache_dir

        out.append(Path(user_cache_dir("dnnfix", appauthor=False)))
    except (ImportError, OSError):
        pass
    uid = os.getuid() if hasattr(os, "getuid") else "u"
    out.append(Path(tempfile.gettempdir()) / f"dnnfix-cache-{uid}")
    return out


def read(key: str) -> Optional[Any]:
    """The cached KB for this key, or None (missing, unsafe or invalid: the caller rebuilds it)."""
    for d in cache_dirs():
        p = d / f"kb-{key}.bin"
        if not _safe_dir(d, create=False):
            continue
        try:
            fd = os.open(p, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_CACHE_BYTES:
                continue
            if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
                continue
            with os.fdopen(fd, "rb") as fh:
                fd = -1
                data = fh.read(MAX_CACHE_BYTES + 1)
        except OSError:
            continue
        finally:
            if fd >= 0:
                os.close(fd)
        try:
            return _loads_quietly(data, key)
        except CacheError:
            continue
    return None


def _loads_quietly(data: bytes, key: str) -> Any:
    import gc

    # decoding makes thousands of objects: with a framework imported, the collector would walk its whole heap
    # several times over
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return loads(data, key)
    except RecursionError:
        raise CacheError("too deep") from None
    finally:
        if was_enabled:
            gc.enable()


def write(kb: Any, key: str, keep: int = 8) -> Optional[Path]:
    """Write the compiled KB atomically to the first safe cache folder; the path written, or None."""
    try:
        data = dumps(kb, key)
    except (TypeError, ValueError):  # not plain data: no cache rather than an unsafe one
        return None
    for d in cache_dirs():
        if not _safe_dir(d, create=True):
            continue
        p = d / f"kb-{key}.bin"
        try:
            fd, tmp = tempfile.mkstemp(prefix=".kb-", suffix=".tmp", dir=d)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.chmod(tmp, 0o600)
                os.replace(tmp, p)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
            # keep the folder small: old compiled forms are never read again
            olds = sorted(d.glob("kb-*.bin"), key=lambda q: q.stat().st_mtime, reverse=True)
            for old in olds[keep:]:
                old.unlink()
            for old in d.glob("kb-*.pickle"):  # the unsafe format of earlier releases
                old.unlink()
            return p
        except OSError:
            continue
    return None
