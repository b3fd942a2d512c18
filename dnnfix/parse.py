"""Input -> Incident. Pasted text and live exceptions become the same plain-data model.

The parser is deliberately forgiving: pastes start and end anywhere, lose newlines, carry IPython/Colab
formatting, and mix native log lines with Python tracebacks. Anything it does not recognise stays available
to the matcher as a plain line.
"""

from __future__ import annotations

import functools
import ntpath  # a frame's file name on either separator: pastes come from POSIX and Windows alike
import re
from typing import Dict, FrozenSet, List, Optional

from .model import ExceptionInfo, Frame, GraphError, Incident, LogLine
from .normalize import clean_lines, lines_holding, one_line
from .rx import LiteralSet

_TB_START = re.compile(r"Traceback \(most recent call last\)")
_CHAIN_CONTEXT = re.compile(r"During handling of the above exception, another exception occurred")
_CHAIN_CAUSE = re.compile(r"The above exception was the direct cause of the following exception")
# an import statement's first module name: "import tqdm", "from tqdm import x", "from tqdm.auto import x"
_IMPORT_STMT = re.compile(r"^(?:from\s+(?P<a>[A-Za-z_]\w*)[\w.]*\s+import\b|import\s+(?P<b>[A-Za-z_]\w*))")
_FRAME_PY = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?')
# IPython 8: "File /usr/lib/python3.10/site-packages/keras/x.py:65, in fn(*args)"
_FRAME_IPY8 = re.compile(r"^\s*File (?P<file>[^\s\"].*?):(?P<line>\d+)(?:, in (?P<func>.+))?$")
# IPython 7 / old Colab: "/usr/local/lib/python3.7/dist-packages/keras/engine/training.py in fit(self, x)", a module's
# top level "... keras/preprocessing/__init__.py in <module>", a cell "<ipython-input-2-cf96> in <cell line: 2>()"
_FRAME_IPY7 = re.compile(
    r"^\s*(?P<file>(?:/|[A-Za-z]:\\|~/|<ipython-input-|<string>|<stdin>)[^\n]*?(?:\.py|>)) in "
    r"(?P<func><[^>\n]*>|[\w.]+)(?:\(|\s*$)"
)
# pytest's short frames: "src/train.py:42: in fit" / "../site-packages/torch/nn/x.py:1501: in _call_impl"
_FRAME_PYTEST = re.compile(r"^(?P<file>[^\s:]+\.py):(?P<line>\d+): in (?P<func>\S+)")
_ARROW = re.compile(r"^\s*-+>\s*(?P<line>\d+)\s?(?P<code>.*)")
# a library reading an attribute of a module that is not the one it imported
_MODULE_NO_ATTR = re.compile(r"(?:partially initialized )?module '(?P<module>[A-Za-z_][\w.]*)' has no attribute ")
# Colab's "N frames" line, where its notebook view folds a traceback's library frames
_ELISION = re.compile(r"^[ \t]*\d+ frames?[ \t]*$", re.M)
_EXC = re.compile(
    r"^\s*(?P<type>(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning|Failure|Fault|Iteration)"
    r"|(?:[a-z_]\w*\.)+[A-Z]\w*)(?::\s?(?P<msg>.*))?$"
)
_IPY_HEADER = re.compile(r"^\s*(?P<type>(?:[\w.]+\.)?[A-Z]\w*)\s{2,}Traceback \(most recent call last\)")
_GLOG = re.compile(r"^(?P<level>[IWEF])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+\s+(?P<src>[^\s:\]]+:\d+)\]\s?(?P<msg>.*)")
_TFLOG = re.compile(
    r"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?:?\s+)?(?P<level>[IWEF])\s+"
    r"(?P<src>[\w./-]+\.(?:cc|cpp|h|c|py):\d+)\]\s?(?P<msg>.*)"
)
_PYLOG = re.compile(r"^(?P<level>WARNING|ERROR|INFO|CRITICAL|FATAL|DEBUG):(?P<src>[\w.]+):(?P<msg>.*)")
_BRACKETLOG = re.compile(r"^\[(?P<level>[IWEF])\s?(?P<src>[\w./-]+\.(?:cpp|cc|h):\d+)\]\s?(?P<msg>.*)")
_NODE = re.compile(r"Detected at node '?(?P<a>[^'\s]+)'?|\[\[\{\{node (?P<b>[^}]+)\}\}\]\]|^\s*Node: '(?P<c>[^']+)'")
_OP = re.compile(r"\[Op:(?P<op>[\w.]+)\]")
_ROOT = re.compile(r"^\s*\((?P<i>\d+)\) (?P<code>[A-Z][A-Z_]{3,}):\s*(?P<msg>.*)")
_PKG = re.compile(r"(?:site|dist)-packages[\\/](?P<pkg>[A-Za-z_][\w.-]*)")
_STDLIB = re.compile(r"[\\/]lib[\\/]python3?\.?\d*[\\/](?P<mod>\w+)")
_PYVER = re.compile(r"python(?P<v>3\.\d{1,2})\b|python3(?P<w>\d{1,2})[\\/]", re.I)
# the interpreters a paste shows: a REPL's banner ("Python 3.5.3 (default, ...", also where a paste lost its newlines)
# and an interpreter's path printed alone on its line (sys.executable, `which python`:
# "'C:\\...\\envs\\py36\\python.exe'", "/opt/conda/bin/python3")
_INTERPRETER = re.compile(
    r"""(?:(?:^|[ \t])Python[ \t]+(?P<ver>[23]\.\d{1,2})\.\d+\S*[ \t]+\((?:default|main|tags/|v\d|heads/|Anaconda|conda)|^[ \t]*['"]?(?P<exe>(?:[A-Za-z]:)?[\\/~][^\s'"]*?[\\/]+python(?:[23](?:\.\d{1,2})?)?(?:\.exe)?)['"]?[ \t]*$)""",
    re.M | re.I,
)

