"""One Report between diagnosis and renderers: text, HTML, JSON, the panel and the TUI's list agree on it."""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dnnfix.api import diagnose_text
from dnnfix.knowledge.load import load_kb
from dnnfix.report import SCHEMA_VERSION, bar, build, dedup_evidence
from dnnfix.term import Style

ROOT = Path(__file__).resolve().parent.parent
OOM = (
    'Traceback (most recent call last):\n  File "train.py", line 3, in <module>\n'
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of "
    "14.75 GiB of which 1.06 GiB is free.\n"
)
# a real Keras error under TensorFlow's harmless start-up lines (the benign-noise cause fires at 0.00)
NOISY = (
    "2024-01-01 10:00:00.123456: E external/local_xla/xla/stream_executor/cuda/cuda_dnn.cc:9261] Unable to "
    "register cuDNN factory: Attempting to register factory for plugin cuDNN when one has already been registered\n"
    "2024-01-01 10:00:00.123456: I tensorflow/core/platform/cpu_feature_guard.cc:182] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.\n"
    'Traceback (most recent call last):\n  File "train.py", line 10, in <module>\n    model.fit(x, y)\n'
    'ValueError: Input 0 of layer "dense" is incompatible with the layer: expected axis -1 of input shape to '
    "have value 784, but received input with shape (None, 28, 28)\n"
)


@pytest.fixture(scope="module")
def kb():
    return load_kb()


def _diag(kb, text, name="paste.txt"):
    return diagnose_text(text, kb=kb, name=name)


def test_a_cause_is_shown_once_with_its_other_signatures(kb):
    d = _diag(kb, NOISY)
    r = build(d, kb, top=5, show_all=True)
    causes = [e.cause for e in r.entries]
    assert len(causes) == len(set(causes))
    assert [m.cause for m in d.matches].count("tf.log.benign-noise") == 2  # two signatures of one cause fired
    noise = next(e for e in r.entries if e.cause == "tf.log.benign-noise")
    assert [m.signature for m in noise.group] == [m.signature for m in d.matches if m.cause == "tf.log.benign-noise"]
    assert [e.rank for e in r.entries] == list(range(1, len(r.entries) + 1))


def test_benign_noise_is_hidden_unless_asked(kb):
    d = _diag(kb, NOISY)
    r = build(d, kb)
    assert [e.cause for e in r.entries] == ["keras.input-shape-mismatch"]
    assert [e.cause for e in r.hidden] == ["tf.log.benign-noise"]
    assert "tf.log.benign-noise" in [e.cause for e in build(d, kb, show_all=True).entries]


def test_fixes_are_numbered_once_and_every_renderer_uses_those_numbers(kb):
    from dnnfix.render_html import render_report
    from dnnfix.render_json import report_dict
    from dnnfix.render_text import lines, plain

    r = build(_diag(kb, OOM), kb)
    assert r.entries[0].cause == "torch.cuda.oom" and r.fixes
    assert [f.n for f in r.fixes] == list(range(1, len(r.fixes) + 1))
    assert "2.00 GiB" in r.entries[0].summary + "".join(r.entries[0].sections.values())  # facts filled in
    h = render_report(r)
    for f in r.fixes:
        assert f"%dnnfix fix {f.n}</code>" in h
    j = report_dict(r, kb)
    assert [f["n"] for f in j["numbered_fixes"]] == [f.n for f in r.fixes]
    assert [c["cause"] for c in j["causes"]] == [e.cause for e in r.entries]
    text = plain(lines(r), Style(False))
    assert f"fix first: {r.fixes[0].title}" in text


def test_panel_text_html_and_json_list_the_same_causes(kb):
    from dnnfix.panel import Panel

    d = _diag(kb, NOISY)
    p = Panel(exc_id=0, diagnosis=d, kb=kb)
    b = p.bundle()
    shown = [e.cause for e in p.report.entries]
    assert [c["cause"] for c in b["application/vnd.dnnfix.diagnosis+json"]["causes"]] == shown
    for cause in shown:
        assert cause in b["text/plain"] and cause in b["text/html"]
    hidden = p.report.hidden[0].cause
    assert f"{hidden}  " not in b["text/plain"]  # named in the "hidden" line only, never as an entry
    assert f"<code>{hidden}</code> · signature" not in b["text/html"]


