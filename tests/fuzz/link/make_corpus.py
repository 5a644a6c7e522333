#!/usr/bin/env python3
"""Writes the seed corpora of the link fuzz targets (corpus/decoder, corpus/session).

Frames are encoded as docs/protocol.md describes, independently of the C++
code, so the seeds also cross-check the specification.
"""
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def cobs(data):
    out, block = bytearray(), bytearray()
    for b in data:
        if b == 0:
            out += bytes([len(block) + 1]) + block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out += bytes([255]) + block
                block = bytearray()
    out += bytes([len(block) + 1]) + block
    return bytes(out)


def frame(ftype, src, dst, seq=0, ack=0, payload=b"", flags=0):
    raw = struct.pack("<BBIIBBH", 0x10 | ftype, flags, src, dst, seq, ack, len(payload)) + payload
    raw += struct.pack("<I", crc32c(raw))
    return cobs(raw) + b"\x00"


def hello(ftype, src, dst):
    return frame(ftype, src, dst, payload=struct.pack("<BBHI", 8, 0, 256, 4096))


def write(folder, name, data):
    os.makedirs(os.path.join(HERE, "corpus", folder), exist_ok=True)
    with open(os.path.join(HERE, "corpus", folder, name), "wb") as f:
        f.write(data)


def main():
    assert crc32c(b"123456789") == 0xE3069283
    a, b = 0x11223344, 0xA0B0C0D0
    write("decoder", "hello", hello(4, a, 0))
    write("decoder", "hello_ack", hello(5, b, a))
    write("decoder", "ack", frame(2, a, b, ack=5))
    write("decoder", "nak", frame(3, a, b, ack=9))
    write("decoder", "data_zeros", frame(1, a, b, seq=3, ack=1, payload=bytes(300), flags=1))
    write("decoder", "data_all_bytes", frame(1, a, b, seq=4, payload=bytes(range(256))))
    write("decoder", "garbage_then_frame",
          b"\r\nTERMINAL BOOT v2.1\r\n\x00" + frame(1, a, b, seq=0, payload=b"hi"))
    write("decoder", "truncated", frame(1, a, b, payload=bytes(40))[:20] + frame(2, a, b))
    write("decoder", "bad_crc", frame(2, a, b)[:-3] + b"\x55\x55\x00")
    write("decoder", "oversize", b"\x42" * 1200 + b"\x00" + frame(2, a, b))
    rng = random.Random(1)
    for i in range(8):
        # Session programs: three config bytes, then steps (see fuzz_link_session.cc).
        prog = bytes([rng.randrange(256) for _ in range(3)])
        prog += bytes([2, 3] * 4)  # handshake: carry both ways
        for _ in range(60):
            prog += bytes([rng.randrange(256) for _ in range(rng.randrange(1, 4))])
        write("session", "program_%d" % i, prog)
    write("session", "handshake_and_send",
          bytes([7, 40, 50, 2, 3, 2, 3, 0, 20, 0, 30, 2, 3, 2, 3, 8, 50, 2, 3]))


if __name__ == "__main__":
    main()
