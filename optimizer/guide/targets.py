"""Target hardware as data: one row per target, the number formats it runs, how to talk about it.

Every target-specific decision in the library derives from ``TARGETS``: which technique files
run on a target (``runs(target, fmt)``, from each technique's ``Format``), the recommendation's
hardware rules and sentences (``optimizer.recommendation.rules``), the search's candidates, the
CLI's ``--target`` choices and the pages' labels. Adding a target is one row here and its
readiness check, registered for it in ``optimizer.measuring.readiness.registry`` (the registry
refuses to import while a row has no check).

The formats follow the guide's hardware column and its footnote ("accelerators only support a
subset of our quantization schemes") and the vendors' documented requirements (Edge TPU:
full 8-bit integer models with int8/uint8 I/O; TFLite Micro: integer kernels; GPU delegates:
float32 and float16). Nothing here is a measurement.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from optimizer.text import N_


class Target(str, Enum):
    """Target hardware, as the decision tree's footnote asks the user to account for."""

    CPU = "cpu"
    GPU = "gpu"
    GPU_ANDROID = "gpu-android"
    EDGETPU = "edgetpu"
    MCU = "mcu"
    NPU_QUALCOMM = "npu-qualcomm"
    NPU_INTEL = "npu-intel"

    def __str__(self) -> str:
        return self.value