# "tensorflow==2.15.0", "TensorFlow 2.15", "torch 2.1.0+cu121", "keras version: 3.3.3"
_VERSION_SAID = re.compile(
    r"\b(?P<pkg>tensorflow(?:-gpu|-cpu)?|torch|pytorch|keras|jaxlib|jax|numpy)\b(?:\s*(?:==|>=|version\s*[:=]?|v)\s*|\s+)"
    r"['\"]?(?P<ver>\d+\.\d+(?:\.\d+)?(?:\+\w+)?)\b",
    re.I,
)
# an interactive session: >>> tf.__version__ / '1.15.5'
_REPL_VERSION = re.compile(
    r"\b(?P<mod>tf|tensorflow|torch|keras|np|numpy|jax)\.__version__[ \t]*\)?[ \t]*\n[ \t]*(?:Out\[\d+\]:[ \t]*)?['\"]?(?P<ver>\d+\.\d+(?:\.\d+)?(?:[+.\w-]*))['\"]?[ \t]*$",
    re.M,
)
_SAID_NAMES = ("tensorflow", "torch", "pytorch", "keras", "jaxlib", "jax", "numpy")
_SAID_NAME_SET = LiteralSet(_SAID_NAMES)
# substrings that every match of _text_facts's searches holds, each looked for once (one pass over the text)
_WINDOWS_WORDS = frozenset((":\\", "\\site-packages\\", ".dll"))
_MACOS_WORDS = frozenset(("/Users/", "/opt/homebrew/", "/Library/Frameworks/Python", ".dylib"))
_LINUX_WORDS = frozenset(("/usr/", "/home/", "/content/", "/opt/conda", "/kaggle/", ".so"))
_COLAB_WORDS = frozenset(("/content/", "google.colab", "/google/colab"))
_HAY_SET = _WINDOWS_WORDS | _MACOS_WORDS | _LINUX_WORDS
_HAY_LONGEST = max(map(len, _HAY_SET))
_HAY_WORDS = LiteralSet(sorted(_HAY_SET))  # in the frames' paths (and, through _text_literals, in the text)
# what IPython and Colab print around a cell's code: its frames ("<ipython-input-2-4b1d...>", "Cell In[3]", "<cell line:
# 1>") and Colab's frame links (localhost:8080)
_NOTEBOOK_WORDS = frozenset(("<ipython-input-", "Cell", "<cell", "localhost:8080"))
_NOTEBOOK_MARK = re.compile(r"<ipython-input-\d+-[0-9a-f]+>|\bCell\s+In\s*\[\d+\]|<cell\s+line:\s*\d+>|localhost:8080")
_SAMPLE_SET = _COLAB_WORDS | _NOTEBOOK_WORDS | {"/kaggle/", "ython", "__version__"}  # in the text


