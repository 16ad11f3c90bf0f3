"""Writes src/legacy_tables.rs from glibc's iconv: each byte of TCVN5712-1,
VISCII, CP1258 and CP1252 decoded alone. Run from services/import/."""
import subprocess


def table(encoding):
    out = []
    for byte in range(256):
        result = subprocess.run(["iconv", "-f", encoding, "-t", "UTF-8"],
                                input=bytes([byte]), capture_output=True)
        out.append(ord(result.stdout.decode("utf-8")) if result.returncode == 0 else 0xFFFD)
    return out


ENCODINGS = [
    ("TCVN3", "TCVN5712-1", 'TCVN 5712:1993 ("ABC", VN3), glibc\'s TCVN5712-1.'),
    ("VISCII", "VISCII", "VISCII 1.1 (RFC 1456)."),
    ("CP1258", "CP1258", "Windows-1258."),
    ("CP1252", "CP1252", "Windows-1252: what legacy bytes were misread as before being saved again as UTF-8."),
]
lines = [
    "//! Byte-to-character tables of the legacy single-byte encodings, as glibc's",
    "//! iconv reads each byte alone (written by `tables.py` from `iconv`; the",
    "//! tests check them against `iconv` again). `U+FFFD` marks a byte the",
    "//! encoding leaves undefined.",
    "",
]
for name, encoding, doc in ENCODINGS:
    codes = table(encoding)
    lines.append(f"/// {doc}")
    lines.append(f"pub(crate) const {name}: [char; 256] = [")
    for start in range(0, 256, 8):
        lines.append("    " + " ".join(f"'\\u{{{c:04X}}}'," for c in codes[start:start + 8]))
    lines.append("];")
    lines.append("")
open("src/legacy_tables.rs", "w").write("\n".join(lines))
