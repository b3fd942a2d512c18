"""Which of the installed frameworks' own error messages dnnfix does not recognise (issue 10, item 1).

Reads the Python source of packages installed in this environment (torch, tensorflow, keras, numpy, protobuf, ...)
without importing them, takes the message of every `raise SomeError("...")` whose text speaks of the environment
(a GPU, a driver, a build, a version, eager execution, a removed API ...), fills each placeholder of an f-string or
format string with a word, and diagnoses "SomeError: message" alone. Messages for which no signature fires, or only
weakly, are printed with the file and line that raise them: the place to read before writing a clause (most are
argument checks of the user's own code; the few that name an environment cause are the leads).

    python scripts/mine_raise_messages.py [PACKAGE-GLOB ...] [--all] [--calls] [--below SCORE] [--json]

--calls also reads what a package prints without raising: `warnings.warn("...")` (pasted as "UserWarning: ..."),
`logger.warning/error/critical(...)` and `logging.warning(...)` (a log line), and `print(...)` (the text alone): the
notices a failure's real cause often hides in (bitsandbytes' set-up report, JAX's CPU fallback, transformers'
"Disabling PyTorch ...").

PACKAGE-GLOB is a glob under site-packages (default: the frameworks' environment-facing modules listed in
DEFAULT_GLOBS). --all keeps every message, not only those with environment words. --below: print messages whose best
match scores under SCORE (default 0.3). Offline and deterministic; nothing is imported but dnnfix.
"""

from __future__ import annotations

import argparse
import ast
import glob
import json
import os
import re
import sys
import sysconfig
from pathlib import Path
from typing import Dict, Iterator, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_GLOBS = (
    "torch/cuda/__init__.py",
    "torch/cuda/memory.py",
    "torch/serialization.py",
    "torch/utils/data/**/*.py",
    "torch/distributed/elastic/**/*.py",
    "torch/nn/modules/module.py",
    "torch/hub.py",
    "torch/utils/cpp_extension.py",
    "torch/backends/**/*.py",
    "torch/mps/*.py",
    "torch/__init__.py",
    "keras/src/saving/**/*.py",
    "keras/src/layers/layer.py",
    "keras/src/optimizers/*.py",
    "keras/src/utils/file_utils.py",
    "tensorflow/python/framework/config.py",
    "tensorflow/python/framework/ops.py",
    "tensorflow/python/eager/context.py",
    "tensorflow/python/data/ops/dataset_ops.py",
    "numpy/__init__.py",
    "google/protobuf/*.py",
    "h5py/_hl/files.py",
    "safetensors/*.py",
)
# words of a message about the environment rather than about the arguments of a call
ENV_WORDS = re.compile(
    r"cuda|gpu|device|driver|compiled|built with|version|install|nccl|memory|mps|weights_only|checkpoint|worker|"
    r"pickle|numpy|protobuf|descriptor|tpu|xla|cudnn|nvcc|rocm|triton|distributed|rendezvous|master_addr|spawn|dll|"
    r"library|h5py|hdf5|safetensors|keras 3|tf_keras|legacy|eager|deprecated|no longer|removed|not available|"
    r"not supported|requires|required|disabling",
    re.I,
)
PLACEHOLDER = "X1"


