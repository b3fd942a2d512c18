"""No broad `except` inside the core: only at the boundaries, where any failure must be contained.

The rule "never make the user's situation worse" is kept by the boundaries (the hook, the CLI, the TUI, ...),
each of which catches everything and says so in one line. Inside the core a handler names the exceptions that
can actually occur, so that a bug surfaces (in the tests, at the boundary) instead of silently losing facts.
A handler that cleans up and re-raises (`except BaseException: ...; raise`) contains nothing and is allowed.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "dnnfix"

# modules (paths under dnnfix/, a folder ends with "/") where any handler may be broad, and why
BOUNDARY_MODULES = {
    "hook.py": "the exception hook: it never raises into the user's program (a one-line note instead)",
    "hook/": "the same hook, once split into a package",
    "cli.py": "the command line: an internal error is one line and exit status 3, never a traceback",
    "commands/": "the CLI's commands (same contract as cli.py; a command whose module fails to import says so)",
    "tui/": "the terminal app: a failure is shown in the app, which must keep running",
    "pytest_plugin.py": "the pytest plugin: a diagnosis must never fail or break the user's test run",
    "spark.py": "the Spark worker: one row's failure becomes that row's error, never the job's end (today through "
    "scan._guarded)",
    "magics.py": "the IPython magics: user-facing commands in a notebook (same contract as the CLI)",
    "probe/": "the probes call into arbitrary third-party code (frameworks, NVML, ctypes): any exception is contained",
}

# functions elsewhere that are boundaries too: (path, qualified name) -> why
BOUNDARY_FUNCTIONS = {
    ("api.py", "probe_snapshot"): "runs the probes (third-party code): a probe must never cost the diagnosis",
    ("capture.py", "start"): "called by install() with no guard of its own: capture is optional and never raises",
    ("capture.py", "_flush_std"): "flushes whatever stream objects sys holds (Jupyter's, a user's wrapper)",
    ("readinput.py", "_Finder.__init__"): "builds a third-party extension (ahocorasick_rs) of any release",
    ("readinput.py", "_reader.read"): "each decompressor (zstandard is third-party) has its own errors: all become "
    "InputError, which the CLI reports",
    ("rx.py", "re2_module"): "imports a third-party extension (or another package named re2)",
    ("rx.py", "re2_compile"): "RE2 (third-party) refuses patterns in its own ways: Python's re takes them then",
    ("rx.py", "_fast"): "probes a third-party build's low-level call",
    ("scan.py", "_guarded"): "the scan worker: one log's failure becomes that log's error, never the scan's end",
}

BROAD = {"Exception", "BaseException"}


def _is_broad(t) -> bool:
    if t is None:  # bare except:
        return True
    if isinstance(t, ast.Name):
        return t.id in BROAD
    if isinstance(t, ast.Attribute):
        return t.attr in BROAD
    if isinstance(t, ast.Tuple):
        return any(_is_broad(e) for e in t.elts)
    return False


def _reraises(handler: ast.ExceptHandler) -> bool:
    last = handler.body[-1]
    return isinstance(last, ast.Raise) and last.exc is None


def broad_handlers(path: Path):
    """(qualified name of the enclosing function, line) of each broad handler that does not re-raise."""
    out = []

    def visit(node, names):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, names + [child.name])
                continue
            if isinstance(child, ast.ExceptHandler) and _is_broad(child.type) and not _reraises(child):
                out.append((".".join(names) or "<module>", child.lineno))
            visit(child, names)

    visit(ast.parse(path.read_text(encoding="utf-8")), [])
    return out


def _boundary_module(rel: str) -> bool:
    return any(rel == m or (m.endswith("/") and rel.startswith(m)) for m in BOUNDARY_MODULES)


def test_no_broad_except_in_the_core():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if _boundary_module(rel):
            continue
        for qualname, line in broad_handlers(path):
            if (rel, qualname) not in BOUNDARY_FUNCTIONS:
                found.append(f"dnnfix/{rel}:{line} in {qualname}")
    assert not found, (
        "a broad except inside the core (name the exceptions that can occur, or contain them at a "
        "boundary; a new boundary goes into this test's allow-list with its reason):\n  " + "\n  ".join(found)
    )


def test_the_allow_list_names_real_places():
    # an entry for a function that no longer exists (or no longer catches broadly) is stale: remove it
    for rel, qualname in BOUNDARY_FUNCTIONS:
        path = ROOT / rel
        assert path.is_file(), rel
        assert qualname in {q for q, _ in broad_handlers(path)}, f"{rel}: {qualname} has no broad handler"


def test_the_checker_sees_broad_handlers(tmp_path):
    src = tmp_path / "m.py"
    src.write_text(
        "def f():\n    try:\n        pass\n    except:\n        pass\n"
        "class C:\n    def g(self):\n        try:\n            pass\n        except (OSError, Exception):\n"
        "            pass\n"
        "def h():\n    try:\n        pass\n    except BaseException:\n        cleanup()\n        raise\n"
        "def k():\n    try:\n        pass\n    except (OSError, ValueError):\n        pass\n"
    )
    assert broad_handlers(src) == [("f", 4), ("C.g", 10)]
