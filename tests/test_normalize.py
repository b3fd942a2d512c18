"""The shared normaliser: cleaning pastes, canonical forms and fingerprints."""

from dnnfix.normalize import canonical, clean_lines, fingerprint, last_line


def test_ansi_codes_are_removed():
    assert clean_lines("\x1b[0;31mValueError\x1b[0m: bad \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == [
        "ValueError: bad link"
    ]


def test_colab_markdown_link_artefacts_become_paths():
    line = "[/usr/local/lib/python3.10/dist-packages/keras/src/x.py](https://localhost:8080/#) in fit(self)"
    assert clean_lines(line) == ["/usr/local/lib/python3.10/dist-packages/keras/src/x.py in fit(self)"]


def test_crlf_and_carriage_return_progress_bars():
    text = "a\r\n 1/10 [==>...] - ETA: 3s\r10/10 [==========] - 2s 20ms/step - loss: 0.5\r\nb"
    assert clean_lines(text) == ["a", "", "b"]


def test_progress_bar_glued_to_error_is_stripped():
    assert clean_lines(
        " 63/100 [=================>............] - ETA: 1s - loss: 0.6931Traceback (most recent call last):"
    ) == ["Traceback (most recent call last):"]


def test_ci_pytest_and_step_prefixes():
    text = "2024-05-01T12:00:00.1234567Z E   RuntimeError: boom\n[12] Step #3: OSError: x\nE       KeyError: 'a'"
    assert clean_lines(text) == ["RuntimeError: boom", "OSError: x", "KeyError: 'a'"]


def test_curly_quotes_and_nbsp():
    assert clean_lines("No module named \u2018tensorflow\u2019\u00a0!") == ["No module named 'tensorflow' !"]


def test_canonical_replaces_machine_specific_parts():
    a = canonical('File "/home/ana/proj/train.py", line 42: tensor at 0x7f3a2b1c of 1.2.3 at 2024-01-02 10:11:12')
    b = canonical('File "C:\\Users\\bo\\work\\train.py", line 7: tensor at 0xdeadbeef of 4.5 at 2023-12-31 23:59:59')
    assert a == b == 'File "<path:train.py>", line <n>: tensor at <hex> of <ver> at <ts>'


def test_fingerprint_is_stable_across_machines_and_distinct_across_errors():
    f1 = fingerprint("foo.BarError", "cannot open /home/a/x/data_12.bin: code 0x1f")
    f2 = fingerprint("BarError", "cannot open /srv/b/y/data_99.bin: code 0xff")
    f3 = fingerprint("BarError", "cannot close /srv/b/y/data_99.bin: code 0xff")
    assert f1 == f2 != f3 and f1.startswith("dnnfix-")


def test_colour_codes_that_lost_their_escape_byte():
    assert clean_lines("[0;31mRuntimeError[0m: CUDA error[1m!") == ["RuntimeError: CUDA error!"]


def test_kubernetes_and_torchrun_prefixes():
    text = "[trainer-7f9c-0] 2024-05-01 10:00:00.000001: I tensorflow/x.cc:1] hello\n[rank3]: RuntimeError: NCCL error"
    assert clean_lines(text) == ["2024-05-01 10:00:00.000001: I tensorflow/x.cc:1] hello", "RuntimeError: NCCL error"]


def test_kernel_log_prefixes():
    text = (
        "[ 1843.308145] NVRM: Xid (PCI:0000:b3:00): 79, GPU has fallen off the bus.\n"
        "Jun 30 11:07:05 gpu-0 kernel: [17257.355375] NVRM: API mismatch\n"
        "Mar 07 19:30:42 p51 kernel: NVRM: fallen off the bus"
    )
    assert clean_lines(text) == [
        "NVRM: Xid (PCI:0000:b3:00): 79, GPU has fallen off the bus.",
        "NVRM: API mismatch",
        "NVRM: fallen off the bus",
    ]


