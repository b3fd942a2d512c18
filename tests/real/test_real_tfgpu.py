"""Real TensorFlow (tensorflow-cpu) output for the tf-gpu area: the start-up log lines TensorFlow really prints are
benign noise when nothing fails, and stop being "the answer" as soon as a real error follows them; configuring
devices after initialisation raises the real RuntimeError. Each test runs TensorFlow in a subprocess with
TF_CPP_MIN_LOG_LEVEL=0 and diagnoses exactly what it printed."""

import re

import pytest

from dnnfix.testing import assert_matches, assert_silent, diagnose

pytestmark = pytest.mark.framework

NOISE = "tf.log.benign-noise"
GROWTH = "tf.gpu.memory-growth-after-init"

# whatever start-up line this TensorFlow build prints (oneDNN notice, CPU-instruction notice, absl preamble ...)
STARTUP = re.compile(
    r"oneDNN custom operations|cpu_feature_guard|This TensorFlow binary|absl::InitializeLog|"
    r"Could not find cuda drivers|Unable to register cu"
)


def _causes(text):
    return [(m.cause, round(m.score, 2), m.signature) for m in diagnose(text)[:4]]


def _confident_noise(text):
    return [m for m in diagnose(text) if m.cause == NOISE and m.confident]


def test_startup_log_without_failure_is_benign_noise(run_python):
    """A clean run prints only start-up notices: benign noise ranks first and is confident."""
    out = run_python(
        "import tensorflow as tf\nprint('sum =', int(tf.reduce_sum(tf.constant([1, 2, 3]))))\n", require=("tensorflow",)
    )
    assert "sum = 6" in out, out[-2000:]
    if not STARTUP.search(out):
        pytest.skip("this TensorFlow build printed no start-up log lines:\n" + out[-1000:])
    assert_matches(out, NOISE)


def test_startup_log_then_shape_error_is_not_noise(run_python):
    """The same start-up lines followed by a real matmul shape error: the error, not the noise, is the diagnosis."""
    code = """
    import tensorflow as tf
    a = tf.ones((2, 3)); b = tf.ones((4, 5))
    tf.matmul(a, b)
    """
    out = run_python(code, require=("tensorflow",))
    assert "Matrix size-incompatible" in out, out[-2000:]
    assert not _confident_noise(out), _causes(out)
    ms = diagnose(out)
    assert not ms or ms[0].cause != NOISE, _causes(out)


def test_startup_log_then_missing_file_is_silent_about_noise(run_python):
    """An ordinary FileNotFoundError after TensorFlow's start-up lines: no benign-noise claim, nothing confident."""
    code = """
    import tensorflow as tf
    tf.constant(1)
    open("checkpoints/missing_weights.h5", "rb")
    """
    out = run_python(code, require=("tensorflow",))
    assert "FileNotFoundError" in out, out[-2000:]
    assert not _confident_noise(out), _causes(out)
    assert_silent(out)


def test_virtual_devices_configured_after_init(run_python):
    """set_logical_device_configuration after the first tensor: the real RuntimeError is memory-growth-after-init."""
    code = """
    import tensorflow as tf
    tf.constant(1.0)  # initialises the runtime
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    """
    out = run_python(code, require=("tensorflow",))
    assert "cannot be modified after being initialized" in out, out[-2000:]
    m = assert_matches(out, GROWTH)
    assert m.facts.get("device_kind", "").lower() == "virtual", m.facts
    assert not _confident_noise(out), _causes(out)


def test_memory_growth_on_cpu_is_not_after_init(run_python):
    """set_memory_growth on the CPU device raises a different ValueError: not the after-init cause."""
    code = """
    import tensorflow as tf
    tf.config.experimental.set_memory_growth(tf.config.list_physical_devices("CPU")[0], True)
    """
    out = run_python(code, require=("tensorflow",))
    assert "memory growth" in out.lower(), out[-2000:]
    assert not [m for m in diagnose(out) if m.cause == GROWTH and m.confident], _causes(out)
    assert not _confident_noise(out), _causes(out)
