"""pytest plugin: a "dnnfix" section under each failing test whose error dnnfix recognises.

Off unless asked for, so installing dnnfix changes no test run:

    pytest -p dnnfix                       # this run
    pytest --dnnfix-json diagnoses.json    # this run, and the diagnoses written as JSON
    [pytest] dnnfix = true                 # every run (pytest.ini, or [tool.pytest.ini_options] in pyproject.toml)

pytest catches the exception, so neither the hook nor `dnnfix run` sees it: the plugin diagnoses the exception of
the failing phase (setup, call or teardown) itself, with the same matcher, and adds to the report the cause, the
lines that fired and the first fix, and one summary line at the end of the run. A passing run imports nothing of
dnnfix beyond this module. A diagnosis that fails adds one line to the section, never an error in the run.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

import pytest  # only pytest imports this module

SECTION = "dnnfix"
_KEY = "dnnfix"  # user_properties key: travels with the report (also across pytest-xdist workers)


def pytest_addoption(parser) -> None:
    group = parser.getgroup("dnnfix", "dnnfix: why a deep-learning test failed")
    group.addoption(
        "--dnnfix", action="store_true", default=False, help="diagnose failing tests with dnnfix (same as -p dnnfix)"
    )
    group.addoption(
        "--dnnfix-json",
        metavar="PATH",
        default=None,
        help="diagnose failing tests and write the diagnoses to PATH as JSON",
    )
    parser.addini("dnnfix", type="bool", default=False, help="diagnose failing tests with dnnfix")
    parser.addini(
        "dnnfix_probe",
        type="bool",
        default=False,
        help="let dnnfix use live facts about this machine (GPU, driver, packages)",
    )


def enabled(config) -> bool:
    plugins = getattr(config.option, "plugins", None) or []
    return bool(
        "dnnfix" in plugins
        or "dnnfix.pytest_plugin" in plugins
        or config.getoption("dnnfix")
        or config.getoption("dnnfix_json")
        or config.getini("dnnfix")
    )


def pytest_configure(config) -> None:
    if enabled(config) and not config.pluginmanager.has_plugin("dnnfix-session"):
        config.pluginmanager.register(DnnfixPlugin(config), "dnnfix-session")


def _exception(call) -> Optional[BaseException]:
    excinfo = getattr(call, "excinfo", None)
    if excinfo is None:
        return None
    value = excinfo.value
    skip_types = (pytest.skip.Exception, pytest.fail.Exception, pytest.exit.Exception, KeyboardInterrupt)
    if isinstance(value, skip_types):
        return None
    return value


def diagnose(exc: BaseException, *, probe: bool = False) -> Optional[Dict[str, Any]]:
    """The plugin's record for a recognised error (a confident cause), else None. Raises on internal failure."""
    from .api import diagnose_exception, fixes_for
    from .knowledge.load import load_kb
    from .report import is_harmless_log

    kb = load_kb()
    d = diagnose_exception(exc, probe=probe, kb=kb, similar=False)
    confident = [m for m in d.confident if not is_harmless_log(m.cause)]
    if not confident:
        return None
    m = confident[0]
    fixes = fixes_for(m, kb)
    evidence = list(dict.fromkeys(e.format() for e in m.evidence if not e.against))
    return {
        "cause": m.cause,
        "title": m.title,
        "signature": m.signature,
        "score": round(m.score, 3),
        "evidence": evidence,
        "fix": fixes[0] if fixes else None,
        "also": [x.cause for x in confident[1:3]],
        "exception": {"type": type(exc).__name__, "message": str(exc)[:2000]},
        "elapsed_ms": round(d.elapsed_ms, 1),
    }


def section_text(rec: Dict[str, Any]) -> str:
    out = [f"{rec['title']}", f"  cause: {rec['cause']}  (score {rec['score']:.2f}, signature {rec['signature']})"]
    for e in rec["evidence"][:4]:
        if len(e) > 200:
            e = e[:197] + "..."
        out.append(f"  + {e}")
    fix = rec.get("fix")
    if fix:
        out.append(f"  fix first: {fix['title']}")
        code = fix.get("code") or ""
        out.extend("    " + line for line in code.rstrip("\n").splitlines()[:12])
    if rec.get("also"):
        out.append("  also possible: " + ", ".join(rec["also"]))
    out.append(f"  more: dnnfix explain {rec['cause']}")
    return "\n".join(out)


class DnnfixPlugin:
    def __init__(self, config) -> None:
        self.config = config
        self.json_path = config.getoption("dnnfix_json")
        self.probe = bool(config.getini("dnnfix_probe"))
        self.records: List[Dict[str, Any]] = []
        self.failed = 0

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if not report.failed:
            return
        exc = _exception(call)
        if exc is None:
            return
        try:
            rec = diagnose(exc, probe=self.probe)
        except Exception as e:  # noqa: BLE001 - the run goes on; one line says why
            report.sections.append((SECTION, f"dnnfix: could not diagnose this error ({type(e).__name__}: {e})"))
            return
        if rec is None:
            return
        rec["nodeid"] = report.nodeid
        rec["when"] = report.when
        report.sections.append((SECTION, section_text(rec)))
        report.user_properties.append((_KEY, rec))

    def pytest_runtest_logreport(self, report) -> None:
        if report.failed:
            self.failed += 1
        for key, value in getattr(report, "user_properties", ()):
            if key == _KEY and isinstance(value, dict):
                self.records.append(value)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.records:
            if self.failed:
                terminalreporter.write_line(f"dnnfix: no known cause for the {self.failed} failure(s)")
            return
        causes: Dict[str, int] = {}
        for r in self.records:
            causes[r["cause"]] = causes.get(r["cause"], 0) + 1
        listed = ", ".join(f"{c} ({n})" if n > 1 else c for c, n in causes.items())
        terminalreporter.write_sep("=", "dnnfix")
        terminalreporter.write_line(
            f"dnnfix: {len(self.records)} of {self.failed} failure(s) have a known cause: {listed}"
        )
        for r in self.records:
            terminalreporter.write_line(f"  {r['nodeid']}: {r['cause']}: {r['title']}")

    def pytest_sessionfinish(self, session) -> None:
        if not self.json_path:
            return
        path = os.path.abspath(self.json_path)
        data = {"schema": "dnnfix-pytest/1", "failed": self.failed, "diagnoses": self.records}
        try:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            tmp = path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1, ensure_ascii=False, default=str)
                fh.write("\n")
            os.replace(tmp, path)
        except OSError as e:
            tr = session.config.pluginmanager.get_plugin("terminalreporter")
            if tr is not None:
                tr.write_line(f"dnnfix: could not write {self.json_path}: {e.strerror or e}")
