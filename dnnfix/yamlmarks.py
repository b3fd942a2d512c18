"""YAML loading that remembers where every value came from (line:column), for contributor diagnostics."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Tuple

Path_ = Tuple[Any, ...]


@dataclass
class Located:
    data: Any
    marks: Dict[Path_, Tuple[int, int]]  # value path -> (line, col), 1-based

    def where(self, *path: Any) -> Tuple[int, int]:
        """Closest known position of `path` (walks up to the parent when the exact path has no mark)."""
        p = tuple(path)
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (1, 1))


class YamlError(Exception):
    def __init__(self, line: int, col: int, message: str):
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


def load(text: str) -> Located:
    """Parse one YAML document; raise YamlError(line, col, message) on a syntax error."""
    import yaml

    Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        msg = " ".join(x for x in (e.context, e.problem) if x) or str(e)
        raise YamlError(line, col, msg) from None
    except yaml.YAMLError as e:  # pragma: no cover - defensive
        raise YamlError(1, 1, str(e)) from None
    finally:
        loader.dispose()
    marks: Dict[Path_, Tuple[int, int]] = {}
    if node is not None:
        _walk(node, (), marks)
    return Located(data, marks)


def _walk(node: Any, path: Path_, marks: Dict[Path_, Tuple[int, int]]) -> None:
    import yaml

    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else str(k)
            marks[path + (key, "<key>")] = (k.start_mark.line + 1, k.start_mark.column + 1)
            _walk(v, path + (key,), marks)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _walk(v, path + (i,), marks)
