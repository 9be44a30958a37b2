#!/usr/bin/env python3
"""Writes zlib-partial-level{1,6,9}.bin: zlib streams flushed per packet with
Z_PARTIAL_FLUSH, as OpenSSH's packet.c does (deflate(..., Z_PARTIAL_FLUSH)),
made by the zlib that Python links. Each file is a sequence of records
    uint32 len(raw) | raw | uint32 len(compressed) | compressed
one per packet, big endian. Run from this directory:
    python3 gen_zlib_partial.py
"""
import random
import struct
import zlib

WORDS = ("the quick brown fox jumps over lazy dog channel data window packet "
         "compression stream flush block huffman literal length distance").split()


def payloads(rng):
    sizes = [1, 2, 3, 7, 16, 100, 255, 1000, 4096, 32768, 5, 3000, 1, 12000, 64, 9000]
    for i, n in enumerate(sizes):
        if i % 5 == 4:
            yield bytes(rng.getrandbits(8) for _ in range(n))  # incompressible
        elif i % 7 == 6:
            yield bytes([i]) * n  # long runs: overlapping copies
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(n // 4 + 1)).encode()
            yield text[:n]


for level in (1, 6, 9):
    rng = random.Random(level)
    z = zlib.compressobj(level)
    with open("zlib-partial-level%d.bin" % level, "wb") as f:
        for raw in payloads(rng):
            comp = z.compress(raw) + z.flush(zlib.Z_PARTIAL_FLUSH)
            f.write(struct.pack(">I", len(raw)) + raw + struct.pack(">I", len(comp)) + comp)
