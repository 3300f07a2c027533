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


# -- the house: layers only point down, no import cycles, no private names across modules ------

#: ``optimizer``'s layers, bottom first. A module may import its own layer and those below it.
LAYERS = (
    ("optimizer.compat", "optimizer.paths", "optimizer.procs", "optimizer.lazy", "optimizer.numbers",
     "optimizer.queueing", "optimizer.access", "optimizer.inputs"),
    ("optimizer.guide",),
    ("optimizer.recommendation", "optimizer.measuring"),
    ("optimizer.artifacts",),
    ("optimizer.models",),
    ("optimizer.engine",),
    ("optimizer.runs",),
    ("optimizer.search",),
    ("optimizer.report",),
    ("optimizer.workspace",),
    ("optimizer.graph", "optimizer.tracking"),
    ("optimizer.benchmarks",),
    ("optimizer.cli", "optimizer.__main__", "optimizer"),
)


def _modules() -> dict:
    """Dotted module name -> (path, is package __init__) for every module of ``optimizer``."""
    out = {}
    for path in (ROOT / "optimizer").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        init = parts[-1] == "__init__"
        out[".".join(parts[:-1] if init else parts)] = (path, init)
    return out


def _imports(name: str, path: Path, init: bool, modules: dict):
    """(imported optimizer module, names imported from it, line) for every import statement,
    module-level or inside functions, relative or absolute."""
    package = name if init else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "optimizer":
                    yield alias.name, (), node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base.split(".")[0] != "optimizer":
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in modules:
                    yield full, (), node.lineno
                else:
                    yield base, (alias.name,), node.lineno


def _layer(name: str) -> int:
    best = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if name == prefix or name.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (index, len(prefix))
    assert best is not None, f"{name} is in no layer: add it to LAYERS and docs/ARCHITECTURE.md"
    return best[0]


def _graph() -> dict:
    modules = _modules()
    graph = {}
    for name, (path, init) in modules.items():
        graph[name] = []
        for target, names, line in _imports(name, path, init, modules):
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target != name and not (init and target.startswith(name + ".")):
                graph[name].append((target, names, line))
    return graph


def test_every_module_sits_in_a_layer():
    for name in _modules():
        _layer(name)


def test_lower_layers_never_import_upper_ones():
    offenders = []
    for name, edges in _graph().items():
        if name == "optimizer":      # the public surface re-exports every layer (lazily)
            continue
        for target, _names, line in edges:
            if _layer(target) > _layer(name):
                offenders.append(f"{name}:{line} imports {target}")
    assert offenders == []


def test_no_import_cycle_in_the_library():
    graph = {name: {t for t, _n, _l in edges if not t.startswith(name + ".")}
             for name, edges in _graph().items()}
    # a package __init__ that re-exports its children is not a cycle: drop parent -> child edges
    graph = {name: {t for t in targets if not t.startswith(name + ".")} for name, targets
             in graph.items()}
    seen, stack, cycles = {}, [], []

    def visit(node):
        seen[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if seen.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in seen:
                visit(nxt)
        stack.pop()
        seen[node] = "done"

    for node in sorted(graph):
        if node not in seen:
            visit(node)
    assert cycles == []


def test_no_private_name_is_imported_across_modules():
    offenders = [f"{name}:{line} imports {target}.{n}"
                 for name, edges in _graph().items() for target, names, line in edges
                 for n in names if n.startswith("_") and not n.startswith("__")]
    assert offenders == []


def test_the_architecture_doc_names_every_module():
    """docs/ARCHITECTURE.md's module map names every module: its file name and its folder."""
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    block = doc[doc.index("## Module map"):doc.index("## Recipes")]
    missing = []
    for path, _init in _modules().values():
        relative = path.relative_to(ROOT / "optimizer")
        folder = relative.parent.name
        if path.name not in block or (folder and f"{folder}/" not in block):
            missing.append(relative.as_posix())
    assert missing == []
