"""Adding a ``serving_default`` signature to a ``.tflite`` that has none (flatbuffer edit).

Files converted from a frozen graph carry no signature; signature runners and the LiteRT
Quantizer's calibration need one. Needs only LiteRT's flatbuffer schema (no TensorFlow).
"""
from __future__ import annotations

from optimizer import compat


def add_signature(tflite: bytes, input_names=None, output_names=None,
                  key: str = "serving_default") -> bytes:
    """Return the file with a ``serving_default`` signature over subgraph 0, if it has none.

    Names default to the tensors' own names. Files that already have a signature come back
    unchanged. Needs only LiteRT's flatbuffer schema (no TensorFlow). Raises ``ValueError``
    for files whose buffers live outside the flatbuffer (they cannot be re-serialized here).
    """
    import flatbuffers

    schema = compat.tflite_schema()
    if schema.Model.GetRootAs(tflite, 0).SignatureDefsLength():
        return bytes(tflite)
    model = schema.ModelT.InitFromPackedBuf(bytearray(tflite), 0)
    if any(b.offset and b.offset > 1 for b in (model.buffers or [])):
        raise ValueError("this .tflite keeps its weights outside the flatbuffer and has no "
                         "signature; re-export it with a signature (serving_default)")
    graph = model.subgraphs[0]

    def mapping(indices, names):
        entries = []
        for i, index in enumerate(indices):
            entry = schema.TensorMapT()
            own = graph.tensors[int(index)].name
            own = own.decode() if isinstance(own, bytes) else str(own)
            entry.name = names[i] if names and i < len(names) else own
            entry.tensorIndex = int(index)
            entries.append(entry)
        return entries

    signature = schema.SignatureDefT()
    signature.signatureKey = key
    signature.subgraphIndex = 0
    signature.inputs = mapping(list(graph.inputs), list(input_names or []))
    signature.outputs = mapping(list(graph.outputs), list(output_names or []))
    model.signatureDefs = [signature]
    builder = flatbuffers.Builder(len(tflite) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