@functools.lru_cache(maxsize=None)
def _text_literals() -> LiteralSet:
    """_HAY_SET, _SAMPLE_SET and envreport.TEXT_WORDS in one set, built on first use (envreport loads lazily)."""
    from .envreport import TEXT_WORDS

    return LiteralSet(sorted(_HAY_SET | _SAMPLE_SET | TEXT_WORDS))


_PKG_ALIAS = {
    "tf": "tensorflow",
    "tensorflow-gpu": "tensorflow",
    "tensorflow-cpu": "tensorflow",
    "pytorch": "torch",
    "np": "numpy",
}

_USER_HINTS = (
    "<ipython-input-",
    "/content/",
    "<string>",
    "<stdin>",
    "/tmp/ipykernel_",
    "\\Temp\\ipykernel_",
    "<module>",
)


def package_of(path: str) -> str:
    m = _PKG.search(path)
    if m:
        pkg = m.group("pkg")
        if pkg.endswith(".py"):
            pkg = pkg[:-3]
        pkg = pkg.split(".", 1)[0] if not pkg.endswith(".egg") else pkg
        if pkg == "tensorflow_core":
            return "tensorflow"
        return pkg.lower()
    if any(h in path for h in _USER_HINTS):
        return "user"
    m = _STDLIB.search(path)
    if m and "packages" not in path:
        return "stdlib"
    return "user"


def _log_match(line: str):
    c = line[:1]
    if c in ("I", "W", "E", "F"):
        # the second character tells the three apart: glog's "I0412 ..." (a digit), TF's "I tensorflow/..." (a
        # space), Python logging's "INFO:name:..." (a letter)
        d = line[1:2]
        if d.isdigit():
            return _GLOG.match(line)
        if d.isalpha():
            return _PYLOG.match(line)
        return _TFLOG.match(line)
    if c.isdigit():
        return _TFLOG.match(line)
    if c == "[":
        return _BRACKETLOG.match(line)
    if c in ("C", "D"):
        return _PYLOG.match(line)
    return None


def _is_structural(line: str) -> bool:
    return bool(
        ("Traceback" in line and (_TB_START.search(line) or _IPY_HEADER.match(line)))
        or ("exception" in line and (_CHAIN_CAUSE.search(line) or _CHAIN_CONTEXT.search(line)))
        or ("File" in line and _FRAME_PY.match(line))
        or _log_match(line)
    )


