"""The baseline job: float32 plus every plain post-training variant from ONE frozen graph.

Freezing the Keras model (variables folded into constants) is the expensive, shareable part of
a conversion; each variant then converts from the frozen graph in about a second (measured on
MobileNetV2-0.35: 27-36 s per ``from_keras_model`` call, versus one ~2 s freeze and ~1-2.5 s
per variant). This is what makes the ptq-sweep fast. The float32 baseline is converted and
evaluated first: it checks every op converts, and its outputs are the reference of the rest.
"""
from __future__ import annotations

import sys
import traceback

from optimizer.engine.context import (
    JobContext,
    convert_and_measure,
    convert_spec,
    error_message,
    load_step,
    timer,
)
from optimizer.guide.registry import TechniqueId, parse_spec
from optimizer.guide.schema import Result, Status
from optimizer.text import msg


def run_baseline(ctx: JobContext) -> None:
    """Convert and measure float32 and the job's post-training specs (float32 first)."""
    from optimizer.engine.convert import freeze_model

    specs = [TechniqueId.FLOAT32.value] + [s for s in ctx.job.specs
                                           if s != TechniqueId.FLOAT32.value]
    start = timer()
    ctx.progress(specs, msg("load model"), 0.02, msg("loading {name} and its data", name=ctx.bundle.name))
    model = ctx.bundle.load_source()  # a Keras model, or an upload's SavedModel / .tflite
    dataset = ctx.bundle.dataset
    steps = [load_step(ctx, timer() - start)]
    notes, source, frozen_at = [], model, timer()
    if not hasattr(model, "layers"):
        steps.append(_source_step(model))
    else:
        ctx.progress(specs, msg("freeze"), 0.08, msg("freezing the graph once for every variant"))
        try:
            source = freeze_model(model)
            steps.append(f"graph frozen once ({timer() - frozen_at:.1f} s), shared by "
                         + ", ".join(specs))
        except Exception as exc:  # the converter can still start from the Keras model, slower
            print("--- freezing failed ---", file=sys.stderr)
            traceback.print_exc()
            steps.append("converted from the Keras model (freezing failed)")
            notes.append(f"could not freeze the graph once ({error_message(exc)}); each variant "
                         f"was converted from the Keras model (slower)")
    prep_seconds = timer() - start
    cache: dict = {}

    def representative():
        if "rep" not in cache:
            cache["rep"] = dataset.representative(ctx.settings.calibration_samples)
        return cache["rep"]

    blocker = _quantized_upload(model)
    early: dict = {}
    for spec in specs:
        if spec != TechniqueId.FLOAT32.value and blocker:
            ctx.add(Result.failed(spec, f"not applicable: {blocker}", model=ctx.bundle.name,
                                  status=Status.SKIPPED))
            continue
        if spec != TechniqueId.FLOAT32.value and not ctx.results[TechniqueId.FLOAT32.value].ok:
            ctx.fail_remaining("not run: the float32 baseline failed, so there is nothing to "
                               "compare against")
            break
        needs_data = ctx.settings.ptq(TechniqueId(spec)).needs_calibration
        convert_and_measure(ctx, spec, source, steps, prep_seconds, notes, fraction=(0.15, 0.95),
                            representative=representative if needs_data else None,
                            converted=early.pop(spec, None))
        if spec == TechniqueId.FLOAT32.value and ctx.results[spec].ok and not blocker:
            # int16x8's evaluation (reference kernels, one core each) starts now, beside the
            # other variants' conversions, instead of after them
            early = convert_early(ctx, specs[1:], source, 0.15, representative)


def convert_early(ctx: JobContext, specs: list, source, fraction: float,
                  representative=None) -> dict:
    """Convert now the specs whose files run on single-threaded reference kernels (int16x8)
    and start their test outputs beside the rest of the job (``OutputsBeside``): spec ->
    ``(conversion, outputs)`` for ``convert_and_measure``'s ``converted``. A spec that fails
    here is left out: converted again in its turn, it fails there with its error."""
    from optimizer.measuring.accuracy import REFERENCE_KERNEL_FORMATS, OutputsBeside

    early = {}
    for spec in specs:
        if parse_spec(spec).conversion.value not in REFERENCE_KERNEL_FORMATS:
            continue
        needs_data = ctx.settings.ptq(parse_spec(spec).conversion).needs_calibration
        try:
            conversion = convert_spec(ctx, spec, source, fraction,
                                      representative if needs_data else None)
            early[spec] = (conversion, OutputsBeside(conversion.tflite, ctx.bundle.dataset.x_test))
        except Exception:  # noqa: BLE001 - measured (and reported) again in its turn
            traceback.print_exc()
    return early


def _quantized_upload(source) -> str | None:
    """Why the post-training techniques do not apply: an uploaded .tflite that is already
    quantized (measured as uploaded, in the baseline's place); None otherwise."""
    from optimizer.measuring.formats import quantized_blocker, tflite_format
    from optimizer.models.sources import TfliteSource

    if not isinstance(source, TfliteSource):
        return None
    return quantized_blocker(tflite_format(source.tflite))


def _source_step(source) -> str:
    """The pipeline step that says where an upload without a Keras model converts from."""
    from optimizer.models.sources import SavedModelSource

    if isinstance(source, SavedModelSource):
        return "converted from the SavedModel (TFLiteConverter.from_saved_model)"
    return ("the uploaded float .tflite is the float32 baseline; other variants by the LiteRT "
            "Quantizer")
