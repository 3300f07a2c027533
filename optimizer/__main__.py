"""Entry point for ``python -m optimizer``."""
import sys

from optimizer.procs import watch_parent

watch_parent()   # a child that must not outlive its parent arranges it first

from optimizer.cli import main  # noqa: E402 - after watch_parent, before the heavy imports

sys.exit(main())
