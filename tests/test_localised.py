"""Operating-system texts in the user's language are read as their English originals (dnnfix/localised.py):
glibc's dlerror()/strerror(), the shell's signal reports, Windows' system error texts."""

import pytest

from dnnfix.api import diagnose_text
from dnnfix.localised import english_line


@pytest.mark.parametrize(
    "pasted, english",
    [
        ("已杀死", "Killed"),
        ("段错误 (核心已转储)", "Segmentation fault (core dumped)"),
        ("Speicherzugriffsfehler (Speicherabbild geschrieben)", "Segmentation fault (core dumped)"),
        ("./train.sh: line 3: 12345 Getötet   python train.py", "./train.sh: line 3: 12345 Killed   python train.py"),
        (
            "terminated by signal SIGILL (Ungültiger Maschinenbefehl)",
            "terminated by signal SIGILL (Illegal instruction)",
        ),
        (
            "ImportError: libcudnn.so.8: kann die gemeinsame Objektdatei nicht öffnen: Datei oder Verzeichnis nicht "
            "gefunden",
            "ImportError: libcudnn.so.8: cannot open shared object file: No such file or directory",
        ),
        (
            "ImportError: DLL load failed while importing _C: 找不到指定的模块。",
            "ImportError: DLL load failed while importing _C: The specified module could not be found。",
        ),
        (
            "OSError: [WinError 1455] 页面文件太小，无法完成操作。",
            "OSError: [WinError 1455] The paging file is too small for this operation to complete。",
        ),
        ("OSError: [Errno 28] Нет места на устройстве", None),  # not a catalog text: read as pasted
    ],
)
def test_localised_os_texts_read_in_english(pasted, english):
    assert english_line(pasted) == english


@pytest.mark.parametrize("line", ["Killed", "Abandon the run when the loss diverges", "Morton code error", "Erreur"])
def test_english_and_ordinary_words_are_left_alone(line):
    assert english_line(line) is None


def test_a_localised_paste_gets_the_english_answer():
    base = (
        "Traceback (most recent call last):\n"
        '  File "/home/user/work/train.py", line 1, in <module>\n'
        "    import torch\n"
        '  File "/home/user/env/lib/python3.10/site-packages/torch/__init__.py", line 229, in <module>\n'
        "    from torch._C import *  # noqa: F403\n"
        "ImportError: libcudnn.so.8: {msg}\n"
    )
    english = diagnose_text(base.format(msg="cannot open shared object file: No such file or directory"))
    chinese = diagnose_text(base.format(msg="无法打开共享对象文件: 没有那个文件或目录"))
    assert english.matches and chinese.matches
    assert (chinese.matches[0].cause, chinese.matches[0].confident) == (
        english.matches[0].cause,
        english.matches[0].confident,
    )
    # the evidence points at the line as pasted
    assert any(e.line == 6 for e in chinese.matches[0].evidence)
    log = "epoch 1/10\nstep 200 loss 0.31\n{}\n"
    assert diagnose_text(log.format("Killed")).matches[0].cause == "host.ram.exhausted"
    assert diagnose_text(log.format("已杀死")).matches[0].cause == "host.ram.exhausted"
