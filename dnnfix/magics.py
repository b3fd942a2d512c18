"""The %dnnfix line magic (registered by `%load_ext dnnfix` or `dnnfix.install()` inside IPython).

%dnnfix            diagnose the last exception again and show the panel
%dnnfix fix N      put fix N of the last diagnosis into the next cell (never runs it)
%dnnfix env        the machine facts dnnfix uses (add --json for the snapshot)
%dnnfix log        native stderr captured since the hook was installed
%dnnfix off | on   hide or show the panel under tracebacks (the traceback itself is never touched)
%dnnfix status     what is hooked, whether native capture runs, where the knowledge base comes from
"""

from __future__ import annotations

import re
import sys

USAGE = "usage: %dnnfix [fix N | env [--json] | log | on | off | status | help]"


def register(shell):
    """Register %dnnfix on `shell`; return the magic it replaces (None when there was none)."""
    prev = shell.magics_manager.magics["line"].get("dnnfix")
    shell.register_magic_function(dnnfix_magic, magic_kind="line", magic_name="dnnfix")
    return prev


def unregister(shell, prev) -> None:
    line = shell.magics_manager.magics["line"]
    if prev is None:
        line.pop("dnnfix", None)
    else:
        line["dnnfix"] = prev


def _shell():
    from .hook import ipython_shell

    return ipython_shell()


def _say(msg: str) -> None:
    print(f"dnnfix: {msg}")


def dnnfix_magic(line: str = ""):
    args = line.split()
    cmd = args[0].lower() if args else ""
    try:
        if cmd == "":
            return _rediagnose()
        if cmd == "fix":
            return _fix(args[1:])
        if cmd == "env":
            return _env("--json" in args[1:])
        if cmd == "log":
            return _log()
        if cmd in ("on", "off"):
            return _onoff(cmd == "on")
        if cmd == "status":
            return _status()
        if cmd in ("help", "-h", "--help", "?"):
            print(__doc__.strip())
            return None
        _say(f"unknown sub-command '{cmd}'. {USAGE}")
    except Exception as e:  # a magic reports, it does not dump a traceback
        _say(f"{cmd or 'diagnosis'} failed: {type(e).__name__}: {e}")
    return None


def _rediagnose():
    from . import hook

    exc = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    if exc is None:
        _say("no exception to diagnose yet: run the failing cell first")
        return None
    try:
        panel = hook.diagnose_last(exc)
    except hook.DiagnosisFailed as e:
        _say(f"could not diagnose the last error ({e})")
        return None
    hook.show_panel(panel, _shell())
    return None


def _fix(args):
    from . import hook

    if len(args) != 1 or not args[0].isdigit() or int(args[0]) < 1:
        _say("which fix? %dnnfix fix N, with N as numbered in the panel (1 is the first fix)")
        return None
    n = int(args[0])
    panel = hook.last()
    if panel is None:
        exc = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
        if exc is None:
            _say("no diagnosis yet: run the failing cell first")
            return None
        panel = hook.diagnose_last(exc)
    fixes = panel.fixes
    if not fixes:
        _say("the last diagnosis has no fix to offer")
        return None
    if n > len(fixes):
        _say(f"there is no fix {n}: the last diagnosis has {len(fixes)} (1..{len(fixes)})")
        return None
    f = fixes[n - 1]
    code = cell_code(f["code"], f.get("language", ""))
    shell = _shell()
    if shell is None:
        print(code)
        return None
    shell.set_next_input(code, replace=False)
    _say(f"fix {n} ({f['title']}) is in the next cell: read it, then run it yourself")
    return None


_SIMPLE = re.compile(r"^[\w./~-]")  # a plain command line, not a control structure or continuation


def cell_code(code: str, language: str) -> str:
    """A fix as a notebook cell: shell fixes become `!cmd` / `%pip` / `%env` lines, or a %%bash cell."""
    if language.lower() not in ("bash", "sh", "shell", "console", "zsh"):
        return code
    lines = [ln.rstrip() for ln in code.splitlines()]
    complex_ = any(
        ln.endswith("\\") or re.match(r"\s*(if|for|while|case|function)\b|.*\b(then|do|fi|done|esac)\s*$", ln)
        for ln in lines
    )
    if complex_:
        return "%%bash\n" + code
    out = []
    for ln in lines:
        s = ln.strip()
        if not s or s.startswith("#"):
            out.append(ln)
            continue
        if s.startswith("$ "):
            s = s[2:]
        m = re.match(r"(?:python3? -m )?pip3? (install|uninstall)\b(.*)$", s)
        e = re.match(r"export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$", s)
        if m:
            rest = m.group(2)
            if m.group(1) == "uninstall" and " -y" not in rest and " --yes" not in rest:
                rest = " -y" + rest
            out.append(f"%pip {m.group(1)}{rest}")
        elif e:
            out.append(f"%env {e.group(1)}={e.group(2).strip(chr(34) + chr(39))}")
        elif _SIMPLE.match(s):
            out.append("!" + s)
        else:
            return "%%bash\n" + code
    return "\n".join(out)


def _env(as_json: bool):
    import json

    from .probe import collect

    snap = collect(quick=False)
    if as_json:
        print(json.dumps(snap, indent=2, ensure_ascii=False))
        return None
    try:
        from .commands.env import render
        from .term import Style

        print(render(snap, Style(False)))
    except Exception:  # the report module is optional: the snapshot says the same
        print(json.dumps(snap, indent=2, ensure_ascii=False))
    return None


def _log():
    from . import capture

    if not capture.active():
        _say(f"native stderr capture is {capture.status()}; dnnfix.install(capture=True) turns it on")
        return None
    data = capture.recent().decode("utf-8", "replace")
    print(data if data.strip() else "(nothing was written to native stderr since capture started)")
    return None


def _onoff(on: bool):
    from . import hook

    if hook.disabled():
        _say("DNNFIX_DISABLE is set: dnnfix stays off")
        return None
    if not hook.installed():
        if not on:
            _say("off")
            return None
        hook.install()
    hook.set_enabled(on)
    _say("on: a diagnosis follows every traceback" if on else "off: tracebacks are shown without a diagnosis")
    return None


def _status():
    from . import __version__, capture, hook

    print(
        f"dnnfix {__version__}: hook {'installed' if hook.installed() else 'not installed'}, "
        f"panel {'on' if hook.enabled() else 'off'}, native stderr capture {capture.status()}"
    )
    try:
        from .knowledge.load import kb_dirs

        print("knowledge base: " + ", ".join(str(d) for d in kb_dirs()))
    except Exception:
        pass
    return None
