"""Environment reports and symptoms in a paste, as facts.

    read(lines) -> (report, symptoms)

`report` is shaped like a snapshot of `dnnfix env --json` (python, os, packages, gpus, driver, cuda,
frameworks), filled from what the paste itself prints: `nvidia-smi`, `python -m torch.utils.collect_env`,
`tf.sysconfig.get_build_info()`, `pip list` / `pip freeze` / `conda list`, `nvcc --version`, and small
`python -c "import torch; print(torch.__version__, torch.version.cuda)"` style prints. The same fact names
as the probe's, so the environment-only signatures and the compatibility tables work from a paste alone.

`symptoms` is {kind: the line that shows it} for output that is not an exception but says what went wrong:
  no_gpu        a REPL's `False` after torch.cuda.is_available(), a device count of 0, an empty device list,
                "No GPU/TPU found", "no CUDA-capable device is detected", "Found no NVIDIA driver" ...
  backend_init  a GPU backend that did not start ("Unable to initialize backend 'cuda'", cuInit failures)
  cuda_libs     CUDA libraries that could not be loaded ("Could not load dynamic library 'libcudart...'")
  dnn_status    cuDNN / cuBLAS status errors at start (CUDNN_STATUS_NOT_INITIALIZED, "DNN library is not found")
  arch          a GPU the build has no code for ("no kernel image is available", "sm_120 is not compatible ...")
  native_import a framework's native part failing to import ("DLL load failed", "undefined symbol")
  log_end       a log that ends abruptly: its last line is `Killed`, exit code 137, a segmentation fault
  cut_short     a notebook command's output that stops at a `^C` line (the command was interrupted)
(parse.py adds `shadowed_import`, read from the traceback's frames rather than its lines: the user's X.py that an
installed package's `import X` ran instead of the package; and `spawned_main`: a worker started with the spawn method
re-ran the main script's top-level code, the user's line at module level)

Every pattern is anchored on wording the tools print (never translated); the scan is line by line with
a cheap substring test before any regex, so a long log costs little. Nothing here raises on odd input.
"""

from __future__ import annotations

import re
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from .normalize import SIGNAL_REPORT, LazyRe, last_line
from .rx import LiteralSet