def test_evidence_is_deduplicated_per_line():
    from dnnfix.model import Evidence

    ev = [
        Evidence("regex", "a", 3, 0.5),
        Evidence("phrase", "a again", 3, 0.4),
        Evidence("fact", "f"),
        Evidence("fact", "f"),
        Evidence("exception", "exception X", 3, 0.1, against=True),
    ]
    assert [(e.kind, e.against) for e in dedup_evidence(ev)] == [("regex", False), ("fact", False), ("exception", True)]


def test_one_bar_and_one_broken_kb_warning():
    assert bar(0.5, 10, ascii=False) == "█████░░░░░" and bar(0.5, 4, ascii=True) == "##.."
    from dnnfix.tui.present import bar as tui_bar

    assert tui_bar(0.3) == bar(0.3, ascii=False)
    sources = {str(p.relative_to(ROOT)): p.read_text() for p in (ROOT / "dnnfix").rglob("*.py")}
    glyphs = [n for n, s in sources.items() if re.search(r"^def bar\(", s, re.M) and "█" in s]
    assert glyphs == ["dnnfix/report.py"]  # the TUI's bar() only delegates to it
    assert [n for n, s in sources.items() if "skipped a broken knowledge-base" in s] == ["dnnfix/report.py"]


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module.lstrip("."))
        elif isinstance(node, ast.ImportFrom):
            out.update(a.name for a in node.names)
    return out


def test_panel_and_html_renderer_do_not_import_each_other():
    assert "panel" not in _imports(ROOT / "dnnfix" / "render_html.py")
    assert "render_html" in _imports(ROOT / "dnnfix" / "panel.py")  # the panel uses the renderer, not the reverse
    for name in ("render_text", "render_json", "render_html"):
        assert "api" not in _imports(ROOT / "dnnfix" / f"{name}.py"), name
    from dnnfix import api, matcher, model

    assert api.Diagnosis is model.Diagnosis and matcher.Match is model.Match and matcher.Evidence is model.Evidence


# ------------------------------------------------------------------ the command line


def _run(args, tmp_path, env_extra=None, stdin=None):
    env = dict(os.environ, DNNFIX_USER_KB=str(tmp_path / "no-user-kb"), DNNFIX_CACHE_DIR=str(tmp_path / "cache"))
    for k in ("NO_COLOR", "FORCE_COLOR", "COLUMNS"):
        env.pop(k, None)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "dnnfix", *args], capture_output=True, env=env, timeout=120, input=stdin
    )


@pytest.fixture()
def pastes(tmp_path):
    a, b = tmp_path / "noisy.log", tmp_path / "plain.txt"
    a.write_text(NOISY)
    b.write_text("ZeroDivisionError: division by zero\n")
    return a, b


def test_json_has_a_schema_version_and_keeps_every_match(tmp_path, pastes):
    out = _run(["match", "--no-probe", "--json", str(pastes[0])], tmp_path)
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert obj["schema_version"] == SCHEMA_VERSION
    assert {m["cause"] for m in obj["matches"]} >= {"keras.input-shape-mismatch", "tf.log.benign-noise"}
    assert [m["noise"] for m in obj["matches"] if m["cause"] == "tf.log.benign-noise"] == [True, True]
    assert obj["causes"][0]["cause"] == "keras.input-shape-mismatch"
    same = _run(["match", "--no-probe", "--format", "json", str(pastes[0])], tmp_path)
    assert json.loads(same.stdout)["matches"] == obj["matches"]


def test_text_hides_noise_unless_all(tmp_path, pastes):
    out = _run(["match", "--no-probe", str(pastes[0])], tmp_path).stdout.decode()
    assert "keras.input-shape-mismatch" in out and "tf.log.benign-noise  " not in out
    assert "1 harmless log entry hidden" in out and "--all" in out
    out = _run(["match", "--no-probe", "--all", str(pastes[0])], tmp_path).stdout.decode()
    assert "2. Harmless start-up log" in out


