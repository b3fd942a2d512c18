"""Parsing pasted text and live exceptions into the same Incident."""

import sys

from dnnfix.parse import parse_exception, parse_text
from fuzzgen import line_mixes

PLAIN = """Traceback (most recent call last):
  File "/home/u/train.py", line 12, in <module>
    model.fit(x, y)
  File "/home/u/.venv/lib/python3.11/site-packages/keras/src/utils/traceback_utils.py", line 122, in error_handler
    raise e.with_traceback(filtered_tb) from None
ValueError: Input 0 of layer "dense" is incompatible with the layer: expected axis -1 of input shape to have value 784,
but received input with shape (None, 28, 28)
"""


def test_plain_traceback_frames_packages_and_message():
    inc = parse_text(PLAIN)
    assert [f.package for f in inc.frames] == ["user", "keras"]
    assert inc.frames[0].code == "model.fit(x, y)"
    assert inc.final.name == "ValueError"
    assert inc.final.message.endswith("(None, 28, 28)")
    assert inc.facts["os"] == "Linux" and inc.facts["python"] == "3.11"


def test_chained_exceptions_keep_their_links():
    text = """Traceback (most recent call last):
  File "a.py", line 1, in <module>
KeyError: 'x'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "a.py", line 3, in <module>
RuntimeError: wrapped

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "a.py", line 5, in <module>
tensorflow.python.framework.errors_impl.InternalError: final
"""
    inc = parse_text(text)
    assert [(e.name, e.link) for e in inc.exceptions] == [
        ("KeyError", ""),
        ("RuntimeError", "context"),
        ("InternalError", "cause"),
    ]


def test_ipython7_colab_paste_with_elisions_and_arrows():
    text = """---------------------------------------------------------------------------
RuntimeError                              Traceback (most recent call last)
<ipython-input-3-0f1e2d> in <module>()
----> 1 out = model(x.cuda())

3 frames
[/usr/local/lib/python3.7/dist-packages/torch/nn/modules/module.py](https://localhost:8080/#) in _call_impl(self, *input, **kwargs)
   1100         return forward_call(*input, **kwargs)

RuntimeError: CUDA error: device-side assert triggered
"""
    inc = parse_text(text)
    assert [f.package for f in inc.frames] == ["user", "torch"]
    assert inc.frames[0].line == 1
    assert inc.final.message == "CUDA error: device-side assert triggered"
    assert inc.facts["colab"] is True


def test_colab_folded_frames_line_is_a_colab_fact_without_its_links():
    """A copy of Colab's traceback without its localhost:8080 links keeps the "N frames" line that folds the library
    frames, beside IPython's "---->" arrows: that is Colab. A lone "120 frames" line in a video tool's log is not."""
    text = """----> 1 import pylinac

9 frames
/usr/local/lib/python3.11/dist-packages/numpy/__init__.py in __getattr__(attr)
    365                 raise AssertionError()

ValueError: numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, got 88 from PyObject
"""
    assert parse_text(text).facts["colab"] is True
    video = 'decoding clip.mp4\n120 frames\nTraceback (most recent call last):\n  File "cut.py", line 3, in <module>\nOSError: x\n'
    assert "colab" not in parse_text(video).facts


def test_ipython7_frames_of_a_module_top_level_and_a_cell_without_a_call():
    """Newer Colab prints "in <module>" (no parentheses) for an import-time frame and "in <cell line: 2>()" for the
    cell: both are frames, so a frame clause on the library's path can fire."""
    text = """---------------------------------------------------------------------------
ModuleNotFoundError                       Traceback (most recent call last)
[<ipython-input-2-cf96>](https://localhost:8080/#) in <cell line: 2>()
----> 2 from keras.models import Model

6 frames
[/usr/local/lib/python3.10/dist-packages/keras/preprocessing/__init__.py](https://localhost:8080/#) in <module>
---> 19 import keras_preprocessing

ModuleNotFoundError: No module named 'keras_preprocessing'
/home/user/notes.py in general is a sentence, not a frame
"""
    inc = parse_text(text)
    assert [(f.package, f.function, f.line) for f in inc.frames] == [
        ("user", "<cell line: 2>", 2),
        ("keras", "<module>", 19),
    ]


