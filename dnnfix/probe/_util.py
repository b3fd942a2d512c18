"""Small helpers shared by the probes: time boxes, version strings, safe file reads."""

from __future__ import annotations

import re
import threading
from typing import Any, Callable, Optional, Tuple

_VERSION_RE = re.compile(r"\d+(?:\.\d+)*")


def read_text(path: str, limit: int = 1 << 20) -> Optional[str]:
    """The file's text (at most `limit` bytes), or None when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return fh.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


def cuda_int_version(value: int) -> str:
    """12020 -> "12.2" (the encoding of cudaRuntimeGetVersion / cuDriverGetVersion / NVML)."""
    major, rest = divmod(int(value), 1000)
    return f"{major}.{rest // 10}"


def cudnn_int_version(value: int) -> str:
    """cudnnGetVersion(): 8902 -> "8.9.2" (cuDNN < 9), 90100 -> "9.1.0" (cuDNN >= 9)."""
    value = int(value)
    if value >= 90000:
        major, rest = divmod(value, 10000)
    else:
        major, rest = divmod(value, 1000)
    minor, patch = divmod(rest, 100)
    return f"{major}.{minor}.{patch}"


def version_key(text: Any) -> Tuple[int, ...]:
    """Numeric key of the leading dotted number: "8.9.2.26" -> (8, 9, 2, 26); junk -> ()."""
    m = _VERSION_RE.search(str(text or ""))
    return tuple(int(p) for p in m.group(0).split(".")) if m else ()


def major_minor(text: Any) -> Optional[str]:
    key = version_key(text)
    if not key:
        return None
    return ".".join(str(p) for p in key[:2])


def run_boxed(fn: Callable[[], Any], timeout: float) -> Tuple[str, Any]:
    """Run `fn` in a daemon thread; ("ok", value) | ("timeout", None) | ("error", exc).

    Used for calls that can hang inside C code (NVML on a wedged driver): the thread cannot be
    killed, but the caller stops waiting for it and the process can still exit.
    """
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - a probe must never raise
            box["error"] = exc

    thread = threading.Thread(target=target, name="dnnfix-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return "timeout", None
    if "error" in box:
        return "error", box["error"]
    return "ok", box.get("value")


def reason(exc: BaseException) -> str:
    """One line naming an exception, for "unavailable: <reason>"."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
