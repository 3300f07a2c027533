"""No page imports TensorFlow, even indirectly: every page is rendered in a fresh process
(AppTest) and ``tensorflow`` must not be in ``sys.modules`` afterwards. TensorFlow runs only in
the job and card subprocesses, so the first page load stays fast."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["model", "situation", "recommendation", "run", "results", "search", "layers", "graph",
         "learn"]


def test_no_page_loads_tensorflow():
    script = textwrap.dedent(f"""
        import sys
        from streamlit.testing.v1 import AppTest
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.testing.v1 import app_test

        class Manager(PagesManager):
            def __init__(self, *a, **k):
                super().__init__(*a, **k)
                PagesManager.uses_pages_directory = False

        app_test.PagesManager = Manager
        at = AppTest.from_file({str(ROOT / "app.py")!r}, default_timeout=300).run()
        for page in {PAGES!r}:
            at.switch_page(f"pages/{{page}}.py").run()
            assert not at.exception, (page, at.exception)
            loaded = sorted(m for m in sys.modules if m.split(".")[0] in
                            ("tensorflow", "tf_keras", "tensorflow_model_optimization"))
            assert not loaded, (page, loaded[:5])
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-3000:]
