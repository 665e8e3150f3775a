"""safetensors read/write with numpy + json only (no torch, no safetensors package).

Shared by the benchmark scripts: the PyTorch peer and the checkpoint maker.
"""
import json
import os
import struct

import numpy as np


_ST_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16,
              "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """Returns ({name: float32 or integer ndarray}, metadata). BF16/F16 widen to F32."""
    with open(path, "rb") as f:
        blob = f.read()
    (hlen,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + hlen])
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + hlen
    out = {}
    for name, info in header.items():
        dtype = info["dtype"]
        if dtype not in _ST_DTYPES:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dtype}")
        begin, end = info["data_offsets"]
        arr = np.frombuffer(blob, dtype=_ST_DTYPES[dtype], count=(end - begin) //
                            np.dtype(_ST_DTYPES[dtype]).itemsize, offset=base + begin)
        if dtype == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        elif dtype == "F16":
            arr = arr.astype(np.float32)
        out[name] = arr.reshape(info["shape"]).copy()
    return out, meta


def _to_bf16_bits(a):
    """Round-to-nearest-even float32 -> bfloat16 bit patterns (uint16)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def write_safetensors(path, tensors, dtype="F32", metadata=None):
    """Writes {name: ndarray} with float tensors stored as dtype (F32, F16 or BF16)."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        arr = np.asarray(tensors[name])
        if arr.dtype.kind == "f":
            if dtype == "F16":
                data, tag = arr.astype(np.float16), "F16"
            elif dtype == "BF16":
                data, tag = _to_bf16_bits(arr), "BF16"
            else:
                data, tag = arr.astype(np.float32), "F32"
        else:
            data, tag = arr.astype(np.int64), "I64"
        raw = np.ascontiguousarray(data).tobytes()
        header[name] = {"dtype": tag, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header["__metadata__"] = dict(metadata or {"format": "pt"})
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * (-len(hjson) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for raw in chunks:
            f.write(raw)
    os.replace(tmp, path)


def read_header(path):
    """The tensor entries of a safetensors header (no data read)."""
    with open(path, "rb") as f:
        (hlen,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(hlen))
    header.pop("__metadata__", None)
    return header
