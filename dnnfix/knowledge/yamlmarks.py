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


# a knowledge-base file is a few KB; anything near this is a mistake or an attack
MAX_CHARS = 1_000_000
MAX_NODES = 200_000


def load(text: str) -> Located:
    """Parse one YAML document; raise YamlError(line, col, message) on a syntax error, a file over MAX_CHARS,
    an alias (`*name`) or a key given twice in one mapping: aliases are refused before anything is expanded, so a
    few hundred bytes of nested aliases (a "billion laughs" file) cost nothing."""
    import yaml

    if len(text) > MAX_CHARS:
        raise YamlError(1, 1, f"file too large for a knowledge-base file ({len(text)} characters, at most {MAX_CHARS})")
    Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _refuse_aliases(node)
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


def _refuse_aliases(root: Any) -> None:
    """An alias makes the node graph share a node: reaching one twice means an alias (checked without expanding).
    A mapping that names a key twice is refused too (PyYAML would keep the last value without a word)."""
    import yaml

    seen = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            m = node.start_mark
            raise YamlError(
                m.line + 1,
                m.column + 1,
                "YAML aliases (*name) are not allowed in knowledge-base files; write the value out",
            )
        seen.add(id(node))
        if len(seen) > MAX_NODES:
            raise YamlError(1, 1, f"more than {MAX_NODES} YAML values in one file")
        if isinstance(node, yaml.MappingNode):
            keys = set()
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode):
                    if k.value in keys:
                        m = k.start_mark
                        raise YamlError(
                            m.line + 1,
                            m.column + 1,
                            f"duplicate key {k.value!r} in one mapping: YAML would keep only the last value and drop "
                            "the earlier one silently (a line meant for the clause above or below?)",
                        )
                    keys.add(k.value)
                stack.append(k)
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


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