def test_ipython8_frames():
    text = (
        "File /opt/conda/lib/python3.10/site-packages/jax/_src/api.py:42, in jit(fun)\nXlaRuntimeError: INTERNAL: boom"
    )
    inc = parse_text(text)
    assert inc.frames[0].package == "jax" and inc.frames[0].line == 42


def test_native_log_lines_and_graph_structure():
    text = """2023-03-01 10:00:00.123456: E tensorflow/compiler/xla/stream_executor/cuda/cuda_dnn.cc:429] Loaded runtime CuDNN library: 8.1.0 but source was compiled with: 8.6.0.
E0000 00:00:1700000000.123456   12345 cuda_dnn.cc:535] Could not create cudnn handle: CUDNN_STATUS_INTERNAL_ERROR
W tensorflow/core/common_runtime/bfc_allocator.cc:290] Allocator ran out of memory
WARNING:tensorflow:Your input ran out of data
tensorflow.python.framework.errors_impl.UnimplementedError: Graph execution error:

Detected at node 'model/conv2d/Conv2D' defined at (most recent call last):
2 root error(s) found.
  (0) UNIMPLEMENTED:  DNN library is not found.
	 [[{{node model/conv2d/Conv2D}}]] [Op:__inference_train_function_912]
"""
    inc = parse_text(text)
    assert [lg.level for lg in inc.logs] == ["E", "E", "W", "WARNING"]
    assert inc.logs[0].source.endswith("cuda_dnn.cc:429")
    assert inc.graph.nodes == ["model/conv2d/Conv2D"]
    assert inc.graph.ops == ["__inference_train_function_912"]
    assert inc.graph.root_errors == ["UNIMPLEMENTED: DNN library is not found."]
    assert inc.final.name == "UnimplementedError"


def test_windows_paths_crlf_and_localised_text():
    text = (
        'Traceback (most recent call last):\r\n  File "C:\\Users\\me\\miniconda3\\lib\\site-packages\\tensorflow\\python\\pywrap_tensorflow.py", line 64, in <module>\r\n'
        "ImportError: DLL load failed while importing _pywrap_tensorflow_internal: \u627e\u4e0d\u5230\u6307\u5b9a\u7684\u6a21\u5757\u3002\r\n"
    )
    inc = parse_text(text)
    assert inc.frames[0].package == "tensorflow"
    assert inc.facts["os"] == "Windows"
    assert inc.final.message.startswith("DLL load failed")


def test_truncated_pastes():
    start_mid = '    raise e\n  File "x/site-packages/torch/a.py", line 3, in f\nRuntimeError: CUDA out of memory.'
    inc = parse_text(start_mid)
    assert inc.final.name == "RuntimeError" and inc.frames[0].package == "torch"
    no_final = (
        'Traceback (most recent call last):\n  File "/home/a/site-packages/tensorflow/b.py", line 9, in g\n    x = y'
    )
    inc = parse_text(no_final)
    assert inc.exceptions == [] and inc.frames[0].package == "tensorflow"


def test_live_exception_gives_the_same_model_as_its_paste():
    try:
        {}["missing"]
    except KeyError as e:
        live = parse_exception(e, log_text="W tensorflow/core/x.cc:1] a native warning")
        import traceback

        pasted = parse_text(
            "W tensorflow/core/x.cc:1] a native warning\n" + "".join(traceback.format_exception(*sys.exc_info()))
        )
    assert [f.function for f in live.frames] == [f.function for f in pasted.frames]
    assert live.final.type == "KeyError" and live.final.message == pasted.final.message
    assert live.logs[0].message == "a native warning" and live.source == "exception"


def test_parse_never_raises_on_garbage():
    for junk in ["", "\x00\x01\x02", ":::: Error:", 'File "', "Traceback (most recent call last)" * 50, "\n" * 1000]:
        parse_text(junk)


def test_pytest_short_frames():
    inc = parse_text(
        "../.venv/lib/python3.11/site-packages/torch/nn/modules/module.py:1501: in _call_impl\n    return forward_call(*args)\nE   RuntimeError: boom"
    )
    assert inc.frames[0].package == "torch" and inc.frames[0].line == 1501 and inc.final.message == "boom"


def test_versions_stated_in_the_paste_become_text_facts():
    inc = parse_text(">>> tf.__version__\n'1.15.5'\npip install torch==2.1.0+cu121 and Keras version: 3.3.3\n")
    assert inc.facts["versions"] == {"tensorflow": "1.15.5", "torch": "2.1.0+cu121", "keras": "3.3.3"}


