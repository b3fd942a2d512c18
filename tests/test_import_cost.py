"""`import dnnfix` (and the hook install) must not import heavy modules."""

import subprocess
import sys

HEAVY = ("yaml", "rapidfuzz", "markdown_it", "textual", "pynvml", "tensorflow", "torch", "jax", "rich", "platformdirs")


def _imported(code: str):
    p = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return {line.rsplit("|", 1)[-1].strip() for line in p.stderr.splitlines() if "|" in line}


def test_import_dnnfix_imports_nothing_heavy():
    mods = _imported("import dnnfix")
    assert sorted(m for m in mods if m.split(".")[0] in HEAVY) == []


def test_cli_module_import_stays_light():
    mods = _imported("import dnnfix.cli; dnnfix.cli.build_parser()")
    assert sorted(m for m in mods if m.split(".")[0] in HEAVY) == []


def test_install_imports_nothing_heavy():
    mods = _imported("import dnnfix; dnnfix.install(); dnnfix.uninstall()")
    assert sorted(m for m in mods if m.split(".")[0] in HEAVY) == []


def test_probes_leave_the_redaction_rules_unimported():
    """The exception hook runs the quick probe on every first diagnosis; the redaction rules (dozens of patterns to
    compile) are for `dnnfix env --redact`, reports and captured logs only, and load when one of them redacts."""
    mods = _imported("from dnnfix import probe; probe.collect(quick=True)")
    assert "dnnfix.probe" in mods and "dnnfix.redact" not in mods
    mods = _imported("from dnnfix import probe; probe.redact({'env': {'HOME': '/home/someone'}})")
    assert "dnnfix.redact" in mods
