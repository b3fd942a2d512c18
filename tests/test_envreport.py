"""Environment reports and symptoms in a paste become facts with the probe's names (dnnfix/envreport.py)."""

from dnnfix.envreport import read, report, symptoms
from dnnfix.parse import parse_text


def lines(text):
    return text.splitlines()


NVSMI = """+---------------------------------------------------------------------------------------+
| NVIDIA-SMI 535.104.05             Driver Version: 535.104.05   CUDA Version: 12.2     |
|-----------------------------------------+----------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id        Disp.A | Volatile Uncorr. ECC |
|=========================================+======================+======================|
|   0  Tesla T4                       Off | 00000000:00:04.0 Off |                    0 |
|   1  NVIDIA A100-SXM4-40GB          On  | 00000000:00:05.0 Off |                    0 |
+-----------------------------------------+----------------------+----------------------+
"""


def test_nvidia_smi():
    r = report(lines(NVSMI))
    assert r["driver"] == {"version": "535.104.05", "cuda_version": "12.2"}
    assert [g["name"] for g in r["gpus"]] == ["Tesla T4", "NVIDIA A100-SXM4-40GB"]
    assert report(lines("No devices were found"))["gpus"] == []


COLLECT_ENV = """PyTorch version: 2.1.0+cu121
Is debug build: False
CUDA used to build PyTorch: 12.1
ROCM used to build PyTorch: N/A

OS: Microsoft Windows 11 Pro
Python version: 3.11.5 | packaged by Anaconda, Inc. | (main, Sep 11 2023, 13:26:23) [MSC v.1916 64 bit (AMD64)] (64-bit runtime)
Is CUDA available: False
CUDA runtime version: 12.1.105
GPU models and configuration:
GPU 0: NVIDIA GeForce RTX 3060
GPU 1: NVIDIA GeForce RTX 3060
Nvidia driver version: 472.12
cuDNN version: Probably one of the following:
/usr/lib/x86_64-linux-gnu/libcudnn.so.8.9.2

Versions of relevant libraries:
[pip3] numpy==1.26.0
[pip3] torch==2.1.0+cu121
[conda] pytorch                   2.1.0           py3.11_cuda12.1_cudnn8_0    pytorch
"""


def test_collect_env():
    r = report(lines(COLLECT_ENV))
    assert r["packages"]["torch"] == "2.1.0+cu121" and r["packages"]["numpy"] == "1.26.0"
    assert r["frameworks"]["torch"] == {"cuda_version": "12.1", "is_cuda_build": True, "cuda_available": False}
    assert r["os"] == {"system": "Windows"} and r["python"] == {"version": "3.11.5"}
    assert r["driver"]["version"] == "472.12" and r["cuda"]["runtime_version"] == "12.1"
    assert r["cuda"]["cudnn_version"] == "8.9.2"
    assert [g["name"] for g in r["gpus"]] == ["NVIDIA GeForce RTX 3060"] * 2
    cpu = report(
        lines(
            "PyTorch version: 2.2.0+cpu\nCUDA used to build PyTorch: None\nGPU models and configuration: Could not collect\n"
        )
    )
    assert cpu["frameworks"]["torch"]["is_cuda_build"] is False and "gpus" not in cpu


def test_collect_env_gpu_line_without_a_name():
    # a paste cut after "GPU 1: " used to raise AttributeError inside report(), and read() lost every fact of it
    cut = COLLECT_ENV.replace("GPU 1: NVIDIA GeForce RTX 3060", "GPU 1: ")
    r = report(lines(cut))
    assert [g["name"] for g in r["gpus"]] == ["NVIDIA GeForce RTX 3060"]
    assert read(lines(cut))[0]["packages"]["torch"] == "2.1.0+cu121"


def test_tf_build_info_pip_conda_nvcc():
    r = report(
        lines(
            "OrderedDict([('cpu_compiler', '/dt9/usr/bin/gcc'), ('cuda_compute_capabilities', ['sm_35', 'sm_50', "
            "'sm_60', 'sm_70', 'sm_75', 'compute_80']), ('cuda_version', '11.2'), ('cudnn_version', '8'), "
            "('is_cuda_build', True), ('is_rocm_build', False)])"
        )
    )
    assert r["frameworks"]["tensorflow"] == {
        "archs": ["sm_35", "sm_50", "sm_60", "sm_70", "sm_75", "compute_80"],
        "cuda_version": "11.2",
        "cudnn_version": "8",
        "is_cuda_build": True,
        "is_rocm_build": False,
    }
    pip = report(
        lines("Package    Version\n---------- -------\nTensorFlow 2.15.0\nkeras      3.0.1\n\nnot a package line")
    )
    assert pip["packages"] == {"tensorflow": "2.15.0", "keras": "3.0.1"}
    freeze = report(lines("jax==0.4.30\njaxlib==0.4.30\njax-cuda12-plugin==0.4.31\n"))
    assert freeze["packages"]["jax-cuda12-plugin"] == "0.4.31"
    conda = report(
        lines(
            "# packages in environment at /opt/conda:\n#\n# Name  Version  Build  Channel\n"
            "pytorch  2.1.0  py3.10_cuda11.8_cudnn8.7.0_0  pytorch\n"
        )
    )
    assert conda["packages"]["torch"] == "2.1.0" and conda["frameworks"]["torch"]["cuda_version"] == "11.8"
    nvcc = report(lines("nvcc: NVIDIA (R) Cuda compiler driver\nCuda compilation tools, release 11.8, V11.8.89\n"))
    assert nvcc["cuda"]["nvcc_version"] == "11.8"


