"""The technique registry and spec parsing: one table, read by everything else."""
import pytest

from optimizer.guide.registry import (
    DATA_ORDER,
    QAT_FAMILY,
    TECHNIQUES,
    DataNeed,
    Family,
    TechniqueId,
    parse_spec,
    technique,
)
from optimizer.guide.targets import Target


def test_every_id_has_one_row_with_the_guides_facts():
    assert set(TECHNIQUES) == set(TechniqueId)
    for tid, info in TECHNIQUES.items():
        assert info.id is tid
        assert info.title and info.summary and info.guide_size and info.guide_accuracy
        assert info.targets, f"{tid} runs nowhere"
        assert info.data in DATA_ORDER


@pytest.mark.parametrize("tid, data, retrains", [
    ("float16", DataNeed.NONE, False),
    ("dynamic_range", DataNeed.NONE, False),
    ("integer", DataNeed.REPRESENTATIVE, False),
    ("integer_only", DataNeed.REPRESENTATIVE, False),
    ("int16x8", DataNeed.REPRESENTATIVE, False),
    ("qat", DataNeed.LABELLED, True),
    ("pruning", DataNeed.LABELLED, True),
    ("clustering", DataNeed.LABELLED, True),
    ("pcqat", DataNeed.LABELLED, True),
])
def test_data_needs_follow_the_guides_table(tid, data, retrains):
    info = technique(tid)
    assert info.data is data and info.retrains is retrains


def test_guide_table_wording_is_kept():
    assert technique("float16").guide_size == "Up to 50%"
    assert technique("float16").guide_accuracy == "Insignificant accuracy loss"
    assert technique("dynamic_range").guide_hardware == "CPU, GPU (Android)"
    assert technique("qat").guide_accuracy == "Smallest accuracy loss"


def test_integer_only_hardware():
    for tid in TechniqueId:
        runs_on_edgetpu = Target.EDGETPU in technique(tid).targets
        assert runs_on_edgetpu == (tid in {TechniqueId.INTEGER_ONLY, *QAT_FAMILY}), tid
    assert technique("int16x8").targets == {Target.CPU, Target.MCU}   # TFLite Micro runs it
    assert technique("mixed").targets == {Target.CPU, Target.MCU}


@pytest.mark.parametrize("text, base, conversion, preserve, canonical", [
    ("float32", "float32", "float32", False, "float32"),
    (" dynamic_range ", "dynamic_range", "dynamic_range", False, "dynamic_range"),
    ("pruning", "pruning", "float32", False, "pruning"),
    ("pruning+dynamic_range", "pruning", "dynamic_range", False, "pruning+dynamic_range"),
    ("clustering+integer", "clustering", "integer", False, "clustering+integer"),
    ("pruning+clustering", "pruning", "float32", True, "pruning+clustering"),
    ("pruning+clustering+integer_only", "pruning", "integer_only", True,
     "pruning+clustering+integer_only"),
    ("pruning+float32", "pruning", "float32", False, "pruning"),
    ("qat", "qat", "integer", False, "qat"),
    ("qat+integer", "qat", "integer", False, "qat"),
    ("pcqat+integer_only", "pcqat", "integer_only", False, "pcqat+integer_only"),
])
def test_parse_spec(text, base, conversion, preserve, canonical):
    spec = parse_spec(text)
    assert (spec.base.value, spec.conversion.value) == (base, conversion)
    assert spec.combined is preserve
    assert spec.text == canonical == str(spec)
    assert parse_spec(spec.text) == spec


