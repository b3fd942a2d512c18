"""Version failures produced by the real frameworks in .venv (tensorflow-cpu with Keras 3, NumPy 2): what they
print must be diagnosed as the right cause. Several failures share one subprocess to keep framework imports few."""

import importlib.util

import pytest

from dnnfix.testing import assert_matches, assert_silent

from ._harness import CASE_PRELUDE, split_cases

pytestmark = pytest.mark.framework

# Each snippet runs in one subprocess and prints every failure's real traceback after a marker line.
_PRELUDE = CASE_PRELUDE


def _parts(out: str) -> dict:
    """The output split at the case markers; start-up logs before the first marker go with every part."""
    return split_cases(out, with_head=True)


TF_CODE = (
    _PRELUDE
    + """
import tensorflow as tf
part("placeholder", lambda: tf.placeholder(tf.float32, [None, 3]))
part("session", lambda: tf.Session())
part("train_optimizer", lambda: tf.train.AdamOptimizer(0.01))
def contrib():
    from tensorflow.contrib import rnn
part("contrib", contrib)
part("compat_placeholder_eager", lambda: tf.compat.v1.placeholder(tf.float32, [None, 3]))
part("tensor_eval_eager", lambda: tf.constant([1.0, 2.0]).eval())
part("initializable_iterator_eager", lambda: tf.compat.v1.data.make_initializable_iterator(tf.data.Dataset.range(3)))
part("keras3_lr", lambda: tf.keras.optimizers.Adam(lr=0.01))
part("keras3_legacy_optimizer", lambda: tf.keras.optimizers.legacy.Adam())
def kerastensor():
    x = tf.keras.Input((3,))
    tf.reduce_sum(x)
part("keras3_kerastensor", kerastensor)
part("keras3_layers_experimental", lambda: tf.keras.layers.experimental.preprocessing)
def fit_generator():
    m = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    m.fit_generator(iter([]))
part("keras3_fit_generator", fit_generator)
def keras_src_engine():
    from keras.src.engine import base_layer
part("keras3_src_engine", keras_src_engine)
class WithMetric(tf.keras.layers.Layer):
    def call(self, x):
        self.add_metric(tf.reduce_mean(x), name="m")
        return x
part("keras3_add_metric", lambda: WithMetric()(tf.ones((2, 2))))
part("keras3_loss_scale_static", lambda: tf.keras.mixed_precision.LossScaleOptimizer(tf.keras.optimizers.SGD(), dynamic=False))
part("keras3_get_file_path", lambda: tf.keras.utils.get_file("/tmp/dnnfix-data/flowers.tgz", origin="https://example.invalid/f.tgz"))
"""
)

TF_EXPECT = {
    "placeholder": "tf.api.tf1-in-tf2",
    "session": "tf.api.tf1-in-tf2",
    "train_optimizer": "tf.api.tf1-in-tf2",
    "contrib": "tf.api.tf1-in-tf2",
    "compat_placeholder_eager": "tf.api.tf1-in-tf2",
    "tensor_eval_eager": "tf.api.tf1-in-tf2",
    "initializable_iterator_eager": "tf.api.tf1-in-tf2",
    "keras3_lr": "keras.keras3-with-keras2-code",
    "keras3_legacy_optimizer": "keras.keras3-with-keras2-code",
    "keras3_kerastensor": "keras.keras3-with-keras2-code",
    "keras3_layers_experimental": "keras.keras3-with-keras2-code",
    "keras3_fit_generator": "keras.keras3-with-keras2-code",
    "keras3_src_engine": "keras.keras3-with-keras2-code",
    "keras3_add_metric": "keras.keras3-with-keras2-code",
    "keras3_loss_scale_static": "keras.keras3-with-keras2-code",
    "keras3_get_file_path": "keras.keras3-with-keras2-code",
}


@pytest.fixture(scope="module")
def tf_parts(tmp_path_factory):
    import os
    import subprocess
    import sys
    import textwrap

    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow not installed (scripts/test installs it)")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="0", PYTHONUNBUFFERED="1", CUDA_VISIBLE_DEVICES="")
    env.pop("TF_USE_LEGACY_KERAS", None)
    p = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(TF_CODE)],
        cwd=tmp_path_factory.mktemp("tf"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=300,
    )
    return _parts(p.stdout.decode("utf-8", "replace"))


@pytest.mark.parametrize("part", sorted(TF_EXPECT))
def test_tensorflow_and_keras3_version_failures(tf_parts, part):
    """TF1 API under TF 2.x and Keras 2 code under Keras 3, as TensorFlow really reports them."""
    assert part in tf_parts, f"no output for {part}: {sorted(tf_parts)}"
    text = tf_parts[part]
    assert "Traceback (most recent call last)" in text, f"{part} did not fail:\n{text[-2000:]}"
    assert_matches(text, TF_EXPECT[part])


def test_numpy2_removed_aliases(run_python):
    """NumPy 2 reports removed aliases (np.float, np.object, np.float_, np.NaN) and the removed numpy.array_api as
    removed-alias."""
    out = run_python(
        _PRELUDE
        + """
import numpy as np
for name in ["float", "object", "float_", "NaN", "array_api"]:
    part(name, lambda n=name: getattr(np, n))
""",
        timeout=120,
        require=("numpy",),
    )
    parts = _parts(out)
    assert sorted(parts) == ["NaN", "array_api", "float", "float_", "object"]
    for name, text in parts.items():
        assert "AttributeError" in text, f"np.{name} did not fail:\n{text}"
        assert_matches(text, "py.numpy.removed-alias")


def test_missing_framework_module_vs_user_module(run_python):
    """A missing framework (jax, tensorflow_addons) is not-installed; a missing user module stays unclaimed."""
    missing = [m for m in ("jax", "tensorflow_addons") if importlib.util.find_spec(m) is None]
    if not missing:
        pytest.skip("jax and tensorflow_addons are both installed here")
    code = (
        _PRELUDE
        + "".join(f'part("{m}", lambda: __import__("{m}"))\n' for m in missing)
        + 'part("user", lambda: __import__("my_utils"))\n'
    )
    parts = _parts(run_python(code, timeout=60))
    for m in missing:
        assert f"No module named '{m}'" in parts[m]
        m_ = assert_matches(parts[m], "py.module.not-installed")
        assert m_.facts.get("module") == m
    assert "No module named 'my_utils'" in parts["user"]
    assert_silent(parts["user"])
