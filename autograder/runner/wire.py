"""The bytes that travel between the grader and its sandboxed workers.

A *frame* is a JSON header followed by the raw bytes of the arrays it mentions::

    b"AGW1" | header length (uint32) | body length (uint64) | header (JSON) | body

The header is ``{"message": TREE, "buffers": [n0, n1, ...]}`` and the body is the
buffers laid end to end.  ``TREE`` is JSON in which containers and NumPy values
are tagged one-key objects (``{"tuple": [...]}``, ``{"array": [dtype, shape, i]}``
for buffer ``i``...).

Decoding never unpickles, imports or evaluates anything: JSON gives numbers,
strings and lists, and an array is rebuilt from raw bytes only when its dtype is
a plain numeric one (``[<>|=]?[biufc]N``) and its shape accounts for exactly the
bytes received.  Whatever a worker sends back is therefore inert data, whatever
the student's code did to the worker.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MAGIC = b"AGW1"
PREFIX = struct.Struct("!4sIQ")
#: Nesting deeper than this is refused on both sides (it is never needed for answers).
MAX_DEPTH = 16
_DTYPE = re.compile(r"^[<>|=]?[biufc][1-9][0-9]?$")
# NumPy's own scalar types, not subclasses of them (whose methods could be anything).
_NUMPY_SCALARS = frozenset(t for t in np.sctypeDict.values() if issubclass(t, np.generic))


class ProtocolError(Exception):
    """A frame is malformed, too large, or holds something other than plain data."""


class TooLarge(ProtocolError):
    """More bytes than the reader accepts, received or announced."""


@dataclass(frozen=True)
class FunctionRef:
    """A function named in a call's arguments: ``of`` is ``"reference"`` or ``"student"``.

    ``bound`` values are passed after the first argument when it is called
    (``z -> f(z, *bound)``), as :class:`autograder.checks.Function` defines.
    """

    name: str
    of: str
    bound: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Foreign:
    """Stands for a value that cannot travel as data (an arbitrary object), by description."""

    description: str

    def __repr__(self) -> str:
        return self.description


def encode(message: Any, *, on_unknown: Callable[[Any], Any] | None = None) -> bytes:
    """One frame holding ``message``.

    ``on_unknown`` converts values of other types (it must return something
    encodable); without it they raise :class:`ProtocolError`.
    """
    buffers: list[bytes] = []
    tree = _to_tree(message, buffers, on_unknown, 0)
    header = json.dumps(
        {"message": tree, "buffers": [len(b) for b in buffers]}, separators=(",", ":")
    ).encode()
    body = b"".join(buffers)
    return PREFIX.pack(MAGIC, len(header), len(body)) + header + body


def _to_tree(value: Any, buffers: list[bytes], on_unknown, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError("nested too deeply")
    # bool before int: bool is a subclass of int.  Exact types only, so that a
    # subclass (a float whose __eq__ lies) is converted by on_unknown.
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return value if abs(value) < 2**63 else {"bigint": str(value)}
    if type(value) is float:
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, FunctionRef):
        bound = [_to_tree(v, buffers, on_unknown, depth + 1) for v in value.bound]
        return {"function": [value.name, value.of, bound]}
    if isinstance(value, Foreign):
        return {"foreign": value.description}
    if type(value) is np.ndarray and value.dtype.kind in "biufc":
        buffers.append(np.ascontiguousarray(value).tobytes())
        return {"array": [value.dtype.str, list(value.shape), len(buffers) - 1]}
    if type(value) in _NUMPY_SCALARS and value.dtype.kind in "biufc":
        buffers.append(value.tobytes())
        return {"scalar": [value.dtype.str, len(buffers) - 1]}
    if type(value) in (list, tuple):
        items = [_to_tree(v, buffers, on_unknown, depth + 1) for v in value]
        return {type(value).__name__: items}
    if type(value) is dict and all(type(k) is str for k in value):
        return {"dict": {k: _to_tree(v, buffers, on_unknown, depth + 1) for k, v in value.items()}}
    if on_unknown is None:
        raise ProtocolError(f"cannot encode a value of type {type(value).__name__}")
    return _to_tree(on_unknown(value), buffers, None, depth)


def decode(frame: bytes, *, max_bytes: int = 1 << 30) -> Any:
    """The message held by one complete frame (see :class:`FrameReader` for streams)."""
    reader = FrameReader(max_bytes)
    messages = reader.feed(frame)
    if len(messages) != 1 or reader.pending:
        raise ProtocolError("expected exactly one frame")
    return messages[0]


class FrameReader:
    """Splits a byte stream into decoded messages, refusing more than ``max_bytes`` in all."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.received = 0
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes received that do not yet make a whole frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Any]:
        """Add bytes; return the messages of the frames they complete."""
        self.received += len(data)
        if self.received > self.max_bytes:
            raise TooLarge(f"more than {self.max_bytes} bytes")
        self._buffer += data
        messages = []
        while len(self._buffer) >= PREFIX.size:
            magic, header_len, body_len = PREFIX.unpack_from(self._buffer)
            if magic != MAGIC:
                raise ProtocolError("bad frame marker")
            if header_len + body_len > self.max_bytes:
                raise TooLarge("frame larger than allowed")
            end = PREFIX.size + header_len + body_len
            if len(self._buffer) < end:
                break
            header = bytes(self._buffer[PREFIX.size : PREFIX.size + header_len])
            body = bytes(self._buffer[PREFIX.size + header_len : end])
            del self._buffer[:end]
            messages.append(_decode_frame(header, body))
        return messages


