"""CRC-32C (Castagnoli). Uses the ``crc32c`` or ``google_crc32c`` package when one imports; in
Pyodide neither exists, so a numpy implementation computes many blocks side by side and then
combines the block CRCs with precomputed "skip L zero bytes" tables (CRCs are linear over GF(2)).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_POLY = 0x82F63B78  # reflected Castagnoli polynomial


def _byte_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(_POLY), table >> 1).astype(np.uint32)
    return table


_TABLE = _byte_table()
_TABLE_LIST = _TABLE.tolist()


def _advance(reg: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Feed ``columns[j]`` (one byte per register) into every register, for each row j."""
    for col in columns:
        reg = _TABLE[(reg ^ col) & 0xFF] ^ (reg >> 8)
    return reg


@lru_cache(maxsize=8)
def _skip_tables(length: int) -> tuple[list[int], ...]:
    """Per byte lane of the register: effect of that byte after ``length`` zero bytes."""
    values = np.arange(256, dtype=np.uint32)
    lanes = np.concatenate([values << np.uint32(8 * k) for k in range(4)])
    zeros = np.zeros((length, lanes.size), np.uint32)
    out = _advance(lanes, zeros)
    return tuple(out[256 * k:256 * (k + 1)].tolist() for k in range(4))


def crc32c_numpy(data: bytes) -> int:
    n = len(data)
    if n < 4096:
        reg = 0xFFFFFFFF
        for b in data:
            reg = _TABLE_LIST[(reg ^ b) & 0xFF] ^ (reg >> 8)
        return reg ^ 0xFFFFFFFF
    block = 1 << max(8, min(14, (n.bit_length() + 1) // 2))
    nblocks = -(-n // block)
    buf = np.zeros(nblocks * block, np.uint8)
    # leading zeros leave a zero register unchanged; the initial 0xFFFFFFFF register is folded
    # into the first four data bytes (valid for reflected CRCs)
    buf[-n:] = np.frombuffer(data, np.uint8)
    buf[-n:-n + 4] ^= np.uint8(0xFF)
    columns = buf.reshape(nblocks, block).T.astype(np.uint32)
    partial = _advance(np.zeros(nblocks, np.uint32), columns).tolist()
    t0, t1, t2, t3 = _skip_tables(block)
    reg = 0
    for p in partial:
        reg = t0[reg & 0xFF] ^ t1[(reg >> 8) & 0xFF] ^ t2[(reg >> 16) & 0xFF] ^ t3[reg >> 24] ^ p
    return reg ^ 0xFFFFFFFF


def _native():
    try:
        import crc32c as mod
        return mod.crc32c
    except ImportError:
        pass
    try:
        import google_crc32c
        return google_crc32c.value
    except ImportError:
        return None


crc32c = _native() or crc32c_numpy