def parse_text(text: str, *, truncated: bool = False) -> Incident:
    prefixes: Dict[int, int] = {}
    lines = clean_lines(text, prefixes)
    inc = Incident(lines=lines, truncated=truncated, prefixes=prefixes)
    inc.one_line = len(lines) > 1 and one_line(text)  # its lines found again: lost or escaped newlines
    frames_pending: List[Frame] = []
    link = ""
    graph = inc.graph
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        lineno = i + 1
        if not line.strip():
            i += 1
            continue
        if "Traceback" in line and _TB_START.search(line):
            frames_pending = []
            i += 1
            continue
        if "exception" in line:
            if _CHAIN_CAUSE.search(line):
                link = "cause"
                i += 1
                continue
            if _CHAIN_CONTEXT.search(line):
                link = "context"
                i += 1
                continue
        m = None
        skip = 0  # the lines a frame cut by the terminal continues on
        if "File" in line:
            m = _FRAME_PY.match(line) or _FRAME_IPY8.match(line)
            if m is None and line.lstrip().startswith('File "'):
                m, skip = _cut_frame(lines, i)
        if m is None and " in " in line:
            m = _FRAME_IPY7.match(line)
        if m is None and ": in " in line:
            m = _FRAME_PYTEST.match(line)
        if m:
            f = m.group("file")
            ln = m.groupdict().get("line")
            fr = Frame(
                file=f,
                line=int(ln) if ln else None,
                function=(m.group("func") or "").strip(),
                package=package_of(f),
                lineno_in_text=lineno,
            )
            # the code line that follows a plain-Python frame (a blank line may come between). A log prefix that
            # was stripped from both lines (the collector's "(pid=7) ", "[rank0]: ") may have taken the code line's
            # indentation with it: then any line that is no structure of its own (a frame, a log record, a traceback
            # or chain header, an exception) is the code; an unindented line without such a prefix only when it is
            # an import statement
            frame_at = i
            i += skip
            j = i + 1 if i + 1 < n and lines[i + 1].strip() else i + 2
            if j < n and not _FRAME_PY.match(lines[j]):
                nxt = lines[j]
                if (
                    nxt.startswith("    ")
                    or _IMPORT_STMT.match(nxt)
                    or (
                        frame_at in inc.prefixes
                        and j in inc.prefixes
                        and not _is_structural(nxt)
                        and not _EXC.match(nxt)
                        and not nxt.lstrip().startswith(("File ", "During handling", "The above exception"))
                    )
                ):
                    fr.code = nxt.strip()
            frames_pending.append(fr)
            inc.frames.append(fr)
            i += 1
            continue
        if "->" in line:
            m = _ARROW.match(line)
            if m:
                if frames_pending and frames_pending[-1].line is None:
                    frames_pending[-1].line = int(m.group("line"))
                    frames_pending[-1].code = m.group("code").strip()
                i += 1
                continue
        m = _log_match(line)
        if m:
            level, src, msg = m.group("level", "src", "msg")
            inc.logs.append(LogLine(level=level, source=src, message=msg, lineno_in_text=lineno))
            _graph_bits(line, graph)
            i += 1
            continue
        if "Traceback" in line and _IPY_HEADER.match(line):
            frames_pending = []
            i += 1
            continue
        m = _EXC.match(line)
        if m and not line.startswith("    "):
            msg_lines = [m.group("msg") or ""]
            j = i + 1
            while j < n and j - i < 200:
                nxt = lines[j]
                if _is_structural(nxt) or (
                    _EXC.match(nxt)
                    and not nxt.startswith(" ")
                    and nxt.split(":", 1)[0].endswith(("Error", "Exception"))
                ):
                    break
                msg_lines.append(nxt)
                j += 1
            while msg_lines and not msg_lines[-1].strip():
                msg_lines.pop()
            message = "\n".join(msg_lines).strip()
            inc.exceptions.append(
                ExceptionInfo(
                    type=m.group("type"), message=message, link=link, lineno_in_text=lineno, frames=frames_pending
                )
            )
            for k in range(i, j):
                _graph_bits(lines[k], graph)
            frames_pending = []
            link = ""
            i = j
            continue
        _graph_bits(line, graph)
        i += 1
    # Colab's link artefacts are gone after cleaning: look for them in the raw paste
    _text_facts(inc, raw_colab="localhost:8080" in text or "colab.research.google" in text)
    return inc


_CUT_WIDTH = 512  # wider than any terminal or mail wrap: a longer line was not cut by one


def _cut_frame(lines: List[str], i: int):
    """A plain-Python frame line cut by a terminal's width or re-wrapped at a space ('  File "/home/u/.venv/lib/pyth'
    + 'on3.11/site-packages/x.py", line 5, in f'): (its match with the next one to three lines joined back, without
    or with a space, how many lines it took), or (None, 0)."""
    line = lines[i]
    if len(line) > _CUT_WIDTH:
        return None, 0  # no terminal is that wide: not a cut line
    for k in range(1, 4):
        nxt = lines[i + k] if i + k < len(lines) else ""
        if not nxt.strip() or len(nxt) > _CUT_WIDTH or _FRAME_PY.match(nxt):
            break
        rest = lines[i + 1 : i + 1 + k]
        for joined in (line + "".join(rest), " ".join([line] + [r.strip() for r in rest])):
            m = _FRAME_PY.match(joined)
            if m and m.group("func"):
                return m, k
    return None, 0