def _text(node: ast.AST) -> Optional[str]:
    """The literal text of a message expression, with PLACEHOLDER for each part computed at run time."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else PLACEHOLDER for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is None and right is None:
            return None
        return (left or PLACEHOLDER) + (right or PLACEHOLDER)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):  # "... %s ..." % args
        return _text(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _text(node.func.value)
    return None


# the printing calls --calls reads: a logger's or the logging module's methods, warnings.warn, print
_LOG_METHODS = frozenset({"warning", "warn", "error", "critical", "fatal", "exception", "warning_once"})


def _call_kind(func: ast.AST) -> Optional[str]:
    """The kind of a call that prints its first argument ("warn", "log" or "print"), None for any other call."""
    if isinstance(func, ast.Name):
        return "print" if func.id == "print" else "warn" if func.id == "warn" else None
    if isinstance(func, ast.Attribute):
        if func.attr == "warn" and isinstance(func.value, ast.Name) and func.value.id == "warnings":
            return "warn"
        if func.attr in _LOG_METHODS:
            return "log"
    return None


def messages(path: str, calls: bool = False) -> Iterator[Dict[str, object]]:
    """(exception name, message, line) of every `raise Name("literal ...")` in one source file; with calls, also
    the literal first argument of warnings.warn / logger.warning-style / print calls (exc "UserWarning", "log" or
    "print")."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8", errors="replace"))
    except (SyntaxError, ValueError, OSError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            func = node.exc.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            msg = _text(node.exc.args[0])
        elif calls and isinstance(node, ast.Call) and node.args:
            kind = _call_kind(node.func)
            if kind is None:
                continue
            name = {"warn": "UserWarning", "log": "log", "print": "print"}[kind]
            msg = _text(node.args[0])
        else:
            continue
        if name and msg and len(msg.strip()) > 25:
            yield {"exc": name, "msg": msg.strip(), "line": node.lineno}


def paste(exc: str, msg: str) -> str:
    """The message as it is printed, each run-time part filled with one word: a traceback's last line for a raise
    or a warning ("UserWarning: ..."), the text alone for a log call or a print."""
    text = msg.replace(PLACEHOLDER, "foo")
    return f"{text}\n" if exc in ("log", "print") else f"{exc}: {text}\n"


def mine(root: str, globs, everything: bool = False, calls: bool = False) -> List[Dict[str, object]]:
    from dnnfix.api import diagnose_text
    from dnnfix.knowledge.load import load_kb

    kb = load_kb()
    seen = set()
    rows = []
    for pattern in globs:
        for path in sorted(glob.glob(os.path.join(root, pattern), recursive=True)):
            if "/tests/" in path or path.endswith("_test.py"):
                continue
            for r in messages(path, calls):
                msg = str(r["msg"])
                if msg in seen or not (everything or ENV_WORDS.search(msg)):
                    continue
                seen.add(msg)
                d = diagnose_text(paste(str(r["exc"]), msg), kb=kb, similar=False)
                top = d.matches[0] if d.matches else None
                rows.append(
                    {
                        "file": os.path.relpath(path, root),
                        "line": r["line"],
                        "exc": r["exc"],
                        "message": msg,
                        "cause": top.cause if top else None,
                        "score": round(float(top.score), 3) if top else 0.0,
                        "signature": top.signature if top else None,
                    }
                )
    return rows


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("globs", nargs="*", help="globs under site-packages (default: DEFAULT_GLOBS)")
    ap.add_argument("--root", default=sysconfig.get_paths()["purelib"], help="where the packages are installed")
    ap.add_argument("--all", action="store_true", help="every message, not only those with environment words")
    ap.add_argument("--below", type=float, default=0.3, help="print messages whose best match scores under this")
    ap.add_argument("--calls", action="store_true", help="also warnings.warn, logger.warning/error and print messages")
    ap.add_argument("--json", action="store_true", help="every mined message with its best match, as JSON")
    a = ap.parse_args(argv)
    rows = mine(a.root, a.globs or DEFAULT_GLOBS, a.all, a.calls)
    if a.json:
        json.dump(rows, sys.stdout, indent=1)
        print()
        return 0
    weak = [r for r in rows if float(r["score"]) < a.below]
    for r in sorted(weak, key=lambda r: (r["file"], r["line"])):
        where = f"{r['file']}:{r['line']}"
        got = f"{r['cause']} {r['score']:.2f}" if r["cause"] else "no match"
        print(f"{where:<60} {got:<36} {r['exc']}: {str(r['message'])[:160]}")
    print(f"{len(rows)} messages mined, {len(weak)} recognised under {a.below} (or not at all)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
