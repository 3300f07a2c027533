"""The one number format now lives in ``optimizer.numbers`` (the bottom layer, so the search
and the goals write numbers the same way); this name stays for code that imports it from the
report package (the chart modules). Nothing is defined here."""
from optimizer.numbers import *  # noqa: F401,F403 - the same functions, re-exported
