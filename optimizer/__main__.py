"""Entry point for ``python -m optimizer``."""
import sys

from .cli import main

sys.exit(main())
