"""Tiny ``.tflite`` flatbuffers written with LiteRT's generated schema (no TensorFlow), shaped
like the converter's files: named tensors, constant weights in buffers, QUANTIZE / DEQUANTIZE
at the edges. Only the structure is real; nothing here is meant to run or be measured."""
from __future__ import annotations

import flatbuffers
import numpy as np

from optimizer import compat


def build(ops: list, tensors: list, inputs: list, outputs: list) -> bytes:
    """``tensors``: ``[(name, type name, shape, constant values or None)]``; ``ops``:
    ``[(builtin op name, [input tensor indices], [output tensor indices])]``."""
    s = compat.tflite_schema()
    model = s.ModelT()
    model.version = 3
    buffers = [s.BufferT()]          # buffer 0: the empty buffer every tensor may point at
    graph = s.SubGraphT()
    graph.tensors = []
    for name, dtype, shape, values in tensors:
        t = s.TensorT()
        t.name, t.shape = name.encode(), list(shape)
        t.type = getattr(s.TensorType, dtype.upper())
        t.buffer = 0
        if values is not None:
            b = s.BufferT()
            b.data = np.asarray(values).tobytes()
            buffers.append(b)
            t.buffer = len(buffers) - 1
        graph.tensors.append(t)
    codes, graph.operators = [], []
    for name, ins, outs in ops:
        code = getattr(s.BuiltinOperator, name)
        if code not in codes:
            codes.append(code)
        op = s.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = codes.index(code), list(ins), list(outs)
        graph.operators.append(op)
    graph.inputs, graph.outputs, graph.name = list(inputs), list(outputs), b"main"
    model.subgraphs, model.buffers = [graph], buffers
    model.operatorCodes = []
    for code in codes:
        c = s.OperatorCodeT()
        c.builtinCode, c.deprecatedBuiltinCode, c.version = code, min(code, 127), 1
        model.operatorCodes.append(c)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def mixed_model() -> bytes:
    """float in -> QUANTIZE -> int8 FULLY_CONNECTED (dense) -> DEQUANTIZE -> float
    FULLY_CONNECTED (dense_1, float16 weights behind a DEQUANTIZE) -> SOFTMAX: the shape of
    int8 with one layer kept in float."""
    w8 = np.ones((4, 4), np.int8)
    w16 = np.ones((2, 4), np.float16)
    tensors = [
        ("input_1", "float32", (1, 4), None),                                       # 0
        ("tfl.quantize", "int8", (1, 4), None),                                     # 1
        ("m/dense/MatMul", "int8", (4, 4), w8),                                     # 2
        ("m/dense/MatMul;m/dense/Relu;m/dense/BiasAdd", "int8", (1, 4), None),      # 3
        ("tfl.dequantize", "float32", (1, 4), None),                                # 4
        ("m/dense_1/MatMul16", "float16", (2, 4), w16),                             # 5
        ("m/dense_1/MatMul", "float32", (2, 4), None),                              # 6
        ("m/dense_1/MatMul;m/dense_1/BiasAdd", "float32", (1, 2), None),            # 7
        ("Identity", "float32", (1, 2), None),                                      # 8
    ]
    ops = [("QUANTIZE", [0], [1]), ("FULLY_CONNECTED", [1, 2], [3]), ("DEQUANTIZE", [3], [4]),
           ("DEQUANTIZE", [5], [6]), ("FULLY_CONNECTED", [4, 6], [7]), ("SOFTMAX", [7], [8])]
    return build(ops, tensors, [0], [8])
