"""Facts: what is known about the failing machine, from a snapshot, the compatibility tables and the text.

Absent means unknown. A test on an unknown fact neither fires nor counts against.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as _Mapping  # isinstance through typing.Mapping costs a Python call each time
from typing import Any, Dict, Mapping, Optional, Tuple

_MISSING = object()


_PARTS: Dict[str, Tuple[str, ...]] = {}  # a dotted path's parts (the paths are the knowledge base's: a bounded set)


def dig(data: Any, path: str) -> Any:
    if not data:  # an empty section (no snapshot, nothing derived) holds no path
        return _MISSING
    parts = _PARTS.get(path)
    if parts is None:
        parts = tuple(path.split("."))
        if len(_PARTS) < 4096:
            _PARTS[path] = parts
    cur = data
    for part in parts:
        if isinstance(cur, _Mapping) and part in cur:
            cur = cur[part]
        elif isinstance(cur, (list, tuple)) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]  # gpus.0.name
        else:
            return _MISSING
    return cur


# where a snapshot fact came from, as the report says it ("driver.version = 470.82 (from --env snapshot)")
SOURCE_WORDS = {
    "env": "from --env snapshot",
    "paste": "from the pasted environment report",
    "probe": "probed on this machine",
}


def merge_layers(layers) -> "tuple[Dict[str, Any], Dict[str, str]]":
    """[(source, snapshot), ...] in priority order (first wins) -> (merged snapshot, {dotted path: source}).

    Sections merge key by key (the snapshot of the failing machine wins over a pasted report, which wins over
    this machine's probe); lists and scalars are taken whole from the first layer that has them.
    """
    merged: Dict[str, Any] = {}
    sources: Dict[str, str] = {}
    for source, snap in layers:
        if not isinstance(snap, _Mapping):
            continue
        for key, value in snap.items():
            if isinstance(value, _Mapping) and key not in ("probes", "sources"):
                sect = merged.setdefault(key, {}) if isinstance(merged.get(key, {}), dict) else None
                if sect is None:
                    continue
                for k, v in value.items():
                    if k not in sect:
                        sect[k] = v
                        sources.setdefault(f"{key}.{k}", source)
            elif key not in merged:
                merged[key] = value
                sources.setdefault(key, source)
    return merged, sources


class Facts:
    """Layered lookup: captures (bare names) -> text.* -> expected.* -> snapshot paths.

    `sources` maps a snapshot path (or its section) to where it came from: env | paste | probe.
    """

    def __init__(
        self,
        snapshot: Optional[Mapping[str, Any]] = None,
        text: Optional[Mapping[str, Any]] = None,
        derived: Optional[Mapping[str, Any]] = None,
        sources: Optional[Mapping[str, str]] = None,
    ):
        self.snapshot = normalise_snapshot(snapshot or {})
        self.text = dict(text or {})
        self.derived = dict(derived or {})
        self.sources = dict(sources or {})

    def source_of(self, path: str) -> Optional[str]:
        """The source of a snapshot path: the longest recorded prefix (None for text and derived facts)."""
        if not self.sources or path.startswith(("text.", "expected.")):
            return None
        parts = path.split(".")
        for n in range(len(parts), 0, -1):
            src = self.sources.get(".".join(parts[:n]))
            if src:
                return src
        return None

    def get(self, path: str, captures: Optional[Mapping[str, Any]] = None) -> Any:
        if captures and path in captures:
            return captures[path]
        if "*" in path:
            vals = self.values(path)
            return vals[0][1] if vals else None
        if path.startswith("text."):
            v = dig(self.text, path[5:])
        elif path.startswith("expected."):
            v = dig(self.derived, path)
        else:
            v = dig(self.snapshot, path)
        return None if v is _MISSING else v

    def values(self, path: str, captures: Optional[Mapping[str, Any]] = None):
        """[(concrete path, value)] with `*` stepping over list items ("gpus.*.compute_capability")."""
        if "*" not in path:
            v = self.get(path, captures)
            return [(path, v)] if v is not None else []
        head, _, tail = path.partition(".*")
        items = self.get(head, captures)
        out = []
        if isinstance(items, (list, tuple)):
            for i, item in enumerate(items):
                v = dig(item, tail.lstrip(".")) if tail.strip(".") else item
                if v is not _MISSING and v is not None:
                    out.append((f"{head}.{i}{tail}", v))
        return out

    def parent_known(self, path: str) -> bool:
        """Whether the section holding `path` was probed (so a missing leaf really is absent)."""
        if "." not in path:
            return False
        parent = path.rsplit(".", 1)[0]
        if parent == "text" or parent.startswith("text."):
            return True  # the paste was read whole: a fact it does not state is absent
        if parent.startswith("expected"):
            return dig(self.derived, parent) is not _MISSING
        return dig(self.snapshot, parent) is not _MISSING

    def aliases(self) -> Dict[str, Any]:
        """Handy names for explanations: {{tf_version}}, {{cudnn_version}}, {{expected_cudnn}} ..."""
        pk = self.snapshot.get("packages") or {}
        # what the paste itself shows (an environment report in it, versions it states) when no snapshot says
        rep = self.text.get("report")
        shown = ((rep.get("packages") if isinstance(rep, _Mapping) else None), self.text.get("versions"))
        out: Dict[str, Any] = {}
        for name, key in PACKAGE_ALIASES:
            said = [pk.get(key), pk.get("tensorflow-cpu") if key == "tensorflow" else None]
            said += [got.get(key) for got in shown if isinstance(got, _Mapping)]
            value = next((v for v in said if v), None)
            if value:
                out[name] = value
        for name, path in PATH_ALIASES:
            v = self.get(path)
            if v is not None:
                out[name] = v
        for name, of in RELEASE_ALIASES:
            if of in out:
                out[name] = str(out[of]).split("+")[0]
        for name, of in LINE_ALIASES:
            line = _RELEASE_LINE.match(str(out.get(of, "")))
            if line:
                out[name] = line.group(0)
        return out


# Facts.aliases(): handy names an explanation may use as {{name}} (kb check knows them as placeholders)
PACKAGE_ALIASES = (
    ("tf_version", "tensorflow"),
    ("torch_version", "torch"),
    ("keras_version", "keras"),
    ("numpy_version", "numpy"),
    ("jax_version", "jax"),
    ("jaxlib_version", "jaxlib"),
    ("protobuf_version", "protobuf"),
)
PATH_ALIASES = (
    ("python_version", "python.version"),
    ("cudnn_version", "cuda.cudnn_version"),
    ("cuda_version", "cuda.runtime_version"),
    ("driver_version", "driver.version"),
    ("driver_cuda_version", "driver.cuda_version"),
    ("driver_cuda", "driver.cuda_version"),
    ("expected_cudnn", "expected.tf.cudnn"),
    ("expected_cuda", "expected.tf.cuda"),
    ("expected_cudnn_package", "expected.tf.cudnn_package"),
    ("expected_keras", "expected.tf.keras"),
    ("expected_python", "expected.tf.python"),
    ("expected_torch_cuda", "expected.torch.cuda"),
    ("expected_driver", "expected.driver.min"),
    # the user's file that an import got instead of the package (parse._shadowing_file), where no clause captured it
    ("shadow_path", "text.symptom.shadowed_import"),
)
# a version alias without its local tag ("2.4.0" of "2.4.0+cu121"), for index URLs that add their own
RELEASE_ALIASES = (("torch_release", "torch_version"),)
# a version's release line (major.minor: "2.4" of "2.4.1"), for pins that must share it ("keras==2.4.*")
LINE_ALIASES = (("tf_line", "tf_version"),)
_RELEASE_LINE = re.compile(r"\d+\.\d+(?=\.|$|[a-z+-])")
# derived(): placeholders worked out from a match's own values (api._finish adds them to its facts)
DERIVED_NAMES = ("shadow_renamed",)
ALIAS_NAMES = frozenset(
    [n for n, _ in PACKAGE_ALIASES + PATH_ALIASES + RELEASE_ALIASES + LINE_ALIASES] + list(DERIVED_NAMES)
)


# import name -> the distribution pip installs it under, where they differ (`pip install cv2` finds nothing); any
# other top-level module installs under its own name. One table for the install fixes (derived) and the API-drift
# lookup (knowledge/drift.py, which adds its own version-lookup names).
DIST_NAMES = {
    "huggingface_hub": "huggingface-hub",
    "PIL": "pillow",
    "sklearn": "scikit-learn",
    "pytorch_lightning": "pytorch-lightning",
    "cv2": "opencv-python",
    "yaml": "pyyaml",
    "skimage": "scikit-image",
    "google.protobuf": "protobuf",
    "attr": "attrs",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "sentence_transformers": "sentence-transformers",
    "lightning_fabric": "lightning-fabric",
    "mmengine": "mmengine",
    "mmdet": "mmdet",
    "flash_attn": "flash-attn",
    "llama_index": "llama-index",
    "pkg_resources": "setuptools",
    "orbax.checkpoint": "orbax-checkpoint",
    "mpl_toolkits": "matplotlib",
    "dotenv": "python-dotenv",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "magic": "python-magic",
    "fitz": "pymupdf",
    "cuda": "cuda-python",
    "Crypto": "pycryptodome",
    "serial": "pyserial",
    "usb": "pyusb",
    "zmq": "pyzmq",
    "jwt": "pyjwt",
    "git": "gitpython",
    "OpenGL": "pyopengl",
    "win32api": "pywin32",
    "win32com": "pywin32",
    "umap": "umap-learn",
    "faiss": "faiss-cpu",
    "whisper": "openai-whisper",
    "llama_cpp": "llama-cpp-python",
    "open_clip": "open-clip-torch",
    "tflite_runtime": "tflite-runtime",
}


# compiled extension modules that the paste names without the folder of their package (a wheel that installs the
# .so at the top of site-packages): the pip distribution that ships each. Only unambiguous ones: _C, _ext and
# _version_cuda belong to many packages, and apex's PyPI name is another project.
EXTENSION_DISTS = {
    "flash_attn_2_cuda": "flash-attn",
    "flash_attn_cuda": "flash-attn",
    "selective_scan_cuda": "mamba-ssm",
    "causal_conv1d_cuda": "causal-conv1d",
    "exllamav2_ext": "exllamav2",
    "transformer_engine_torch": "transformer-engine",
    "libintel-ext-pt-cpu": "intel-extension-for-pytorch",
    "libintel-ext-pt-gpu": "intel-extension-for-pytorch",
}


# captures that name a top-level module whose pip distribution a fix installs (derived()'s `package`), first wins
_MODULE_CAPTURES = ("missing_module", "pickled_module", "stale_module")
# the values derived() works out -> the captures it works each out from (kb check accepts a fix placeholder for them
# where a signature of the cause captures one of these)
DERIVED_FROM: Dict[str, Tuple[str, ...]] = {
    "package": _MODULE_CAPTURES + ("extension",),
    "module": ("shadow_path",),
    "shadow_renamed": ("shadow_path",),
}


def derived(values: Mapping[str, Any]) -> Dict[str, str]:
    """Values a fix needs that no clause captures, worked out from a match's values (captures and aliases). The
    caller keeps what the match already carries (a captured value wins).

    - Where a local file shadows a package (`shadow_path`, a .py file named like a module): `module`, the package it
      stands in for (nltk of .../nltk.py), and `shadow_renamed`, a new name for the file in its own folder
      (.../my_nltk_script.py, path separators kept).
    - Where an import failed (`missing_module`, a top-level module name) or a pickled class was not found in an
      installed library (`pickled_module`, its top-level package), or a package's own code could not import from
      itself in a notebook (`stale_module`): `package`, the name pip installs it under
      (opencv-python for cv2, scikit-learn for sklearn; the module's own name otherwise); where a compiled
      extension failed to load (`extension`, one of EXTENSION_DISTS): the package that ships it (flash-attn for
      flash_attn_2_cuda)."""
    out: Dict[str, str] = {}
    missing = next((v for v in map(values.get, _MODULE_CAPTURES) if v), None)
    if isinstance(missing, str) and missing.isidentifier():
        out["package"] = DIST_NAMES.get(missing, missing)
    ext = values.get("extension")
    if isinstance(ext, str) and ext in EXTENSION_DISTS:
        out.setdefault("package", EXTENSION_DISTS[ext])
    path = values.get("shadow_path")
    if not isinstance(path, str) or not path.endswith(".py"):
        return out  # most matches: nothing more to work out
    import ntpath

    head, name = ntpath.split(path)  # either separator
    stem = name[:-3]
    if not stem.isidentifier():
        return out
    sep = "\\" if "\\" in path else "/"
    new = f"my_{stem}_script.py"
    out.update(module=stem, shadow_renamed=f"{head.rstrip(sep)}{sep}{new}" if head else new)
    return out


# TensorFlow ships under several distribution names; signatures ask for packages.tensorflow.
_TF_VARIANTS = (
    "tensorflow-cpu",
    "tensorflow-gpu",
    "tensorflow-macos",
    "tensorflow-intel",
    "tensorflow-aarch64",
    "tf-nightly",
    "tf-nightly-gpu",
    "tf-nightly-cpu",
)


def normalise_snapshot(snapshot: Mapping[str, Any]) -> Dict[str, Any]:
    """A shallow copy with package names normalised (lowercase, '-') and TensorFlow variants aliased."""
    snap = dict(snapshot)
    pk = snap.get("packages")
    if isinstance(pk, _Mapping):
        norm = {str(k).lower().replace("_", "-").replace(".", "-"): v for k, v in pk.items()}
        if "tensorflow" not in norm:
            for alt in _TF_VARIANTS:
                if norm.get(alt):
                    norm["tensorflow"] = norm[alt]
                    break
        snap["packages"] = norm
    return snap


# ---------------------------------------------------------------- versions
_VER = re.compile(r"\d+(?:\.\d+)*")


def release(value: Any) -> Optional[tuple]:
    """(major, minor, ...) of a version-ish value: '8.9.2.26', '2.1.0+cu121', 8902 (cuDNN int), '12.2'."""
    if value is None:
        return None
    if isinstance(value, int) and value >= 10000:  # cuDNN 9+ cudnnGetVersion(): 91900 -> 9.19.0
        return (value // 10000, (value % 10000) // 100, value % 100)
    if isinstance(value, int) and value >= 1000:  # cuDNN 8 and older: 8902 -> 8.9.2
        return (value // 1000, (value % 1000) // 100, value % 100)
    m = _VER.search(str(value))
    if not m:
        return None
    return tuple(int(x) for x in m.group(0).split("."))


def compare(a: Any, b: Any) -> Optional[int]:
    """-1/0/1 comparing on the common prefix ('8.9.2' == '8.9'); None when either is unknown."""
    ra, rb = release(a), release(b)
    if ra is None or rb is None:
        return None
    n = min(len(ra), len(rb))
    x, y = ra[:n], rb[:n]
    return (x > y) - (x < y)


def _cc_covered(cc: Any, archs: Any) -> Optional[bool]:
    """Whether a GPU of compute capability `cc` runs code built for `archs` ("8.6", "sm_90", "9.0+PTX")."""
    k = release(cc)
    if k is None or not isinstance(archs, (list, tuple)):
        return None
    k = k[:2]
    for a in archs:
        text = str(a).lower().replace("sm_", "").replace("compute_", "")
        if "." not in text and text[:2].isdigit():  # "90" / "120" -> 9.0 / 12.0
            text = f"{text[:-1]}.{text[-1:]}" + ("+ptx" if "+ptx" in str(a).lower() else "")
        ak = release(text.split("+")[0])
        if ak is None:
            continue
        ak = ak[:2]
        if ak == k or ("+ptx" in text and ak <= k):
            return True
    return False


_SIMPLE_SPEC = re.compile(r"\s*(==|!=|>=|<=|~=|>|<)\s*(\d+(?:\.\d+)*)(\.\*)?\s*")


def simple_satisfies(k: Tuple[int, ...], spec: str) -> Optional[bool]:
    """A PEP 440 specifier test without packaging, for the forms the tables and signatures use (">=2.14,<2.16",
    "==2.15.*", "~=1.13") on a release-only version `k`, whose comparisons are those of zero-padded release tuples.
    None for any other form (packaging decides those). Importing packaging.specifiers costs the hook's first
    diagnosis ~5 ms."""
    result = True
    for part in spec.split(","):
        m = _SIMPLE_SPEC.fullmatch(part)
        if m is None:
            return None
        op, text, star = m.groups()
        want = tuple(int(x) for x in text.split("."))
        if star:
            if op not in ("==", "!="):
                return None
            head = (k + (0,) * len(want))[: len(want)]
            ok = (head == want) == (op == "==")
        else:
            n = max(len(k), len(want))
            a, b = k + (0,) * (n - len(k)), want + (0,) * (n - len(want))
            if op == "~=":
                if len(want) < 2:
                    return None
                pre = len(want) - 1
                ok = a >= b and (k + (0,) * pre)[:pre] == want[:pre]
            else:
                ok = {"==": a == b, "!=": a != b, ">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b}[op]
        result = result and ok
    return result


def _satisfies(value: Any, spec: Any) -> Optional[bool]:
    """PEP 440 test on the release part of `value` (local tags, cuDNN ints and junk handled by release())."""
    r = release(value)
    if r is None or spec is None:
        return None
    quick = simple_satisfies(r, str(spec))
    if quick is not None:
        return quick
    try:
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version

        return SpecifierSet(str(spec)).contains(Version(".".join(str(x) for x in r)), prereleases=True)
    except ValueError:  # InvalidSpecifier / InvalidVersion
        return None


def _pair(key: str, a: Any, b: Any) -> Optional[bool]:
    """The comparisons between two facts; None when either side is unknown."""
    ra, rb = release(a), release(b)
    if key in ("lt_fact", "gt_fact"):
        c = compare(a, b)
        return None if c is None else c == (-1 if key == "lt_fact" else 1)
    if key == "ne_fact":
        return ra != rb if ra is not None and rb is not None else str(a) != str(b)
    if key == "ne_major_fact":
        return None if ra is None or rb is None else ra[0] != rb[0]
    if key == "ne_minor_fact":
        return None if ra is None or rb is None or len(ra) < 2 or len(rb) < 2 else ra[:2] != rb[:2]
    if key == "spec_fact":
        return _satisfies(a, b)
    if key == "not_spec_fact":
        ok = _satisfies(a, b)
        return None if ok is None else not ok
    if key == "cc_not_in":
        ok = _cc_covered(a, b)
        return None if ok is None else not ok
    if key == "none_major_eq_fact":
        if not isinstance(a, (list, tuple)) or rb is None:
            return None
        return all((release(x) or (None,))[0] != rb[0] for x in a)
    return None


PAIR_TESTS = {
    "lt_fact": "<",
    "gt_fact": ">",
    "ne_fact": "!=",
    "ne_major_fact": "major !=",
    "ne_minor_fact": "major.minor !=",
    "spec_fact": "satisfies",
    "not_spec_fact": "does not satisfy",
    "cc_not_in": "not covered by",
    "none_major_eq_fact": "has no major of",
}
COMPOUND_TESTS = ("any", "all", "not")


def check_fact(facts: Facts, cond: Mapping[str, Any], captures: Optional[Mapping[str, Any]] = None) -> Optional[bool]:
    """True / False, or None when unknown (an unknown fact neither holds nor fails)."""
    return _check(facts, cond, captures, [])


def test_fact(facts: Facts, cond: Mapping[str, Any], captures: Optional[Mapping[str, Any]] = None) -> Optional[str]:
    """Evaluate one fact condition. Returns a human sentence when it holds, None otherwise (or unknown)."""
    said: list = []
    return "; ".join(said) if _check(facts, cond, captures, said) is True and said else None


def _check(facts: Facts, cond: Mapping[str, Any], captures: Optional[Mapping[str, Any]], said: list) -> Optional[bool]:
    if "any" in cond:
        results: "list[Optional[bool]]" = []
        for c in cond["any"] or []:
            r = _check(facts, c, captures, said)
            if r is True:
                return True
            results.append(r)
        return None if any(r is None for r in results) else False
    if "all" in cond:
        mine: list = []
        results = [_check(facts, c, captures, mine) for c in cond["all"] or []]
        if all(r is True for r in results):
            said.extend(mine)
            return True
        return False if any(r is False for r in results) else None
    if "not" in cond:
        inner = _check(facts, cond["not"], captures, [])
        if inner is None:
            return None
        if inner is False:
            said.append("not (" + _describe_cond(cond["not"]) + ")")
        return not inner
    path = str(cond.get("path", ""))
    vals = facts.values(path, captures)
    if "present" in cond:
        want = bool(cond["present"])
        if vals:
            if want:
                said.append(_line(facts, vals[0][0], vals[0][1]))
            return want
        if not facts.parent_known(path.split(".*")[0] if "*" in path else path):
            return None
        if not want:
            said.append(f"{path} is absent" + _from(facts, path))
        return not want
    if "in" in cond and not vals and facts.parent_known(path):
        # a known section without this key (an unset variable): not one of the listed values
        return False
    if not vals:
        return None
    unknown = False
    for concrete, val in vals:
        r = _one(facts, concrete, val, cond, captures)
        if r is True:
            said.append(_line(facts, concrete, val, cond, captures))
            return True
        unknown = unknown or r is None
    return None if unknown else False


def _one(facts: Facts, path: str, val: Any, cond: Mapping[str, Any], captures) -> Optional[bool]:
    if "equals" in cond:
        return str(val).lower() == str(cond["equals"]).lower()
    if "matches" in cond:
        return re.search(str(cond["matches"]), str(val), re.I) is not None
    if "in" in cond:
        return str(val).lower() in [str(x).lower() for x in (cond["in"] or [])]
    if "version" in cond:
        return _satisfies(val, cond["version"])
    for key in PAIR_TESTS:
        if key in cond:
            other = facts.get(str(cond[key]), captures)
            return None if other is None else _pair(key, val, other)
    if "empty" in cond:
        if not isinstance(val, (list, tuple, dict)):
            return None
        return (len(val) == 0) == bool(cond["empty"])
    for key in ("min", "max"):
        if key in cond:
            num = len(val) if isinstance(val, (list, tuple)) else val
            try:
                num = float(num)
            except (TypeError, ValueError):
                return None
            return num >= float(cond[key]) if key == "min" else num <= float(cond[key])
    return None


def _from(facts: Facts, path: str) -> str:
    src = facts.source_of(path)
    return f" ({SOURCE_WORDS.get(src, 'from ' + src)})" if src else ""


def _line(facts: Facts, path: str, val: Any, cond: Optional[Mapping[str, Any]] = None, captures=None) -> str:
    """One evidence line: the fact, the other side of a comparison, and where the fact came from."""
    line = f"{path} = {_short(val)}"
    cond = cond or {}
    for key, word in PAIR_TESTS.items():
        if key in cond:
            other = facts.get(str(cond[key]), captures)
            return f"{line} {word} {cond[key]} = {_short(other)}" + _from(facts, path)
    if "version" in cond:
        return f"{line} ({cond['version']})" + _from(facts, path)
    if "empty" in cond and cond["empty"]:
        return f"{path} is empty" + _from(facts, path)
    return line + _from(facts, path)


def _describe_cond(cond: Mapping[str, Any]) -> str:
    if "path" not in cond:
        return ", ".join(f"{k}: ..." for k in cond)
    test = next((k for k in cond if k != "path"), "")
    return f"{cond['path']} {test} {cond.get(test)!s}"


def _short(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, _Mapping) for x in v):
            names = sorted({str(x.get("name")) for x in v if x.get("name")})
            return f"{len(v)} item{'s' if len(v) != 1 else ''}" + (f" ({', '.join(names)})" if names else "")
        if v and len(v) <= 6:
            return "[" + ", ".join(map(str, v)) + "]"
        return f"[{len(v)} item{'s' if len(v) != 1 else ''}]"
    s = str(v)
    return s if len(s) <= 60 else s[:57] + "..."