class Format(str, Enum):
    """The number format of a produced ``.tflite``: what a target must be able to execute.

    Each member is the format's row: ``label`` (for sentences), ``marker`` (the plotly marker
    every chart draws its files with) and ``not_integer_only`` (why such a file does not run on
    an integer-only target; empty for the int8-only format itself). A new format without them
    fails when this module loads.
    """

    def __new__(cls, value: str, label: str, marker: str, not_integer_only: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.marker = marker
        member.not_integer_only = not_integer_only
        return member

    # float weights and activations
    FLOAT32 = ("float32", N_("float"), "circle", N_("a float model will not run there"))
    # float16 weights, float compute (float16 on GPUs)
    FLOAT16 = ("float16", N_("float16"), "square", N_("float16 keeps float weights and float compute"))
    # int8 weights, float activations (hybrid kernels)
    DYNAMIC_RANGE = ("dynamic-range", N_("dynamic-range"), "diamond",
                     N_("dynamic range quantization keeps float activations (mixed "
                        "integer/float execution)"))
    # int8 ops, float input/output, float fallback allowed
    INT8_FLOAT_IO = ("int8-float-io", N_("int8 with float input/output"), "triangle-up",
                     N_("integer quantization with float fallback keeps float input/output and "
                        "any float ops; integer_only is the variant it runs"))
    # every op int8, int8 (or uint8) input and output
    INT8_ONLY = ("int8-only", N_("integer-only int8"), "triangle-down", "")
    # int16 activations, int8 weights (reference kernels)
    INT16X8 = ("int16x8", N_("int16x8"), "star", N_("int16 activations are not int8"))
    # integer weights (int8/int4) dequantized to float before each op; float compute
    WEIGHT_ONLY = ("weight-only", N_("weight-only quantized"), "hexagon",
                   N_("weight-only quantization dequantizes its integer weights and computes in "
                      "float"))
    # a precision per layer (int8, int16x8 or float), from a mixed-precision plan
    MIXED = ("mixed", N_("mixed precision (int8 / int16 / float per layer)"), "pentagon",
             N_("a mixed-precision plan for it gets int8 and int16 layers only, with integer "
                "input and output"))

    def __str__(self) -> str:
        return self.value

    @property
    def is_float(self) -> bool:
        """True for float weights (float32, float16): nothing was quantized to integers."""
        return self in (Format.FLOAT32, Format.FLOAT16)

    @property
    def integer_compute(self) -> bool:
        """True for files whose ops all compute on integers (int8-only, int16x8) or can be
        planned so (mixed): what an integer-only target may run."""
        return self in (Format.INT8_ONLY, Format.INT16X8, Format.MIXED)


@dataclass(frozen=True)
class TargetInfo:
    """One target hardware.

    ``formats`` are the file formats it executes. ``phrase`` names it inside a sentence ("the
    Edge TPU"); ``float_reason`` says why files outside its formats do not run there and
    ``int16x8_reason`` why int16x8 does not. ``notes`` describe the target; ``deployment`` is
    the step the app does not do, shown beside a recommendation for it. ``measured_here`` is
    True for the CPU the app measures on (latency carries over only there). ``readiness`` is
    the method of the check that tells whether a file runs there (registered for the target
    in ``optimizer.measuring.readiness.registry``, which verifies the method at import):
    ``interpreted`` (a real runtime ran it), ``compiled`` (a real compiler processed it),
    ``partitioned`` (a real plugin placed its ops) or ``rules`` (documented requirements
    checked from the file).
    ``needs_setup`` is the command that installs what an optional check needs ("" if none).
    ``int8`` is the id of the int8 conversion this target needs (``integer_only`` where it runs
    only integer-only files, else ``integer``; None where it runs no int8 file): the technique
    registry checks at import that the target runs it. The precisions a mixed-precision plan
    may give a layer there (``layer_precisions``) follow from the formats.
    """

    id: Target
    label: str
    phrase: str
    formats: frozenset
    float_reason: str = ""
    int16x8_reason: str = ""
    notes: str = ""
    deployment: str = ""
    measured_here: bool = False
    readiness: str = "rules"
    needs_setup: str = ""
    int8: str | None = "integer"

    @property
    def integer_only(self) -> bool:
        """True when the target runs only integer files (int8 ops and int8 I/O; int16x8 and
        integer mixed-precision files where it runs those): no float op, no float layer."""
        return Format.INT8_ONLY in self.formats and all(f.integer_compute for f in self.formats)

    @property
    def layer_precisions(self) -> tuple:
        """The precisions a mixed-precision plan may give a layer on this target: ``int8``;
        ``int16`` where it runs int16x8 files; ``float`` where it runs float ops (never on an
        integer-only target). Empty where it runs no mixed-precision file."""
        if not self.runs(Format.MIXED):
            return ()
        return ("int8",) + (("int16",) if self.runs(Format.INT16X8) else ()) + \
            (() if self.integer_only else ("float",))

    @property
    def plan_io(self) -> str:
        """A mixed-precision plan's input/output here: ``integer`` on integer-only targets."""
        return "integer" if self.integer_only else "float"

    @property
    def float_only(self) -> bool:
        """True when the target runs only float files (float32 or float16)."""
        return self.formats <= frozenset({Format.FLOAT32, Format.FLOAT16})

    @property
    def ready_by_default(self) -> bool:
        """Whether the goal "must be ready for the target" is on unless the user turns it off:
        on every target but the one the app measures on (a measured variant already ran
        there), so a variant that cannot run on the target never counts as meeting the goals.
        The one owner of that rule: goals, requests and pages read it here."""
        return not self.measured_here

    def runs(self, fmt: Format) -> bool:
        """True if a file of format ``fmt`` executes on this target."""
        return Format(fmt) in self.formats

    def to_dict(self) -> dict:
        return {"id": self.id.value, "label": self.label, "formats": sorted(f.value for f in self.formats),
                "integer_only": self.integer_only, "notes": self.notes, "readiness": self.readiness,
                "int8": self.int8}


_ALL_FORMATS = frozenset(Format)
# Phone/PC NPUs: the compiler takes int8 and float (as float16) graphs; what it cannot place
# stays on the CPU, which the readiness check reports op by op. int16x8 is left to the CPU: its
# reference kernels are the only ones the guide names for it.
_NPU_FORMATS = frozenset({Format.FLOAT32, Format.FLOAT16, Format.DYNAMIC_RANGE,
                          Format.INT8_FLOAT_IO, Format.INT8_ONLY})

TARGETS: dict[Target, TargetInfo] = {row.id: row for row in [
    TargetInfo(Target.CPU, N_("CPU"), N_("a CPU"), _ALL_FORMATS,
               notes=N_("XNNPACK runs float32, float16 (as float32) and int8 files; int16x8 runs on "
                        "reference kernels only, much slower."),
               measured_here=True, readiness="interpreted"),
    TargetInfo(Target.GPU, N_("GPU (desktop GPU delegate)"), N_("a desktop GPU delegate"),
               frozenset({Format.FLOAT32, Format.FLOAT16}),
               float_reason=N_("the desktop GPU delegate runs float32 and float16 models"),
               int16x8_reason=N_("GPU delegates don't support it"),
               notes=N_("The GPU delegate computes in float16 where allowed; int8 weights are not "
                        "listed for it in the guide."),
               int8=None),
    TargetInfo(Target.GPU_ANDROID, N_("GPU on Android"), N_("the GPU on Android"),
               frozenset({Format.FLOAT32, Format.FLOAT16, Format.DYNAMIC_RANGE,
                          Format.INT8_FLOAT_IO, Format.INT8_ONLY}),
               int16x8_reason=N_("GPU delegates don't support it"),
               notes=N_("The guide lists float16, dynamic range, integer and QAT models for the GPU "
                        "on Android.")),
    TargetInfo(Target.EDGETPU, N_("Edge TPU"), N_("the Edge TPU"), frozenset({Format.INT8_ONLY}),
               float_reason=N_("the Edge TPU runs only full-integer models"),
               int16x8_reason=N_("the Edge TPU runs only int8 models"),
               notes=N_("Needs full 8-bit integer tensors and ops with int8/uint8 input and output, "
                        "static shapes; ops after the first unsupported one run on the CPU."),
               deployment=N_("The Edge TPU also needs the integer-only file compiled with "
                             "edgetpu_compiler; ops it does not support run on the CPU instead, so "
                             "check the compiler's report (Coral's model requirements)."),
               int8="integer_only"),
    # TFLite Micro has int16x8 kernels for the common ops (FULLY_CONNECTED, CONV_2D, MUL, ADD,
    # SOFTMAX, ...) and QUANTIZE between int8 and int16: measured with its interpreter on
    # int16x8 and int8/int16 mixed files of the digits-outliers demo. Its readiness check runs
    # each file, so an op without an int16 kernel is named there.
    TargetInfo(Target.MCU, N_("Microcontroller"), N_("a microcontroller"),
               frozenset({Format.INT8_ONLY, Format.INT16X8, Format.MIXED}),
               float_reason=N_("microcontrollers run only full-integer models"),
               notes=N_("TFLite Micro runs int8 kernels and int16x8 kernels (int16 activations, "
                        "int8 weights); the model must fit the flash and its tensor arena the RAM."),
               deployment=N_("Microcontrollers run the integer-only file with LiteRT for "
                             "Microcontrollers; check that it fits the device's flash and RAM."),
               readiness="interpreted", int8="integer_only"),
    TargetInfo(Target.NPU_QUALCOMM, N_("Qualcomm NPU (Snapdragon)"), N_("a Snapdragon NPU"), _NPU_FORMATS,
               int16x8_reason=N_("the guide lists int16x8 for CPU reference kernels only"),
               notes=N_("LiteRT compiles the model ahead of time with Qualcomm's compiler plugin for "
                        "one Snapdragon SoC; ops the compiler does not support stay on the CPU. The "
                        "HTP runs float models in float16."),
               deployment=N_("Ship the model compiled ahead of time for each SoC (LiteRT's "
                             "aot_compile) and run it with LiteRT's CompiledModel on the phone."),
               readiness="compiled", needs_setup="make setup-npu"),
    TargetInfo(Target.NPU_INTEL, N_("Intel NPU (OpenVINO)"), N_("an Intel NPU"), _NPU_FORMATS,
               int16x8_reason=N_("the Intel NPU runs int8 and float16 precisions"),
               notes=N_("LiteRT's OpenVINO plugin decides which ops the NPU takes; the rest stay on "
                        "the CPU."),
               deployment=N_("Compile for the NPU with LiteRT's aot_compile on a machine with "
                             "Intel's NPU compiler, and run it with LiteRT's CompiledModel."),
               readiness="partitioned", needs_setup="make setup-npu"),
]}

#: Display names, derived from the table (``TARGETS[t].label``).
TARGET_LABELS = {t: info.label for t, info in TARGETS.items()}


def target_info(target: Target | str) -> TargetInfo:
    """The row of a target id (string or enum)."""
    return TARGETS[Target(target)]


def targets_running(formats) -> frozenset:
    """The targets that execute a file of any of ``formats``."""
    wanted = {Format(f) for f in formats}
    return frozenset(t for t, info in TARGETS.items() if info.formats & wanted)


def integer_only_targets() -> frozenset:
    """Targets that run only full-integer files (int8 ops, int8 input/output)."""
    return frozenset(t for t, info in TARGETS.items() if info.integer_only)
