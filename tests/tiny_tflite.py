"""A tiny ``.tflite`` written with LiteRT's flatbuffer schema alone (no TensorFlow): float32
input [1, 4] -> ADD(x, x) -> MUL(., .) -> output, for fast tests of code that reads files."""
from __future__ import annotations


def tiny_tflite(ops=("ADD", "MUL")) -> bytes:
    """The model as bytes: each op of ``ops`` (binary, float32) applied to the previous result
    and itself, in order."""
    import flatbuffers

    from optimizer import compat

    schema = compat.tflite_schema()
    model = schema.ModelT()
    model.version = 3
    model.buffers = [schema.BufferT()]
    graph = schema.SubGraphT()
    graph.tensors, graph.operators = [], []
    model.operatorCodes = []
    for i in range(len(ops) + 1):
        tensor = schema.TensorT()
        tensor.shape, tensor.type, tensor.buffer = [1, 4], schema.TensorType.FLOAT32, 0
        tensor.name = f"t{i}".encode()
        graph.tensors.append(tensor)
    for i, name in enumerate(ops):
        code = schema.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = getattr(schema.BuiltinOperator, name)
        code.version = 1
        model.operatorCodes.append(code)
        op = schema.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = i, [i, i], [i + 1]
        graph.operators.append(op)
    graph.inputs, graph.outputs = [0], [len(ops)]
    model.subgraphs = [graph]
    builder = flatbuffers.Builder(256)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
