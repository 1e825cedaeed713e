"""The container of every mlrpy file (saved learners and checkpoints).

A file is a `safetensors <https://huggingface.co/docs/safetensors>`_ file: the tensors
(network weights, optimizer state, numeric arrays) are its entries, and everything else is one
JSON document in its metadata, together with the file kind, the format version and a SHA-256
checksum over the document and every tensor's name, dtype, shape and bytes. Reading a file
parses JSON and copies raw bytes: no code from the file runs. Values JSON lacks (tuples,
dicts with non-string keys, tensors, arrays, data frames, ...) are tagged objects
``{"__mlrpy__": <tag>, ...}``; anything else (classes, descriptors) goes through the hooks
that :mod:`mlrpy.persistence` passes in.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import pandas as pd
import torch

from mlrpy.errors import CorruptFileError, IncompatibleFileError, MlrpyError, UnstorableValueError
from mlrpy.io import atomic_write

__all__ = [
    "FORMAT_VERSION", "Decoder", "Encoder", "is_named", "read_file", "to_bytes", "type_path", "write_file"
]

#: Version of the file layout; bumped whenever it changes incompatibly.
FORMAT_VERSION = 2
TAG = "__mlrpy__"
_FORMAT, _KIND, _VERSION, _DOCUMENT, _SHA = (
    "mlrpy.format", "mlrpy.kind", "mlrpy.version", "mlrpy.document", "mlrpy.sha256"
)
_ARRAY_KINDS = "biufcmMUS"  # fixed-size element types: their bytes are the whole value

EncodeHook = Callable[[Any, "Encoder", str], Any]
DecodeHook = Callable[[str, dict[str, Any], "Decoder"], Any]
Place = Callable[[torch.Tensor, str], torch.Tensor]


def is_named(obj: Any) -> bool:
    """Whether ``obj`` is a class or function, which files store by name."""
    return isinstance(obj, type) or (callable(obj) and hasattr(obj, "__qualname__"))


def type_path(obj: Any) -> str:
    """``"module:qualname"`` of a class or function (of ``obj``'s class for other objects)."""
    target = obj if is_named(obj) else type(obj)
    return f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', repr(target))}"


def _item(where: str, key: Any) -> str:
    """The dotted place of ``key`` inside ``where`` (``params.callbacks.0``)."""
    return f"{where}.{key}" if where else str(key)


class Encoder:
    """Turns a value into a JSON-able document plus the tensors it references."""

    def __init__(self, encode_object: EncodeHook | None = None) -> None:
        self.tensors: dict[str, torch.Tensor] = {}
        self._encode_object = encode_object

    def _store(self, tensor: torch.Tensor, where: str) -> str:
        # named after its place in the document, so safetensors tools show e.g. "network.0.weight"
        key = where or "tensor"
        if key in self.tensors:
            key = f"{key}#{len(self.tensors)}"
        # a copy: safetensors refuses tensors that share memory (views, tied weights)
        self.tensors[key] = tensor.detach().to("cpu", copy=True).contiguous()
        return key

    def encode(self, value: Any, where: str) -> Any:
        """The JSON-able form of ``value``; ``where`` names it in error messages."""
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, np.generic):  # before int/float: np.float64 is a float
            return {TAG: "scalar", "array": self.encode(np.asarray(value), where)}
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, list):
            return [self.encode(v, _item(where, i)) for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return {TAG: "tuple", "items": [self.encode(v, _item(where, i)) for i, v in enumerate(value)]}
        if isinstance(value, (set, frozenset)):
            return {TAG: "set", "items": [self.encode(v, _item(where, "{}")) for v in value]}
        if isinstance(value, dict):
            return self._dict(value, where)
        if isinstance(value, torch.Tensor):
            return self._tensor(value, where)
        if isinstance(value, np.ndarray):
            return self._ndarray(value, where)
        if isinstance(value, pd.DataFrame):
            return self._frame(value, where)
        if isinstance(value, PurePath):
            return {TAG: "path", "value": str(value)}
        if isinstance(value, torch.device):
            return {TAG: "device", "value": str(value)}
        if isinstance(value, torch.dtype):
            return {TAG: "torch_dtype", "value": str(value).removeprefix("torch.")}
        if self._encode_object is not None:
            encoded = self._encode_object(value, self, where)
            if encoded is not NotImplemented:
                return encoded
        raise UnstorableValueError(
            f"{where or 'the value'} is a {type_path(value)}, which an mlrpy file cannot store: files "
            f"hold data (None, bool, int, float, str, list, tuple, dict, set, numpy arrays, tensors, data "
            f"frames) and classes or functions by name"
        )

    def _dict(self, value: dict[Any, Any], where: str) -> Any:
        if all(isinstance(k, str) for k in value) and TAG not in value:
            return {k: self.encode(v, _item(where, k)) for k, v in value.items()}
        return {
            TAG: "dict",
            "items": [[self.encode(k, where), self.encode(v, _item(where, k))] for k, v in value.items()],
        }

    def _tensor(self, value: torch.Tensor, where: str) -> Any:
        if value.layout != torch.strided or value.is_quantized:
            raise UnstorableValueError(f"{where}: {value.layout} / quantized tensors cannot be stored")
        return {TAG: "tensor", "key": self._store(value, where), "device": str(value.device)}

    def _ndarray(self, value: np.ndarray, where: str) -> Any:
        shape = list(value.shape)
        if value.dtype.hasobject:
            items = [self.encode(v, _item(where, i)) for i, v in enumerate(value.ravel().tolist())]
            return {TAG: "ndarray", "dtype": "object", "shape": shape, "items": items}
        if value.dtype.kind not in _ARRAY_KINDS or value.dtype.fields is not None:
            raise UnstorableValueError(f"{where}: numpy arrays of dtype {value.dtype} cannot be stored")
        raw = np.ascontiguousarray(value).tobytes()
        empty = torch.zeros(0, dtype=torch.uint8)
        tensor = torch.frombuffer(bytearray(raw), dtype=torch.uint8) if raw else empty
        return {TAG: "ndarray", "dtype": value.dtype.str, "shape": shape, "key": self._store(tensor, where)}

    def _frame(self, value: pd.DataFrame, where: str) -> Any:
        index = value.index
        if isinstance(index, pd.RangeIndex):
            encoded_index: Any = {"range": [index.start, index.stop, index.step]}
        else:
            encoded_index = {"values": self.encode(index.to_numpy(), _item(where, "index"))}
        return {
            TAG: "dataframe",
            "columns": self.encode(list(value.columns), _item(where, "columns")),
            "data": [
                self.encode(value.iloc[:, i].to_numpy(), _item(where, c)) for i, c in enumerate(value.columns)
            ],
            "index": encoded_index,
        }


def _default_place(tensor: torch.Tensor, saved_device: str) -> torch.Tensor:
    return tensor if saved_device == "cpu" else tensor.to(saved_device)


class Decoder:
    """Rebuilds values from a document and its tensors (see :class:`Encoder`)."""

    def __init__(
        self,
        tensors: dict[str, torch.Tensor],
        place: Place | None = None,
        decode_object: DecodeHook | None = None,
    ) -> None:
        self.tensors = tensors
        self.place = place or _default_place
        self._decode_object = decode_object

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            raise ValueError(f"unexpected {type(node).__name__} in the document")
        tag = node.get(TAG)
        if tag is None:
            return {k: self.decode(v) for k, v in node.items()}
        if tag == "tuple":
            return tuple(self.decode(v) for v in node["items"])
        if tag == "set":
            return {self.decode(v) for v in node["items"]}
        if tag == "dict":
            return {self.decode(k): self.decode(v) for k, v in node["items"]}
        if tag == "tensor":
            return self.place(self.tensors[node["key"]], str(node["device"]))
        if tag == "ndarray":
            return self._ndarray(node)
        if tag == "scalar":
            return self._ndarray(node["array"])[()]
        if tag == "dataframe":
            return self._frame(node)
        if tag == "path":
            return Path(node["value"])
        if tag == "device":
            return torch.device(node["value"])
        if tag == "torch_dtype":
            dtype = getattr(torch, str(node["value"]), None)
            if not isinstance(dtype, torch.dtype):
                raise ValueError(f"unknown torch dtype {node['value']!r}")
            return dtype
        if self._decode_object is not None:
            value = self._decode_object(str(tag), node, self)
            if value is not NotImplemented:
                return value
        raise ValueError(f"unknown value tag {tag!r}")

    def _ndarray(self, node: dict[str, Any]) -> np.ndarray:
        shape = tuple(int(n) for n in node["shape"])
        if node["dtype"] == "object":
            out = np.empty(len(node["items"]), dtype=object)
            for i, item in enumerate(node["items"]):  # one by one: numpy would unpack list items
                out[i] = self.decode(item)
            return out.reshape(shape)
        dtype = np.dtype(str(node["dtype"]))
        if dtype.hasobject or dtype.kind not in _ARRAY_KINDS:
            raise ValueError(f"array dtype {dtype} is not allowed")
        raw = self.tensors[node["key"]].numpy().tobytes()
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()

    def _frame(self, node: dict[str, Any]) -> pd.DataFrame:
        columns = self.decode(node["columns"])
        data = [self.decode(v) for v in node["data"]]
        where = node["index"]
        index = pd.RangeIndex(*where["range"]) if "range" in where else self.decode(where["values"])
        frame = pd.DataFrame(dict(enumerate(data)), index=index)
        frame.columns = pd.Index(columns)
        return frame


def _tensor_bytes(tensor: torch.Tensor) -> Any:
    return tensor.contiguous().reshape(-1).view(torch.uint8).numpy()


def _checksum(metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256(b"mlrpy file\n")
    digest.update(json.dumps({k: v for k, v in metadata.items() if k != _SHA}, sort_keys=True).encode())
    for key in sorted(tensors):
        tensor = tensors[key]
        digest.update(f"\n{key}:{tensor.dtype}:{list(tensor.shape)}\n".encode())
        digest.update(_tensor_bytes(tensor))
    return digest.hexdigest()


def to_bytes(kind: str, value: Any, encode_object: EncodeHook | None = None, where: str = "") -> bytes:
    """The complete file content for ``value`` (see the module docstring)."""
    from safetensors.torch import save

    from mlrpy import __version__

    encoder = Encoder(encode_object)
    document = encoder.encode(value, where)
    metadata = {
        _FORMAT: str(FORMAT_VERSION),
        _KIND: kind,
        _VERSION: __version__,
        _DOCUMENT: json.dumps(document, separators=(",", ":"), allow_nan=True),
    }
    metadata[_SHA] = _checksum(metadata, encoder.tensors)
    return save(encoder.tensors, metadata=metadata)


def write_file(
    path: str | os.PathLike[str], kind: str, value: Any, encode_object: EncodeHook | None = None
) -> Path:
    """Write ``value`` as an mlrpy file of ``kind`` to ``path``, atomically."""
    return atomic_write(path, to_bytes(kind, value, encode_object))


def _looks_like_pickle_of_mlrpy(data: bytes) -> bool:
    """Format 1 files were ``torch.save`` pickles (a zip archive or a bare pickle)."""
    return (data[:4] == b"PK\x03\x04" or data[:1] == b"\x80") and (
        b"mlrpy_format" in data or b"mlrpy_checkpoint" in data
    )


def _metadata(data: bytes, path: Path, kind: str) -> dict[str, str]:
    if _looks_like_pickle_of_mlrpy(data):
        raise IncompatibleFileError(
            f"'{path}' was written by an earlier mlrpy in file format 1 (a pickle); this mlrpy "
            f"reads format {FORMAT_VERSION} only, because unpickling a file can run any code in it. "
            f"Load it with the mlrpy version that wrote it, in an environment you trust, and save "
            f"it again with this version"
        )
    size = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    try:
        if not 0 < size <= len(data) - 8:
            raise ValueError("no safetensors header")
        header = json.loads(data[8 : 8 + size])
        metadata = header["__metadata__"]
        if not isinstance(metadata, dict) or _FORMAT not in metadata:
            raise ValueError("no mlrpy metadata")
    except (ValueError, KeyError, TypeError, RecursionError) as err:
        raise CorruptFileError(f"'{path}' is not an mlrpy {kind} file ({err})") from None
    return metadata


def read_file(
    path: str | os.PathLike[str],
    kind: str,
    place: Place | None = None,
    decode_object: DecodeHook | None = None,
    check_document: Callable[[Any], None] | None = None,
) -> Any:
    """Read, verify and decode an mlrpy file of ``kind``.

    ``check_document`` sees the verified document before anything is decoded (the trust check).

    Raises:
        CorruptFileError: the file is truncated, altered, malformed or not an mlrpy file.
        IncompatibleFileError: it is another kind of mlrpy file or in another format version.
    """
    from safetensors.torch import load

    path = Path(path)
    data = path.read_bytes()
    metadata = _metadata(data, path, kind)
    if metadata[_FORMAT] != str(FORMAT_VERSION):
        raise IncompatibleFileError(
            f"'{path}' was written by mlrpy {metadata.get(_VERSION, '?')} in file format "
            f"{metadata[_FORMAT]}; this mlrpy reads format {FORMAT_VERSION}. Load it with the mlrpy "
            f"version that wrote it and retrain or save it again"
        )
    if metadata.get(_KIND) != kind:
        raise IncompatibleFileError(f"'{path}' is an mlrpy {metadata.get(_KIND)} file, not a {kind} file")
    try:
        tensors = load(data)
    except Exception as err:  # safetensors raises its own SafetensorError for damaged files
        raise CorruptFileError(f"'{path}' is damaged (truncated or altered): {err}") from None
    if metadata.get(_SHA) != _checksum(metadata, tensors):
        raise CorruptFileError(
            f"'{path}' is damaged or was altered: its content does not match its SHA-256 checksum"
        )
    try:
        document = json.loads(metadata[_DOCUMENT])
        if check_document is not None:
            check_document(document)
        return Decoder(tensors, place, decode_object).decode(document)
    except MlrpyError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, RecursionError) as err:
        raise CorruptFileError(f"'{path}' is malformed: {type(err).__name__}: {err}") from None