def test_short_and_github_formats(tmp_path, pastes):
    out = _run(["match", "--no-probe", "--format", "short", *map(str, pastes)], tmp_path)
    lines = out.stdout.decode().splitlines()
    assert lines[0].startswith(f"{pastes[0]}:6: keras.input-shape-mismatch 0.") and " confident " in lines[0]
    assert lines[1].startswith(f"{pastes[1]}: no known cause (ZeroDivisionError")
    out = _run(["match", "--no-probe", "--format", "github", *map(str, pastes)], tmp_path)
    gh = out.stdout.decode().splitlines()
    assert re.match(
        r"::error file=[^,]*noisy\.log,line=6,title=dnnfix keras\.input-shape-mismatch \(0\.\d\d\)::"
        r"A Keras layer",
        gh[0],
    ), gh[0]
    assert "%0Afix: " in gh[0] and "\n" not in gh[0]
    assert gh[1].startswith("::notice file=") and "no known cause fits" in gh[1]
    assert len(gh) == 2


def test_fail_on_confident_is_a_ci_gate(tmp_path, pastes):
    assert _run(["match", "--no-probe", "--fail-on", "confident", str(pastes[0])], tmp_path).returncode == 1
    assert _run(["match", "--no-probe", "--fail-on", "confident", str(pastes[1])], tmp_path).returncode == 0
    assert _run(["match", "--no-probe", str(pastes[0])], tmp_path).returncode == 0
    missing = _run(["match", "--no-probe", "--fail-on", "confident", str(pastes[0]), str(tmp_path / "nope")], tmp_path)
    assert missing.returncode == 2  # an unreadable input is still a usage error
    clash = _run(["match", "--json", "--format", "short", str(pastes[1])], tmp_path)
    assert clash.returncode == 2 and b"disagree" in clash.stderr


