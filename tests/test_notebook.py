"""A real Jupyter kernel (ipykernel via nbclient) runs notebooks with the hook installed."""

import os

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = pytest.mark.kernel

OOM = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; 13.1 GiB already allocated)"
CUDNN = (
    "Loaded runtime CuDNN library: 8.1.0 but source was compiled with: 8.6.0.  CuDNN library needs to have "
    "matching major version and equal or higher minor version."
)
MIME = "application/vnd.dnnfix.diagnosis+json"

KERAS = """\
import numpy as np
import tensorflow as tf
model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
model(np.zeros((3, 5), dtype="float32"))"""


def run_cells(cells, timeout=300):
    """Execute cells in a fresh kernel; return (notebook, {cell index: execute_reply})."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    replies = {}
    client = nbclient.NotebookClient(
        nb,
        timeout=timeout,
        allow_errors=True,
        kernel_name="python3",
        on_cell_executed=lambda cell, cell_index, execute_reply: replies.__setitem__(cell_index, execute_reply),
    )
    client.execute()
    return nb, replies


def errors(cell):
    return [(o.ename, o.evalue, o.traceback) for o in cell.outputs if o.output_type == "error"]


def panels(cell):
    return [o for o in cell.outputs if o.output_type == "display_data" and MIME in o.data]


def stderr_text(cell):
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")


def kinds(cell):
    return [o.output_type for o in cell.outputs if o.output_type in ("error", "display_data")]


@pytest.fixture(scope="module")
def notebooks():
    """The same cells without and with the hook (TensorFlow, plain Python, GPU text, captured C++ line)."""
    tail = [
        KERAS,
        "1 / 0",
        f"raise RuntimeError({OOM!r})",
        "%dnnfix fix 1",
        f"import os\nos.write(2, {(CUDNN + chr(10)).encode()!r})\nraise RuntimeError('DNN library is not found.')",
        "def broken(:\n    pass",
    ]
    saved = dict(os.environ)
    try:
        os.environ["NO_COLOR"] = "1"
        os.environ.pop("DNNFIX_KB_PATH", None)
        plain, _ = run_cells(["import dnnfix"] + tail[:3] + ["pass"] + tail[4:])
        hooked, replies = run_cells(["import dnnfix; dnnfix.install()"] + tail)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return plain, hooked, replies


@pytest.mark.parametrize("index", [1, 2, 3, 5, 6])
def test_traceback_is_unchanged(notebooks, index):
    """Every error output is exactly what the kernel shows without dnnfix."""
    plain, hooked, _ = notebooks
    assert errors(plain.cells[index]) and errors(hooked.cells[index]) == errors(plain.cells[index])


@pytest.mark.parametrize("index", [1, 2, 3, 5])
def test_panel_follows_the_traceback_in_html_and_text(notebooks, index):
    """The traceback comes first, then one panel with text/html and text/plain; no internal-error line."""
    _, hooked, _ = notebooks
    cell = hooked.cells[index]
    assert kinds(cell) == ["error", "display_data"]
    (panel,) = panels(cell)
    assert panel.data["text/plain"].startswith("dnnfix: ")
    assert panel.data["text/html"].startswith('<div class="dnnfix')
    assert "could not diagnose" not in stderr_text(cell)


def test_tensorflow_keras_error_is_diagnosed(notebooks):
    """A real Keras Dense shape mismatch on CPU: keras.input-shape-mismatch, with evidence, in both forms."""
    _, hooked, _ = notebooks
    (panel,) = panels(hooked.cells[1])
    top = panel.data[MIME]["matches"][0]
    assert (top["cause"], top["confident"]) == ("keras.input-shape-mismatch", True)
    assert any("incompatible with the layer" in e for e in top["evidence"])
    assert "keras.input-shape-mismatch" in panel.data["text/plain"]
    assert "keras.input-shape-mismatch" in panel.data["text/html"]
    assert "incompatible with the layer" in panel.data["text/html"]


def test_plain_python_error_gets_the_generic_explanation(notebooks):
    """1/0 is not a deep-learning failure: nothing confident, the exception family explained."""
    _, hooked, _ = notebooks
    (panel,) = panels(hooked.cells[2])
    assert not any(m["confident"] for m in panel.data[MIME]["matches"])
    assert "no known cause fits" in panel.data["text/plain"]
    assert "ZeroDivisionError" in panel.data["text/plain"]
    assert "ZeroDivisionError" in panel.data["text/html"]


def test_gpu_failure_text_is_diagnosed_with_numbered_fixes(notebooks):
    """The CUDA out-of-memory message: torch.cuda.oom first, fixes numbered in text and HTML."""
    _, hooked, _ = notebooks
    (panel,) = panels(hooked.cells[3])
    data = panel.data[MIME]
    assert data["matches"][0]["cause"] == "torch.cuda.oom"
    assert data["numbered_fixes"][0]["n"] == 1
    assert "[1] " + data["numbered_fixes"][0]["title"] in panel.data["text/plain"]
    assert "%dnnfix fix 1" in panel.data["text/html"]


def test_dnnfix_fix_sets_the_next_cell_and_runs_nothing(notebooks):
    """`%dnnfix fix 1` answers with a set_next_input payload holding fix 1's code."""
    _, hooked, replies = notebooks
    (panel,) = panels(hooked.cells[3])
    code = panel.data[MIME]["numbered_fixes"][0]["code"]
    payload = replies[4]["content"]["payload"]
    assert payload == [{"source": "set_next_input", "text": code, "replace": False}]
    assert errors(hooked.cells[4]) == []
    assert "fix 1" in "".join(o.get("text", "") for o in hooked.cells[4].outputs)