def _graph_bits(line: str, graph: GraphError) -> None:
    if "node" in line or "Node:" in line:
        for m in _NODE.finditer(line):
            node = m.group("a") or m.group("b") or m.group("c")
            if node and node not in graph.nodes:
                graph.nodes.append(node)
    if "[Op:" in line:
        for m in _OP.finditer(line):
            if m.group("op") not in graph.ops:
                graph.ops.append(m.group("op"))
    r = _ROOT.match(line) if ") " in line else None
    if r:
        root = f"{r.group('code')}: {r.group('msg').strip()}"
        if root not in graph.root_errors:
            graph.root_errors.append(root)


def _said_versions(sample: str, low: Optional[str] = None):
    """_VERSION_SAID.finditer(sample), trying the pattern only where a package name starts (an ASCII text's
    lowercase copy `low` has the same offsets); the same matches in the same order, without a scan at every
    position."""
    if not sample.isascii():
        yield from _VERSION_SAID.finditer(sample)
        return
    if low is None:
        low = sample.lower()
    starts = set()
    held = _SAID_NAME_SET.found(low)
    for name in _SAID_NAMES:
        if name not in held:  # (the text does not hold this name: no scan for it)
            continue
        n = len(name)
        i = low.find(name)
        while i >= 0:
            # the pattern needs the package name (tensorflow perhaps with -gpu/-cpu) followed by a space, "=" or ">"
            # (a word character there breaks its \b; anything else breaks what follows): a log's
            # "tensorflow/core/..." is no version said, and its regex is not tried there
            after = low[i + n : i + n + 1]
            if after == "-" and name == "tensorflow" and low[i + n : i + n + 4] in ("-gpu", "-cpu"):
                after = low[i + n + 4 : i + n + 5]
            if after and (after in "=>" or after.isspace()):
                starts.add(i)
            i = low.find(name, i + 1)
    end = 0
    for i in sorted(starts):
        if i < end:
            continue
        m = _VERSION_SAID.match(sample, i)
        if m:
            yield m
            end = m.end()


def _text_facts(inc: Incident, raw_colab: bool = False) -> None:
    facts = inc.facts
    paths = [fr.file for fr in inc.frames]
    blob_paths = " ".join(paths)
    sample = "\n".join(inc.lines[:400] + inc.lines[-400:]) if len(inc.lines) > 800 else "\n".join(inc.lines)
    hay = blob_paths + sample
    # each search runs only where a substring that every one of its matches holds is present (most texts: none); the
    # substrings are looked for in one pass each over `hay` and `sample`
    # one pass over the sample finds this function's literals and the environment reader's (envreport.TEXT_WORDS);
    # the paths are searched apart, with the literals that straddle where they meet the sample in `hay`
    found = _text_literals().found(sample)
    in_sample = found & _SAMPLE_SET
    in_hay = (found & _HAY_SET) | _HAY_WORDS.found(blob_paths)
    if blob_paths and sample:
        seam = blob_paths[-_HAY_LONGEST:] + sample[:_HAY_LONGEST]
        in_hay |= {w for w in _HAY_SET if w in seam}
    low = sample.lower() if sample.isascii() else None  # same offsets as the sample (ASCII only)
    if in_hay & _WINDOWS_WORDS and re.search(r"[A-Za-z]:\\|\\site-packages\\|\.dll\b", hay):
        facts["os"] = "Windows"
    elif in_hay & _MACOS_WORDS and re.search(r"/Users/|/opt/homebrew/|/Library/Frameworks/Python|\.dylib\b", hay):
        facts["os"] = "Darwin"
    elif in_hay & _LINUX_WORDS and re.search(r"/usr/|/home/|/content/|/opt/conda|/kaggle/|\.so(?:\.\d+)*\b", hay):
        facts["os"] = "Linux"
    if (
        raw_colab
        or (
            in_sample & _COLAB_WORDS
            and re.search(r"/content/|google\.colab|/usr/local/lib/python3\.\d+/dist-packages/google/colab", sample)
        )
        # Colab's notebook view folds a traceback's library frames into one "N frames" line, which a copy keeps
        # beside IPython's "---->" arrows (no other notebook front end prints it)
        or (" frame" in sample and "---->" in sample and _ELISION.search(sample))
    ):
        facts["colab"] = True
    if "/kaggle/" in in_sample:
        facts["kaggle"] = True
    if in_sample & _NOTEBOOK_WORDS and _NOTEBOOK_MARK.search(sample):
        facts["notebook"] = True  # the code ran in a notebook kernel (text.notebook)
    if "python" in hay.lower():
        m = _PYVER.search(blob_paths) or _PYVER.search(sample)
        if m:
            facts["python"] = m.group("v") or f"3.{m.group('w')}"
    if "ython" in in_sample:  # a banner ("Python 3.") or an interpreter's path (".../python3")
        vers, exes = set(), set()
        # every match lies within one line that holds "python" in any case: those lines alone are searched (an ASCII
        # text's lowercase copy has the same offsets)
        where = lines_holding(sample, low, "python") if low is not None else sample
        for m in _INTERPRETER.finditer(where):
            if m.group("ver"):
                vers.add(m.group("ver"))
            else:
                exes.add(m.group("exe").replace("\\\\", "\\").lower())
        # two REPL banners of different releases, or two different interpreter paths, in one paste: the interpreter
        # pip (or the terminal) used and the one that runs the code may differ
        if len(vers) > 1 or len(exes) > 1:
            facts["interpreters"] = sorted(vers if len(vers) > 1 else exes)
    pk = [p for p in inc.packages if p not in ("user", "stdlib")]
    if pk:
        facts["packages"] = pk
    versions: "dict[str, str]" = {}
    for m in _said_versions(sample, low):
        name = _PKG_ALIAS.get(m.group("pkg").lower(), m.group("pkg").lower())
        versions.setdefault(name, m.group("ver"))
    if "__version__" in in_sample:
        for m in _REPL_VERSION.finditer(sample):
            name = _PKG_ALIAS.get(m.group("mod").lower(), m.group("mod").lower())
            versions.setdefault(name, m.group("ver"))
    if versions:
        facts["versions"] = versions  # text.versions.tensorflow ...: versions the paste itself states
    # (the environment reader looks at every line: what the sample holds is what it would find only when the sample is
    # the whole text)
    _env_facts(inc, found if len(inc.lines) <= 800 else None)