# ---------------------------------------------------------------- symptoms
_SYMPTOMS: List[Tuple[str, str, Any]] = [
    # (kind, cheap substring, pattern)
    ("no_gpu", "GPU/TPU found", LazyRe(r"No GPU/TPU found, falling back to CPU")),
    ("no_gpu", "CUDA-enabled jaxlib", LazyRe(r"a CUDA-enabled jaxlib is not installed")),
    ("no_gpu", "CUDA-capable device", LazyRe(r"no CUDA-capable device is detected", re.I)),
    ("no_gpu", "No CUDA GPUs", LazyRe(r"No CUDA GPUs are available")),
    (
        "no_gpu",
        "NVIDIA driver",
        LazyRe(r"Found no NVIDIA driver on your system|The NVIDIA driver on your system is too old"),
    ),
    (
        "no_gpu",
        "driver version is insufficient",
        LazyRe(r"CUDA driver version is insufficient for CUDA runtime version"),
    ),
    (
        "no_gpu",
        "NVIDIA-SMI has failed",
        LazyRe(r"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver"),
    ),
    ("no_gpu", "CUDA_ERROR_NO_DEVICE", LazyRe(r"CUDA_ERROR_NO_DEVICE")),
    ("no_gpu", "not compiled with CUDA", LazyRe(r"Torch not compiled with CUDA enabled")),
    ("no_gpu", "No devices were found", LazyRe(r"^\s*No devices were found\s*$")),
    ("no_gpu", "Num GPUs", LazyRe(r"Num GPUs Available:?\s*0\s*$", re.I)),
    (
        "no_gpu",
        "available",
        LazyRe(
            r"(?:Is CUDA available|CUDA available|cuda\.is_available\(\)|GPU available)\s*(?:[:=]\s*)?False\b", re.I
        ),
    ),
    # a printed device count of 0: "torch.cuda.device_count()) 0", "device_count(): 0", a script's "xpu device_count 0"
    ("no_gpu", "device_count", LazyRe(r"device_count(?:\(\))?\)?\s*(?:[:=]\s*)?0\s*$")),
    ("no_gpu", "Skipping registering GPU", LazyRe(r"Skipping registering GPU devices")),
    ("backend_init", "initialize backend", LazyRe(r"Unable to initialize backend '(?:cuda|gpu|rocm)'")),
    ("backend_init", "backend failed to initialize", LazyRe(r"(?:CUDA|GPU) backend failed to initialize")),
    (
        "backend_init",
        "cuInit",
        LazyRe(
            r"failed call to cuInit|cuInit\(0\) failed|CUDA_ERROR_(?:UNKNOWN|NOT_INITIALIZED|SYSTEM_DRIVER_MISMATCH|COMPAT_NOT_SUPPORTED)"
        ),
    ),
    ("backend_init", "CUDA initialization", LazyRe(r"CUDA initialization: ")),
    ("backend_init", "Unable to load cuDNN", LazyRe(r"Unable to load cuDNN")),
    (
        "cuda_libs",
        "dynamic library",
        LazyRe(
            r"Could not load dynamic library '?lib(?:cudart|cublas|cublasLt|cudnn|cufft|curand|cusolver|cusparse|nvinfer|cuda)\b"
        ),
    ),
    ("cuda_libs", "dlopen some GPU libraries", LazyRe(r"Cannot dlopen some GPU libraries")),
    (
        "cuda_libs",
        "cannot open shared object",
        LazyRe(
            r"lib(?:cudart|cublas|cublasLt|cudnn\w*|cufft|curand|cusolver|cusparse|nvrtc|cuda)\.so[\d.]*: cannot open shared object file"
        ),
    ),
    ("cuda_libs", "Could not find cuda drivers", LazyRe(r"Could not find cuda drivers on your machine")),
    ("cuda_libs", "Could not load library", LazyRe(r"Could not load library lib?cudnn")),
    (
        "dnn_status",
        "STATUS_",
        LazyRe(
            r"CUDNN_STATUS_(?:NOT_INITIALIZED|INTERNAL_ERROR|ARCH_MISMATCH|VERSION_MISMATCH)|CUBLAS_STATUS_(?:NOT_INITIALIZED|ARCH_MISMATCH)"
        ),
    ),
    ("dnn_status", "DNN library", LazyRe(r"DNN library (?:is not found|initialization failed)")),
    (
        "dnn_status",
        "Loaded runtime CuDNN",
        LazyRe(r"Loaded runtime CuDNN library: \S+ but source was compiled with"),
    ),
    ("arch", "no kernel image", LazyRe(r"no kernel image is available for execution on the device")),
    (
        "arch",
        "not compatible with the current PyTorch",
        LazyRe(r"is not compatible with the current PyTorch installation"),
    ),
    (
        "arch",
        "ARCH_MISMATCH",
        LazyRe(r"CUBLAS_STATUS_ARCH_MISMATCH|CUDNN_STATUS_ARCH_MISMATCH|cudaErrorNoKernelImageForDevice"),
    ),
    (
        "arch",
        "Cuda capability",
        LazyRe(
            r"Ignoring visible gpu device .* The minimum required Cuda capability is|"
            r"minimum required Cuda capability is \d"
        ),
    ),
    ("arch", "unsupported toolchain", LazyRe(r"PTX was compiled with an unsupported toolchain")),
    ("native_import", "native TensorFlow runtime", LazyRe(r"Failed to load the native TensorFlow runtime")),
    ("native_import", "DLL load failed", LazyRe(r"DLL load failed")),
    ("native_import", "undefined symbol", LazyRe(r"ImportError: .*undefined symbol")),
    ("native_import", "WinError 126", LazyRe(r"\[WinError 126\]|Error loading \S+\.dll")),
]
_LOG_END = LazyRe(
    r"^(?:\S+: line \d+: +\d+ )?(?:Killed|Segmentation fault|Bus error|Illegal instruction)\b"
    r"|exit(?:ed)? (?:with )?(?:code|status) (?:137|139|-9|-11)\b|signal 9 \(SIGKILL\)|SIGKILL|OOMKilled"
    r"|core dumped",
    re.I,
)
# a notebook's `!command` cut short: Colab (and Jupyter) print the interrupt the process got as "^C" alone (a person's
# stop button or the VM ending it); not a crash, so a symptom of its own
_CUT_SHORT = LazyRe(r"^\s*\^C\s*$")
# the shell's report glued to the end of a progress bar that redrew itself with carriage returns and never ended
# its line ("... ETA: 2621sKilled"): the report alone is the log's end. A terminal that cut the bar's line leaves
# only its tail on the last line: tqdm's count and timer ("0/2 [00:00<?, ?it/s]Killed", the rate still unknown)
_BAR = LazyRe(r"ETA|\d\s*it/s|\?it/s|s/it|%\||task/s|/step|\[[=>#.\s-]{5,}\]|\d+/\d+\s+\[\d+:\d\d")
_LOG_END_GLUED = LazyRe(r"(?:\d|[\d.]s|\]|\|)\s*(?P<report>" + SIGNAL_REPORT + r")\s*$")
_LOG_END_WORDS = ("killed", "fault", "bus error", "illegal instruction", "exit", "sigkill", "signal 9", "core dumped")
# a REPL / notebook cell: the call on one line, its value on the next
# (the call's name is enough: a prompt or print( before it changes nothing, and a leading optional part followed by
# \s* would make every start position scan a run of spaces)
_REPL_CALL = LazyRe(
    r"(?:torch\.cuda\.is_available|torch\.cuda\.device_count|"
    r"tf\.config\.(?:experimental\.)?list_physical_devices|tf\.test\.is_gpu_available|"
    r"tf\.test\.is_built_with_cuda|jax\.devices|jax\.default_backend)\("
)
_REPL_NOGPU = LazyRe(r"^\s*(?:Out\[\d+\]:\s*)?(?:False|0|\[\]|\[CpuDevice\(id=0\)\]|'cpu'|cpu)\s*$")