def test_colour_follows_no_color_and_force_color(tmp_path, pastes):
    plain = _run(["match", "--no-probe", str(pastes[0])], tmp_path).stdout
    assert b"\x1b[" not in plain  # a pipe: no colour
    forced = _run(["match", "--no-probe", str(pastes[0])], tmp_path, {"FORCE_COLOR": "1"}).stdout
    assert b"\x1b[" in forced
    both = _run(["match", "--no-probe", str(pastes[0])], tmp_path, {"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert b"\x1b[" not in both
    ms = re.compile(rb"\(\d+\.\d ms\)")
    assert ms.sub(b"", re.sub(rb"\x1b\[[0-9;]*m", b"", forced)) == ms.sub(b"", plain)


def test_text_wraps_to_the_width_with_hanging_indents(tmp_path, pastes):
    wide = _run(["match", "--no-probe", str(pastes[0])], tmp_path).stdout.decode().splitlines()
    assert max(map(len, wide)) > 100  # a pipe or a file: not wrapped
    out = _run(["match", "--no-probe", str(pastes[0])], tmp_path, {"COLUMNS": "60"}).stdout.decode().splitlines()
    prose = [ln for ln in out if not ln.startswith("     ")]  # fix code (indent 5) is never wrapped
    assert max(map(len, prose)) <= 60
    ev = next(i for i, ln in enumerate(out) if ln.startswith("   + line 6:"))
    assert out[ev + 1].startswith("     ") and not out[ev + 1].startswith("      ")  # hangs under the text


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_explain_renders_markdown_on_any_encoding(tmp_path, encoding):
    out = _run(["explain", "torch.cuda.oom"], tmp_path, {"PYTHONIOENCODING": encoding})
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode(encoding)
    assert "## " not in text and "{{" not in text  # rendered, every field filled
    assert "more memory" in text and "What happened" in text  # the placeholders' readable defaults
    assert "•" not in text and "?" not in text.split("Why")[1][:20]  # ASCII bullets, not replacement marks


def test_explain_fills_facts_from_a_paste(tmp_path):
    f = tmp_path / "oom.txt"
    f.write_text(OOM)
    out = _run(["explain", "torch.cuda.oom", str(f)], tmp_path, {"COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    assert "asked for 2.00 GiB on GPU 0" in out.stdout.decode() and "14.75 GiB" in out.stdout.decode()
    md = _run(["explain", "torch.cuda.oom", "--markdown"], tmp_path).stdout.decode()
    assert md.startswith("# ") and "## Fix" in md and "{{" not in md


def test_fill_markdown_keeps_unknown_fields_readable():
    from dnnfix.knowledge.explain import fill_markdown

    md = "Needs {{driver_version}} here, `pip install x=={{version}}`\n```bash\nexport V={{version}}\n```\n{{a|b}}"
    out = fill_markdown(md, {})
    assert out == "Needs *driver version* here, `pip install x==<version>`\n```bash\nexport V=<version>\n```\nb"
    assert fill_markdown(md, {"version": "1.2", "driver_version": "535"}).startswith(
        "Needs 535 here, `pip install x==1.2`"
    )


def test_html_reads_well_without_its_stylesheet_and_script(kb):
    """What a sanitiser leaves (no <style>, no handlers) still reads: words apart, parts in order, no dead button.
    (tests/test_panel_browser.py checks the same in a real JupyterLab where Chromium is installed.)"""
    from html.parser import HTMLParser

    from dnnfix.render_html import render_report

    h = render_report(build(_diag(kb, OOM), kb), total_ms=12)
    bare = re.sub(r"<style>.*?</style>", "", h, flags=re.S)
    bare = re.sub(r' on\w+="[^"]*"', "", bare)

    class Text(HTMLParser):
        out, hidden = [], 0

        def handle_starttag(self, tag, attrs):
            style = dict(attrs).get("style") or ""
            self.hidden += 1 if self.hidden or "display:none" in style else 0
            if tag in ("div", "li", "pre", "summary"):
                self.out.append("\n")

        def handle_endtag(self, tag):
            self.hidden = max(0, self.hidden - 1)

        def handle_data(self, data):
            if not self.hidden:
                self.out.append(data)

    t = Text()
    t.feed(bare)
    words = "".join(t.out)
    assert "dnnfix what most likely caused this error · 12 ms" in words
    assert "1. PyTorch's CUDA caching allocator" in words and " confident" in words
    assert "· torch.cuda.oom · signature " in words
    assert re.search(r"fix 1 \S.*· %dnnfix fix 1", words)
    assert "copy" not in words.split()
    assert 'style="' in bare and "<details" in bare


def test_a_display_name_in_the_message_becomes_the_package_to_install(kb, tmp_path):
    """transformers 5.x names FlashAttention, never the package: the fix installs and imports flash_attn (matcher's
    display-name table), not the cause page's fallback package."""
    text = (
        "ImportError: FlashAttention2 has been toggled on, but it cannot be used due to the following error: "
        "the package for FlashAttention2 doesn't seem to be installed.\n"
    )
    d = _diag(kb, text)
    top = d.matches[0]
    assert top.cause == "py.module.not-installed" and top.confident
    assert top.facts["module"] == "flash_attn"
    out = _run(["match", "-"], tmp_path, stdin=text.encode()).stdout.decode()
    assert "pip install flash_attn" in out and "pip install tensorflow" not in out, out


def test_a_distribution_name_in_the_message_becomes_the_module_to_import(kb):
    """TRL names liger-kernel as pip spells it; the fixes import liger_kernel (no module name holds a hyphen)."""
    text = (
        "ImportError: You set `use_liger_loss=True` but the liger kernel is not available. "
        "Please install liger-kernel first: `pip install liger-kernel`\n"
    )
    top = _diag(kb, text).matches[0]
    assert top.cause == "py.module.not-installed" and top.confident
    assert top.facts["module"] == "liger_kernel"


def test_a_shadowing_script_is_renamed_in_its_own_folder(kb):
    """The shadowed-package fix renames the script that stands in for the package (nltk.py, in its own folder) and
    asks Python about that package, not about torch (facts.derived fills them from the match's shadow_path)."""
    paste = (
        "Traceback (most recent call last):\n"
        '  File "nltk.py", line 1, in <module>\n'
        "    import nltk\n"
        '  File "/home/user/proj/nltk.py", line 3, in <module>\n'
        "    tokens = nltk.word_tokenize(text)\n"
        "AttributeError: module 'nltk' has no attribute 'word_tokenize'\n"
    )
    d = diagnose_text(paste, kb=kb, similar=False)
    m = d.matches[0]
    assert m.cause == "py.package.shadowed" and m.confident
    code = "\n".join(f.code for f in build(d, kb).entries[0].fixes)
    assert "mv /home/user/proj/nltk.py /home/user/proj/my_nltk_script.py" in code
    assert "import nltk; print(nltk.__file__" in code
    assert "torch" not in code


def test_derived_placeholders():
    from dnnfix.facts import ALIAS_NAMES, derived

    win = derived({"shadow_path": "C:\\Users\\user\\proj\\transformers.py"})
    assert win == {"shadow_renamed": "C:\\Users\\user\\proj\\my_transformers_script.py", "module": "transformers"}
    assert derived({"shadow_path": "torch.py"})["shadow_renamed"] == "my_torch_script.py"
    assert derived({"shadow_path": "/x/my-script.py"}) == {}  # no module can be named so
    assert derived({"shadow_path": "/x/torch/"}) == {} and derived({"module": "torch"}) == {}  # no shadowing file
    assert {"shadow_renamed", "shadow_path"} <= ALIAS_NAMES  # kb check accepts them in explanations
    # a failed import's pip name: the distribution where it differs from the import name, else the name itself
    assert derived({"missing_module": "cv2"}) == {"package": "opencv-python"}
    assert derived({"missing_module": "sklearn"})["package"] == "scikit-learn"
    assert derived({"missing_module": "transformers"}) == {"package": "transformers"}
    assert derived({"missing_module": "not-a-module"}) == {}
    assert derived({"pickled_module": "sklearn"}) == {"package": "scikit-learn"}  # a pickled class's library
    assert derived({"stale_module": "PIL"}) == {"package": "pillow"}  # a package that could not import from itself
    # a compiled extension named without its package's folder: the distribution that ships it, where only one does
    assert derived({"extension": "flash_attn_2_cuda"}) == {"package": "flash-attn"}
    assert derived({"extension": "selective_scan_cuda"})["package"] == "mamba-ssm"
    assert derived({"extension": "_C"}) == {} and derived({"extension": "_version_cuda"}) == {}


def test_the_install_fix_names_the_pip_package_of_the_failed_import(kb):
    """`No module named 'cv2'`: the other-interpreter fix installs opencv-python (pip has no cv2), not the page's
    default example (torch)."""
    paste = (
        "Traceback (most recent call last):\n"
        '  File "/home/user/app/run.py", line 1, in <module>\n'
        "    import cv2\n"
        "ModuleNotFoundError: No module named 'cv2'\n"
    )
    d = diagnose_text(paste, kb=kb, similar=False)
    m = next(m for m in d.matches if m.cause == "py.install.wrong-interpreter")
    assert m.facts["package"] == "opencv-python"
    report = build(d, kb)
    entry = next(e for e in report.entries if e.cause == "py.install.wrong-interpreter")
    code = "\n".join(f.code for f in entry.fixes)
    assert "python -m pip install opencv-python" in code and "pip install torch" not in code


def test_the_pickle_fix_installs_the_release_that_saved_the_file(kb):
    """A scikit-learn pipeline saved with 1.6.1, read by 1.5.2: the fix names pip's package (scikit-learn, not the
    import name sklearn) and the release sklearn's own warning says saved the file; without that warning the
    release stays a placeholder."""
    error = (
        "Traceback (most recent call last):\n"
        '  File "/srv/api/app.py", line 14, in <module>\n'
        '    model = joblib.load("model.joblib")\n'
        "AttributeError: Can't get attribute '_RemainderColsList' on <module 'sklearn.compose._column_transformer' "
        "from '/srv/api/.venv/lib/python3.11/site-packages/sklearn/compose/_column_transformer.py'>\n"
    )
    warning = (
        "/srv/api/.venv/lib/python3.11/site-packages/sklearn/base.py:376: InconsistentVersionWarning: Trying to "
        "unpickle estimator Pipeline from version 1.6.1 when using version 1.5.2. This might lead to breaking code "
        "or invalid results. Use at your own risk.\n  warnings.warn(\n"
    )
    for paste, pin in ((warning + error, "pip install 'scikit-learn==1.6.1'"), (error, "scikit-learn==<release")):
        d = diagnose_text(paste, kb=kb, similar=False)
        assert d.matches[0].signature == "pickle-class-missing-in-installed-package"
        entry = next(e for e in build(d, kb).entries if e.cause == "py.package.api-mismatch")
        code = entry.fixes[0].code
        assert pin in code and "pip install -U scikit-learn" in code and "<package>" not in code
        assert 'python -c "import sklearn; print(sklearn.__version__)"' in code


def test_no_driver_fix_loads_the_driver_or_gives_the_container_the_gpu(kb):
    """ "Found no NVIDIA driver" on a machine of its own: load the driver first (the page's first fix,
    CUDA_VISIBLE_DEVICES, gives "No CUDA GPUs are available" instead); with the kernel module's version printed or a
    container's own refusal beside it, the process was started without the GPU: the container fix first."""
    no_driver = (
        "RuntimeError: Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed "
        "a driver from http://www.nvidia.com/Download/index.aspx\n"
    )
    pastes = {
        no_driver + "$ nvidia-smi\nNVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make "
        "sure that the latest NVIDIA driver is installed and running.\n": "Load the driver",
        no_driver + "$ nvidia-smi\nbash: nvidia-smi: command not found\n$ cat /proc/driver/nvidia/version\n"
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.129.03  Thu Oct 19 18:56:32 UTC 2023\n": (
            "Give the container the GPU"
        ),
        "$ docker run --gpus all -it pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime python -c 'import torch'\n"
        'docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]].\n': (
            "Give the container the GPU"
        ),
    }
    for paste, title in pastes.items():
        d = diagnose_text(paste, kb=kb, similar=False)
        assert d.matches[0].signature == "nvidia-driver-not-loaded", d.matches[0].signature
        entry = next(e for e in build(d, kb).entries if e.cause == "gpu.device.not-visible")
        assert entry.fixes[0].title == title, (title, [f.title for f in entry.fixes])


@pytest.mark.parametrize(
    "paste, title",
    [
        (
            "RuntimeError: Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
            "If you are running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') "
            "to map your storages to the CPU.\n",
            "Load checkpoints onto the devices you have",
        ),
        (
            "RuntimeError: Found Tesla P100-PCIE-16GB which is too old to be supported by the triton GPU compiler, "
            "which is used as the backend. Triton only supports devices of CUDA Capability >= 7.0, but your device "
            "is of CUDA capability 6.0\n",
            "GPU older than compute capability 7.0: run without Triton",
        ),
        (
            "RuntimeError: \nAs of JAX 0.4.0, JAX only supports TPU VMs, not the older Colab TPUs.\n",
            "On Colab or Kaggle today, use the TPU VM directly",
        ),
        (
            "ValueError: implementation='triton' is unsupported on this GPU generation.\n",
            "AlphaFold 3 on a GPU before compute capability 8.0: use its XLA attention",
        ),
    ],
)
def test_the_first_fix_is_the_one_for_what_the_signature_read(kb, paste, title):
    """A signature whose failure the cause page's first fix does not answer names its own (fix_first): a GPU
    checkpoint on a machine without CUDA is loaded with map_location, not by hiding GPUs; a P100 runs without Triton
    rather than reinstalling it; old Colab TPU set-up code moves to a TPU VM; AlphaFold 3 switches its attention."""
    d = diagnose_text(paste, kb=kb, similar=False)
    entry = build(d, kb).entries[0]
    assert entry.fixes[0].title == title, [f.title for f in entry.fixes]


def test_a_shadowing_file_found_only_by_the_parser_names_itself_in_the_fix(kb):
    """A package outside the signatures' list of names (tavily): the shadowing file comes from the parser's symptom
    alone, and the fix still renames that file and asks about that package."""
    paste = (
        "Traceback (most recent call last):\n"
        '  File "tavily.py", line 1, in <module>\n'
        "    import tavily\n"
        '  File "/home/user/proj/tavily.py", line 3, in <module>\n'
        "    client = tavily.Client()\n"
        "AttributeError: module 'tavily' has no attribute 'Client'\n"
    )
    d = diagnose_text(paste, kb=kb, similar=False)
    assert d.matches[0].cause == "py.package.shadowed"
    code = "\n".join(f.code for f in build(d, kb).entries[0].fixes)
    assert "mv /home/user/proj/tavily.py /home/user/proj/my_tavily_script.py" in code
    assert "import tavily; print(tavily.__file__" in code
    assert "torch" not in code