def _env_facts(inc: Incident, found: Optional[FrozenSet[str]] = None) -> None:
    """text.report (an environment report in the paste, snapshot-shaped), text.symptom.<kind> (what the output
    shows without an exception) and text.shows_other (the paste shows a failure that is no such symptom)."""
    from .envreport import read

    facts = inc.facts
    rep, sym = read(inc.lines, found)
    versions = facts.get("versions") or {}
    if versions and (rep or sym):  # versions the paste prints beside a report or a symptom describe that machine
        pk = rep.setdefault("packages", {})
        for name, ver in versions.items():
            pk.setdefault(name, ver)
    if rep and not rep.get("os") and facts.get("os"):
        rep["os"] = {"system": facts["os"]}  # the paths the paste shows name its OS
    if rep:
        facts["report"] = rep
    facts["symptom"] = sym
    if sym:
        facts["symptom_seen"] = next(iter(sym.values()))
    if inc.final is not None:
        facts["exception"] = inc.final.name
        if inc.final.frames:
            # whose code raised it: the package of the final traceback's last frame ("user", "stdlib" or a package
            # name): a TypeError about a call's arguments raised inside a library is one library calling another
            facts["raised_in"] = inc.final.frames[-1].package
    # a failure is in the paste (an exception or a symptom); a machine finding that explains none of what the
    # paste shows keeps quiet about it (its `against` clause tests this and its own symptom kinds)
    facts["failure_seen"] = bool(sym) or inc.final is not None
    if sym:
        facts["shows_other"] = False
    elif inc.final is not None:
        facts["shows_other"] = True  # an exception that is none of the symptoms: another failure
    shadow = _shadowing_file(inc.frames, inc.final)
    if shadow:
        # (after shows_other: the traceback it is read from is the failure itself, not another symptom)
        facts["symptom"] = dict(sym, shadowed_import=shadow)
    rerun = _spawned_main_code(inc.frames)
    if rerun:
        # (like shadowed_import: read from the frames, after shows_other)
        facts["symptom"] = dict(facts["symptom"], spawned_main=rerun)


