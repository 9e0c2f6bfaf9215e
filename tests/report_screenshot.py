#!/usr/bin/env python3
"""Screenshot a report.html with headless Chromium, cut to the page's height.

    python3 tests/report_screenshot.py build/demo-report/report.html docs/report.png [WIDTH]

Chromium's --screenshot takes the window, not the page: the window is made tall, and the
white rows below the page's last pixel are cut off (keeping a margin). Standard library
only: the PNG is decoded (with tests/integration/test_report.py's decoder) and written again
with zlib.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))
from test_report import png_pixels  # noqa: E402


def write_png(path, w, rows, bpp):
    """Rows of RGB(A) bytes as an 8-bit RGB PNG (filter Up on every row but the first)."""
    raw, prev = bytearray(), None
    for row in rows:
        rgb = row if bpp == 3 else bytes(b for i, b in enumerate(row) if i % 4 != 3)
        if prev is None:
            raw += b"\x00" + rgb
        else:
            raw += b"\x02" + bytes((a - b) & 0xff for a, b in zip(rgb, prev))
        prev = rgb

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xffffffff)
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n")
        fh.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, len(rows), 8, 2, 0, 0, 0)))
        fh.write(chunk(b"IDAT", zlib.compress(bytes(raw), 9)))
        fh.write(chunk(b"IEND", b""))


def main(page, out, width=900):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        sys.exit("chromium is not installed (Debian package chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        shot = os.path.join(tmp, "shot.png")
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--user-data-dir=" + os.path.join(tmp, "profile"),
                        "--window-size=%d,8000" % width, "--screenshot=" + shot,
                        "file://" + os.path.abspath(page)],
                       check=True, capture_output=True, timeout=180)
        with open(shot, "rb") as fh:
            w, h, bpp, rows = png_pixels(fh.read())
    white = b"\xff" * (w * bpp)
    last = max((y for y, r in enumerate(rows) if r != white), default=h - 1)
    rows = rows[:min(h, last + 24)]
    write_png(out, w, rows, bpp)
    print("%s: %dx%d" % (out, w, len(rows)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 900)
