"""The app's words in each language: one message catalogue per language, the language in use.

Message ids are the English texts in the code (the gettext convention): ``tr("Run")`` is
"Run" in English and the Vietnamese catalogue's translation (``vi.po``) in Vietnamese.
``N_("...")`` marks a text that is translated later, where it is shown (the technique rows,
the targets, the trees). ``msg("...")`` keeps a message as data (id and values) for a reader
who may read another language: what a process records or sends on. The language is chosen
per call (``lang=``) or per context (``use_language``): never a process-wide setting, so two
browser sessions of one server can read two languages at once. The bottom layer: only a
``Figure`` (a number kept in a message) calls ``optimizer.numbers``, the owner of separators.
"""
from optimizer.text.catalogue import N_, catalogue, tr, tr_plural, trc
from optimizer.text.language import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    current_language,
    from_locale,
    parse_language,
    set_language,
    use_language,
)
from optimizer.text.message import Figure, Message, figure, joined, msg, read_back, render

__all__ = ["tr", "trc", "tr_plural", "N_", "msg", "Message", "render", "catalogue", "LANGUAGES",
           "DEFAULT_LANGUAGE", "current_language", "use_language", "set_language",
           "parse_language", "from_locale", "Figure", "figure", "read_back", "joined"]