_REPL_WORDS = (
    "is_available",
    "device_count",
    "list_physical_devices",
    "is_gpu_available",
    "is_built_with_cuda",
    "jax.devices",
    "default_backend",
)


_SYMPTOM_WORDS = frozenset([cheap for _kind, cheap, _pat in _SYMPTOMS] + list(_REPL_WORDS))
_SYMPTOM_LITERALS = LiteralSet(sorted(_SYMPTOM_WORDS))


def symptoms(lines: List[str], blob: Optional[str] = None, found: Optional[FrozenSet[str]] = None) -> Dict[str, str]:
    """`found`: the literals of TEXT_WORDS that "\n".join(lines) holds, when the caller has looked already."""
    out: Dict[str, str] = {}
    blob = "\n".join(lines) if blob is None else blob
    # each pattern's substring looked for over the whole text first, all in one pass: most pastes hold none of them
    hits = (found & _SYMPTOM_WORDS) if found is not None else _SYMPTOM_LITERALS.found(blob)
    todo = [entry for entry in _SYMPTOMS if entry[1] in hits] if hits else []
    repl = bool(hits) and any(w in hits for w in _REPL_WORDS)
    if todo or repl:
        n = len(lines)
        for i, line in enumerate(lines):
            if len(line) > 2000:
                line = line[:2000]
            for kind, cheap, pat in todo:
                if kind not in out and cheap in line and pat.search(line):
                    out[kind] = line.strip()[:200]
            if repl and "(" in line and "no_gpu" not in out and _REPL_CALL.search(line):
                j = i + 1
                while j < n and not lines[j].strip():
                    j += 1
                same = _REPL_NOGPU.search(line.split(")")[-1]) if ")" in line else None
                if same or (j < n and _REPL_NOGPU.match(lines[j])):
                    shown = lines[j].strip() if not same and j < n else line.split(")")[-1].strip()
                    out["no_gpu"] = f"{line.strip()[:150]} -> {shown}"
    last = last_line(lines)[:400]
    if last:
        from .localised import english_line

        last = english_line(last) or last  # the shell reports a signal in the user's language
    low = last.lower()
    if last and any(w in low for w in _LOG_END_WORDS):
        glued = _LOG_END_GLUED.search(last)
        if glued and _BAR.search(last, 0, glued.start()):
            out["log_end"] = glued.group("report")
        elif _LOG_END.search(last):
            out["log_end"] = last.strip()[:200]
    elif last and "^C" in last and _CUT_SHORT.match(last):
        out["cut_short"] = "^C"
    return out