def test_web_ui_log_tables_and_line_numbered_viewers():
    text = (
        "2024-05-01 12:00:00.123 | ERROR    | app.train:main:42 - RuntimeError: CUDA out of memory.\n"
        "2024-05-01 12:00:00.123 UTC\tERROR\tValueError: a\n"
        "2024-05-01T12:00:00.123+00:00\tKeyError: 'b'\n"
        "  6.2s\t14\tTraceback (most recent call last):\n"
        "  123 | OSError: c\n"
        "   12\tIndexError: d"
    )
    assert clean_lines(text) == [
        "RuntimeError: CUDA out of memory.",
        "ValueError: a",
        "KeyError: 'b'",
        "Traceback (most recent call last):",
        "OSError: c",
        "IndexError: d",
    ]


def test_compose_ray_and_torchrun_tee_prefixes():
    text = (
        "vllm-1  | ERROR 11-18 18:07:28 engine.py:366] ValueError: e\n"
        "(RayWorkerWrapper pid=2345) RuntimeError: f\n"
        "(pid=77, ip=10.0.0.3) Killed\n"
        "[default0]:Traceback (most recent call last):\n"
        "[pod/trainer-0/main] RuntimeError: g"
    )
    assert clean_lines(text) == [
        "ERROR 11-18 18:07:28 engine.py:366] ValueError: e",
        "RuntimeError: f",
        "Killed",
        "Traceback (most recent call last):",
        "RuntimeError: g",
    ]


def test_framework_log_lines_keep_their_own_timestamps():
    lines = [
        "2024-05-01 10:00:00.000001: I tensorflow/x.cc:1] hello",
        "E0412 10:21:07.551902 118234 cuda_dnn.cc:502] Loaded runtime CuDNN library",
        "2024-05-01 12:00:00,123 - root - ERROR - boom",
        "----> 5 jax.local_devices()",
        "      3 import os",
        "|   0  NVIDIA GeForce RTX 3090    On   | 00000000:01:00.0 Off |                  N/A |",
    ]
    assert clean_lines("\n".join(lines)) == lines


def test_backspace_redrawn_keras_bar():
    assert clean_lines(" 12/100 [==>...]\x08\x08\x08\x08\x08\x08Traceback (most recent call last):") == [
        "Traceback (most recent call last):"
    ]


def _words_by_regex(text):
    from dnnfix.normalize import WORD

    return list(dict.fromkeys(WORD.findall(text)))


