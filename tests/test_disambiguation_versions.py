"""Look-alike version failures must land on the right cause: Keras 3 vs keras/TF mismatch vs TF1 API, and
NumPy ABI vs removed alias vs NumPy-too-new-for-TF."""
import pytest

from dnnfix.testing import assert_matches, assert_silent, diagnose
from dnnfix.testing import top_cause as _top

KERAS3 = "keras.keras3-with-keras2-code"
KERAS_TF = "keras.tf-version-mismatch"
TF1 = "tf.api.tf1-in-tf2"
TF2_ON_TF1 = "tf.api.tf2-on-tf1"
ABI = "py.numpy.abi-mismatch"
ALIAS = "py.numpy.removed-alias"
TOO_NEW = "py.numpy.too-new-for-tf"


KERAS_CASES = [
    ("tf216-layers-experimental",
     "AttributeError: module 'keras._tf_keras.keras.layers' has no attribute 'experimental'", KERAS3),
    ("keras-src-engine-missing",
     "ModuleNotFoundError: No module named 'keras.src.engine'", KERAS3),
    ("keras-src-missing-means-old-keras",
     "ModuleNotFoundError: No module named 'keras.src'", KERAS_TF),
    ("tf-internal-missing",
     "AttributeError: module 'tensorflow.compat.v2.__internal__' has no attribute 'register_clear_session_function'",
     KERAS_TF),
    ("new-keras-on-tf1",
     "AttributeError: module 'tensorflow._api.v1.compat.v2' has no attribute '__internal__'", KERAS_TF),
    ("dtensor",
     "ImportError: cannot import name 'dtensor' from 'tensorflow.compat.v2.experimental' "
     "(/usr/lib/python3.8/site-packages/tensorflow/_api/v2/compat/v2/experimental/__init__.py)", KERAS_TF),
    ("tf1-placeholder-in-user-code",
     'Traceback (most recent call last):\n  File "model.py", line 9, in <module>\n'
     "    x = tf.placeholder(tf.float32)\nAttributeError: module 'tensorflow' has no attribute 'placeholder'", TF1),
    ("tf1-name-from-old-standalone-keras",
     'Using TensorFlow backend.\nTraceback (most recent call last):\n  File "run.py", line 3, in <module>\n'
     "    model = load_model('m.h5')\n"
     '  File "/usr/lib/python3.7/site-packages/keras/backend/tensorflow_backend.py", line 68, in get_uid\n'
     "    graph = tf.get_default_graph()\n"
     "AttributeError: module 'tensorflow' has no attribute 'get_default_graph'", TF1),
    ("keras3-lr-argument",
     "ValueError: Argument(s) not recognized: {'lr': 0.001}", KERAS3),
    ("keras3-legacy-optimizer",
     "ImportError: `keras.optimizers.legacy` is not supported in Keras 3. When using `tf.keras`, to continue "
     "using a `tf.keras.optimizers.legacy` optimizer, you can install the `tf_keras` package (Keras 2)", KERAS3),
    ("tf1-session-on-tf2",
     "AttributeError: module 'tensorflow' has no attribute 'Session'", TF1),
    ("tf2-function-on-tf1",
     "AttributeError: module 'tensorflow._api.v1.config' has no attribute 'list_physical_devices'", TF2_ON_TF1),
]


@pytest.mark.parametrize("name,text,cause", KERAS_CASES, ids=[c[0] for c in KERAS_CASES])
def test_keras_tf_family_ranks_right_cause_first(name, text, cause):
    """Each Keras/TensorFlow version look-alike ranks its own cause first."""
    assert _top(text) == cause


def test_old_standalone_keras_on_tf2_offers_both_tf1_api_and_keras_mismatch():
    """keras 2.2's backend calling a TF1 name: the TF1 API first, the keras/TF mismatch right behind it."""
    text = dict((c[0], c[1]) for c in KERAS_CASES)["tf1-name-from-old-standalone-keras"]
    assert _top(text) == TF1
    from dnnfix.testing import ranked_causes

    assert KERAS_TF in ranked_causes(text)[:2]


def test_tf1_api_is_confident_and_keras3_is_not_offered_first():
    """A plain TF1 name under TF2 is confidently tf1-in-tf2."""
    assert_matches("AttributeError: module 'tensorflow' has no attribute 'ConfigProto'", TF1)


def test_keras3_fact_beats_keras2_mismatch_for_ambiguous_module_path():
    """'No module named keras.engine' goes to Keras 3 when the snapshot says keras 3 is installed."""
    text = "ModuleNotFoundError: No module named 'keras.engine'"
    assert_matches(text, KERAS3, env={"packages": {"keras": "3.3.3", "tensorflow": "2.16.1"}})