# ---------------------------------------------------------------- reports
_NVSMI_DRIVER = LazyRe(r"Driver Version:\s*([\d.]+)")
_NVSMI_CUDA = LazyRe(r"CUDA Version:\s*([\d.]+)")
_NVSMI_GPU = LazyRe(r"^\|\s*(\d+)\s+(.+?)\s+(?:On|Off)\s+\|")
_KV = LazyRe(r"^\s*([A-Za-z][A-Za-z0-9 ./()_-]{1,60}?)\s*:\s*(.*?)\s*$")
_PIP_FREEZE = LazyRe(r"^\s*(?:\[(?:pip3?|conda)\]\s+)?([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([0-9][\w.+!-]*)\s*$")
_PIP_LIST = LazyRe(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s+([0-9][\w.+!-]*)(?:\s+\S.*)?$")
_CONDA_LINE = LazyRe(r"^\s*(?:\[conda\]\s+)?([A-Za-z0-9][A-Za-z0-9._-]*)\s+([0-9][\w.+!-]*)\s+(\S+)(?:\s+(\S+))?\s*$")
_NVCC = LazyRe(r"Cuda compilation tools, release ([\d.]+)")
_BUILD_INFO = LazyRe(
    r"""['"](cuda_version|cudnn_version|is_cuda_build|is_rocm_build|cuda_compute_capabilities)['"]\s*[,:]\s*(\[[^\]]*\]|'[^']*'|"[^"]*"|\w+)"""
)
_TORCH_PRINT = LazyRe(r"^\s*(\d+\.\d+\.\d+(?:[.a-z0-9]*)?(?:\+[a-z0-9.]+)?)\s+(\d+\.\d+|None)(?:\s+(True|False))?\s*$")
_REPL_VALUE = LazyRe(r"^\s*(?:Out\[\d+\]:\s*)?'?([^'\s]+)'?\s*$")
_CUDNN_FILE = LazyRe(r"libcudnn(?:_\w+)?\.so\.(\d+\.\d+\.\d+)")
_PYVERSION = LazyRe(r"^(3\.\d+\.\d+)")
# "GPU: <name>" written by hand in a report (the keys people use), when the value names an NVIDIA board
_GPU_KEYS = ("gpu", "gpus", "gpu model", "gpu name", "gpu type", "graphics card", "video card")
_GPU_NAME = LazyRe(
    r"^(?:NVIDIA\s+)?(?:GeForce|Tesla|Quadro|TITAN|RTX\s|A\d{2,3}\b|H\d{3}\b|L\d{1,2}S?\b|T4\b|V100|P100|P40\b|K80\b)"
)

# words that only environment reports print; a text with none of them (and no `name==version` line) has no report
_REPORT_WORDS = (
    "Driver Version",
    "orch version",  # "PyTorch version" (collect_env), "Torch version", "torch version" written by hand
    "orch Version",  # "PyTorch Version"
    "cuda_version",
    "is_cuda_build",
    "packages in environment",
    "Cuda compilation tools",
    "__version__",
    "version.cuda",
    "Nvidia driver version",
    "[pip",
    "[conda",
    "GPU models and configuration",
    "No devices were found",
    "CUDA used to build",
)
_PIP_HEADER = LazyRe(r"(?m)^Package\s+Version\b")
_EQ_DIGIT = LazyRe(r"==[0-9]")  # every _FREEZE_ANY match holds this (a literal start: a fast scan)
_FREEZE_ANY = LazyRe(r"(?m)^[ \t]*[A-Za-z0-9][A-Za-z0-9._-]*==[0-9]")

# package names as pip spells them; conda's pytorch is pip's torch
_CONDA_NAMES = {"pytorch": "torch", "pytorch-cuda": "pytorch-cuda", "cudatoolkit": "cudatoolkit", "cudnn": "cudnn"}
_KNOWN = (
    "torch",
    "tensorflow",
    "tensorflow-cpu",
    "tensorflow-gpu",
    "tensorflow-intel",
    "tensorflow-macos",
    "tf-nightly",
    "keras",
    "tf-keras",
    "jax",
    "jaxlib",
    "numpy",
    "protobuf",
    "transformers",
    "torchvision",
    "tensorflow-directml-plugin",
    "tensorflow-metal",
)


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _os_from(text: str) -> Optional[str]:
    t = text.lower()
    if "windows" in t:
        return "Windows"
    if "macos" in t or "mac os" in t or "darwin" in t:
        return "Darwin"
    if any(w in t for w in ("ubuntu", "linux", "debian", "centos", "red hat", "rocky", "fedora", "amazon", "wsl")):
        return "Linux"
    return None


_REPORT_WORD_SET = frozenset(_REPORT_WORDS)
_REPORT_LITERALS = LiteralSet(_REPORT_WORDS)
# every literal symptoms() and report() look for: a caller that searches the text for more literals anyway finds these
# in the same pass and passes what it found (parse._text_facts)
TEXT_WORDS = _SYMPTOM_WORDS | _REPORT_WORD_SET


def report(lines: List[str], found: Optional[FrozenSet[str]] = None) -> Dict[str, Any]:
    """A snapshot-shaped dict of what the paste's environment reports say (empty when it has none). `found`: the
    literals of TEXT_WORDS that "\n".join(lines) holds, when the caller has looked already."""
    snap: Dict[str, Any] = {}
    pk: Dict[str, str] = {}
    gpus: List[Dict[str, Any]] = []
    fw: Dict[str, Dict[str, Any]] = {}
    blob = "\n".join(lines[:4000])
    if not (
        ((found & _REPORT_WORD_SET) if found is not None else _REPORT_LITERALS.found(blob))
        or (_EQ_DIGIT.search(blob) and _FREEZE_ANY.search(blob))
        or ("Package" in blob and _PIP_HEADER.search(blob))
    ):
        return {}
    in_pip_list = in_conda = False
    prev = ""
    for i, raw in enumerate(lines[:4000]):
        line = raw.rstrip()[:400]  # report lines are short; a capped line keeps every pattern below cheap
        s = line.strip()
        if not s:
            in_pip_list = False
            prev = ""
            continue
        # nvidia-smi
        if "Driver Version" in line:
            m = _NVSMI_DRIVER.search(line)
            if m:
                snap.setdefault("driver", {})["version"] = m.group(1)
            m = _NVSMI_CUDA.search(line)
            if m:
                snap.setdefault("driver", {})["cuda_version"] = m.group(1)
            snap["_nvsmi"] = True
            continue
        if snap.get("_nvsmi") and line.startswith("|"):
            m = _NVSMI_GPU.match(line)
            if m and not m.group(2).startswith(("GPU", "Fan", "N/A")) and "Processes" not in line:
                gpus.append({"index": int(m.group(1)), "name": m.group(2).strip()})
            continue
        if s == "No devices were found":
            snap["gpus"] = []
            continue
        # nvcc --version
        if "Cuda compilation tools" in line:
            m = _NVCC.search(line)
            if m:
                snap.setdefault("cuda", {})["nvcc_version"] = m.group(1)
            continue
        # tf.sysconfig.get_build_info()
        if "cuda_version" in line or "is_cuda_build" in line:
            info = dict(_BUILD_INFO.findall(line))
            if info:
                tf = fw.setdefault("tensorflow", {})
                for k, v in info.items():
                    v = v.strip("'\"")
                    if k.startswith("is_"):
                        tf[k] = v == "True"
                    elif k == "cuda_compute_capabilities":
                        tf["archs"] = re.findall(r"(?:sm|compute)_\d+", v)
                    else:
                        tf[k] = v
                continue
        # pip list (header "Package  Version" then a dash line), conda list ("# packages in environment at")
        if re.match(r"^Package\s+Version\b", s):
            in_pip_list = True
            continue
        if s.startswith("# packages in environment"):
            in_conda = True
            continue
        if in_pip_list and s.startswith("---"):
            continue
        if in_conda and s.startswith("#"):
            continue
        m = _PIP_FREEZE.match(line)
        if m:
            pk.setdefault(_norm(m.group(1)), m.group(2))
            continue
        if s.startswith("[conda]"):
            m = _CONDA_LINE.match(s)
            if m:
                name = _norm(m.group(1))
                pk.setdefault(_CONDA_NAMES.get(name, name), m.group(2))
                if name == "pytorch" and "cuda" not in m.group(3) and "cpu" in m.group(3):
                    fw.setdefault("torch", {}).setdefault("is_cuda_build", False)
                continue
        if in_conda:
            m = _CONDA_LINE.match(s)
            if m:
                name = _norm(m.group(1))
                pk.setdefault(_CONDA_NAMES.get(name, name), m.group(2))
                if name == "pytorch":
                    build = m.group(3)
                    cm = re.search(r"cuda(\d+\.\d+)", build)
                    if cm:
                        fw.setdefault("torch", {})["cuda_version"] = cm.group(1)
                    elif "cpu" in build:
                        fw.setdefault("torch", {})["is_cuda_build"] = False
                continue
        if in_pip_list:
            m = _PIP_LIST.match(s)
            if m:
                pk.setdefault(_norm(m.group(1)), m.group(2))
                continue
            in_pip_list = False
        # collect_env "Key: value" lines
        if ":" in line:
            m = _KV.match(line)
            if m:
                key, val = m.group(1).strip(), m.group(2).strip()
                _collect_env(key, val, snap, pk, gpus, fw, lines, i)
        # python -c "import torch; print(torch.__version__, torch.version.cuda)"
        m = _TORCH_PRINT.match(line)
        if m and ("torch" in prev or "torch.__version__" in blob or "version.cuda" in blob):
            pk.setdefault("torch", m.group(1))
            cuda = m.group(2)
            t = fw.setdefault("torch", {})
            if cuda == "None":
                t.setdefault("is_cuda_build", False)
            else:
                t.setdefault("cuda_version", cuda)
        elif (
            prev
            and ("__version__" in prev or "version.cuda" in prev)
            and (prev.lstrip().startswith((">>>", "In [")) or "print(" in prev)
        ):
            m = _REPL_VALUE.match(line)
            if m and ("version.cuda" in prev):
                if m.group(1) == "None":
                    fw.setdefault("torch", {}).setdefault("is_cuda_build", False)
                elif re.match(r"^\d+\.\d+$", m.group(1)):
                    fw.setdefault("torch", {}).setdefault("cuda_version", m.group(1))
            elif m and "torch.__version__" in prev and re.match(r"^\d+\.\d+", m.group(1)):
                pk.setdefault("torch", m.group(1))
            elif m and re.search(r"\b(?:tf|tensorflow)\.__version__", prev) and re.match(r"^\d+\.\d+", m.group(1)):
                pk.setdefault("tensorflow", m.group(1))
            elif m and re.search(r"\bjax\.__version__", prev) and re.match(r"^\d+\.\d+", m.group(1)):
                pk.setdefault("jax", m.group(1))
        elif prev and ">>>" in prev and "version.cuda" in prev and not s.startswith(">>>"):
            pass
        if s.startswith(">>>") and re.search(r"torch\.version\.cuda\s*$", s):
            # the REPL prints nothing for None: the next prompt right away means a CPU build
            nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if nxt.startswith(">>>") or not nxt:
                fw.setdefault("torch", {}).setdefault("is_cuda_build", False)
        prev = line
    snap.pop("_nvsmi", None)
    if gpus:
        snap["gpus"] = gpus
    if pk:
        snap["packages"] = pk
    if fw:
        snap["frameworks"] = fw
    return snap


def _collect_env(
    key: str,
    val: str,
    snap: Dict[str, Any],
    pk: Dict[str, str],
    gpus: List[Dict[str, Any]],
    fw: Dict[str, Dict[str, Any]],
    lines: List[str],
    i: int,
) -> None:
    """One line of `python -m torch.utils.collect_env` (or a similar Key: value report)."""
    k = key.lower()
    unknown = val in ("", "N/A", "Could not collect", "No CUDA")
    if k in ("pytorch version", "torch version") and not unknown:
        pk.setdefault("torch", val.split()[0])
    elif k in _GPU_KEYS and not gpus and _GPU_NAME.match(val):
        # a report written by hand beside the others ("GPU: NVIDIA GeForce RTX 5090 (32GB GDDR7)"): one GPU
        gpus.append({"index": 0, "name": re.sub(r"\s*[(,].*$", "", val).strip()})
    elif k == "cuda used to build pytorch":
        t = fw.setdefault("torch", {})
        if val == "None":
            t["is_cuda_build"] = False
        elif mv := re.match(r"^\d+\.\d+", val):
            t["cuda_version"] = mv.group(0)
            t["is_cuda_build"] = True
    elif k == "is cuda available":
        fw.setdefault("torch", {})["cuda_available"] = val == "True"
    elif k == "os" and not unknown:
        system = _os_from(val)
        if system:
            snap.setdefault("os", {})["system"] = system
            if "microsoft" in val.lower() and system == "Linux":
                snap["os"]["wsl"] = True
    elif k == "python version" and not unknown:
        m = _PYVERSION.match(val)
        if m:
            snap.setdefault("python", {})["version"] = m.group(1)
    elif k == "cuda runtime version" and not unknown:
        m = re.match(r"^\d+\.\d+", val)
        if m:
            snap.setdefault("cuda", {})["runtime_version"] = m.group(0)
    elif k == "nvidia driver version" and not unknown:
        snap.setdefault("driver", {}).setdefault("version", val.split()[0])
    elif k == "gpu models and configuration":
        if val in ("N/A", "Could not collect", "No CUDA"):
            return
        names = []
        m = re.match(r"GPU (\d+): (.+?)(?: \(UUID.*)?$", val)
        if m:
            names.append((int(m.group(1)), m.group(2)))
        j = i + 1
        while j < len(lines) and re.match(r"^\s*GPU (\d+): ", lines[j]):
            m2 = re.match(r"^\s*GPU (\d+): (.+?)(?: \(UUID.*)?$", lines[j])
            if m2:  # "GPU 1: " with no name after it (a cut paste) names no GPU
                names.append((int(m2.group(1)), m2.group(2).strip()))
            j += 1
        if names and not gpus:
            gpus.extend({"index": n, "name": name} for n, name in names)
    elif k == "cudnn version" and not unknown:
        m = re.match(r"^\d+\.\d+\.\d+", val)
        if m:
            snap.setdefault("cuda", {})["cudnn_version"] = m.group(0)
        elif val.startswith("Probably one of the following"):
            for j in range(i + 1, min(i + 8, len(lines))):
                m2 = _CUDNN_FILE.search(lines[j])
                if m2:
                    snap.setdefault("cuda", {})["cudnn_version"] = m2.group(1)
                    break


_ODD_TEXT = (ValueError, TypeError, KeyError, IndexError)  # what a cut or garbled report line can raise below


def read(lines: List[str], found: Optional[FrozenSet[str]] = None) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """(report, symptoms) of a paste; both empty when it holds neither. Never raises. `found`: the literals of
    TEXT_WORDS that "\n".join(lines) holds, when the caller has looked already (one pass for both)."""
    try:
        rep = report(lines, found)
    except _ODD_TEXT:  # a paste is untrusted input: odd text loses facts, never the diagnosis
        rep = {}
    try:
        sym = symptoms(lines, "\n".join(lines), found)
    except _ODD_TEXT:
        sym = {}
    return rep, sym