def _spawned_main_code(frames: List[Frame]) -> Optional[str]:
    """A worker started with the spawn method re-ran the main script's top-level code: after multiprocessing's
    spawn.py preparing the child and runpy running the main module again (_fixup_main_from_path), a frame of the
    user's own script at module level on a line that is no import statement (model.train(...), main()). With an
    `if __name__ == "__main__":` guard a spawned child only imports the script; the code line is returned."""
    # (the frames are told by their files alone: a terminal's cut may have taken the function names)
    files = [fr.file.replace("\\", "/") for fr in frames]
    for i, f in enumerate(files):
        if f.endswith("multiprocessing/spawn.py"):
            rerun = False  # runpy ran the main module again (spawn.py's _fixup_main_from_path calls run_path)
            for later, lf in zip(frames[i + 1 :], files[i + 1 :]):
                if lf == "<frozen runpy>" or lf.endswith("/runpy.py"):
                    rerun = True
                elif rerun and later.package == "user" and later.function.startswith("<module"):
                    if later.code and not _IMPORT_STMT.match(later.code):
                        return later.code
            return None
    return None


def _shadowing_file(frames: List[Frame], final: Optional[ExceptionInfo] = None) -> Optional[str]:
    """The user's file that an installed package's (or the standard library's) import statement got instead of the
    module it names: a frame in site-/dist-packages or the standard library whose code line imports X, followed by a
    frame in a file X.py outside both (a script or folder file named like a package or a standard module: pdb's
    `import code` running the user's code.py). A single .py file only: a folder X/__init__.py there may be an
    editable install of X itself.
    Or the final error is a library's (the raising frame in site-/dist-packages or the standard library) "module 'X'
    has no attribute ..." while a user's file X.py is in the traceback: the script `dis.py` that runs `import torch`,
    whose import of the standard library's inspect reads `dis` and gets the script."""
    shown = [fr for fr in frames if not fr.file.startswith("<")]
    for a, b in zip(shown, shown[1:]):
        if b.package != "user" or not b.file.endswith(".py"):
            continue
        m = _IMPORT_STMT.match(a.code) if a.code else None
        if not m:
            continue
        name = (m.group("a") or m.group("b")) + ".py"
        if ntpath.basename(b.file) != name:
            continue
        if a.package != "user":
            return b.file
        # a user's X.py importing X (a script named like the package it uses, nltk.py's `import nltk`): Python finds
        # the script's own folder first, so the import runs the script again at module level instead of the package
        # (the same file: the script's own path, or the tail of it when the script was started by a relative name)
        script = a.file.replace("\\", "/").removeprefix("./")
        same = a.file == b.file or b.file.replace("\\", "/").endswith("/" + script)
        if same and b.function.startswith("<module"):
            return b.file
    own = final.frames if final is not None else []
    message = final.message if final is not None else ""
    if own and own[-1].package != "user" and "module" in message:
        m = _MODULE_NO_ATTR.match(message)
        if m and "." not in m.group("module"):  # a submodule (torch.nn) is found inside its package, never shadowed
            name = m.group("module") + ".py"
            for fr in own:
                if fr.package == "user" and not fr.file.startswith("<") and ntpath.basename(fr.file) == name:
                    return fr.file
    return None


def parse_exception(exc: BaseException, *, log_text: str = "") -> Incident:
    """A live exception -> the same Incident a paste of its traceback would give, with exact types."""
    import traceback

    te = traceback.TracebackException.from_exception(exc, capture_locals=False)
    text = "".join(te.format())
    inc = parse_text((log_text.rstrip("\n") + "\n" if log_text else "") + text)
    inc.source = "exception"
    # exact qualified types, oldest first, as Python walked the chain
    chain: List[BaseException] = []
    seen = set()
    cur: Optional[BaseException] = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        chain.append(cur)
        cur = cur.__cause__ or (None if cur.__suppress_context__ else cur.__context__)
    chain.reverse()
    if len(chain) == len(inc.exceptions):
        for info, e in zip(inc.exceptions, chain):
            t = type(e)
            info.type = t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
    return inc
