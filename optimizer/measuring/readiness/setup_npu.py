"""``make setup-npu`` (``python -m optimizer.measuring.readiness.setup_npu``): the optional
tools the Qualcomm and Intel NPU checks need, installed from the package registry.

Qualcomm: LiteRT's Qualcomm compiler plugin (in the ai-edge-litert wheel) loads QNN host
libraries that its SDK package would download from Qualcomm's site. The ``onnxruntime-qnn``
wheel on PyPI ships the same host libraries (QAIRT), so they are extracted from it into
``<venv>/npu/onnxruntime_qnn`` (keeping the wheel's layout: the libraries find their C++
runtime in ``onnxruntime_qnn.libs`` next to it), with Qualcomm's licence files. The plugin also
asks the loader for ``libQnnLpai.so`` but uses no symbol from it, so an empty shared library of
that name is built with the system C compiler. Intel: ``pip install ai-edge-litert-sdk-intel``
(brings OpenVINO). Idempotent: a finished setup leaves a stamp and is not redone.

Licence: the QNN libraries are Qualcomm's, under the "Qualcomm AI Stack License" shipped in the
wheel (``Qualcomm_LICENSE.pdf``, copied next to them): use to develop your applications and for
benchmarking, no standalone redistribution. That is why this step is opt-in and nothing of it is
committed to the repository.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

QNN_WHEEL = "onnxruntime-qnn==2.7.0"
INTEL_SDK = "ai-edge-litert-sdk-intel==2.3.0"
SETUP_COMMAND = "make setup-npu"
_KEEP = ("onnxruntime_qnn/libQnn", "onnxruntime_qnn/libHtpPrepare.so", "onnxruntime_qnn.libs/",
         "onnxruntime_qnn/LICENSE", "onnxruntime_qnn/Qualcomm_LICENSE.pdf")


def npu_dir() -> Path:
    """Where the NPU tools live: ``$OPTIMIZER_NPU_DIR`` or ``<venv>/npu``."""
    return Path(os.environ.get("OPTIMIZER_NPU_DIR") or Path(sys.prefix) / "npu")


def qnn_libs() -> Path:
    """The folder holding ``libQnnHtp.so`` and friends once the setup ran."""
    return npu_dir() / "onnxruntime_qnn"


def qualcomm_missing() -> str | None:
    """Why the Qualcomm check cannot run (naming the command that fixes it), or None."""
    if not (qnn_libs() / "libQnnHtp.so").is_file() or not (qnn_libs() / "libQnnLpai.so").is_file():
        return (f"the NPU tools are not installed (the Qualcomm check needs Qualcomm's QNN host "
                f"libraries); run `{SETUP_COMMAND}` (opt-in: it installs them from the "
                f"onnxruntime-qnn wheel under Qualcomm's licence)")
    return None


def intel_missing() -> str | None:
    """Why the Intel check cannot run, or None."""
    try:
        import ai_edge_litert_sdk_intel  # noqa: F401
    except ImportError:
        return (f"the NPU tools are not installed (the Intel check needs LiteRT's OpenVINO SDK "
                f"package); run `{SETUP_COMMAND}`")
    return None


def _version(distribution: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def qualcomm_tools() -> str:
    """Which Qualcomm tools are installed: the LiteRT wheel (its plugin) and the QNN libraries."""
    library = qnn_libs() / "libQnnHtp.so"
    stamp = library.stat().st_size if library.is_file() else "absent"
    return f"ai-edge-litert {_version('ai-edge-litert')}, libQnnHtp.so {stamp} bytes"


def intel_tools() -> str:
    """Which Intel tools are installed: the LiteRT wheel (its plugin), its SDK and OpenVINO."""
    return (f"ai-edge-litert {_version('ai-edge-litert')}, ai-edge-litert-sdk-intel "
            f"{_version('ai-edge-litert-sdk-intel')}, openvino {_version('openvino')}")


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
                   check=True)


def install_qualcomm(target: Path) -> None:
    """Extract the QNN host libraries into ``target`` and build the empty libQnnLpai.so."""
    with tempfile.TemporaryDirectory(prefix="setup-npu-") as work:
        _pip("download", "--no-deps", QNN_WHEEL, "-d", work)
        wheel = next(Path(work).glob("onnxruntime_qnn-*.whl"))
        staging = Path(work) / "npu"
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.startswith(_KEEP) and not name.endswith("/"):
                    archive.extract(name, staging)
        source = Path(work) / "empty.c"
        source.write_text("/* libQnnLpai.so: listed as needed by the plugin, no symbol used */\n")
        subprocess.run(["cc", "-shared", "-fPIC", "-o",
                        str(staging / "onnxruntime_qnn" / "libQnnLpai.so"), str(source)],
                       check=True)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), str(target))


def main() -> int:
    root = npu_dir()
    if qualcomm_missing() is None:
        print(f"Qualcomm QNN host libraries: already in {qnn_libs()}")
    else:
        install_qualcomm(root)
        print(f"Qualcomm QNN host libraries: installed in {qnn_libs()} (licence: "
              f"{qnn_libs() / 'Qualcomm_LICENSE.pdf'})")
    if intel_missing() is None:
        print("Intel OpenVINO SDK for LiteRT: already installed")
    else:
        _pip("install", INTEL_SDK)
        print(f"Intel OpenVINO SDK for LiteRT: installed ({INTEL_SDK})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
