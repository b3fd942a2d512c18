"""Look-alike Keras/TensorFlow code errors must land on the right cause: symbolic-tensor misuse vs NumPy too new
for an old TF vs Keras 3 with Keras 2 code vs TF2 code on TF1; loss/label shapes vs weights that do not fit;
input vs target checks; an exhausted dataset vs the harmless end-of-sequence log; a model file in another
format vs a Git-LFS pointer or a missing file."""
import pytest

from dnnfix.testing import assert_matches, assert_silent, diagnose

INPUT = "keras.input-shape-mismatch"
LOSS = "keras.loss-label-mismatch"
DTYPE = "tf.dtype.conversion"
SYMBOLIC = "tf.graph.symbolic-tensor-misuse"
OOD = "tf.data.out-of-data"
SAVE = "keras.model.save-load-format"
TOO_NEW = "py.numpy.too-new-for-tf"
KERAS3 = "keras.keras3-with-keras2-code"
TF2_ON_TF1 = "tf.api.tf2-on-tf1"


def _confident(text, env=None):
    return {m.cause for m in diagnose(text, env=env) if m.confident}


OLD_TF_LSTM = """Traceback (most recent call last):
  File "forecast.py", line 21, in <module>
    model.add(LSTM(50, return_sequences=True, input_shape=(60, 1)))
  File "/home/u/.local/lib/python3.8/site-packages/tensorflow/python/keras/layers/recurrent.py", line 2549, in _generate_zero_filled_state
    return nest.map_structure(create_zeros, state_size)
  File "/home/u/.local/lib/python3.8/site-packages/tensorflow/python/ops/array_ops.py", line 2819, in _constant_if_small
    if np.prod(shape) < 1000:
NotImplementedError: Cannot convert a symbolic Tensor (lstm/strided_slice:0) to a numpy array. This error may indicate that you're trying to pass a Tensor to a NumPy call, which is not supported
"""

USER_NP_IN_LOSS = """Traceback (most recent call last):
  File "train.py", line 60, in <module>
    model.fit(train_gen, epochs=40)
  File "/home/u/seg/losses.py", line 18, in dice_loss
    inter = np.sum(y_true * y_pred)
NotImplementedError: Cannot convert a symbolic Tensor (dice_loss/mul:0) to a numpy array. This error may indicate that you're trying to pass a Tensor to a NumPy call, which is not supported
"""


def test_old_tf_lstm_symbolic_tensor_is_numpy_too_new():
    """(lstm/strided_slice:0) through _constant_if_small is NumPy >= 1.20 under TF <= 2.4, not a code error."""
    assert_matches(OLD_TF_LSTM, TOO_NEW)
    assert SYMBOLIC not in _confident(OLD_TF_LSTM)


def test_old_tf_lstm_with_env_is_numpy_too_new():
    """With the snapshot saying TF 2.3 + NumPy 1.21, the LSTM case is still NumPy-too-new."""
    env = {"packages": {"tensorflow": "2.3.1", "numpy": "1.21.6"}}
    assert_matches(OLD_TF_LSTM, TOO_NEW, env=env)
    assert SYMBOLIC not in _confident(OLD_TF_LSTM, env=env)


def test_numpy_call_in_custom_loss_is_symbolic_misuse():
    """The same message from np.sum on a loss tensor is symbolic-tensor misuse."""
    assert_matches(USER_NP_IN_LOSS, SYMBOLIC)


def test_kerastensor_is_symbolic_vs_kerastensor_into_tf_function():
    """Keras 3: np.array(KerasTensor) is misuse; a KerasTensor handed to a TF function is Keras 2 code on Keras 3."""
    assert_matches("ValueError: A KerasTensor is symbolic: it's a placeholder for a shape an a dtype. It doesn't "
                   "have any actual numerical value. You cannot convert it to a NumPy array.", SYMBOLIC)
    k3 = ("ValueError: A KerasTensor cannot be used as input to a TensorFlow function. A KerasTensor is a symbolic "
          "placeholder for a shape and dtype, used when constructing Keras Functional models or Keras Functions.")
    assert SYMBOLIC not in _confident(k3)


@pytest.mark.parametrize("text", [
    "AttributeError: in user code:\n\n    File \"train.py\", line 31, in train_step  *\n"
    "        z = noise.numpy()\n\n    AttributeError: 'Tensor' object has no attribute 'numpy'\n",
    "AttributeError: 'SymbolicTensor' object has no attribute 'numpy'\n",
])
def test_numpy_attribute_in_graph_code_is_symbolic_misuse(text):
    """.numpy() inside a tf.function / Keras step on TF 2.x is symbolic misuse."""
    assert_matches(text, SYMBOLIC)


def test_numpy_attribute_on_tf1_is_not_symbolic_misuse():
    """On TensorFlow 1.x the bare .numpy() failure is TF2 code on TF1, not a graph-code mistake."""
    text = ('Traceback (most recent call last):\n  File "train.py", line 31, in <module>\n    print(loss.numpy())\n'
            "AttributeError: 'Tensor' object has no attribute 'numpy'\n")
    env = {"packages": {"tensorflow": "1.15.5"}}
    assert SYMBOLIC not in _confident(text, env=env)
    ms = diagnose(text, env=env)
    assert ms and ms[0].cause == TF2_ON_TF1