def test_two_interpreters_in_one_paste_become_a_text_fact():
    """Two REPL banners of different releases, or two different interpreter paths printed alone on their lines
    (sys.executable, `which python`), are text.interpreters; one interpreter, or a path inside a traceback, is not."""
    two_paths = "ModuleNotFoundError: No module named 'x'\n'C:\\\\envs\\\\py36\\\\python.exe'\n'C:\\\\anaconda3\\\\python.exe'\n"
    assert parse_text(two_paths).facts["interpreters"] == ["c:\\anaconda3\\python.exe", "c:\\envs\\py36\\python.exe"]
    banners = "Python 3.5.3 (default, Dec  7 2017)\nImportError: No module named 'tensorflow'\nPython 2.7.5 (default, Aug  4 2017)\n"
    assert parse_text(banners).facts["interpreters"] == ["2.7", "3.5"]
    same = "Python 3.10.12 (main, Jun 11 2023)\n/usr/bin/python3\nModuleNotFoundError: No module named 'x'\n"
    assert "interpreters" not in parse_text(same).facts
    frames = 'File "/usr/lib/python3.10/site-packages/a.py", line 1\n/opt/conda/bin/python\n'
    assert "interpreters" not in parse_text(frames).facts


def test_interpreters_read_from_the_lines_naming_python_only():
    """The REPL banners and interpreter paths a paste shows are looked for in the lines that hold "python" (any case)
    instead of the whole paste: the same interpreters as a search of the whole text, for pastes mixing banners,
    paths, upper-case and unrelated lines in every order."""

    from dnnfix import parse
    from dnnfix.normalize import lines_holding

    pieces = [
        "Python 3.8.10 (default, Nov 22 2023, 10:22:35)",
        "PYTHON 3.11.2 (main, Mar 13 2023)",
        "/usr/bin/python3",
        "  'C:\\\\Users\\\\me\\\\envs\\\\py36\\\\python.exe'",
        "~/venv/bin/python3.10",
        "/opt/conda/bin/python",
        "python train.py --epochs 3",
        "Traceback (most recent call last):",
        '  File "/usr/lib/python3.10/runpy.py", line 196, in _run_module_as_main',
        "import torch",
        "",
    ]

    def found(t):
        return sorted((m.group("ver") or "", m.group("exe") or "") for m in parse._INTERPRETER.finditer(t))

    seen = set()
    for text in line_mixes(pieces, 3000, 8, seed=5):
        want = found(text)
        assert found(lines_holding(text, text.lower(), "python")) == want, text
        seen.update(want)
    assert ("3.8", "") in seen and ("", "/usr/bin/python3") in seen


def _frames(*pairs):
    """A traceback of (file, code line) frames ending in a SyntaxError."""
    body = "".join(f'  File "{f}", line 3, in <module>\n    {code}\n' for f, code in pairs)
    return "Traceback (most recent call last):\n" + body + "SyntaxError: invalid syntax\n"


def test_shadowed_import_read_from_frames():
    """An installed package's (or the standard library's) `import X` that runs the user's own X.py is a fact
    (text.symptom.shadowed_import): the user's file, whatever the final error. The user's own modules importing each
    other, a folder X/__init__.py (an editable install of X may live there) and an import answered by the standard
    library are not."""
    site = "/opt/venv/lib/python3.11/site-packages/lib_a/core.py"
    got = parse_text(_frames((site, "from tqdm import tqdm"), ("/home/u/proj/tqdm.py", "def tqdm(it: Iter):")))
    assert got.facts["symptom"]["shadowed_import"] == "/home/u/proj/tqdm.py"
    win = parse_text(
        _frames(("C:\\py\\Lib\\site-packages\\lib_a\\core.py", "import ollama"), ("C:\\u\\ollama.py", "x"))
    )
    assert win.facts["symptom"]["shadowed_import"] == "C:\\u\\ollama.py"
    # the standard library importing one of its own modules (pdb's `import code`) gets the user's code.py
    std = parse_text(_frames(("/usr/local/lib/python3.12/pdb.py", "import code"), ("/code.py", "abacaba")))
    assert std.facts["symptom"]["shadowed_import"] == "/code.py"
    for pairs in (
        (("/home/u/proj/train.py", "import utils"), ("/home/u/proj/utils.py", "x = 1")),  # user code importing its own
        ((site, "import transformers"), ("/home/u/src/transformers/__init__.py", "x = 1")),  # an editable install
        ((site, "import random"), ("/usr/lib/python3.11/random.py", "x = 1")),  # the standard library itself
        ((site, "import numpy as np"), ("/home/u/proj/helpers.py", "x = 1")),  # another name
    ):
        assert "shadowed_import" not in (parse_text(_frames(*pairs)).facts.get("symptom") or {}), pairs