def test_torch_version_prints():
    r = report(lines('$ python -c "import torch; print(torch.__version__, torch.version.cuda)"\n2.1.0+cpu None\n'))
    assert r["packages"]["torch"] == "2.1.0+cpu" and r["frameworks"]["torch"]["is_cuda_build"] is False
    r = report(lines(">>> torch.__version__\n'2.3.1+cu121'\n>>> torch.version.cuda\n'12.1'\n"))
    assert r["packages"]["torch"] == "2.3.1+cu121" and r["frameworks"]["torch"]["cuda_version"] == "12.1"
    r = report(lines(">>> import torch\n>>> torch.version.cuda\n>>> torch.cuda.is_available()\nFalse\n"))
    assert r["frameworks"]["torch"]["is_cuda_build"] is False  # the REPL prints nothing for None


def test_symptoms():
    assert symptoms(lines(">>> torch.cuda.is_available()\nFalse"))["no_gpu"] == ">>> torch.cuda.is_available() -> False"
    assert "no_gpu" in symptoms(lines("In [3]: tf.config.list_physical_devices('GPU')\nOut[3]: []"))
    assert "no_gpu" in symptoms(lines("print(torch.cuda.device_count())\n0"))
    assert "no_gpu" in symptoms(lines("IPEX version 2.1.30+xpu\nxpu device_count 0"))  # a script's own print
    assert "no_gpu" not in symptoms(lines("xpu device_count 2\ndevice_count 10"))
    assert "no_gpu" in symptoms(lines(">>> jax.devices()\n[CpuDevice(id=0)]"))
    assert "no_gpu" not in symptoms(lines(">>> torch.cuda.is_available()\nTrue"))
    assert "backend_init" in symptoms(
        lines("Unable to initialize backend 'cuda': FAILED_PRECONDITION: No visible GPU devices.")
    )
    assert "cuda_libs" in symptoms(
        lines(
            "W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load "
            "dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file"
        )
    )
    assert "dnn_status" in symptoms(lines("RuntimeError: cuDNN error: CUDNN_STATUS_NOT_INITIALIZED"))
    assert "native_import" in symptoms(
        lines(
            "ImportError: DLL load failed while importing _pywrap_tensorflow_internal: "
            "Das angegebene Modul wurde nicht gefunden."
        )
    )
    assert "arch" in symptoms(
        lines("RuntimeError: CUDA error: no kernel image is available for execution on the device")
    )
    assert "arch" in symptoms(
        lines(
            "NVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible with the "
            "current PyTorch installation."
        )
    )
    assert symptoms(lines("Epoch 1/10\nKilled"))["log_end"] == "Killed"
    assert "log_end" in symptoms(lines("step 10\ncommand terminated with exit code 137"))
    assert "log_end" not in symptoms(lines("Killed a process earlier\nall done"))  # only the last line counts
    # a notebook command interrupted: its own kind, not a crash (the machine rules that read log_end as one stay quiet)
    assert symptoms(lines("Loading weights [6569e224] from /content/m.ckpt\n^C\n")) == {"cut_short": "^C"}
    assert "cut_short" not in symptoms(lines("^C\nstarting again\ndone"))  # only the last line counts
    assert "cut_short" not in symptoms(lines("press ^C to stop"))
    assert symptoms(lines("Traceback (most recent call last):\nKeyError: 'x'")) == {}


def test_text_facts_from_a_paste():
    """parse_text files the report and the symptoms under text.*; an ordinary exception is another failure."""
    inc = parse_text(NVSMI + ">>> torch.cuda.is_available()\nFalse\n")
    assert inc.facts["report"]["driver"]["version"] == "535.104.05"
    assert inc.facts["symptom"] == {"no_gpu": ">>> torch.cuda.is_available() -> False"}
    assert inc.facts["shows_other"] is False
    other = parse_text("Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nKeyError: 'x'\n")
    assert other.facts["shows_other"] is True and "report" not in other.facts
    assert other.facts["failure_seen"] is True and parse_text("Epoch 1/10\nloss 0.3\n").facts["failure_seen"] is False


