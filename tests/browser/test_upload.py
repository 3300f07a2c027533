"""Bring your own model in the real browser: a hostile file is refused with one line on the
page, then a two-input Keras 3 model and its .npz (one array per input) are uploaded
(Playwright ``set_input_files`` on the ``st.file_uploader`` inputs), checked, and a run
completes with its charts drawn."""
from __future__ import annotations

import re

import pytest
from browser_helpers import charts_drawn, screenshot, wait_for_app
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.cost(45)]

RUN_TIMEOUT_MS = 900_000
CHECK_TIMEOUT_MS = 240_000      # a TensorFlow import and the Keras 3 rebuild, on a busy host


@pytest.fixture(scope="module")
def upload_files(tmp_path_factory, tiny_dataset):
    """A small two-input Keras 3 model (the digit image and its 8 row means) trained on the
    digits, and the digits as an .npz with one array per input (x_train.image, ...)."""
    from dataclasses import replace

    from optimizer import compat
    from optimizer.inputs import Inputs

    def two(x):
        return Inputs({"image": x, "rows": x.mean(axis=(2, 3))})

    keras = compat.keras3()
    keras.utils.set_random_seed(0)
    image, rows = keras.Input((8, 8, 1), name="image"), keras.Input((8,), name="rows")
    x = keras.layers.Flatten()(keras.layers.Conv2D(8, 3, activation="relu")(image))
    x = keras.layers.Concatenate()([x, keras.layers.Dense(8, activation="relu")(rows)])
    model = keras.Model([image, rows], keras.layers.Dense(10, activation="softmax")(x))
    model.compile("adam", "sparse_categorical_crossentropy")
    train = two(tiny_dataset.x_train)
    model.fit({"image": train["image"], "rows": train["rows"]}, tiny_dataset.y_train,
              epochs=4, verbose=0)
    folder = tmp_path_factory.mktemp("browser-upload")
    model.save(folder / "my_digits.keras")
    replace(tiny_dataset, x_train=train, x_test=two(tiny_dataset.x_test),
            x_rep=two(tiny_dataset.x_rep)).save_npz(folder / "my_digits.npz")
    (folder / "not_a_model.h5").write_text("just some text\n" * 10)
    return folder


def _heading(page, text):
    return page.get_by_test_id("stHeading").filter(has_text=re.compile(f"^{re.escape(text)}$"))


def test_upload_a_model_and_data_and_complete_a_run(page, upload_files):
    page.goto("/")
    wait_for_app(page)
    page.get_by_test_id("stButtonGroup").get_by_text("Your own model and data").click()
    wait_for_app(page)
    inputs = page.get_by_test_id("stFileUploaderDropzoneInput")
    expect(inputs).to_have_count(2)

    # A text file renamed .h5: refused with its one-line cause and fix, no traceback.
    inputs.nth(0).set_input_files(str(upload_files / "not_a_model.h5"))
    inputs.nth(1).set_input_files(str(upload_files / "my_digits.npz"))
    wait_for_app(page)
    page.get_by_role("button", name="Check my model and data").click()
    wait_for_app(page, timeout=CHECK_TIMEOUT_MS)
    error = page.get_by_test_id("stAlertContainer").filter(has_text="is a text file")
    expect(error).to_be_visible(timeout=CHECK_TIMEOUT_MS)
    expect(error).to_contain_text("upload the file written by model.save")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "upload-1-refused")

    # The real thing: a Keras 3 model, rebuilt in tf_keras and verified by the check.
    inputs.nth(0).set_input_files(str(upload_files / "my_digits.keras"))
    wait_for_app(page)
    page.get_by_role("button", name="Check my model and data").click()
    wait_for_app(page, timeout=CHECK_TIMEOUT_MS)
    expect(page.get_by_test_id("stAlertContainer").filter(
        has_text="my_digits.keras checked")).to_be_visible(timeout=CHECK_TIMEOUT_MS)
    expect(page.get_by_text("inputs image 8 × 8 × 1, rows 8 → output 10")).to_be_visible()
    expect(page.get_by_text("What data do you have?")).to_be_visible()
    expect(page.get_by_test_id("stAlertContainer").filter(
        has_text="Labelled training data")).to_be_visible()
    expect(page.get_by_text("Rebuilt in tf_keras for TFMOT and verified")).to_be_visible()
    metrics = page.get_by_test_id("stMetric")       # the model card, as for a demo
    expect(metrics.filter(has_text="Parameters")).to_be_visible(timeout=CHECK_TIMEOUT_MS)
    expect(metrics.filter(has_text="Float32 size")).to_contain_text("kB")
    expect(page.get_by_text("LiteRT ops in the float32 file")).to_be_visible()
    expect(page.get_by_test_id("stHeading").filter(has_text="Architecture")).to_be_visible()
    screenshot(page, "upload-2-checked")

    page.get_by_role("button", name="Next: your situation").click()
    wait_for_app(page)
    expect(_heading(page, "Your situation")).to_be_visible()
    data_radio = page.get_by_test_id("stRadio").filter(has_text="What data do you have?")
    expect(data_radio.get_by_role("radio", name="Labelled training data")).to_be_checked()
    page.get_by_role("button", name="See my recommendation").click()
    wait_for_app(page)
    expect(_heading(page, "Recommendation")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Run \d+ models now")).click()
    wait_for_app(page)
    expect(_heading(page, "Run")).to_be_visible()
    done = page.get_by_role("button", name="See the full results")
    expect(done).to_be_enabled(timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)
    charts_drawn(page, 1)
    expect(page.get_by_test_id("stPlotlyChart").first).to_contain_text("float32")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "upload-3-run-done")
    done.click()
    wait_for_app(page)
    expect(_heading(page, "Results")).to_be_visible()
    charts_drawn(page, 3)
    screenshot(page, "upload-4-results")
