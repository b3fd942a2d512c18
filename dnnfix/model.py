"""The parsed model: one plain-data incident for every input (live exception or pasted text).

Everything downstream (matcher, renderers, hook, TUI) reads only these classes: the parsed incident, the
matcher's `Match`/`Evidence`, and the `Diagnosis` that `dnnfix.api` returns (dnnfix.report turns a Diagnosis
into the one `Report` that every front-end renders).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class Frame:
    file: str
    line: Optional[int]
    function: str
    package: str  # owning top-level package ("tensorflow", "keras", "torch", ...) or "user"
    code: str = ""
    lineno_in_text: Optional[int] = None  # 1-based line of the input where the frame was seen


@dataclass
class ExceptionInfo:
    type: str  # as written ("tensorflow.python.framework.errors_impl.UnknownError" or "UnknownError")
    message: str
    link: str = ""  # how it relates to the previous one: "" | "cause" | "context"
    lineno_in_text: Optional[int] = None
    frames: List[Frame] = field(default_factory=list)

    @property
    def name(self) -> str:
        """Bare class name: the last dotted component."""
        return self.type.rsplit(".", 1)[-1]


@dataclass
class LogLine:
    level: str  # I, W, E, F, or a word (WARNING, ERROR)
    source: str  # file.cc:123 or logger name
    message: str
    lineno_in_text: int


@dataclass
class GraphError:
    """TensorFlow graph-execution structure."""

    nodes: List[str] = field(default_factory=list)
    ops: List[str] = field(default_factory=list)
    root_errors: List[str] = field(default_factory=list)  # "UNIMPLEMENTED: DNN library is not found."


@dataclass
class Incident:
    lines: List[str]  # cleaned lines of the input (prefixes, ANSI, link artefacts removed)
    exceptions: List[ExceptionInfo] = field(default_factory=list)  # oldest first; last is the one raised
    frames: List[Frame] = field(default_factory=list)  # all frames, every exception
    logs: List[LogLine] = field(default_factory=list)
    graph: GraphError = field(default_factory=GraphError)
    facts: Dict[str, Any] = field(default_factory=dict)  # text facts: os, python, colab, packages
    truncated: bool = False  # the reader dropped part of a huge input
    one_line: bool = False  # the input was one line whose lines were found again (normalize): all are its line 1
    source: str = "text"  # "text" | "exception"
    # line index -> how many characters of a log collector's or viewer's prefix cleaning took off its start ("web-1
    #  | ", a timestamp): a terminal cut the line where it was that much longer (matcher._Corpus finds wrap widths)
    prefixes: Dict[int, int] = field(default_factory=dict)

    @property
    def final(self) -> Optional[ExceptionInfo]:
        return self.exceptions[-1] if self.exceptions else None

    @property
    def packages(self) -> List[str]:
        seen: List[str] = []
        for fr in self.frames:
            if fr.package not in seen:
                seen.append(fr.package)
        return seen

    def to_dict(self) -> Dict[str, Any]:
        from dataclasses import asdict

        d = asdict(self)
        d.pop("lines")
        d.pop("prefixes")
        d["line_count"] = len(self.lines)
        return d


@dataclass
class Evidence:
    """One clause that fired (or counted against) for a match."""

    kind: str  # regex | phrase | exception | frames | fact
    text: str
    line: Optional[int] = None  # 1-based input line that fired
    weight: float = 0.0
    against: bool = False

    def format(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        prefix = "against: " if self.against else ""
        return f"{prefix}{where}{self.text}"


@dataclass
class Match:
    """One knowledge-base signature that fired, with its score and the evidence behind it."""

    cause: str
    signature: str
    title: str
    score: float
    confident: bool
    evidence: List[Evidence]
    facts: Dict[str, Any] = field(default_factory=dict)
    status: str = "stable"
    hint: bool = False  # resemble.py: a known failure looks like this input; no signature fired for the cause
    fix_first: str = ""  # the fix that leads: the first fired clause's `fix`, else the signature's fix_first

    @property
    def lines(self) -> List[int]:
        return sorted({e.line for e in self.evidence if e.line and not e.against})


@dataclass
class Diagnosis:
    """What dnnfix.api returns for one input: the incident, the ranked matches and what surrounds them."""

    input: str
    incident: Incident
    matches: List[Match]
    elapsed_ms: float
    fingerprint: str = ""
    family: str = ""  # generic explanation of the exception family when nothing confident fits
    notes: List[str] = field(default_factory=list)
    facts: Any = None  # dnnfix.facts.Facts (kept untyped here so that this module imports nothing)

    @property
    def confident(self) -> List[Match]:
        return [m for m in self.matches if m.confident]

    @property
    def top(self) -> Optional[Match]:
        return self.matches[0] if self.matches else None