def test_a_library_reading_a_module_that_is_the_users_script_is_a_shadowed_import():
    """The run script is named like a module a library uses (dis.py): the standard library's inspect, imported while
    torch loads, reads `dis.X` and gets the script. The final error is the library's "module 'dis' has no attribute"
    and the user's dis.py is in the traceback. A user's own module raising that error, a submodule's name (torch.nn
    against a user nn.py) and a module whose file is not in the traceback are not it."""
    stdlib = "/usr/lib/python3.11/inspect.py"
    site = "/opt/venv/lib/python3.11/site-packages/torch/serialization.py"

    def tb(frames, error):
        body = "".join(f'  File "{f}", line 3, in <module>\n    x = 1\n' for f in frames)
        return "Traceback (most recent call last):\n" + body + f"AttributeError: {error}\n"

    got = parse_text(tb(["dis.py", site, stdlib], "module 'dis' has no attribute 'COMPILER_FLAG_NAMES'"))
    assert got.facts["symptom"]["shadowed_import"] == "dis.py"
    win = parse_text(tb(["C:\\u\\random.py", site], "partially initialized module 'random' has no attribute 'rand'"))
    assert win.facts["symptom"]["shadowed_import"] == "C:\\u\\random.py"
    for frames, error in (
        (["/home/u/proj/train.py", "/home/u/proj/utils.py"], "module 'utils' has no attribute 'helper'"),  # user's own
        (["/home/u/proj/nn.py", site], "module 'torch.nn' has no attribute 'RMSNorm'"),  # a submodule
        (["/home/u/proj/train.py", site], "module 'dis' has no attribute 'COMPILER_FLAG_NAMES'"),  # no dis.py shown
    ):
        assert "shadowed_import" not in (parse_text(tb(frames, error)).facts.get("symptom") or {}), frames


def test_frame_lines_cut_by_a_terminal_or_rewrapped_parse_as_frames():
    """A frame line cut at a terminal's width, or re-wrapped at a space, is joined back: the same frames (file, line,
    function, package, code) as the uncut paste, each at the line where it starts."""
    long = "/home/u/.pyenv/versions/3.12.1/envs/project-env/lib/python3.12/site-packages/lib_a/core/loader.py"
    plain = (
        "Traceback (most recent call last):\n"
        '  File "/home/u/proj/run.py", line 3, in <module>\n'
        "    main()\n"
        f'  File "{long}", line 57, in <module>\n'
        "    from tqdm import tqdm\n"
        '  File "/home/u/proj/tqdm.py", line 2\n'
        "    def tqdm(it: Iter):\n"
        "SyntaxError: invalid syntax\n"
    )

    def shape(text):
        return [(f.file, f.line, f.function, f.package, f.code) for f in parse_text(text).frames]

    cut = "\n".join(ln[k : k + 80] for ln in plain.split("\n") for k in (range(0, len(ln), 80) if ln else [0]))
    words = f'  File "{long}",\nline 57, in <module>'
    rewrapped = plain.replace(f'  File "{long}", line 57, in <module>', words)
    assert len(parse_text(plain).frames) == 3
    for text in (cut, rewrapped):
        assert shape(text) == shape(plain), text
        assert parse_text(text).facts["symptom"]["shadowed_import"] == "/home/u/proj/tqdm.py"
    assert [f.lineno_in_text for f in parse_text(cut).frames] == [2, 4, 7]