def test_ambiguous_keras_module_path_without_facts_is_not_confident():
    """Without any version evidence the Keras 2 path guess stays below confidence."""
    assert_silent("ModuleNotFoundError: No module named 'keras.engine'")


def test_tensor_numpy_needs_tf1_evidence():
    """'Tensor' has no attribute 'numpy' is TF2-on-TF1 only with TF 1.x evidence."""
    text = "AttributeError: 'Tensor' object has no attribute 'numpy'"
    ms = [m for m in diagnose(text) if m.cause == TF2_ON_TF1]
    assert not any(m.confident for m in ms)
    assert_matches(text, TF2_ON_TF1, env={"packages": {"tensorflow": "1.15.5"}})
    ms = [m for m in diagnose(text, env={"packages": {"tensorflow": "2.15.0"}}) if m.cause == TF2_ON_TF1]
    assert not any(m.confident for m in ms)


NUMPY_CASES = [
    ("numpy2-banner",
     "A module that was compiled using NumPy 1.x cannot be run in\nNumPy 2.0.2 as it may crash.\n"
     "AttributeError: _ARRAY_API not found", ABI),
    ("api-version",
     "RuntimeError: module compiled against API version 0x10 but this version of numpy is 0xf\n"
     "ImportError: numpy.core.multiarray failed to import", ABI),
    ("dtype-size",
     "ValueError: numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, "
     "got 88 from PyObject", ABI),
    ("builtin-alias",
     "AttributeError: module 'numpy' has no attribute 'float'.\n"
     "`np.float` was a deprecated alias for the builtin `float`.", ALIAS),
    ("numpy2-removed-name",
     "AttributeError: `np.float_` was removed in the NumPy 2.0 release. Use `np.float64` instead.", ALIAS),
    ("alias-with-futurewarning-before",
     "FutureWarning: In the future `np.object` will be defined as the corresponding NumPy scalar.\n"
     "AttributeError: module 'numpy' has no attribute 'object'", ALIAS),
    ("rnn-symbolic",
     "NotImplementedError: Cannot convert a symbolic Tensor (lstm_2/strided_slice:0) to a numpy array. "
     "This error may indicate that you're trying to pass a Tensor to a NumPy call, which is not supported", TOO_NEW),
    ("constant-if-small-frame",
     '  File "/usr/lib/python3.8/site-packages/tensorflow/python/ops/array_ops.py", line 2804, in _constant_if_small\n'
     "    if np.prod(shape) < 1000:\n"
     "NotImplementedError: Cannot convert a symbolic Tensor (model/dec/strided_slice:0) to a numpy array.", TOO_NEW),
]


@pytest.mark.parametrize("name,text,cause", NUMPY_CASES, ids=[c[0] for c in NUMPY_CASES])
def test_numpy_family_ranks_right_cause_first(name, text, cause):
    """NumPy ABI, removed alias and NumPy-too-new are told apart by their own messages."""
    assert_matches(text, cause)


def test_abi_banner_beats_alias_warning_printed_earlier():
    """A deprecation warning about an alias printed before an ABI failure does not steal the diagnosis."""
    text = ("DeprecationWarning: `np.bool` is a deprecated alias for the builtin `bool`.\n"
            "A module that was compiled using NumPy 1.x cannot be run in\n"
            "AttributeError: _ARRAY_API not found\n"
            "ImportError: numpy.core.multiarray failed to import")
    assert_matches(text, ABI)
    assert not any(m.confident for m in diagnose(text) if m.cause == ALIAS)


def test_rnn_symbolic_on_new_tf_is_not_numpy_too_new():
    """On TF >= 2.6 the same words are not the old NumPy bug."""
    text = "NotImplementedError: Cannot convert a symbolic Tensor (lstm/strided_slice:0) to a numpy array."
    env = {"packages": {"tensorflow": "2.13.0", "numpy": "1.24.3"}}
    assert not any(m.confident for m in diagnose(text, env=env) if m.cause == TOO_NEW)


def test_symbolic_tf_tensor_wording_is_not_numpy_too_new():
    """The 'symbolic tf.Tensor' wording of new TF releases is user code, not NumPy too new."""
    text = ("NotImplementedError: Cannot convert a symbolic tf.Tensor (IteratorGetNext:0) to a numpy array. "
            "This error may indicate that you're trying to pass a Tensor to a NumPy call, which is not supported.")
    assert not any(m.confident for m in diagnose(text) if m.cause == TOO_NEW)