def test_odd_input_never_raises():
    for text in [
        "",
        "\x00" * 50,
        "Driver Version:",
        "PyTorch version:",
        "Package Version\n" + "x " * 5000,
        "==\n" * 100,
        "| 0 " * 1000,
        "OrderedDict([('cuda_version'",
    ]:
        read(lines(text))


def test_sources_in_evidence_and_snapshot_wins():
    """--env snapshot > pasted report > probe; the evidence says where each fact came from."""
    from dnnfix.api import make_facts

    inc = parse_text(NVSMI)
    snap = {"driver": {"version": "470.82.01"}, "os": {"system": "Linux"}}
    f = make_facts(inc, snap)
    assert f.get("driver.version") == "470.82.01" and f.source_of("driver.version") == "env"
    assert f.get("driver.cuda_version") == "12.2" and f.source_of("driver.cuda_version") == "paste"
    assert f.get("gpus.0.compute_capability") == "7.5"  # from the GPU table by card name
    probed = make_facts(inc, snap, probed=True)  # a paste with its own report: this machine's probe stays out
    assert probed.get("driver.version") == "535.104.05" and probed.source_of("driver.version") == "paste"


def test_the_shells_report_glued_to_a_progress_bar_is_the_logs_end():
    from dnnfix.envreport import symptoms

    bar = "[>>>>>>>>>>>>        ] 2210/5000, 3.1 task/s, elapsed: 713s, ETA:   900s"
    assert symptoms(["loading...", bar + "Killed"]).get("log_end") == "Killed"
    assert (
        symptoms(["x", " 45%|####5     | 450/1000 [01:02<01:16,  7.19it/s]Segmentation fault (core dumped)"])["log_end"]
        == "Segmentation fault (core dumped)"
    )
    # in the user's language (bash's zh_CN catalog), with no space before it
    assert symptoms(["loading...", bar + "已杀死"]).get("log_end") == "Killed"
    # a sentence that ends in the word is no report, nor a line without a bar
    assert "log_end" not in symptoms(["note: the worker was Killed"])
    assert "log_end" not in symptoms(["step 12 done, 900sKilled"])
    # a terminal that cut the bar's line at its width: only tqdm's count and timer are left before the report
    assert symptoms(["Loading checkpoint shards:   0%|        ", "0/2 [00:00<?, ?it/s]Killed"])["log_end"] == "Killed"
    assert "log_end" not in symptoms(["copied 3/4 files, done [ok]Killed"])


def test_a_report_written_by_hand_names_the_torch_release_and_the_gpu():
    rep = report(
        [
            "PyTorch Version: 2.2.0+cu121",
            "GPU: NVIDIA GeForce RTX 5090 (32GB GDDR7)",
            "CUDA Version: 12.8 (Driver 570.181)",
        ]
    )
    assert rep["packages"]["torch"] == "2.2.0+cu121"
    assert rep["gpus"] == [{"index": 0, "name": "NVIDIA GeForce RTX 5090"}]
    # a "GPU:" line of a training log is not a report of the machine's GPU
    assert "gpus" not in report(["PyTorch Version: 2.2.0", "GPU: 0", "GPU: cuda:0 used for training"])


def test_the_torch_release_alias_drops_the_local_tag():
    """Index URLs add their own +cuXXX tag: {{torch_release}} is the release alone, {{torch_version}} as reported."""
    from dnnfix.facts import ALIAS_NAMES, Facts

    al = Facts(snapshot={"packages": {"torch": "2.4.0+cu121"}}).aliases()
    assert (al["torch_version"], al["torch_release"]) == ("2.4.0+cu121", "2.4.0")
    assert "torch_release" not in Facts(snapshot={"packages": {}}).aliases()
    assert "torch_release" in ALIAS_NAMES  # kb check accepts it in explanations


def test_the_tf_line_alias_is_the_release_line():
    """keras pins share TensorFlow's major.minor: {{tf_line}} is "2.4" of 2.4.1 (and of 2.16.0rc0), absent without a
    TensorFlow version or with one that names no line."""
    from dnnfix.facts import ALIAS_NAMES, Facts

    assert Facts(snapshot={"packages": {"tensorflow": "2.4.1"}}).aliases()["tf_line"] == "2.4"
    assert Facts(snapshot={"packages": {"tensorflow-cpu": "2.16.0rc0"}}).aliases()["tf_line"] == "2.16"
    assert Facts(snapshot={"packages": {"tensorflow": "2.15"}}).aliases()["tf_line"] == "2.15"
    assert "tf_line" not in Facts(snapshot={"packages": {"tensorflow": "nightly"}}).aliases()
    assert "tf_line" not in Facts(snapshot={"packages": {}}).aliases()
    assert "tf_line" in ALIAS_NAMES  # kb check accepts it in explanations
