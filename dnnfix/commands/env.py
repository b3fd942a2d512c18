"""`dnnfix env [--json] [--redact] [--frameworks]`: the facts dnnfix uses about this machine.

`--json` prints the snapshot that `dnnfix match --env FILE` and `dnnfix doctor --env FILE` read.
Nothing here imports a deep-learning framework unless --frameworks asks for it (then each one is
imported in its own child process).
"""

from __future__ import annotations

import json
import sys
from typing import Any, Dict, List


def register(sub) -> None:
    p = sub.add_parser(
        "env",
        help="show the machine facts dnnfix uses (Python, packages, GPUs, CUDA/cuDNN)",
        description="Probe this machine: Python, OS, packages, GPUs and driver, CUDA/cuDNN "
        "libraries found and loaded, framework build info, environment variables.",
    )
    p.add_argument("--json", action="store_true", help="print the snapshot as JSON (what --env FILE reads)")
    p.add_argument(
        "--redact",
        action="store_true",
        help="replace home paths, user and host names and secrets, for pasting into an issue",
    )
    p.add_argument(
        "--frameworks",
        action="store_true",
        help="also import each installed framework in a child process (slower: seconds)",
    )
    p.add_argument("--quick", action="store_true", help="in-process facts only (what the exception hook sees)")
    p.add_argument(
        "--timeout", type=float, default=2.0, metavar="SECONDS", help="time allowed to each blocking probe (default: 2)"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import probe

    if args.timeout <= 0:
        print("dnnfix: --timeout must be positive", file=sys.stderr)
        return 2
    snap = probe.collect(quick=args.quick, frameworks=args.frameworks, timeout=args.timeout)
    if args.redact:
        snap = probe.redact(snap)
    if args.json:
        print(json.dumps(snap, indent=2, ensure_ascii=False))
        return 0
    from ..term import Style, use_color

    print(render(snap, Style(use_color(sys.stdout))))
    return 0


# ---------------------------------------------------------------- text report
def _gib(mib: Any) -> str:
    return f"{mib / 1024:.1f} GiB" if isinstance(mib, (int, float)) else "?"


def _yes(flag: Any) -> str:
    return "yes" if flag else ("no" if flag is False else "?")


def _lines(snap: Dict[str, Any]) -> List[tuple]:
    rows: List[tuple] = []
    py = snap.get("python") or {}
    if py:
        where = " (venv)" if (snap.get("platform") or {}).get("venv") else ""
        rows.append(
            (
                "Python",
                f"{py.get('version', '?')} {py.get('implementation', '')} {py.get('executable', '')}{where}".strip(),
            )
        )
    o = snap.get("os") or {}
    if o:
        extra = ", ".join(
            x
            for x in (
                o.get("distro"),
                f"glibc {o['glibc']}" if o.get("glibc") else None,
                f"WSL{o.get('wsl_version', '')}" if o.get("wsl") else None,
            )
            if x
        )
        rows.append(
            (
                "OS",
                f"{o.get('system', '?')} {o.get('release', '')} {o.get('machine', '')}"
                + (f" ({extra})" if extra else ""),
            )
        )
    pl = snap.get("platform") or {}
    marks = [k for k in ("colab", "kaggle", "docker", "conda", "venv", "jupyter", "sagemaker") if pl.get(k)]
    if pl:
        rows.append(("Platform", ", ".join(marks) or "plain host"))
    cpu = snap.get("cpu") or {}
    if cpu:
        flags = cpu.get("flags") or {}
        fl = ", ".join(f"{k.upper()} {_yes(flags.get(k))}" for k in ("avx", "avx2", "avx512f") if k in flags)
        rows.append(("CPU", f"{cpu.get('model', '?')}, {cpu.get('count', '?')} cores" + (f"; {fl}" if fl else "")))
    mem = snap.get("memory") or {}
    if mem:
        parts = [f"{_gib(mem.get('total_mib'))} total", f"{_gib(mem.get('available_mib'))} available"]
        if "cgroup_limit_mib" in mem:
            parts.append(f"container limit {_gib(mem['cgroup_limit_mib'])}")
        if "shm_total_mib" in mem:
            parts.append(f"/dev/shm {_gib(mem['shm_total_mib'])}")
        rows.append(("Memory", ", ".join(parts)))
    probes = snap.get("probes") or {}
    gpus = snap.get("gpus")
    if gpus is None:
        rows.append(("GPUs", f"unknown ({probes.get('nvml', 'not probed')})"))
    elif not gpus:
        rows.append(
            (
                "GPUs",
                "none visible"
                + (f" ({(snap.get('nvidia') or {}).get('note')})" if (snap.get("nvidia") or {}).get("note") else ""),
            )
        )
    else:
        for g in gpus:
            if "error" in g:
                rows.append((f"GPU {g.get('index')}", f"error: {g['error']}"))
                continue
            mem_s = ""
            if "memory_total_mib" in g:
                mem_s = f", {g.get('memory_used_mib', 0)}/{g['memory_total_mib']} MiB used"
            procs = g.get("processes") or []
            extra = f", {len(procs)} process(es)" if procs else ""
            mig = ", MIG on" if g.get("mig_mode") == "enabled" else ""
            rows.append(
                (
                    f"GPU {g.get('index')}",
                    f"{g.get('name', '?')} (compute {g.get('compute_capability', '?')}{mem_s}{extra}{mig})",
                )
            )
    drv = snap.get("driver") or {}
    if drv:
        parts = []
        if drv.get("version"):
            parts.append(drv["version"])
        if drv.get("cuda_version"):
            parts.append(f"supports CUDA {drv['cuda_version']}")
        if drv.get("mismatch"):
            parts.append(
                f"MISMATCH: kernel module {drv.get('kernel_module_version', '?')}, "
                f"libraries {drv.get('userspace_version', '?')}"
            )
        rows.append(("Driver", ", ".join(parts) or "?"))
    cuda = snap.get("cuda") or {}
    src = cuda.get("sources") or {}
    if cuda or "libraries" in snap:
        rt = cuda.get("runtime_version")
        dn = cuda.get("cudnn_version")
        parts = [
            f"runtime {rt} ({src.get('runtime_version')})" if rt else "runtime not found",
            f"cuDNN {dn} ({src.get('cudnn_version')})" if dn else "cuDNN not found",
        ]
        others = [v for v in cuda.get("runtime_versions") or [] if v != rt]
        if others:
            parts.append(f"also CUDA {', '.join(others)}")
        others = [v for v in cuda.get("cudnn_versions") or [] if v != dn]
        if others:
            parts.append(f"also cuDNN {', '.join(others)}")
        rows.append(("CUDA", "; ".join(parts)))
    pk = snap.get("packages") or {}
    if "packages" in snap:
        main = [f"{k} {v}" for k, v in pk.items() if not k.startswith(("nvidia-", "cuda-"))]
        rows.append(("Packages", ", ".join(main) or "none of interest"))
        nv = [f"{k} {v}" for k, v in pk.items() if k.startswith(("nvidia-", "cuda-")) and k != "nvidia-ml-py"]
        if nv:
            rows.append(("CUDA wheels", ", ".join(nv)))
    for name, versions in (snap.get("packages_duplicates") or {}).items():
        rows.append(("Duplicate", f"{name}: {', '.join(versions)} (the first one is imported)"))
    libs = snap.get("libraries") or {}
    for group in ("loaded", "found"):
        entries = libs.get(group)
        if entries is None:
            continue
        if not entries:
            rows.append((f"Libs {group}", "none"))
        for e in entries[:12]:
            rows.append((f"Libs {group}", f"{e['name']} {e.get('version', '?')}  {e['path']}  [{e.get('origin')}]"))
        if len(entries) > 12:
            rows.append((f"Libs {group}", f"... {len(entries) - 12} more (see --json)"))
    fws = snap.get("frameworks") or {}
    for name, info in fws.items():
        bits = [str(info.get("version", "?"))]
        for key, label in (("cuda_version", "CUDA"), ("cudnn_version", "cuDNN"), ("hip_version", "ROCm")):
            if info.get(key):
                bits.append(f"{label} {info[key]}")
        if "gpus" in info:
            bits.append(f"GPUs {len(info['gpus'])}")
        if "cuda_available" in info:
            bits.append(f"cuda available {_yes(info['cuda_available'])}")
        if info.get("devices"):
            bits.append("devices " + ", ".join(d.get("platform") or d.get("name", "?") for d in info["devices"]))
        if info.get("import_error"):
            bits.append(f"import failed: {info['import_error']}")
        rows.append((name, ", ".join(bits) + f" [{info.get('source')}]"))
    if not fws:
        rows.append(("Frameworks", "not imported here (dnnfix env --frameworks imports them in a child process)"))
    env = snap.get("env") or {}
    if env:
        for k, v in env.items():
            rows.append(("Env", f"{k}={v}"))
    for k, v in probes.items():
        if v != "ok":
            rows.append(("Probe", f"{k}: {v}"))
    return rows


def render(snap: Dict[str, Any], style=None) -> str:
    style = style or (lambda text, *a: text)
    width = max((len(k) for k, _ in _lines(snap)), default=8)
    out = []
    last = None
    for key, value in _lines(snap):
        label = key if key != last else ""
        last = key
        out.append(style(label.ljust(width), "bold") + "  " + value)
    ms = snap.get("elapsed_ms")
    if ms is not None:
        out.append(style(f"probed in {ms:.0f} ms" + (" (redacted)" if snap.get("redacted") else ""), "dim"))
    return "\n".join(out)
