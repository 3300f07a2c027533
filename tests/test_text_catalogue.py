"""The message catalogue: every message the code asks for has its Vietnamese, in the guide's
own words where the guide has them, and the language is per context (never per process)."""
from __future__ import annotations

import threading

import pytest

from optimizer.text import (
    Message,
    current_language,
    from_locale,
    msg,
    parse_language,
    po,
    render,
    tr,
    use_language,
)
from optimizer.text.catalogue import catalogue_path
from optimizer.text.extract import check, fields, scan, scan_source


def test_every_message_has_its_vietnamese_and_nothing_stale():
    assert check("vi") == []


def test_the_check_fails_on_a_missing_a_stale_and_a_mismatched_translation(tmp_path):
    entries = po.read(catalogue_path("vi"))
    used = [e for e in entries if e.msgid and "{" not in e.msgid]
    with_values = next(e for e in entries if fields(e.msgid))
    dropped, changed = used[0], with_values
    kept = [e for e in entries if e is not dropped]
    changed.msgstr = ("{khong_co}",)
    kept.append(po.Entry("A sentence the code never asks for", ("Một câu thừa",)))
    broken = tmp_path / "vi.po"
    broken.write_text(po.format_entries(kept), encoding="utf-8")
    problems = "\n".join(check("vi", path=broken))
    assert f"no vi translation for {dropped.msgid[:70]!r}" in problems
    assert "is not asked for by the code any more" in problems
    assert "fills ['khong_co']" in problems


def test_an_f_string_message_is_refused_by_the_scan():
    found, problems = scan_source('tr(f"{x} items")\nmsg("{n} ok", n=1)\n', "x.py")
    assert [f.msgid for f in found] == ["{n} ok"]
    assert problems and "f-string" in problems[0]


def test_the_po_file_reads_back_what_it_wrote():
    entries = po.read(catalogue_path("vi"))
    again = po.parse(po.format_entries(entries))
    assert [(e.msgctxt, e.msgid, e.msgstr) for e in again] == \
        [(e.msgctxt, e.msgid, e.msgstr) for e in entries]


def _data_texts():
    """Every text the guide's rows, the targets, the trees, the demos and the pages' titles
    hold: shown through the catalogue, so each must be in it."""
    from optimizer import DATA_LABELS, PTQ_TREE, QUANT_TREE, QUANT_TREE_FOOTNOTE, TARGETS, TECHNIQUES
    from optimizer.models.demos.catalog import DEMOS
    from pages.common import nav

    texts = list(DATA_LABELS.values()) + [QUANT_TREE_FOOTNOTE]
    for info in TECHNIQUES.values():
        texts += [info.title, info.guide_size, info.guide_accuracy, info.guide_hardware,
                  info.summary, info.hardware_note, info.source]
    for row in TARGETS.values():
        texts += [row.label, row.phrase, row.float_reason, row.int16x8_reason, row.notes,
                  row.deployment]
    for tree in (QUANT_TREE, PTQ_TREE):
        texts += [node.text for node in tree.nodes]
    for demo in DEMOS:
        texts += [demo.title, demo.description, demo.input_description]
    texts += [p.title for p in nav.JOURNEY + nav.FURTHER]
    return [t for t in texts if t]


def test_every_guide_row_target_tree_and_demo_text_is_in_the_catalogue():
    messages, _ = scan()
    ids = {msgid for _ctx, msgid in messages}
    missing = [t for t in _data_texts() if t not in ids]
    assert missing == [], "mark these with N_() where they are written"
    untranslated = [t for t in _data_texts() if tr(t, lang="vi") == t and t.isascii()
                    and t not in ("CPU", "Edge TPU", "CPU, GPU", "CPU, GPU (Android)",
                                  "CPU, GPU (Android), EdgeTPU", "SavedModel", "RMSE")]
    assert untranslated == []


#: The Vietnamese guide's words ("Tối ưu hoá mô hình"), exactly as it writes them.
GUIDE_VI = {
    "Post-training float16 quantization": "Lượng tử hoá float16 sau huấn luyện",
    "Post-training dynamic range quantization": "Lượng tử hoá dải tương phản động sau huấn luyện",
    "Post-training integer quantization": "Lượng tử hoá số nguyên sau huấn luyện",
    "Quantization-aware training": "Huấn luyện có tính đến việc lượng tử hoá",
    "No data": "Không có dữ liệu",
    "Unlabelled representative sample": "Mẫu đại diện không được gắn nhãn",
    "Labelled training data": "Dữ liệu huấn luyện được gắn nhãn",
    "Up to 50%": "Lên đến 50%",
    "Up to 75%": "Tối đa 75%",
    "Insignificant accuracy loss": "Mất độ chính xác không đáng kể",
    "Smallest accuracy loss": "Mất độ chính xác ít nhất",
    "Small accuracy loss": "Mất độ chính xác không đáng kể",   # so the Vietnamese edition
    "Technique": "Kỹ thuật",
    "Data requirements": "Yêu cầu dữ liệu",
    "Size reduction": "Giảm kích thước",
    "Accuracy": "Độ chính xác",
    "Supported hardware": "Phần cứng được hỗ trợ",
}


