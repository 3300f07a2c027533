"""Small integer-only int8 ``.tflite`` files, each breaking one rule of Coral's Edge TPU op table
(or one model requirement), and the rule's words the verdict must cite.

Most are a ``tf.function`` converted by TensorFlow's converter (int8 ops, int8 I/O). A few
limits cannot come out of today's converter -- it fuses no activation into CONCATENATION,
writes only the default FULLY_CONNECTED weights format, folds ellipsis and new-axis masks of a
strided slice and turns SQUEEZE into RESHAPE -- so those files are a converted file with the
one field changed through LiteRT's flatbuffer schema (``mutate``), which is what a file from
another tool could hold.
"""
from __future__ import annotations

import numpy as np

#: name -> (the op the verdict names, words of the rule it must cite)
EXPECTED = {
    "strided_slice_stride2": ("STRIDED_SLICE", "strides must be 1"),
    "strided_slice_ellipsis": ("STRIDED_SLICE", "ellipsis_mask must be 0"),
    "strided_slice_new_axis": ("STRIDED_SLICE", "new_axis_mask must be 0"),
    "concat_constant": ("CONCATENATION", "constant input is allowed only"),
    "concat_fused": ("CONCATENATION", "no fused activation"),
    "max_pool_fused": ("MAX_POOL_2D", "no fused activation"),
    "avg_pool_fused": ("AVERAGE_POOL_2D", "no fused activation"),
    "conv_dilation": ("CONV_2D", "same dilation in x and y"),
    "depthwise_dilation": ("DEPTHWISE_CONV_2D", "same dilation in x and y"),
    "fc_weights_format": ("FULLY_CONNECTED", "default weights format"),
    "fc_3d_output": ("FULLY_CONNECTED", "output tensor must be one-dimensional"),
    "mean_batch": ("MEAN", "no reduction in the batch dimension"),
    "mean_z": ("MEAN", "multiple of 4"),
    "sum_batch": ("SUM", "no reduction in the batch dimension"),
    "sum_z": ("SUM", "multiple of 4"),
    "reduce_max_batch": ("REDUCE_MAX", "no reduction in the batch dimension"),
    "reduce_min_batch": ("REDUCE_MIN", "no reduction in the batch dimension"),
    "pad_batch": ("PAD", "no padding in the batch dimension"),
    "pack_batch": ("PACK", "no packing in the batch dimension"),
    "split_batch": ("SPLIT", "no splitting in the batch dimension"),
    "unpack": ("UNPACK", "not in the Edge TPU's supported operations"),
    "resize_bilinear_batch": ("RESIZE_BILINEAR", "3-dimensional tensors"),
    "resize_nearest_batch": ("RESIZE_NEAREST_NEIGHBOR", "3-dimensional tensors"),
    "prelu_alpha_shape": ("PRELU", "alpha must be 1-dimensional"),
    "prelu_alpha_computed": ("PRELU", "parameters must be constant"),
    "conv_weights_computed": ("CONV_2D", "parameters must be constant"),
    "softmax_2d": ("SOFTMAX", "1-D input"),
    "squeeze_relayout": ("SQUEEZE", "leading dimensions of 1"),
    "int32_tensor": ("ADD", "non-constant int32 tensors"),
    "four_dims": ("MUL", "more than 3 innermost dimensions"),
}


def convert(tf, fn, shapes, dtypes=None) -> bytes:
    """``fn`` on inputs of ``shapes`` as an integer-only int8 ``.tflite`` (int8 I/O)."""
    dtypes = dtypes or [tf.float32] * len(shapes)
    specs = [tf.TensorSpec(s, d) for s, d in zip(shapes, dtypes)]
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [tf.function(fn).get_concrete_function(*specs)])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(0)

    def representative():
        for _ in range(8):
            yield [rng.random(s).astype(np.float32) if d == tf.float32 else
                   rng.integers(0, 3, s).astype(np.int32) for s, d in zip(shapes, dtypes)]

    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def mutate(schema, data: bytes, change) -> bytes:
    """``data`` with ``change(model)`` applied to its object tree (``schema.ModelT``)."""
    import flatbuffers

    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    change(model, model.subgraphs[0])
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _first(graph, model, schema, name):
    code = getattr(schema.BuiltinOperator, name)
    return next(op for op in graph.operators
                if max(model.operatorCodes[op.opcodeIndex].builtinCode,
                       model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode) == code)


def _set_options(schema, name, **fields):
    def change(model, graph):
        options = _first(graph, model, schema, name).builtinOptions
        for key, value in fields.items():
            setattr(options, key, value)
    return change


def _computed_input(schema, name, index):
    def change(model, graph):
        graph.tensors[_first(graph, model, schema, name).inputs[index]].buffer = 0
    return change


def _to_squeeze(schema):
    """The RESHAPE [1, 5, 1, 10] -> [1, 5, 10] as the SQUEEZE of axis 2 it stands for."""
    def change(model, graph):
        op = _first(graph, model, schema, "RESHAPE")
        code = schema.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.SQUEEZE
        code.version = 1
        model.operatorCodes.append(code)
        op.opcodeIndex = len(model.operatorCodes) - 1
        op.inputs = op.inputs[:1]
        op.builtinOptionsType = schema.BuiltinOptions.SqueezeOptions
        op.builtinOptions = schema.SqueezeOptionsT()
        op.builtinOptions.squeezeDims = [2]
    return change


