"""AppTest in Vietnamese: the language comes from the address, the sidebar switch, the
workspace's memory or the browser, stays in every page address, and a page shown in Vietnamese
holds no English UI words (every element's text: bodies, labels, options, help, table cells
and headers, chart titles, axes and annotations)."""
from __future__ import annotations

import json

import pytest
from app_helpers import button, new_app
from page_text import page_texts
from vietnamese_text import english_lines

from optimizer import Answers

pytestmark = pytest.mark.cost(60)


def _vi_app(**state):
    at = new_app(**state)
    at.query_params["lang"] = "vi"
    return at


def _open(at, script):
    if not at._tree:          # noqa: SLF001 - AppTest has no public "has run" flag
        at.run()
    return at.switch_page(script).run()


def _assert_vietnamese(at):
    assert not at.exception, at.exception
    left = english_lines(page_texts(at))
    assert left == [], "English left on the page:\n" + "\n".join(left)


#: Pages and the situations they are read in (session state before the page opens).
SCENES = {
    "model-demo": ("pages/model.py", {}),
    "situation": ("pages/situation.py", {}),
    "recommendation": ("pages/recommendation.py", {}),
    "recommendation-edgetpu-no-data": ("pages/recommendation.py", {
        "answers": Answers(data="none", target="edgetpu"), "situation_confirmed": True}),
    "recommendation-gpu-int16x8": ("pages/recommendation.py", {
        "answers": Answers(data="unlabelled", can_retrain=False, target="gpu", effort="thorough",
                           accuracy="high"), "situation_confirmed": True}),
    "recommendation-mcu-qat": ("pages/recommendation.py", {
        "answers": Answers(data="labelled", target="mcu", effort="thorough"),
        "situation_confirmed": True}),
    "learn": ("pages/learn.py", {}),
}


@pytest.mark.parametrize("scene", sorted(SCENES))
def test_a_page_in_vietnamese_has_no_english_ui_words(scene):
    script, state = SCENES[scene]
    at = _open(_vi_app(**state), script)
    _assert_vietnamese(at)


def test_the_upload_form_in_vietnamese_has_no_english_ui_words():
    at = _open(_vi_app(), "pages/model.py")
    at.segmented_control(key="model_source").set_value("upload").run()
    _assert_vietnamese(at)
    assert [b.label for b in at.button][0] == "Kiểm tra mô hình và dữ liệu của tôi"


def test_the_same_page_in_english_is_english():
    at = new_app()
    at.query_params["lang"] = "en"
    at = _open(at, "pages/situation.py")
    assert at.title[0].value == "Your situation"
    assert at.query_params["lang"] == ["en"] or at.query_params["lang"] == "en"


def _lang(at) -> str:
    value = at.query_params["lang"]
    return value[0] if isinstance(value, list) else value


def test_the_address_the_switch_and_the_workspace_choose_the_language():
    at = _open(_vi_app(), "pages/situation.py")
    assert at.title[0].value == "Tình huống của bạn" and _lang(at) == "vi"
    at.segmented_control(key="lang_switch").set_value("en").run()
    assert at.title[0].value == "Your situation" and _lang(at) == "en"
    at.segmented_control(key="lang_switch").set_value("vi").run()
    assert at.title[0].value == "Tình huống của bạn" and _lang(at) == "vi"
    token = at.session_state["session_id"]
    # a new tab on this workspace's address, without ?lang=: the workspace remembers
    again = new_app()
    again.query_params["w"] = token
    again = _open(again, "pages/situation.py")
    assert again.title[0].value == "Tình huống của bạn" and _lang(again) == "vi"


@pytest.mark.parametrize("locale, title", [("vi-VN", "Tình huống của bạn"),
                                           ("en-US", "Your situation"),
                                           (None, "Your situation")])
def test_without_a_choice_the_browser_language_decides(locale, title):
    at = new_app()
    if locale:
        at.context = {"locale": locale}
    at = _open(at, "pages/situation.py")
    assert at.title[0].value == title


def test_the_next_page_keeps_the_language_in_its_address():
    at = _open(_vi_app(), "pages/situation.py")
    button(at, "Xem đề xuất cho tôi").click().run()
    assert not at.exception
    assert at.title[0].value == "Đề xuất" and _lang(at) == "vi"


def test_two_sessions_read_two_languages():
    vi = _open(_vi_app(), "pages/learn.py")
    en = new_app()
    en.query_params["lang"] = "en"
    en = _open(en, "pages/learn.py")
    assert vi.title[0].value == "Tìm hiểu: hướng dẫn"
    assert en.title[0].value == "Learn: the guide"
    assert "Kỹ thuật" in json.dumps(page_texts(vi), ensure_ascii=False)
    assert "Kỹ thuật" not in json.dumps(page_texts(en), ensure_ascii=False)
