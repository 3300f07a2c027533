"""The one result schema and its DataFrame."""
from optimizer.guide.schema import RESULT_FIELDS, Result, Status, results_frame

ISSUE_KEYS = ["technique", "status", "error", "size_bytes", "gzip_bytes", "accuracy",
              "accuracy_delta", "latency_ms_median", "latency_ms_p10", "latency_ms_p90",
              "input_dtype", "output_dtype", "engine", "tflite_path", "sparsity",
              "max_unique_weights_per_channel"]


def test_result_has_every_key_the_cli_promises():
    assert set(ISSUE_KEYS) <= set(RESULT_FIELDS)
    assert set(ISSUE_KEYS) <= set(Result("float32").to_dict())


def test_round_trip_ignores_unknown_keys():
    r = Result("pruning", size_bytes=10, notes=["x"])
    data = {**r.to_dict(), "from_the_future": 1}
    assert Result.from_dict(data) == r


def test_failed_result():
    r = Result.failed("qat", "cause; fix")
    assert r.status == Status.ERROR.value and not r.ok and r.error == "cause; fix"


def test_frame_ratios_against_the_baseline():
    frame = results_frame([
        Result("float32", size_bytes=1000, gzip_bytes=900),
        {"technique": "float16", "size_bytes": 500, "gzip_bytes": 450},
        Result.failed("qat", "boom"),
    ])
    assert list(frame["technique"]) == ["float32", "float16", "qat"]
    assert frame.loc[1, "size_ratio"] == 2.0 and frame.loc[1, "gzip_ratio"] == 2.0
    assert frame["is_baseline"].tolist() == [True, False, False]


def test_frame_without_baseline_has_nan_ratios():
    frame = results_frame([Result("float16", size_bytes=5, gzip_bytes=4)])
    assert frame["size_ratio"].isna().all()


def test_accuracy_delta_is_a_paired_record_and_an_older_float_still_reads():
    old = Result.from_dict({"technique": "integer", "accuracy": 0.9, "accuracy_delta": -0.01})
    assert old.accuracy_delta == {"value": -0.01, "ci": None, "p_value": None}
    assert (old.delta_value, old.delta_ci, old.delta_p) == (-0.01, None, None)
    new = Result("integer", accuracy_delta={"value": -0.002, "ci": [-0.01, 0.004],
                                            "p_value": 1.0, "samples": 450})
    assert (new.delta_value, new.delta_ci, new.delta_p) == (-0.002, [-0.01, 0.004], 1.0)
    new.accuracy_delta = 0.5                        # however it is set, one shape
    assert new.accuracy_delta == {"value": 0.5, "ci": None, "p_value": None}
    assert Result.from_dict(new.to_dict()) == new
    frame = results_frame([Result("float32", accuracy=0.9, accuracy_delta=0.0,
                                  accuracy_ci=[0.8, 0.95]),
                           Result("integer", accuracy=0.89, accuracy_delta={
                               "value": -0.01, "ci": [-0.02, 0.0], "p_value": 0.2})])
    assert frame["accuracy_delta"].tolist() == [0.0, -0.01]          # the value, numeric
    assert frame.loc[1, "delta_low"] == -0.02 and frame.loc[1, "delta_p"] == 0.2
    assert frame.loc[0, "accuracy_low"] == 0.8
