"""Entry point for ``python -m optimizer``."""
import sys

from optimizer.cli import main

sys.exit(main())