def test_raised_in_names_the_package_of_the_final_tracebacks_last_frame():
    lib = (
        "Traceback (most recent call last):\n"
        '  File "/home/u/run.py", line 4, in <module>\n    load()\n'
        '  File "/home/u/.venv/lib/python3.10/site-packages/whisperx/asr.py", line 89, in load_model\n'
        "    opts = faster_whisper.transcribe.TranscriptionOptions(**o)\n"
        "TypeError: TranscriptionOptions.__new__() missing 1 required positional argument: 'prefix'\n"
    )
    assert parse_text(lib).facts["raised_in"] == "whisperx"
    own = 'Traceback (most recent call last):\n  File "/home/u/run.py", line 4, in <module>\n    f(1)\nTypeError: f() takes 0 positional arguments but 1 was given\n'
    assert parse_text(own).facts["raised_in"] == "user"
    assert "raised_in" not in parse_text("TypeError: f() takes 0 positional arguments but 1 was given\n").facts


SPAWN_HEAD = (
    "Traceback (most recent call last):\n"
    '  File "<string>", line 1, in <module>\n'
    '  File "C:\\Python311\\Lib\\multiprocessing\\spawn.py", line 131, in _main\n'
    "    prepare(preparation_data)\n"
    '  File "C:\\Python311\\Lib\\multiprocessing\\spawn.py", line 297, in _fixup_main_from_path\n'
    "    main_content = runpy.run_path(main_path,\n"
    '  File "<frozen runpy>", line 88, in _run_code\n'
    '  File "C:\\Users\\u\\proj\\train.py", line 7, in <module>\n'
)


def test_a_spawned_worker_rerunning_the_scripts_top_level_code_is_a_symptom():
    rerun = parse_text(SPAWN_HEAD + "    model.train(epochs=3)\n")
    assert rerun.facts["symptom"]["spawned_main"] == "model.train(epochs=3)"
    # the child only importing the script (a guarded one), or no spawn preparation at all: no symptom
    imports = parse_text(SPAWN_HEAD + "    import torch\nOSError: [WinError 1455] The paging file is too small\n")
    assert "spawned_main" not in imports.facts["symptom"]
    plain = parse_text(
        'Traceback (most recent call last):\n  File "/h/t.py", line 7, in <module>\n    model.train()\nValueError: x\n'
    )
    assert "spawned_main" not in plain.facts["symptom"]


def test_spawned_main_survives_a_log_prefix_and_a_terminal_cut():
    text = SPAWN_HEAD + "    model.train(epochs=3)\n"
    ray = "".join("(RayWorkerWrapper pid=7) " + ln + "\n" for ln in text.splitlines())
    assert parse_text(ray).facts["symptom"]["spawned_main"] == "model.train(epochs=3)"  # indentation taken off
    cut = text.replace("in _fixup_main_from_path\n", "in _\nfixup_main_from_path\n")  # function name cut at the width
    assert parse_text(cut).facts["symptom"]["spawned_main"] == "model.train(epochs=3)"


def test_a_frames_code_line_is_kept_when_a_stripped_log_prefix_took_its_indentation():
    tb = 'Traceback (most recent call last):\n  File "/h/t.py", line 7, in <module>\n    trainer.fit(model)\nValueError: x\n'
    ray = "".join("(RayWorkerWrapper pid=7) " + ln + "\n" for ln in tb.splitlines())
    assert [f.code for f in parse_text(ray).frames] == ["trainer.fit(model)"]
    # without a prefix, an unindented line after a frame is not taken for its code (it may be anything)
    bare = tb.replace("    trainer.fit(model)", "trainer.fit(model)")
    assert [f.code for f in parse_text(bare).frames] == [""]


def test_notebook_fact_from_ipython_cell_frames():
    ipy7 = (
        "ContextualVersionConflict                 Traceback (most recent call last)\n"
        "<ipython-input-2-4b1d9e0c6a11> in <cell line: 1>()\n"
        "----> 1 import pkg_resources\n"
        "ContextualVersionConflict: (urllib3 2.0.7 (/usr/local/lib/python3.10/dist-packages), x, {'a'})\n"
    )
    ipy8 = "Cell In[3], line 1\n----> 1 import numpy.random\nValueError: numpy.dtype size changed\n"
    script = (
        'Traceback (most recent call last):\n  File "/srv/app/cell.py", line 4, in <module>\n    Cell()\n'
        "NameError: name 'Cell' is not defined\n"
    )
    assert parse_text(ipy7).facts.get("notebook") is True
    assert parse_text(ipy8).facts.get("notebook") is True
    assert "notebook" not in parse_text(script).facts  # the word alone is no cell frame