def test_captured_native_line_is_evidence(notebooks):
    """A line written to fd 2 by the process before the error is captured and quoted as evidence."""
    _, hooked, _ = notebooks
    (panel,) = panels(hooked.cells[5])
    data = panel.data[MIME]
    assert data["matches"][0]["cause"] == "tf.cudnn.version-mismatch"
    assert any(CUDNN[:60] in e for e in data["matches"][0]["evidence"])
    assert data["log_lines"] >= 1
    assert "native stderr captured before the error" in panel.data["text/html"]


def test_cell_syntax_error_is_shown_as_ipython_shows_it(notebooks):
    """A cell that does not parse: IPython's own syntax error display, no panel."""
    _, hooked, _ = notebooks
    assert kinds(hooked.cells[6]) == ["error"]


def test_failures_inside_dnnfix_leave_the_traceback_and_one_line(tmp_path, monkeypatch):
    """Broken KB file, hanging probe, crashing KB loader, off/on, uninstall: never a second traceback."""
    bad = tmp_path / "kb" / "signatures" / "x"
    bad.mkdir(parents=True)
    (bad / "broken.yaml").write_text("id: broken-one\ncause: [unclosed\n  match: {\n")
    monkeypatch.setenv("DNNFIX_KB_PATH", str(tmp_path / "kb"))
    nb, _ = run_cells(
        [
            "import dnnfix; dnnfix.install()",
            "1 / 0",
            "import os, time, dnnfix.panel\n"
            "dnnfix.panel.probe_snapshot = lambda quick=True: time.sleep(30)\n"
            "os.environ['DNNFIX_TIMEOUT'] = '0.5'",
            "1 / 0",
            "import dnnfix.knowledge.load\n"
            "def broken(*a, **k):\n"
            "    raise RuntimeError('planted: broken knowledge base')\n"
            "dnnfix.knowledge.load.load_kb = broken",
            "1 / 0",
            "%dnnfix off",
            "1 / 0",
            "ip = get_ipython()\nbefore = (ip.custom_exceptions, ip.CustomTB)\n"
            "dnnfix.uninstall()\nprint(ip.custom_exceptions, 'dnnfix' in ip.magics_manager.magics['line'])",
            "1 / 0",
        ]
    )
    c = nb.cells
    for i in (1, 3, 5, 7, 9):
        (err,) = errors(c[i])
        assert err[0] == "ZeroDivisionError" and sum("Traceback" in x for x in err[2]) <= 1
    # a broken YAML file is skipped and named; the diagnosis still comes
    (panel,) = panels(c[1])
    assert "skipped a broken knowledge-base entry" in panel.data["text/plain"]
    assert "broken.yaml" in panel.data["text/html"]
    # a hanging probe is cut off: one line
    assert panels(c[3]) == []
    assert stderr_text(c[3]).startswith("dnnfix: could not diagnose this error (it took longer than 0.5 s")
    assert stderr_text(c[3]).count("\n") == 1
    # a crashing knowledge-base loader: one line
    assert panels(c[5]) == []
    assert stderr_text(c[5]) == (
        "dnnfix: could not diagnose this error (RuntimeError: planted: broken knowledge base; "
        "DNNFIX_DEBUG=1 shows details)\n"
    )
    # %dnnfix off: the traceback alone
    assert kinds(c[7]) == ["error"] and stderr_text(c[7]) == ""
    # uninstall restores IPython's state
    assert "".join(o.get("text", "") for o in c[8].outputs) == "() False\n"
    assert kinds(c[9]) == ["error"] and stderr_text(c[9]) == ""


def test_load_ext_magics_and_unload(monkeypatch):
    """%load_ext dnnfix hooks the kernel; %dnnfix re-diagnoses; %unload_ext restores IPython's handler."""
    monkeypatch.delenv("DNNFIX_KB_PATH", raising=False)
    nb, _ = run_cells(
        [
            "ip = get_ipython(); before = (ip.custom_exceptions, ip.CustomTB)",
            "%load_ext dnnfix",
            f"raise RuntimeError({OOM!r})",
            "%dnnfix",
            "%dnnfix log",
            "%dnnfix fix 99",
            "%unload_ext dnnfix",
            "print((ip.custom_exceptions, ip.CustomTB) == before, 'dnnfix' in ip.magics_manager.magics['line'])",
        ]
    )
    c = nb.cells
    assert kinds(c[2]) == ["error", "display_data"]
    (again,) = panels(c[3])
    assert again.data[MIME]["matches"][0]["cause"] == "torch.cuda.oom"
    assert errors(c[3]) == []
    assert "there is no fix 99" in "".join(o.get("text", "") for o in c[5].outputs)
    assert "".join(o.get("text", "") for o in c[7].outputs) == "True False\n"
