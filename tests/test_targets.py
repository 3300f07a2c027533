"""The target table: one row per target, and what derives from it."""
from optimizer.guide.registry import TECHNIQUES, TechniqueId, parse_spec
from optimizer.guide.targets import (
    TARGET_LABELS,
    TARGETS,
    Format,
    Target,
    integer_only_targets,
    target_info,
    targets_running,
)


def test_every_target_has_one_row():
    assert list(TARGETS) == list(Target)
    assert TARGET_LABELS == {t: TARGETS[t].label for t in Target}
    assert target_info("edgetpu") is TARGETS[Target.EDGETPU]


def test_formats_decide_where_a_technique_runs():
    npus = {Target.NPU_QUALCOMM, Target.NPU_INTEL}
    assert targets_running([Format.INT8_ONLY]) == {Target.CPU, Target.GPU_ANDROID,
                                                   Target.EDGETPU, Target.MCU} | npus
    assert TECHNIQUES[TechniqueId.FLOAT16].targets == {Target.CPU, Target.GPU,
                                                       Target.GPU_ANDROID} | npus
    assert TECHNIQUES[TechniqueId.INT16X8].targets == {Target.CPU, Target.MCU}
    assert TECHNIQUES[TechniqueId.MIXED].targets == {Target.CPU, Target.MCU}
    assert TECHNIQUES[TechniqueId.INT4_WEIGHTS].targets == {Target.CPU}
    assert parse_spec("qat+integer_only").targets == parse_spec("integer_only").targets
    assert parse_spec("pruning").targets == parse_spec("float32").targets


def test_integer_only_and_float_only_targets_come_from_the_rows():
    assert integer_only_targets() == {Target.EDGETPU, Target.MCU}
    assert [t for t in Target if TARGETS[t].float_only] == [Target.GPU]
    assert [t for t in Target if TARGETS[t].measured_here] == [Target.CPU]
    for target in integer_only_targets():
        assert TARGETS[target].float_reason
        assert TARGETS[target].int16x8_reason or TARGETS[target].runs(Format.INT16X8)


def test_layer_precisions_come_from_the_formats():
    """Integer-only targets never get float layers; int16 only where int16x8 runs."""
    assert TARGETS[Target.CPU].layer_precisions == ("int8", "int16", "float")
    assert TARGETS[Target.MCU].layer_precisions == ("int8", "int16")
    assert TARGETS[Target.MCU].plan_io == "integer" and TARGETS[Target.CPU].plan_io == "float"
    for target in Target:
        info = TARGETS[target]
        if info.integer_only:
            assert "float" not in info.layer_precisions
        if "int16" in info.layer_precisions:
            assert info.runs(Format.INT16X8)
    assert TARGETS[Target.EDGETPU].layer_precisions == ()   # int8 only: nothing to plan


def test_a_new_target_row_changes_the_derived_answers(monkeypatch):
    """What a row says is what the rules use: take the desktop GPU's float16 away and float16
    no longer runs there."""
    from dataclasses import replace

    from optimizer.guide import targets

    gpu = replace(TARGETS[Target.GPU], formats=frozenset({Format.FLOAT32}))
    monkeypatch.setitem(targets.TARGETS, Target.GPU, gpu)
    assert Target.GPU not in TECHNIQUES[TechniqueId.FLOAT16].targets
    assert Target.GPU in TECHNIQUES[TechniqueId.FLOAT32].targets


def test_every_format_has_its_own_marker_and_words():
    markers = [f.marker for f in Format]
    assert len(set(markers)) == len(markers) and all(markers)
    assert all(f.label for f in Format)
    assert [f for f in Format if not f.not_integer_only] == [Format.INT8_ONLY]
    # charts draw a conversion's files with its format's marker (never float32's circle)
    from optimizer.report import style

    for tid, row in TECHNIQUES.items():
        if row.is_conversion:
            assert style.technique_symbol(tid.value) == row.format.marker
            assert style.technique_symbol(f"pruning+{tid.value}") == row.format.marker


def test_each_target_names_the_int8_form_it_needs_once():
    from optimizer.guide.registry import int8_conversion

    for target, info in TARGETS.items():
        form = int8_conversion(target)
        if form is None:
            assert info.float_only
            continue
        row = TECHNIQUES[form]
        assert target in row.targets and row.format in (Format.INT8_ONLY, Format.INT8_FLOAT_IO)
        assert row.integer_only == (target in integer_only_targets())