def test_loss_shapes_vs_weights_that_do_not_fit():
    """'Shapes ... are incompatible' in a loss is a label mismatch; inside load_weights it is the checkpoint."""
    loss = ('  File "/usr/local/lib/python3.7/dist-packages/keras/losses.py", line 1790, in categorical_crossentropy\n'
            "    return backend.categorical_crossentropy(\nValueError: Shapes (None, 1) and (None, 10) are incompatible\n")
    assert_matches(loss, LOSS)
    load = ('Traceback (most recent call last):\n  File "ft.py", line 27, in <module>\n'
            '    model.load_weights("resnet_cifar100.h5")\n'
            '  File "/usr/lib/python3/site-packages/keras/saving/legacy/hdf5_format.py", line 830, in '
            "load_weights_from_hdf5_group\n    backend.batch_set_value(weight_value_tuples)\n"
            "ValueError: Shapes (512, 10) and (512, 100) are incompatible\n")
    assert_matches(load, SAVE)
    assert LOSS not in _confident(load)


def test_checking_input_vs_checking_target():
    """Old Keras: 'Error when checking input' is the input shape, 'Error when checking target' the labels."""
    assert_matches("ValueError: Error when checking input: expected dense_1_input to have shape (784,) but got "
                   "array with shape (28,)", INPUT)
    assert_matches("ValueError: Error when checking target: expected dense_3 to have shape (3,) but got array "
                   "with shape (1,)", LOSS)


def test_ran_out_of_data_warning_vs_harmless_end_of_sequence_log():
    """The Keras warning is the cause even without an exception; the TF >= 2.16 rendezvous log line is not."""
    assert_matches(" 80/100 [=======>...] - ETA: 20s - loss: 0.60WARNING:tensorflow:Your input ran out of data; "
                   "interrupting training. Make sure that your dataset or generator can generate at least "
                   "`steps_per_epoch * epochs` batches (in this case, 1000 batches).", OOD)
    benign = ("2024-06-10 14:22:07.813342: W tensorflow/core/framework/local_rendezvous.cc:404] Local rendezvous is "
              "aborting with status: OUT_OF_RANGE: End of sequence\n\t [[{{node IteratorGetNext}}]]\n")
    assert OOD not in _confident(benign)


H5_NOT_HDF5 = """Traceback (most recent call last):
  File "app.py", line 10, in <module>
    model = load_model("models/emotion_model.h5")
  File "/usr/local/lib/python3.9/site-packages/keras/saving/legacy/hdf5_format.py", line 180, in load_model_from_hdf5
    f = h5py.File(filepath, mode="r")
OSError: Unable to open file (file signature not found)
"""


def test_h5_signature_not_found_vs_git_lfs_pointer():
    """A non-HDF5 file behind .h5 is a format problem; the same error next to a Git-LFS pointer is a weights file
    that is not a checkpoint at all (wave 2's model.file.not-a-checkpoint)."""
    assert_matches(H5_NOT_HDF5, SAVE)
    lfs = H5_NOT_HDF5 + ("$ head -3 models/emotion_model.h5\nversion https://git-lfs.github.com/spec/v1\n"
                         "oid sha256:4f1a2b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a\nsize 94371840\n")
    assert_matches(lfs, "model.file.not-a-checkpoint")


@pytest.mark.parametrize("text", [
    "ValueError: File not found: filepath=models/latest.keras. Please ensure the file is an accessible `.keras` "
    "zip file.",
    "OSError: No file or directory found at ./saved/cnn_v3.h5",
    "FileNotFoundError: [Errno 2] Unable to synchronously open file (unable to open file: name = 'best.h5', "
    "errno = 2, error message = 'No such file or directory', flags = 0, o_flags = 0)",
])
def test_missing_model_file_is_not_a_format_problem(text):
    """Missing model files are ordinary failures: nothing confident."""
    assert_silent(text)


def test_truncated_model_file_is_not_a_checkpoint():
    """A half-downloaded .h5 is not a Keras format problem but a file that is not the checkpoint it claims to be."""
    text = "OSError: Unable to open file (truncated file: eof = 33554432, sblock->base_addr = 0, stored_eof = 248007048)"
    assert_matches(text, "model.file.not-a-checkpoint", confident=False)


def test_object_array_vs_kerastensor_conversion():
    """An object array is a dtype problem; converting a Keras 3 KerasTensor is not."""
    assert_matches("ValueError: Failed to convert a NumPy array to a Tensor (Unsupported object type float).", DTYPE)
    kt = ("ValueError: Attempt to convert a value (<KerasTensor shape=(None, 128), dtype=float32, sparse=False, "
          "name=keras_tensor>) with an unsupported type (<class 'keras.src.backend.common.keras_tensor.KerasTensor'>) "
          "to a Tensor.")
    assert DTYPE not in _confident(kt)