def test_fast_word_split_equals_the_word_pattern_on_real_and_odd_text():
    """The matcher's prefilter words come from bytes.translate + split (words_in_order): the same words, in the same
    order of first appearance, as the WORD pattern finds, also around non-ASCII letters, digits, lone surrogates."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from dnnfix.normalize import words_in_order

    fixed = [
        "",
        "error: cuda_error_out_of_memory 2.00 gib",
        "ошибка: cuda error: out of memory; 显存不足 cudnn_status_not_initialized",
        "café_1 naïve x\u00a0y k\u212a \ud800 tail_",
        "__init__.py:12 -> torch._c._cuda_init() [op:conv2d]",
    ]
    for text in fixed:
        assert list(words_in_order(text.lower())) == _words_by_regex(text.lower())

    @settings(max_examples=400, deadline=None, derandomize=True)
    @given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200))
    def prop(text):
        low = text.lower()
        assert list(words_in_order(low)) == _words_by_regex(low)

    prop()


# a short traceback as clean_lines gives it back from every wrapper below
_TB3 = ["Traceback (most recent call last):", '  File "x.py", line 1, in <module>', "RuntimeError: boom"]


def test_a_quoted_or_indented_block_loses_its_wrapper_and_nothing_else():
    quoted = '> Traceback (most recent call last):\n>   File "x.py", line 1, in <module>\n> RuntimeError: boom\n>\n'
    assert clean_lines(quoted)[:3] == _TB3
    assert clean_lines("> > ValueError: nested\n> > more")[:2] == ["ValueError: nested", "more"]
    # a Python prompt is no quote, and one line outside the quote keeps every line as it is
    assert clean_lines(">>> import torch\n>>> torch.cuda.is_available()")[0] == ">>> import torch"
    assert clean_lines("> quoted\nplain")[0] == "> quoted"
    block = "    Traceback (most recent call last):\n      File \"x.py\", line 1, in <module>\n        f()\n    KeyError: 'a'"
    assert clean_lines(block) == [
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
        "    f()",
        "KeyError: 'a'",
    ]
    # a traceback's own two-space frames and a right-aligned line number are not a block's indent
    frames = '  File "x.py", line 1, in <module>\n    f()'
    assert clean_lines(frames) == ['  File "x.py", line 1, in <module>', "    f()"]
    assert clean_lines("     9\tKilled\n    10\t")[0] == "Killed"


def test_last_line_skips_what_a_prefix_leaves_of_an_empty_line():
    from dnnfix.normalize import last_line

    for bare in (
        "[pod/trainer-0/main]",
        "2024-05-01T12:00:01.1234567Z",
        "    5 |",
        "     12",
        "6.2s\t5",
        "(raylet)",
        "trainer-1  |",
        "```",
        "  ~~~text",
    ):
        assert last_line(["x", "Killed", bare, ""]) == "Killed", bare
    # REPL output is content
    for value in ("0", "[0]", "False", "[]"):
        assert last_line(["x", value]) == value


def test_last_line_skips_an_empty_shell_prompt_below_the_output():
    from dnnfix.normalize import last_line

    for prompt in (
        "root@tegra-ubuntu:/# ",
        "user@host:~/work/run$ ",
        "(base) user@host:~$",
        "[user@node01 job]$ ",
        "(venv) [user@node01 ~]$",
        "PS C:\\Users\\user\\proj> ",
        "C:\\Users\\user>",
        "$",
        ">>> ",
    ):
        assert last_line(["x", "Killed", prompt, ""]) == "Killed", prompt
    # a prompt with a command typed after it, and lines that only end like one, are content
    for line in ("user@host:~$ python train.py", "echo $", "loss # ", "x > y", "cost in $"):
        assert last_line(["Killed", line]) == line, line


def test_markdown_around_a_line_comes_off():
    assert clean_lines("**Killed**") == ["Killed"]
    assert clean_lines("**RuntimeError**: CUDA error: out of memory") == ["RuntimeError: CUDA error: out of memory"]
    assert clean_lines("***Illegal instruction (core dumped)***") == ["Illegal instruction (core dumped)"]
    assert clean_lines("`mat1 and mat2 must have the same dtype`") == ["mat1 and mat2 must have the same dtype"]
    assert clean_lines("ValueError: bad<br>") == ["ValueError: bad"]
    # code keeps its own stars and backticks
    assert clean_lines("x.py\n    return f(*args, **kwargs)")[1] == "    return f(*args, **kwargs)"
    assert clean_lines("use `torch.load` with `weights_only`") == ["use `torch.load` with `weights_only`"]


def test_html_block_tags_are_never_a_logs_last_line():
    from dnnfix.normalize import last_line

    for tag in ("</details>", "<details>", "<summary>Full log</summary>", "</pre>"):
        assert last_line(["x", "Killed", tag, ""]) == "Killed", tag


def test_html_entities_from_a_scraped_page_are_read_as_text():
    assert clean_lines("  File &quot;&lt;stdin&gt;&quot;, line 1, in &lt;module&gt;") == [
        '  File "<stdin>", line 1, in <module>'
    ]
    assert clean_lines("OSError: libcudart.so.11.0: cannot open shared object file &amp; more &#39;x&#39;") == [
        "OSError: libcudart.so.11.0: cannot open shared object file & more 'x'"
    ]
    assert clean_lines("R&D team: a & b") == ["R&D team: a & b"]


def test_newlines_escaped_twice_are_newlines_again():
    pasted = 'Traceback (most recent call last):\\n  File "x.py", line 1, in <module>\\nRuntimeError: boom\\n'
    assert clean_lines(pasted)[:3] == _TB3
    # a Windows path's "\\n" in a paste with real lines stays as it is
    assert clean_lines("a\nb\nC:\\new\\nets\\nine\\next\nc")[2] == "C:\\new\\nets\\nine\\next"


def test_a_paste_that_lost_every_newline_gets_its_lines_back():
    plain = (
        "Epoch 1/3\n"
        "Traceback (most recent call last):\n"
        '  File "train.py", line 9, in <module>\n'
        "    model.fit(x, y)\n"
        '  File "/usr/lib/python3/site-packages/keras/engine.py", line 1, in fit\n'
        "    return f()\n"
        "tensorflow.python.framework.errors_impl.UnimplementedError: Graph execution error: DNN library is not found.\n"
        "2024-01-01 10:00:01.123456: I tensorflow/core/x.cc:1] hello\n"
        "Killed"
    )
    flat = " ".join(plain.split("\n"))
    got = [ln for ln in clean_lines(flat) if ln.strip()]
    assert got == [ln.strip() if not ln.startswith("    ") else ln for ln in plain.split("\n")]
    # the same paste diagnosed: its exception and its frames, as from the lines
    from dnnfix.parse import parse_text

    inc = parse_text(flat)
    assert [e.type for e in inc.exceptions] == ["tensorflow.python.framework.errors_impl.UnimplementedError"]
    assert [f.function for f in inc.frames] == ["<module>", "fit"]
    # joined by nothing: the exception and the shell's report are still found where they begin
    glued = clean_lines("".join(plain.split("\n")))
    assert glued[-1] == "Killed"
    # a short run that ends killed
    assert clean_lines("$ python train.py Killed") == ["$ python train.py", "Killed"]
    # ... and the empty prompt the shell printed after it, pasted along
    got = clean_lines("root@board:/# python3 bench.py -- loading ./params Killed root@board:/# ")
    assert got == ["root@board:/# python3 bench.py -- loading ./params", "Killed", "root@board:/#"]
    assert last_line(got) == "Killed"
    # the report typed in lower case, or printed in the user's language (with its "(core dumped)" translated)
    assert clean_lines("$ python3 gen.py --load_8bit Loading checkpoint shards: 52% killed")[-1] == "killed"
    assert clean_lines("Writing metrics: /home/user/logdir/scores.jsonl 已杀死")[-1] == "已杀死"
    seg = "Speicherzugriffsfehler (Speicherabzug geschrieben)"
    assert clean_lines("$ python train.py --epochs 3 loading data ... " + seg)[-1] == seg


def test_an_ordinary_line_is_not_cut():
    one = (
        "RuntimeError: CUDA error: no kernel image is available for execution on the device CUDA kernel errors might "
        "be asynchronously reported at some other API call, so the stacktrace below might be incorrect."
    )
    assert clean_lines(one) == [one]
    # OOMKilled is a word of its own, not a killed run
    assert clean_lines("pod status: OOMKilled") == ["pod status: OOMKilled"]
    # nor a word that ends in the report's letters
    assert clean_lines("$ python train.py loading data ... done, the team is very skilled")[-1].endswith("skilled")
    # a text with lines keeps them as they are
    assert clean_lines("a Killed\nb") == ["a Killed", "b"]


def test_a_huge_single_line_is_not_searched_for_lost_newlines():
    from dnnfix.normalize import _FLAT_MAX, _unflatten

    huge = ("x: " + 'File "a.py", line 3, in f foo() ValueError: bad ') * (2 * _FLAT_MAX // 48)
    assert len(huge) > _FLAT_MAX
    assert _unflatten(huge) == huge  # left as it is: a log line, not a paste that lost its newlines
    # within the bound it is cut
    assert _unflatten(huge[: _FLAT_MAX // 2]).count("\n") > 100


def test_evidence_in_a_paste_that_lost_its_newlines_names_its_only_line():
    from dnnfix.api import diagnose_text

    flat = (
        'Traceback (most recent call last):   File "train.py", line 9, in <module>     model.fit(x, y) '
        "tensorflow.python.framework.errors_impl.UnimplementedError: Graph execution error: DNN library is not found."
    )
    d = diagnose_text(flat, name="-")
    assert d.incident.one_line and len(d.incident.lines) > 1
    lines = {e.line for m in d.matches for e in m.evidence if e.line}
    assert lines == {1}
    # a paste with its lines keeps their numbers
    d = diagnose_text(flat.replace("   File", "\n  File").replace(" tensorflow.", "\ntensorflow."), name="-")
    assert not d.incident.one_line
    assert max(e.line for m in d.matches for e in m.evidence if e.line) > 1
