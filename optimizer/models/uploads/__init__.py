"""Bring your own model and data, safely: checks, safe loading, saving (issue 4).

Uploads are untrusted. This package checks them before anything runs and never executes code
from them: Keras configs are read as JSON first (Lambda layers and custom classes refused),
archives are checked entry by entry (paths, links, zip bombs), arrays load without pickle, and
everything that needs TensorFlow, h5py, Pillow or LiteRT runs in a throwaway subprocess with a
timeout (``run_check``). Every failure is an ``UploadError`` whose message is one line: the
cause and the fix. Importing this package is light (no TensorFlow, no streamlit).

Modules: ``limits`` (configurable size limits), ``archives`` (safe zip reading/extraction),
``model_files`` (what a model file is, checked statically), ``loaders`` (TensorFlow-side
loading), ``keras3_bridge`` (Keras 3 -> tf_keras rebuild, verified), ``data_files`` (.npz,
image zips, CSV), ``validate`` (data vs model), ``prepare`` (the checked upload folder and its
manifest), ``check`` (the subprocess), ``saving`` (each upload's folder in its browser
workspace, saved size-capped; the workspaces themselves are ``optimizer.workspace.browser``).
"""
from __future__ import annotations

from optimizer.models.uploads.check import run_check
from optimizer.models.uploads.data_files import DATA_SUFFIXES, csv_columns, csv_header
from optimizer.models.uploads.errors import (
    DataMismatch,
    ProbeFailed,
    TooLarge,
    UnreadableFile,
    UnsafeArchive,
    UnsafeModel,
    UploadError,
)
from optimizer.models.uploads.intake import accept_upload, current_upload
from optimizer.models.uploads.limits import Limits, check_upload_size, human_size, limits
from optimizer.models.uploads.model_files import MODEL_SUFFIXES, ModelFileInfo, inspect_model_file
from optimizer.models.uploads.prepare import PreparedUpload, is_manifest, prepare_upload
from optimizer.models.uploads.raw_data import PIXEL_RANGES, DataOptions
from optimizer.models.uploads.validate import ValidationReport

__all__ = [
    "run_check", "prepare_upload", "PreparedUpload", "is_manifest", "accept_upload",
    "current_upload",
    "DataOptions", "csv_columns", "csv_header", "DATA_SUFFIXES", "PIXEL_RANGES", "MODEL_SUFFIXES",
    "ModelFileInfo", "inspect_model_file", "ValidationReport",
    "Limits", "limits", "check_upload_size", "human_size",
    "UploadError", "TooLarge", "UnsafeArchive", "UnsafeModel", "UnreadableFile",
    "DataMismatch", "ProbeFailed",
]