@pytest.mark.parametrize("text, fragment", [
    ("", "unknown technique"),
    ("magic", "unknown technique 'magic'"),
    ("float16+integer", "already a conversion"),
    ("qat+float16", r"only \+integer"),
    ("pruning+qat", "use pqat, cqat or pcqat"),
    ("pruning+dynamic_range+integer", "too many steps"),
])
def test_parse_spec_errors_name_the_fix(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_spec(text)


def test_spec_properties_combine_steps():
    assert parse_spec("pruning+integer").data is DataNeed.LABELLED
    assert parse_spec("integer").data is DataNeed.REPRESENTATIVE
    assert parse_spec("qat").targets == {Target.CPU, Target.GPU_ANDROID, Target.NPU_QUALCOMM,
                                         Target.NPU_INTEL}
    assert Target.EDGETPU in parse_spec("qat+integer_only").targets
    assert Target.EDGETPU in parse_spec("pruning+integer_only").targets
    assert parse_spec("pruning").targets == technique("float32").targets
    assert parse_spec("dynamic_range").is_post_training
    assert not parse_spec("pruning+dynamic_range").is_post_training
    assert not parse_spec("float32").is_post_training      # the baseline is no quantization
    assert technique("float32").is_baseline and not technique("float32").is_post_training


def test_to_dict_is_json_ready():
    import json

    rows = [info.to_dict() for info in TECHNIQUES.values()]
    assert json.loads(json.dumps(rows))[0]["id"] == "float32"
    # the keys of `techniques --json` stay (keys may be added)
    assert {"id", "title", "family", "data", "data_label", "retrains", "guide_size",
            "guide_accuracy", "guide_hardware", "targets", "size_factor", "summary", "source",
            "hardware_note"} <= set(rows[0])
    assert {r["family"] for r in rows} == {f.value for f in Family}


# -- a technique is one complete object; a forgotten piece fails loudly -----------------------

def _fields(tid: str, **overrides):
    from optimizer.guide.registry import TECHNIQUES

    row = TECHNIQUES[TechniqueId(tid)]
    values = {f: getattr(row, f) for f in row.__dataclass_fields__}
    values.update(overrides)
    return values


def test_a_conversion_without_converter_options_or_recipe_fails_when_built():
    from optimizer.guide.technique import TechniqueInfo

    with pytest.raises(ValueError, match="ConverterOptions or a QuantizerRecipe"):
        TechniqueInfo(**_fields("float16", converter=None, quantizer=None))
    # a technique only the LiteRT Quantizer can express needs no converter options
    only = TechniqueInfo(**_fields("float16", converter=None))
    assert only.quantizer_only and not only.calibrates


def test_a_retraining_technique_without_size_class_fails_when_built():
    from optimizer.guide.technique import TechniqueInfo

    with pytest.raises(ValueError, match="size_class"):
        TechniqueInfo(**_fields("pruning", size_class=None))


def test_a_quantizer_recipe_says_exactly_what_it_does():
    from optimizer.guide.conversion import Granularity, QuantizerAlgorithm, QuantizerRecipe

    with pytest.raises(ValueError, match="exactly one"):
        QuantizerRecipe("both", recipe="static_wi8_ai8", weight_only_bits=8)
    with pytest.raises(ValueError, match="16-bit floats"):
        QuantizerRecipe("fp8?", weight_only_bits=8, algorithm=QuantizerAlgorithm.FLOAT_CASTING)
    with pytest.raises(ValueError, match="2, 4 or 8"):
        QuantizerRecipe("int3", weight_only_bits=3)
    int4 = QuantizerRecipe("int4 blockwise", weight_only_bits=4, granularity="BLOCKWISE_32")
    assert int4.granularity is Granularity.BLOCKWISE_32
    (call,) = int4.calls()
    assert call.source == ("quantizer.add_weight_only_config(regex='.*', "
                           "operation_name=recipe.TFLOperationName.ALL_SUPPORTED, num_bits=4, "
                           "granularity=recipe.QuantGranularity('BLOCKWISE_32'), "
                           "algorithm_key=recipe.AlgorithmName('min_max_uniform_quantize'))")


def test_a_retraining_technique_without_stages_or_conversions_fails_when_built():
    from optimizer.guide.technique import TechniqueInfo

    with pytest.raises(ValueError, match="stages"):
        TechniqueInfo(**_fields("qat", stages=()))
    with pytest.raises(ValueError, match="conversions"):
        TechniqueInfo(**_fields("pruning", conversions=()))


def test_stages_out_of_order_fail_when_built():
    from optimizer.guide.technique import Stage, StageKind, TechniqueInfo

    with pytest.raises(ValueError, match="STAGE_ORDER"):
        TechniqueInfo(**_fields("pqat", stages=(Stage(StageKind.QAT), Stage(StageKind.PRUNING))))


def test_every_id_has_one_complete_row():
    from optimizer.guide.registry import TECHNIQUES, conversions_after

    assert list(TECHNIQUES) == list(TechniqueId)
    for tid, row in TECHNIQUES.items():
        assert row.id == tid and row.action
        if row.is_conversion:
            # the converter's options, or only a LiteRT Quantizer recipe (float32 first)
            assert (row.converter is not None or row.quantizer_only) and not row.stages
        else:
            assert row.stages and row.conversions
            assert all(TECHNIQUES[c].is_conversion for c in conversions_after(tid))


def test_the_litert_quantizer_covers_every_post_training_quantization():
    from optimizer.guide.registry import POST_TRAINING, TECHNIQUES

    assert all(TECHNIQUES[t].quantizer is not None for t in POST_TRAINING)
    assert TECHNIQUES[TechniqueId.FLOAT32].quantizer is None   # the float file is the input


def test_calibration_need_comes_from_the_converter_options():
    from optimizer.guide.configs import PtqConfig
    from optimizer.guide.registry import TECHNIQUES

    for tid, row in TECHNIQUES.items():
        if row.is_conversion:
            made = row.converter if row.converter is not None else row.quantizer
            assert PtqConfig(tid).needs_calibration == made.calibrate
    assert parse_spec("qat").calibrates is False          # QAT learned its ranges
    assert parse_spec("pruning+integer").calibrates is True


def test_the_baseline_is_the_one_row_whose_family_says_so():
    from optimizer.guide.registry import BASELINE, TECHNIQUES
    from optimizer.guide.schema import Result

    baselines = [tid for tid, row in TECHNIQUES.items() if row.is_baseline]
    assert baselines == [BASELINE] and BASELINE == "float32"
    assert Result(technique=BASELINE).is_baseline
    assert not Result(technique="int8_fallback").is_baseline
