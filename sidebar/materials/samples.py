"""Small real files (PNG, PDF, MP4) made in code: the demo's materials and the tests' uploads."""
import struct
import zlib


def png(width=240, height=320, top=(31, 111, 229), bottom=(18, 161, 80)):
    """A PNG poster: a vertical gradient with a light band, valid for any image viewer."""
    rows = []
    for y in range(height):
        t = y / max(height - 1, 1)
        color = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom))
        band = height * 0.62 < y < height * 0.78
        line = bytes((250, 250, 250)) * width if band else color * width
        rows.append(b"\x00" + line)
    raw = zlib.compress(b"".join(rows), 9)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", raw) + _chunk(b"IEND", b""))


def _chunk(kind, data):
    """A PNG chunk with its length and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pdf(title="Sidebar demo", lines=("Research note",)):
    """A one-page PDF with a few lines of (ASCII) text."""
    text = "BT /F1 18 Tf 60 760 Td (" + _pdf_text(title) + ") Tj ET"
    for index, line in enumerate(lines):
        text += f" BT /F1 12 Tf 60 {720 - 18 * index} Td (" + _pdf_text(line) + ") Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(text) + text.encode() + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _pdf_text(value):
    """A PDF string literal's content."""
    return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def mp4(size=2048):
    """The start of an MP4 (an ftyp box and padding): enough for format checks, not for playing."""
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isomiso2"
    free = struct.pack(">I", size - 24) + b"free" + bytes(size - 32)
    return ftyp + free
