"""The worker-to-grader data format: round trips, and refusal of anything but plain data."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from autograder.runner import wire
from autograder.runner.worker import to_plain


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        -(2**70),
        1.5,
        float("inf"),
        "text",
        (1, 2.0),
        [1, [2, (3,)]],
        {"a": 1, "b": [np.float32(2)]},
        np.float64(-710.0),
        np.float32(0.25),
        np.int8(-3),
        np.bool_(True),
        np.complex128(1 + 2j),
        wire.FunctionRef("sigmoid", "reference"),
        wire.FunctionRef(
            "loss", "student", (np.int64(3), wire.FunctionRef("softmax", "reference"))
        ),
        wire.Foreign("<object>"),
    ],
)
def test_values_round_trip_with_their_types(value):
    assert_same(wire.decode(wire.encode(value)), value)


def assert_same(got, expected, where: str = "value") -> None:
    """``got`` is ``expected``, down to every type: containers entry by entry, NumPy arrays
    by dtype, shape and ``np.array_equal``, scalars by ``==`` (NaN equal to NaN)."""
    assert type(got) is type(expected), f"{where}: {type(got)} is not {type(expected)}"
    if isinstance(expected, dict):
        assert list(got) == list(expected), f"{where}: keys {list(got)} != {list(expected)}"
        for key in expected:
            assert_same(got[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, list | tuple):
        assert len(got) == len(expected), f"{where}: length {len(got)} != {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_same(g, e, f"{where}[{i}]")
    elif isinstance(expected, np.ndarray):
        assert (got.dtype, got.shape) == (expected.dtype, expected.shape), where
        assert np.array_equal(got, expected, equal_nan=expected.dtype.kind in "fc"), where
    elif isinstance(expected, wire.FunctionRef):
        assert (got.name, got.of) == (expected.name, expected.of), where
        assert_same(got.bound, expected.bound, f"{where}.bound")
    elif isinstance(expected, float | complex | np.inexact) and expected != expected:
        assert got != got, f"{where}: {got!r} is not NaN"
    else:
        assert got == expected, f"{where}: {got!r} != {expected!r}"


@pytest.mark.parametrize(
    ("got", "expected"),
    [
        ({"a": 1, "b": [np.float32(2)]}, {"a": 1, "b": [np.float32(3)]}),
        ({"a": 1, "b": [np.float32(2)]}, {"a": 1, "b": [np.float64(2)]}),
        ({"a": 1, "b": [np.float32(2)]}, {"b": [np.float32(2)], "a": 1}),
        ({"a": np.arange(3.0)}, {"a": np.arange(3)}),
        ({"a": np.arange(3.0)}, {"a": np.arange(1.0, 4.0)}),
        ([1, [2, (3,)]], [1, [2, [3]]]),
        (wire.FunctionRef("f", "student", (np.int64(3),)), wire.FunctionRef("f", "student", (3,))),
    ],
    ids=[
        "dict-value",
        "dict-value-type",
        "dict-order",
        "array-dtype",
        "array-values",
        "nested-type",
        "bound-type",
    ],
)
def test_a_round_trip_that_changes_a_value_inside_is_caught(got, expected):
    """Planted: what the old check let through (a dict with the same keys, other values)."""
    with pytest.raises(AssertionError):
        assert_same(got, expected)


def test_a_decoder_that_loses_a_dicts_values_fails_the_round_trip(monkeypatch):
    """Planted: a decoder that keeps a dict's keys but turns its values into plain floats."""
    real = wire.decode

    def lossy(data):
        value = real(data)
        if isinstance(value, dict):
            return {
                k: [float(x) for x in v] if isinstance(v, list) else v for k, v in value.items()
            }
        return value

    monkeypatch.setattr(wire, "decode", lossy)
    with pytest.raises(AssertionError, match=r"value\['b'\]\[0\]"):
        test_values_round_trip_with_their_types({"a": 1, "b": [np.float32(2)]})


def test_nan_round_trips():
    assert np.isnan(wire.decode(wire.encode(float("nan"))))


@pytest.mark.parametrize("dtype", ["<f8", ">f8", "<f4", "<i8", "|u1", "|b1", "<c16", "<f2"])
@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 3), (1, 1, 4)])
def test_arrays_round_trip(dtype, shape):
    rng = np.random.default_rng(0)
    array = np.asarray(rng.normal(size=shape) * 10).astype(dtype)
    back = wire.decode(wire.encode(array))
    assert type(back) is np.ndarray
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable and back.flags.owndata


def test_non_contiguous_arrays_are_sent_whole():
    array = np.arange(20.0).reshape(4, 5)[:, ::2]
    np.testing.assert_array_equal(wire.decode(wire.encode(array)), array)


