"""What travels over the owner's socket (indexing.store.owner): JSON frames with raw numeric arrays.

No pickle: a frame can only ever decode to dicts, lists, strings, numbers, booleans, None and
numeric numpy arrays, so a process that reaches the socket cannot make the other end run code.
Exceptions travel as (type name, message) and come back as the same class only when it is one of
the few allowed below (Chroma's errors, newsbot's, builtins), else as a RuntimeError naming it.

A frame: !Q total length (at most MAX_FRAME) | !I JSON length | JSON | per array: !Q length | bytes.
An array in the JSON is {TAG: [index, dtype, shape]}; dtypes are plain numbers only, little-endian.
"""

from __future__ import annotations

import builtins
import json
import socket
import struct
from typing import Any

import numpy as np

MAX_FRAME = 256 * 1024 * 1024  # a page of 10,000 chunk records is ~20 MB; far past it is not newsbot talking
_TOTAL = struct.Struct("!Q")
_JSON = struct.Struct("!I")
_BLOB = struct.Struct("!Q")
TAG = "\x00ndarray"
_DTYPES = frozenset({"<f2", "<f4", "<f8", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "|b1"})
_ERROR_MODULES = ("builtins", "chromadb.errors", "indexing.errors")


class OwnerGone(Exception):
    """The owner's socket closed, refused us or spoke nonsense: elect again."""


class BadFrame(OwnerGone):
    """A frame that is too large or does not decode: the connection is dropped."""


def encode(payload: Any) -> bytes:
    """One frame for `payload` (JSON types, tuples, numpy arrays and scalars); ValueError past MAX_FRAME."""
    blobs: list[bytes] = []

    def extra(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
            if array.dtype.str not in _DTYPES:
                raise TypeError(f"cannot send an array of dtype {value.dtype}")
            blobs.append(array.tobytes())
            return {TAG: [len(blobs) - 1, array.dtype.str, list(array.shape)]}
        if isinstance(value, np.generic):
            return value.item()
        raise TypeError(f"cannot send a {value.__class__.__name__}")

    text = json.dumps(payload, default=extra, separators=(",", ":")).encode("utf-8")
    body = b"".join([_JSON.pack(len(text)), text, *(_BLOB.pack(len(b)) + b for b in blobs)])
    if len(body) > MAX_FRAME:
        raise ValueError(f"a store message of {len(body):,} bytes is over the owner socket's limit of {MAX_FRAME:,}")
    return _TOTAL.pack(len(body)) + body


def decode(body: bytes) -> Any:
    """The payload of one frame's body; BadFrame when it is not one `encode` could have made."""
    try:
        (size,) = _JSON.unpack_from(body, 0)
        end = _JSON.size + size
        if end > len(body):
            raise BadFrame("the JSON runs past the frame")
        blobs, at = [], end
        while at < len(body):
            (n,) = _BLOB.unpack_from(body, at)
            at += _BLOB.size
            if at + n > len(body):
                raise BadFrame("an array runs past the frame")
            blobs.append(memoryview(body)[at : at + n])
            at += n
        return json.loads(body[_JSON.size : end].decode("utf-8"), object_hook=lambda d: _array(d, blobs))
    except BadFrame:
        raise
    except (struct.error, ValueError, TypeError, IndexError, KeyError) as exc:  # JSON, UTF-8 and shape errors
        raise BadFrame(f"malformed frame ({exc.__class__.__name__})") from None


def _array(d: dict[str, Any], blobs: list[memoryview]) -> Any:
    if TAG not in d:
        return d
    index, dtype, shape = d[TAG]
    if dtype not in _DTYPES or not all(isinstance(s, int) and s >= 0 for s in shape):
        raise BadFrame(f"an array of dtype {dtype!r} and shape {shape!r}")
    return np.frombuffer(blobs[index], dtype=np.dtype(dtype)).reshape(shape).copy()


def send(sock: socket.socket, payload: Any) -> None:
    sock.sendall(encode(payload))


def receive(sock: socket.socket) -> Any:
    """The next frame's payload; BadFrame for one over MAX_FRAME, without reading it."""
    (size,) = _TOTAL.unpack(_exactly(sock, _TOTAL.size))
    if size > MAX_FRAME:
        raise BadFrame(f"a frame of {size:,} bytes (at most {MAX_FRAME:,})")
    return decode(_exactly(sock, size))


def _exactly(sock: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise OwnerGone("connection closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def error_payload(exc: BaseException) -> dict[str, str]:
    """An exception as it travels: its class's full name and its message."""
    cls = exc.__class__
    return {"type": f"{cls.__module__}.{cls.__qualname__}", "message": str(exc)}


def error_from(payload: Any) -> Exception:
    """The exception `error_payload` described: the same class when it is an allowed one, else a RuntimeError."""
    if not isinstance(payload, dict):
        return RuntimeError(str(payload))
    name, message = str(payload.get("type", "")), str(payload.get("message", ""))
    module, _, qualname = name.rpartition(".")
    cls = _allowed_class(module, qualname)
    if cls is not None:
        try:
            return cls(message)
        except Exception:  # noqa: BLE001 - a constructor that wants other arguments
            pass
    return RuntimeError(f"{qualname or 'error'}: {message}")


def _allowed_class(module: str, qualname: str) -> type[Exception] | None:
    if module not in _ERROR_MODULES or not qualname.isidentifier():
        return None
    if module == "builtins":
        namespace: Any = builtins
    elif module == "chromadb.errors":
        import chromadb.errors as namespace
    else:
        import indexing.errors as namespace
    cls = getattr(namespace, qualname, None)
    return cls if isinstance(cls, type) and issubclass(cls, Exception) else None
