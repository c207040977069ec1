"""The owner socket's frames (indexing.store.frames): JSON and numeric arrays only, sizes capped,
exceptions by allowed class name."""

from __future__ import annotations

import pickle
import struct

import numpy as np
import pytest

from indexing.errors import StoreBusy
from indexing.store import frames
from indexing.store.frames import BadFrame, decode, encode, error_from, error_payload


def _body(frame: bytes) -> bytes:
    return frame[8:]


def test_arrays_and_json_values_round_trip():
    payload = {
        "ids": ["a", "b"],
        "embeddings": np.arange(6, dtype=np.float32).reshape(2, 3),
        "wide": np.ones((1, 2), dtype=np.float64),
        "scalar": np.float32(0.5),
        "metadatas": [{"n": 1, "ok": True, "none": None, "text": "é\u2028"}],
        "tuple": (1, 2),
    }
    back = decode(_body(encode(payload)))
    assert back["embeddings"].dtype == np.float32 and back["embeddings"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert back["wide"].dtype == np.float64 and back["scalar"] == 0.5
    assert back["metadatas"] == payload["metadatas"] and back["tuple"] == [1, 2]
    back["embeddings"][0, 0] = 9  # a writable copy, not a view of the frame


def test_only_data_travels():
    with pytest.raises(TypeError):
        encode({"x": np.array([object()], dtype=object)})
    with pytest.raises(TypeError):
        encode({"x": pickle})
    old_frame = pickle.dumps(("ok", 1))  # the pickle frames of protocol 1 do not decode
    with pytest.raises(BadFrame):
        decode(old_frame)


@pytest.mark.parametrize(
    "body",
    [
        struct.pack("!I", 50) + b"[]",  # JSON length past the end
        struct.pack("!I", 2) + b"[]" + struct.pack("!Q", 99) + b"x",  # an array past the end
        struct.pack("!I", 31) + b'[{"\\u0000ndarray":[0,"|O",[1]]}]' + struct.pack("!Q", 8) + b"\0" * 8,  # object dtype
        struct.pack("!I", 32) + b'[{"\\u0000ndarray":[0,"<f4",[-1]]}]' + struct.pack("!Q", 4) + b"\0" * 4,
        struct.pack("!I", 31) + b'[{"\\u0000ndarray":[3,"<f4",[1]]}]' + struct.pack("!Q", 4) + b"\0" * 4,
        struct.pack("!I", 4) + b"\xff\xfe[]",
    ],
)
def test_malformed_bodies_are_bad_frames(body):
    with pytest.raises(BadFrame):
        decode(body)


def test_frames_over_the_cap_are_refused_both_ways(monkeypatch):
    monkeypatch.setattr(frames, "MAX_FRAME", 1000)
    with pytest.raises(ValueError, match="over the owner socket's limit"):
        encode({"x": np.zeros(1000, dtype=np.float32)})

    class Announcing:
        def recv(self, n: int) -> bytes:
            return struct.pack("!Q", 1001)[:n]

    with pytest.raises(BadFrame, match="1,001 bytes"):
        frames.receive(Announcing())  # type: ignore[arg-type]


def test_exceptions_come_back_as_allowed_classes_only():
    from chromadb.errors import InvalidArgumentError

    back = error_from(error_payload(InvalidArgumentError("bad where")))
    assert isinstance(back, InvalidArgumentError) and "bad where" in str(back)
    assert isinstance(error_from(error_payload(KeyError("k"))), KeyError)
    assert isinstance(error_from(error_payload(StoreBusy("held"))), StoreBusy)
    for name in ("os.system", "builtins.SystemExit", "builtins.print", "subprocess.Popen", "builtins.__import__"):
        back = error_from({"type": name, "message": "x"})
        assert type(back) is RuntimeError
    assert type(error_from("just text")) is RuntimeError