def build_all(tf, keras, schema) -> dict:
    """``{name: .tflite bytes}`` for every entry of ``EXPECTED`` (plus ``fine``: one that meets
    every rule, and ``concat_zero_pad``: a constant all-zero second input, which is allowed)."""
    rng = np.random.default_rng(1)
    kernel = tf.constant(rng.random((3, 3, 3, 4)).astype("float32"))
    prelu = keras.Sequential([keras.Input((4, 4, 3)),
                              keras.layers.PReLU(alpha_initializer="ones")])
    f = tf.float32
    made = {
        "fine": convert(tf, lambda x: tf.nn.relu(tf.nn.conv2d(x, kernel, 1, "SAME")),
                        [(1, 8, 8, 3)]),
        "strided_slice_stride2": convert(tf, lambda x: x[:, ::2, :, :] * 1.0, [(1, 8, 8, 3)]),
        "strided_slice_plain": convert(tf, lambda x: x[:, 1:5, :, :] * 1.0, [(1, 8, 8, 3)]),
        "concat_constant": convert(tf, lambda x: tf.concat([x, tf.ones((1, 4, 4, 3))], -1),
                                   [(1, 4, 4, 3)]),
        "concat_plain": convert(tf, lambda x: tf.concat([x, x * 2.0], -1), [(1, 4, 4, 3)]),
        "max_pool_fused": convert(tf, lambda x: tf.nn.relu(tf.nn.max_pool2d(x, 2, 2, "VALID")),
                                  [(1, 4, 4, 3)]),
        "avg_pool_fused": convert(tf, lambda x: tf.nn.relu(tf.nn.avg_pool2d(x, 2, 2, "VALID")),
                                  [(1, 4, 4, 3)]),
        "conv_dilation": convert(tf, lambda x: tf.nn.conv2d(x, kernel, 1, "SAME",
                                                            dilations=[1, 1, 2, 1]),
                                 [(1, 8, 8, 3)]),
        "depthwise_dilation": convert(tf, lambda x: tf.nn.depthwise_conv2d(
            x, tf.ones((3, 3, 3, 1)), [1, 1, 1, 1], "SAME", dilations=[1, 2]), [(1, 8, 8, 3)]),
        "fc": convert(tf, lambda x: tf.matmul(x, tf.ones((8, 5))), [(1, 8)]),
        "fc_3d_output": convert(tf, lambda x: tf.matmul(x, tf.ones((8, 5))), [(1, 4, 8)]),
        "mean_batch": convert(tf, lambda x: tf.reduce_mean(x, 0, keepdims=True), [(2, 4, 4)]),
        "mean_z": convert(tf, lambda x: tf.reduce_mean(x, -1), [(1, 4, 4, 3)]),
        "sum_batch": convert(tf, lambda x: tf.reduce_sum(x, 0, keepdims=True), [(2, 4, 4)]),
        "sum_z": convert(tf, lambda x: tf.reduce_sum(x, -1), [(1, 4, 4, 3)]),
        "reduce_max_batch": convert(tf, lambda x: tf.reduce_max(x, 0, keepdims=True),
                                    [(2, 4, 4)]),
        "reduce_min_batch": convert(tf, lambda x: tf.reduce_min(x, 0, keepdims=True),
                                    [(2, 4, 4)]),
        "pad_batch": convert(tf, lambda x: tf.pad(x, [[1, 0], [0, 0], [0, 0]]), [(1, 4, 4)]),
        "pack_batch": convert(tf, lambda x: tf.stack([x, x * 2.0], axis=0), [(4, 4)]),
        "split_batch": convert(tf, lambda x: sum(tf.split(x * 2.0, 2, axis=0)), [(4, 6)]),
        "unpack": convert(tf, lambda x: sum(tf.unstack(x * 2.0, axis=1)), [(1, 3, 4)]),
        "resize_bilinear_batch": convert(tf, lambda x: tf.image.resize(x, (8, 8), "bilinear"),
                                         [(2, 4, 4, 3)]),
        "resize_nearest_batch": convert(tf, lambda x: tf.image.resize(x, (8, 8), "nearest"),
                                        [(2, 4, 4, 3)]),
        "prelu_alpha_shape": convert(tf, lambda x: prelu(x), [(1, 4, 4, 3)]),
        "softmax_2d": convert(tf, tf.nn.softmax, [(1, 4, 10)]),
        "reshape": convert(tf, lambda x: tf.squeeze(x, axis=2) * 1.0, [(1, 5, 1, 10)]),
        "int32_tensor": convert(tf, lambda x, i: x * 1.0 + tf.cast(i + 1, f), [(1, 4), (1, 4)],
                                [f, tf.int32]),
        "four_dims": convert(tf, lambda x: x + x * 2.0, [(2, 2, 4, 4)]),
    }
    made["strided_slice_ellipsis"] = mutate(schema, made["strided_slice_plain"], _set_options(
        schema, "STRIDED_SLICE", ellipsisMask=1))
    made["strided_slice_new_axis"] = mutate(schema, made["strided_slice_plain"], _set_options(
        schema, "STRIDED_SLICE", newAxisMask=1))
    made["concat_fused"] = mutate(schema, made["concat_plain"], _set_options(
        schema, "CONCATENATION", fusedActivationFunction=schema.ActivationFunctionType.RELU))
    made["fc_weights_format"] = mutate(schema, made["fc"], _set_options(
        schema, "FULLY_CONNECTED",
        weightsFormat=schema.FullyConnectedOptionsWeightsFormat.SHUFFLED4x16INT8))
    made["prelu_alpha_computed"] = mutate(schema, made["prelu_alpha_shape"],
                                          _computed_input(schema, "PRELU", 1))
    made["conv_weights_computed"] = mutate(schema, made["fine"],
                                           _computed_input(schema, "CONV_2D", 1))
    made["squeeze_relayout"] = mutate(schema, made["reshape"], _to_squeeze(schema))
    return made
