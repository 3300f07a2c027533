"""The line between UI and library: the library never imports streamlit, and importing it
(or any module the pages use) never pulls in TensorFlow."""
import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _loaded_after(code: str) -> set:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_optimizer_is_light():
    loaded = _loaded_after("import optimizer")
    assert "streamlit" not in loaded
    assert "tensorflow" not in loaded and "tf_keras" not in loaded


def test_no_streamlit_import_in_the_library():
    pattern = re.compile(r"^\s*(import streamlit|from streamlit)", re.M)
    offenders = [p for p in (ROOT / "optimizer").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_pages_never_import_tensorflow():
    pattern = re.compile(r"^\s*(import|from)\s+(tensorflow|tf_keras|keras|"
                         r"tensorflow_model_optimization)\b", re.M)
    files = [ROOT / "app.py", *(ROOT / "pages").rglob("*.py")]
    offenders = [p for p in files if p.exists() and pattern.search(p.read_text())]
    assert offenders == []


HEAVY = {"tensorflow", "tf_keras", "keras", "ai_edge_litert", "tensorflow_model_optimization",
         "litert_quantizer"}


def _imported_roots(path: Path) -> set:
    """Top-level packages a file imports (real import statements, not text in strings)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_only_compat_imports_the_heavy_libraries():
    offenders = {str(p.relative_to(ROOT)): sorted(_imported_roots(p) & HEAVY)
                 for p in (ROOT / "optimizer").rglob("*.py") if p.name != "compat.py"}
    assert {k: v for k, v in offenders.items() if v} == {}
