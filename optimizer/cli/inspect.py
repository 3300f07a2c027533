"""``python -m optimizer inspect --model REF [--data PATH] [--json FILE|-]``: the model card.

Loads the model (TensorFlow), lists its layers and parameters, converts it once to a float32
``.tflite`` to report its size and ops, and describes the data splits. The app calls this
through ``optimizer.models.cards.describe_model``, which runs it in a subprocess and caches the JSON.
"""
from __future__ import annotations

from optimizer.cli import UsageError
from optimizer.cli.check import add_data_options, data_options
from optimizer.cli.output import write_json


def add_parser(sub) -> None:
    p = sub.add_parser("inspect", help="describe a model: layers, parameters, float size, ops")
    p.add_argument("--model", required=True, metavar="NAME_OR_PATH",
                   help="a built-in demo, a checked upload (upload.json), or a model file "
                        "(.h5/.keras, SavedModel .zip, .tflite: checked first)")
    p.add_argument("--data", metavar="PATH", help=".npz, image zip or CSV (needed for a model "
                                                 "file)")
    add_data_options(p)
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                   help="write the card as JSON to FILE (or - for stdout)")
    p.set_defaults(func=run)


def _shape(shape) -> list | None:
    if shape is None:
        return None
    if isinstance(shape, list):  # several inputs/outputs
        return [_shape(s) for s in shape]
    return [None if d is None else int(d) for d in tuple(shape)[1:]]


def model_card(ref: str, data: str | None = None) -> dict:
    """Describe a model: identity, layers, parameters, float32 .tflite size and ops, data.

    Imports TensorFlow (call it in a job process, or use ``cards.describe_model``).
    """
    import numpy as np

    from optimizer.engine.convert import convert
    from optimizer.guide.configs import PtqConfig
    from optimizer.measuring.facts import tflite_facts
    from optimizer.models.resolve import resolve_model

    bundle = resolve_model(ref, data)
    source = bundle.load_source()
    facts = tflite_facts(convert(source, PtqConfig.float32()).tflite)
    dataset = bundle.dataset
    card = {
        "name": bundle.name, "title": bundle.title or bundle.name,
        "description": bundle.description, "ref": bundle.ref, "kind": bundle.kind,
        "sha256": bundle.sha256, "retrain_blocker": bundle.retrain_blocker,
        "float32_tflite_bytes": facts.size_bytes, "float32_tflite_gzip_bytes": facts.gzip_bytes,
        "ops": list(facts.ops), "task": dataset.task, "num_classes": dataset.num_classes,
        "class_names": list(dataset.class_names), "data": dataset.sizes(),
        "data_kind": getattr(dataset.kind, "value", str(dataset.kind)),
    }
    if hasattr(source, "layers"):  # a Keras model
        card.update(
            params=int(source.count_params()),
            trainable_params=int(sum(np.prod(w.shape) for w in source.trainable_weights)),
            layers=[{"name": layer.name, "type": type(layer).__name__,
                     "output_shape": _shape(getattr(layer, "output_shape", None)),
                     "params": int(layer.count_params())} for layer in source.layers],
            input_shape=_shape(source.input_shape), output_shape=_shape(source.output_shape))
    else:  # an upload without a Keras model: what its check recorded
        from optimizer.models.uploads.prepare import PreparedUpload

        upload = PreparedUpload.load(bundle.ref)
        inputs, outputs = upload.signature["inputs"], upload.signature["outputs"]
        card.update(params=upload.params, trainable_params=None, layers=upload.layers,
                    input_shape=_shape_list([i["shape"] for i in inputs]),
                    output_shape=_shape_list([o["shape"] for o in outputs]))
    return card


def _shape_list(shapes) -> list | None:
    cleaned = [[None if d is None else int(d) for d in s[1:]] for s in shapes]
    return cleaned[0] if len(cleaned) == 1 else cleaned


def run(args) -> int:
    from optimizer.cli.run import needs_check

    if needs_check(args.model):  # an unchecked model file: check it into a temporary folder
        import tempfile

        from optimizer.models.uploads import prepare_upload

        with tempfile.TemporaryDirectory(prefix="optimizer-inspect-") as folder:
            upload = prepare_upload(args.model, args.data, folder, data_options(args))
            return _describe(args, upload.manifest_path, None)
    return _describe(args, args.model, args.data)


def _describe(args, model: str, data: str | None) -> int:
    try:
        card = model_card(model, data)
    except (ValueError, FileNotFoundError):
        raise
    except Exception as exc:  # e.g. an unreadable model file: one line, never a traceback
        text = str(exc).strip()
        raise UsageError(f"cannot describe {args.model}: {type(exc).__name__}: "
                         f"{text.splitlines()[0] if text else 'no message'}") from None
    if args.json is not None:
        write_json(card, args.json)
        return 0
    params = "?" if card["params"] is None else f"{card['params']:,}"
    trainable = "?" if card["trainable_params"] is None else f"{card['trainable_params']:,}"
    print(f"{card['title']} ({card['name']}): {params} parameters ({trainable} trainable)")
    print(f"input {card['input_shape']} -> output {card['output_shape']}; float32 .tflite "
          f"{card['float32_tflite_bytes']:,} bytes; ops: {', '.join(card['ops'])}")
    for layer in card["layers"]:
        print(f"  {layer['name']:<28} {layer['type']:<22} {str(layer['output_shape']):<20} "
              f"{layer['params'] or 0:>9,}")
    print(f"data: {card['data']}")
    return 0
