"""What the app works on, without any Textual: the knowledge base, the environment choice, diagnosing a
paste, and drafting, checking and saving a new signature. Thread-safe where the app calls it from workers."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple


class Session:
    def __init__(
        self,
        kb_paths: Sequence[str] = (),
        kb_dirs: Optional[Sequence[str]] = None,
        *,
        probe: bool = False,
        snapshot: Optional[Dict[str, Any]] = None,
        snapshot_name: str = "",
        kb=None,
    ):
        self.kb_paths = list(kb_paths)
        # kb_dirs: exactly these folders and no built-in KB (tests, fixtures); None: the usual search path
        self.kb_dirs = [str(d) for d in kb_dirs] if kb_dirs is not None else None
        self.probe = probe
        self.snapshot = snapshot
        self.snapshot_name = snapshot_name
        self._kb = kb
        self._probed: Optional[Dict[str, Any]] = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------ knowledge base
    @property
    def kb(self):
        with self._lock:
            if self._kb is None:
                self._kb = self._load()
            return self._kb

    def _load(self):
        if self.kb_dirs is None:
            from ..knowledge.load import load_kb

            return load_kb(self.kb_paths)
        from ..knowledge.load import build_kb

        dirs = [Path(d) for d in self.kb_dirs]
        user = self.save_root()
        if user.is_dir() and all(user.resolve() != d.resolve() for d in dirs if d.exists()):
            dirs.append(user)
        return build_kb(dirs)

    def reload_kb(self):
        with self._lock:
            self._kb = None
        return self.kb

    def kb_warning(self) -> str:
        """One line when knowledge-base files were skipped as broken (dnnfix.report's warning, short form)."""
        from ..report import broken_kb_warning

        return broken_kb_warning(self.kb, short=True)

    # ------------------------------------------------------------ environment
    def env(self) -> Tuple[Optional[Dict[str, Any]], bool]:
        """(snapshot to use, whether it is this machine's probe)."""
        if self.snapshot is not None:
            return self.snapshot, False
        if self.probe:
            if self._probed is None:
                from ..api import probe_snapshot

                self._probed = probe_snapshot(quick=True)
            return self._probed, True
        return None, False

    def env_label(self) -> str:
        if self.snapshot is not None:
            return f"snapshot {self.snapshot_name}"
        return "this machine" if self.probe else "no environment"

    def set_probe(self, on: bool) -> None:
        self.probe = on
        if on:
            self.snapshot, self.snapshot_name = None, ""

    def load_snapshot(self, path: str) -> None:
        """Use the snapshot in `path`; ValueError with one sentence on any problem."""
        from ..commands.match import load_snapshot

        self.snapshot = load_snapshot(path)
        self.snapshot_name = Path(path).name
        self.probe = False

    def clear_snapshot(self) -> None:
        self.snapshot, self.snapshot_name = None, ""

    # ------------------------------------------------------------ diagnosis
    def diagnose(self, text: str, truncated: bool = False):
        from ..api import diagnose_text

        env, is_probe = self.env()
        return diagnose_text(text, env=env, kb=self.kb, name="paste", truncated=truncated, env_is_probe=is_probe)

    # ------------------------------------------------------------ new signature
    def save_root(self) -> Path:
        from ..knowledge.load import first_user_dir

        return first_user_dir(self.kb_paths)

    def sig_path(self, sig_id: str) -> Path:
        return self.save_root() / "signatures" / "local" / f"{sig_id}.yaml"

    def draft(self, text: str, cause: str) -> Tuple[str, str]:
        """(signature YAML, cases YAML) for the paste, with an id no loaded signature has."""
        from ..parse import parse_text
        from ..knowledge.scaffold import draft, dump_yaml, failed_run_clauses

        sig, cases = draft(parse_text(text), text, cause, shared=failed_run_clauses(self.kb, cause))
        base, n = sig["id"], 2
        while self.kb.by_id(sig["id"]) is not None or self.sig_path(sig["id"]).exists():
            sig["id"] = cases["signature"] = f"{base}-{n}"
            n += 1
        return dump_yaml(sig), dump_yaml(cases)

    def check(self, sig_yaml: str, cases_yaml: str = "") -> Tuple[List[Any], Optional[Any], Optional[str]]:
        """(diagnostics, compiled signature or None, signature id) for the edited YAML, as `dnnfix kb check`."""
        from ..knowledge.signature import Diagnostic, compile_signature
        from ..knowledge.yamlmarks import YamlError, load

        diags: List[Diagnostic] = []
        try:
            loc = load(sig_yaml)
        except YamlError as e:
            return (
                [
                    Diagnostic(
                        str(self.sig_path("new-signature")), e.line, e.col, "DNX001", f"YAML syntax error: {e.message}"
                    )
                ],
                None,
                None,
            )
        data = loc.data if isinstance(loc.data, dict) else {}
        sid = data.get("id") if isinstance(data.get("id"), str) else None
        path = str(self.sig_path(sid or "new-signature"))
        sig = compile_signature(loc, path, self.kb.causes, diags, origin="user", shared=self.kb.clauses)
        if sid and self.kb.by_id(sid) is not None:
            line, col = loc.where("id")
            diags.append(
                Diagnostic(
                    path,
                    line,
                    col,
                    "DNX141",
                    f"signature id '{sid}' is already loaded",
                    "saving would override it; pick a new id",
                    severity="warning",
                )
            )
        if cases_yaml.strip():
            cpath = path[: -len(".yaml")] + ".cases.yaml"
            try:
                cdata = load(cases_yaml).data
                if not isinstance(cdata, dict) or not isinstance(cdata.get("cases"), list):
                    diags.append(Diagnostic(cpath, 1, 1, "DNX160", "a cases file needs a 'cases:' list"))
            except YamlError as e:
                diags.append(Diagnostic(cpath, e.line, e.col, "DNX001", f"YAML syntax error: {e.message}"))
        return diags, sig, sid

    def save(self, sig_yaml: str, cases_yaml: str) -> Tuple[Path, Path]:
        """Write both files into the user KB folder; ValueError when they have errors or would overwrite."""
        diags, sig, sid = self.check(sig_yaml, cases_yaml)
        errors = [d for d in diags if d.severity == "error"]
        if errors or sig is None or not sid:
            raise ValueError(errors[0].format() if errors else "the signature has no valid id")
        sig_path = self.sig_path(sid)
        cases_path = sig_path.with_name(f"{sid}.cases.yaml")
        if sig_path.exists():
            raise ValueError(f"{sig_path} exists; change the id")
        import re

        cases_yaml = re.sub(r"(?m)^signature:.*$", f"signature: {sid}", cases_yaml, count=1)
        sig_path.parent.mkdir(parents=True, exist_ok=True)
        sig_path.write_text(sig_yaml if sig_yaml.endswith("\n") else sig_yaml + "\n", encoding="utf-8")
        if cases_yaml.strip():
            cases_path.write_text(cases_yaml if cases_yaml.endswith("\n") else cases_yaml + "\n", encoding="utf-8")
        self.reload_kb()
        return sig_path, cases_path

    def rank_draft(self, sig, inc) -> Tuple[Optional[int], Optional[Any]]:
        """(rank, match) of a compiled draft signature among all loaded ones on the parsed paste `inc`."""
        from dataclasses import replace

        from ..api import make_facts
        from ..knowledge.load import index_kb
        from ..matcher import match_incident

        kb = self.kb
        trial = replace(
            kb, signatures=[s for s in kb.signatures if s.id != sig.id] + [sig], index={}, unkeyed=[], env_only=[]
        )
        index_kb(trial)
        env, probed = self.env()
        for i, m in enumerate(match_incident(inc, trial, make_facts(inc, env, probed, kb)), 1):
            if m.signature == sig.id:
                return i, m
        return None, None
