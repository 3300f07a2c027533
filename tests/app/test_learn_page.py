"""AppTest: the Learn page shows the guide's table, both trees, Tables 1 and 2 as published,
and Table 1 published beside this project's measurement (assets/learn/table1_measured.json)."""
from __future__ import annotations

from app_helpers import goto, new_app

from optimizer.report import measured_beside_table_1, published_table_2, table1_measured


def test_learn_page_shows_the_guide_and_table_1_beside_measured():
    at = goto(new_app(), "pages/learn.py")
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 2                    # both decision trees
    guide = at.table[0].value
    assert [t.split(" (")[0] for t in guide.index] == [
        "Post-training float16 quantization", "Post-training dynamic range quantization",
        "Post-training integer quantization", "Quantization-aware training"]
    assert list(guide["Accuracy"]) == ["Insignificant accuracy loss", "Smallest accuracy loss",
                                       "Small accuracy loss", "Smallest accuracy loss"]
    # Tables 1 and 2 wrap to the page (st.table), as quoted; a missing value is named
    frames = [t.value for t in at.table[1:]]
    table1 = next(f for f in frames if "Latency float (ms, Pixel 2)" in f.columns)
    assert table1.set_index("Model").loc["Resnet_v2_101", "Latency QAT (ms, Pixel 2)"] == "N/A"
    assert any(list(f["Model"]) == list(published_table_2()["Model"]) for f in frames)
    document = table1_measured()
    assert document is not None, "run `nice python -m optimizer bench table1` once"
    beside = next(f for f in frames if "Size float (MB), measured" in f.columns)
    assert list(beside["Size float (MB), published"]) == ["16.9", "14", "95.7", "178.3"]
    assert list(beside["Size float (MB), measured"]).count("–") == 1     # Resnet: not measured
    for frame in frames + [at.table[0].value]:
        assert not frame.isin(["None", "nan", ""]).any().any() and frame.notna().all().all()


def test_beside_table_puts_published_and_measured_side_by_side():
    doc = {"rows": [{"model": "Mobilenet-v2-1-224", "float32_bytes": 13_980_000,
                     "int8_bytes": 3_900_000, "float32_latency_ms_median": 30.0,
                     "int8_latency_ms_median": 12.0}]}
    table = measured_beside_table_1(doc).set_index("Model")
    row = table.loc["Mobilenet-v2-1-224"]
    assert row["Size float (MB), published"] == 14 and row["Size float (MB), measured"] == 13.98
    assert row["Float latency, measured (p10–p90)"] == "30.0 ms"
    assert row["int8 speed-up, measured"] == "2.50x"          # no intervals recorded
    doc["rows"][0].update(float32_latency_ms_p10=20.0, float32_latency_ms_p90=40.0,
                          int8_latency_ms_p10=10.0, int8_latency_ms_p90=25.0)
    overlap = measured_beside_table_1(doc).set_index("Model").loc["Mobilenet-v2-1-224"]
    assert overlap["int8 speed-up, measured"].startswith("not meaningful: p10–p90 overlap")
    assert overlap["Float latency, measured (p10–p90)"] == "30.0 ms (20.0–40.0 ms)"
    assert table.loc["Inception_v3", "Size float (MB), measured"] is None or \
        table["Size float (MB), measured"].isna()["Inception_v3"]
    assert measured_beside_table_1(None) is None