def test_streams_split_anywhere():
    frames = b"".join(wire.encode({"n": i, "a": np.arange(i)}) for i in range(5))
    reader = wire.FrameReader(1 << 20)
    got = []
    for start in range(0, len(frames), 7):
        got += reader.feed(frames[start : start + 7])
    assert [m["n"] for m in got] == list(range(5))
    assert reader.pending == 0


def _frame(message_tree, buffers=()):
    header = json.dumps({"message": message_tree, "buffers": [len(b) for b in buffers]}).encode()
    body = b"".join(buffers)
    return wire.PREFIX.pack(wire.MAGIC, len(header), len(body)) + header + body


@pytest.mark.parametrize(
    ("tree", "buffers"),
    [
        ({"array": ["|O8", [1], 0]}, [bytes(8)]),  # object dtype: would hold pointers
        ({"array": ["V8", [1], 0]}, [bytes(8)]),
        ({"array": ["<f8", [3], 0]}, [bytes(8)]),  # shape and bytes disagree
        ({"array": ["<f8", [-1], 0]}, [bytes(8)]),
        ({"array": ["<f8", [1], 1]}, [bytes(8)]),  # no such buffer
        ({"array": ["(2,)f8", [1], 0]}, [bytes(16)]),
        ({"scalar": ["<f8", 0]}, [bytes(4)]),
        ({"pickle": "gASVAAAAAAAAAACMA29zlIwGc3lzdGVtlJOUjAJsc5SFlFKULg=="}, []),
        ({"tuple": [1], "list": [2]}, []),
        ([1, 2], []),  # containers must be tagged
        ({"bigint": "1e9"}, []),
        ({"function": ["name"]}, []),
        ({"function": ["name", "reference"]}, []),
    ],
)
def test_anything_but_plain_data_is_refused(tree, buffers):
    with pytest.raises(wire.ProtocolError):
        wire.decode(_frame(tree, buffers))


def test_a_pickle_is_refused_or_stays_bytes():
    payload = pickle.dumps(np.arange(3))
    with pytest.raises(wire.ProtocolError):
        wire.decode(payload)
    inert = wire.decode(_frame({"array": ["|u1", [len(payload)], 0]}, [payload]))
    assert inert.dtype == np.uint8 and inert.tobytes() == payload


def test_size_cap_and_malformed_headers():
    reader = wire.FrameReader(100)
    with pytest.raises(wire.ProtocolError):
        reader.feed(wire.encode(np.zeros(100)))
    with pytest.raises(wire.ProtocolError):
        wire.decode(wire.PREFIX.pack(b"EVIL", 2, 0) + b"{}")
    with pytest.raises(wire.ProtocolError):
        wire.decode(wire.PREFIX.pack(wire.MAGIC, 5, 0) + b"[[[[[")
    deep = {"list": []}
    for _ in range(100):
        deep = {"list": [deep]}
    with pytest.raises(wire.ProtocolError):
        wire.decode(_frame(deep))


def test_unknown_types_need_a_converter():
    with pytest.raises(wire.ProtocolError):
        wire.encode(object())
    assert wire.decode(wire.encode(object(), on_unknown=lambda v: "x")) == "x"


class LyingFloat(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


class AlwaysEqual:
    def __eq__(self, other):
        return True


class Subclass(np.ndarray):
    def __eq__(self, other):
        return True

    __hash__ = None


class Tensor:
    def __array__(self, dtype=None, copy=None):
        return np.array([1.0, 2.0])


def test_answers_become_plain_data():
    assert type(to_plain(LyingFloat(0.5), 1 << 20)) is np.ndarray
    assert to_plain(LyingFloat(0.5), 1 << 20) == 0.5
    foreign = to_plain(AlwaysEqual(), 1 << 20)
    assert isinstance(foreign, wire.Foreign)
    assert "AlwaysEqual" in foreign.description
    np.testing.assert_array_equal(to_plain(Tensor(), 1 << 20), [1.0, 2.0])
    subclass = to_plain(np.zeros(2).view(Subclass), 1 << 20)
    assert type(subclass) is np.ndarray
    assert to_plain((1.0, [np.float32(2)]), 1 << 20) == (1.0, [np.float32(2)])
    too_big = to_plain(np.zeros(1000), 100)
    assert isinstance(too_big, wire.Foreign)
    assert isinstance(to_plain(np.array(["a"]), 1 << 20), wire.Foreign)
    for value in (LyingFloat(1), AlwaysEqual(), Tensor(), np.zeros(1).view(Subclass)):
        wire.decode(wire.encode(to_plain(value, 1 << 20)))  # always encodable
