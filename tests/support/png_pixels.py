#!/usr/bin/env python3
"""Prints the colour (rrggbb) of PNG pixels, for tests that check what a
real renderer drew. Reads 8-bit RGB/RGBA, non-interlaced PNGs (what
rsvg-convert writes), with the standard library only.
    png_pixels.py FILE X,Y [X,Y ...]     one rrggbb per point, in order
    png_pixels.py FILE --find RRGGBB,... the leftmost pixel (the topmost of
                                         them) of one of those colours, as X,Y
"""
import struct
import sys
import zlib


def decode(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "unsupported PNG layout"
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def main():
    width, height, bpp, rows = decode(sys.argv[1])
    if len(sys.argv) == 4 and sys.argv[2] == "--find":
        wanted = {bytes.fromhex(c) for c in sys.argv[3].split(",")}
        for x in range(width):
            for y in range(height):
                if bytes(rows[y][x * bpp:x * bpp + 3]) in wanted:
                    print("%d,%d" % (x, y))
                    return
        print("none")
        return
    for point in sys.argv[2:]:
        x, y = (int(v) for v in point.split(","))
        if not (0 <= x < width and 0 <= y < height):
            print("outside")
            continue
        px = rows[y][x * bpp:x * bpp + 3]
        print("%02x%02x%02x" % tuple(px))


if __name__ == "__main__":
    main()
