"""Find English left on a page shown in Vietnamese: the words of the app's English messages
that its Vietnamese catalogue never uses, and English function words, in a page's text.

The two vocabularies come from the catalogue itself: every word of every English message id
(``optimizer.text.extract``) is English UI vocabulary; a word that Vietnamese translations
also use ("float16", "Edge", "TPU", a command in backticks) is allowed. What is always allowed
besides (the brief's allow-list): technique ids, target ids, demo names, units, file names,
numbers, op and product names, Keras layer types -- see ``ALLOWED`` and ``_exempt``.
"""
from __future__ import annotations

import functools
import re

#: English words that never occur in Vietnamese text (unlike "an", "to", "do", "can", "so",
#: "may", which are Vietnamese syllables too).
FUNCTION_WORDS = frozenset("""
the and of is are was were be been for with your you this that these those from not it its by
at as or if than then when which what who how will has have had into only also each every per
there their they them more most less all any some our we us my would should could does did
here where why after before about over under between while yet our their whose
""".split())

#: Names and units a Vietnamese page shows as they are (the brief's explicit allow-list).
ALLOWED = frozenset("""
english tiếng liteRT litert tflite tensorflow keras tf_keras tfmot xnnpack edgetpu edge tpu
cpu gpu npu dsp android pixel qualcomm snapdragon intel openvino coral studio optimization
ms kb mb gb mib µs bytes s
float32 float16 dynamic_range integer integer_only int16x8 qat pruning clustering pqat cqat
pcqat baseline mixed int4_weights
cpu gpu-android edgetpu mcu npu-qualcomm npu-intel
digits-cnn digits-mobilenetv2 waveforms-conv1d tabular-mlp digits-outliers
dense flatten dropout reshape rescaling softmax relu activation add concatenate
maxpooling2d conv2d inputlayer globalaveragepooling2d batchnormalization
malignant benign sine square triangle sawtooth chirp noise
p10 p90 p10–p90 top-1 rmse wer cer map f1 iou gzip npz csv zip json html
""".split())


def _ascii_words(text: str) -> list[str]:
    """The ASCII words of ``text`` (Vietnamese syllables with accents are not ASCII)."""
    out = []
    text = re.sub(r"(?<![\w.])/[\w\-./]*\?[\w=&\-.]*", " ", text)   # a page address (/results?run=..)
    for token in re.findall(r"[\w][\w'’+./\-–]*", text):
        token = token.rstrip(".'’-–/")
        if token and token.isascii() and re.search(r"[A-Za-z]", token):
            out.append(token)
    return out


def _exempt(word: str) -> bool:
    """Identifiers, file names, numbers, acronyms and proper names: never UI English."""
    if re.search(r"[\d_+/.]", word) or len(word) <= 1:
        return True
    if word.isupper():                       # CPU, RMSE, FULLY_CONNECTED
        return True
    if re.search(r"[a-z][A-Z]", word):      # MobileNetV2, SavedModel, LiteRT
        return True
    return word.lower() in ALLOWED


@functools.cache
def vocabularies() -> tuple[frozenset, frozenset]:
    """(English words of the messages, ASCII words of their Vietnamese translations)."""
    from optimizer.text import po
    from optimizer.text.catalogue import catalogue_path
    from optimizer.text.extract import scan

    messages, _ = scan()
    english = {w.lower() for (_ctx, msgid) in messages for w in _ascii_words(msgid)}
    vietnamese = {w.lower() for e in po.read(catalogue_path("vi")) if e.msgid
                  for s in e.msgstr for w in _ascii_words(re.sub(r"\{[^{}]*\}", " ", s))}
    return frozenset(english), frozenset(vietnamese)


def english_words(text: str) -> list[str]:
    """The English words of ``text`` (a page's text in Vietnamese): empty when none."""
    english, vietnamese = vocabularies()
    found = []
    for word in _ascii_words(text):
        low = word.lower()
        if _exempt(word):
            continue
        if low in FUNCTION_WORDS or (low in english and low not in vietnamese):
            found.append(word)
    return found


def english_lines(texts) -> list[str]:
    """Every text (of many) that holds English words, with the words: for a failure message."""
    out = []
    for text in texts:
        words = english_words(text)
        if words:
            out.append(f"{sorted(set(words))} in {text[:160]!r}")
    return out