@pytest.mark.parametrize("english", sorted(GUIDE_VI))
def test_the_guide_vocabulary_is_the_vietnamese_guides(english):
    assert tr(english, lang="vi") == GUIDE_VI[english]


def test_the_techniques_table_in_vietnamese_is_the_guides_table():
    from optimizer.report import guide_techniques_table

    with use_language("vi"):
        table = guide_techniques_table()
    assert list(table.columns) == ["Kỹ thuật", "Yêu cầu dữ liệu", "Giảm kích thước",
                                   "Độ chính xác", "Phần cứng được hỗ trợ"]
    assert table.values.tolist() == [
        ["Lượng tử hoá float16 sau huấn luyện", "Không có dữ liệu", "Lên đến 50%",
         "Mất độ chính xác không đáng kể", "CPU, GPU"],
        ["Lượng tử hoá dải tương phản động sau huấn luyện", "Không có dữ liệu", "Tối đa 75%",
         "Mất độ chính xác ít nhất", "CPU, GPU (Android)"],
        ["Lượng tử hoá số nguyên sau huấn luyện", "Mẫu đại diện không được gắn nhãn",
         "Tối đa 75%", "Mất độ chính xác không đáng kể", "CPU, GPU (Android), EdgeTPU"],
        ["Huấn luyện có tính đến việc lượng tử hoá", "Dữ liệu huấn luyện được gắn nhãn",
         "Tối đa 75%", "Mất độ chính xác ít nhất", "CPU, GPU (Android), EdgeTPU"]]


def test_languages_from_addresses_and_browsers():
    assert parse_language("vi") == parse_language("VI") == parse_language("vi-VN") == "vi"
    assert parse_language("en_US") == "en"
    assert parse_language("fr") is None and parse_language(None) is None
    assert from_locale("vi-VN") == "vi" and from_locale("de-DE") == "en"
    assert from_locale(None) == "en"


def test_the_language_is_per_context_never_shared_between_threads():
    seen, ready = {}, threading.Barrier(2)

    def page(lang):
        with use_language(lang):
            ready.wait()               # both "sessions" are inside their block at once
            seen[lang] = (tr("Run"), current_language())

    threads = [threading.Thread(target=page, args=(lang,)) for lang in ("vi", "en")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"vi": ("Chạy", "vi"), "en": ("Run", "en")}
    assert current_language() == "en"


def test_a_message_is_english_text_that_renders_in_vietnamese_later():
    message = msg("{what} {name}", what=msg("data file"), name="x.csv")
    assert message == "data file x.csv" and isinstance(message, str)
    copy = Message.from_dict(message.to_dict())
    assert copy.render("vi") == "tệp dữ liệu x.csv"
    assert render(message.to_dict(), "vi") == "tệp dữ liệu x.csv"
    with use_language("vi"):
        assert copy.render() == "tệp dữ liệu x.csv"
        assert str(copy) == "data file x.csv"


def test_an_unknown_message_reads_as_english():
    assert tr("A sentence nobody translated {x}", lang="vi", x=1) == \
        "A sentence nobody translated 1"


def test_numbers_in_a_message_take_the_readers_separators():
    """A number kept in a message is written again by optimizer.numbers in its reader's
    language, also after a trip through JSON; names that look like numbers are left alone."""
    import json

    from optimizer import numbers
    from optimizer.text import figure

    message = msg("{what} {name}", what=figure(1248.5, "fixed", decimals=1), name="v1.2-a,b")
    assert str(message) == "1,248.5 v1.2-a,b"
    copy = Message.from_dict(json.loads(json.dumps(message.to_dict())))
    assert copy.render("vi") == "1.248,5 v1.2-a,b"
    assert copy.render("en") == "1,248.5 v1.2-a,b"
    # made while a Vietnamese page runs, it is still English text underneath (logs, JSON)
    with use_language("vi"):
        made_there = msg("{n} rows", n=figure(1347))
        assert numbers.count(1347) == "1.347" and numbers.metric_value(0.987) == "98,7 %"
    assert str(made_there) == "1,347 rows" and made_there.render("vi") == "1.347 rows"
    assert numbers.count(1347) == "1,347"
    with pytest.raises(ValueError, match="no number format"):
        figure(1, "_local")