def _decode_frame(header: bytes, body: bytes) -> Any:
    try:
        parsed = json.loads(header)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"header is not JSON: {exc}") from None
    if not isinstance(parsed, dict) or set(parsed) != {"message", "buffers"}:
        raise ProtocolError("header has the wrong keys")
    sizes = parsed["buffers"]
    if not isinstance(sizes, list) or not all(type(n) is int and n >= 0 for n in sizes):
        raise ProtocolError("bad buffer sizes")
    if sum(sizes) != len(body):
        raise ProtocolError("buffer sizes do not add up to the body")
    offsets = np.cumsum([0, *sizes]).tolist()
    buffers = [body[offsets[i] : offsets[i + 1]] for i in range(len(sizes))]
    return _from_tree(parsed["message"], buffers, 0)


def _from_tree(node: Any, buffers: list[bytes], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError("nested too deeply")
    if node is None or type(node) in (bool, int, float, str):
        return node
    if type(node) is list or not (type(node) is dict and len(node) == 1):
        raise ProtocolError("untagged container")
    ((tag, content),) = node.items()
    if tag in ("list", "tuple") and type(content) is list:
        items = [_from_tree(v, buffers, depth + 1) for v in content]
        return items if tag == "list" else tuple(items)
    if tag == "dict" and type(content) is dict:
        return {k: _from_tree(v, buffers, depth + 1) for k, v in content.items()}
    if tag == "array" and type(content) is list and len(content) == 3:
        dtype_str, shape, index = content
        dtype = _numeric_dtype(dtype_str)
        if type(shape) is not list or len(shape) > 32:
            raise ProtocolError("bad shape")
        if not all(type(n) is int and n >= 0 for n in shape):
            raise ProtocolError("bad shape")
        data = _buffer(buffers, index)
        if math.prod(shape) * dtype.itemsize != len(data):
            raise ProtocolError("shape and bytes disagree")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if tag == "scalar" and type(content) is list and len(content) == 2:
        dtype = _numeric_dtype(content[0])
        data = _buffer(buffers, content[1])
        if len(data) != dtype.itemsize:
            raise ProtocolError("scalar size disagrees with its dtype")
        return np.frombuffer(data, dtype=dtype)[0]
    if tag == "float" and content in ("nan", "inf", "-inf"):
        return float(content)
    if tag == "bigint" and type(content) is str and re.fullmatch(r"-?[0-9]{1,4000}", content):
        return int(content)
    if tag == "function" and type(content) is list and len(content) == 3:
        name, of, bound = content
        if type(name) is str and type(of) is str and type(bound) is list:
            return FunctionRef(name, of, tuple(_from_tree(v, buffers, depth + 1) for v in bound))
    if tag == "foreign" and type(content) is str:
        return Foreign(content[:2000])
    raise ProtocolError(f"unknown tag {tag!r}")


def _numeric_dtype(text: Any) -> np.dtype:
    if type(text) is not str or not _DTYPE.match(text):
        raise ProtocolError(f"refused dtype {text!r}")
    dtype = np.dtype(text)
    if dtype.kind not in "biufc" or dtype.hasobject:
        raise ProtocolError(f"refused dtype {text!r}")
    return dtype


def _buffer(buffers: list[bytes], index: Any) -> bytes:
    if type(index) is not int or not 0 <= index < len(buffers):
        raise ProtocolError("bad buffer index")
    return buffers[index]
