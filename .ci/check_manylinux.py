"""Fail unless an `auditwheel show` report gives a manylinux tag at or below a glibc version.

Usage: python .ci/check_manylinux.py REPORT MAJOR MINOR   (e.g. 2 17 for manylinux2014)
"""

import re
import sys

report, major, minor = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(report, encoding="utf-8") as f:
    text = " ".join(f.read().split())  # auditwheel wraps its lines
m = re.search(r'consistent with the following platform tag: "manylinux_(\d+)_(\d+)_\w+"', text)
if m is None:
    sys.exit(f"auditwheel reported no manylinux tag:\n{text}")
glibc = (int(m[1]), int(m[2]))
if glibc > (major, minor):
    sys.exit(f"the wheel needs glibc {glibc[0]}.{glibc[1]}, newer than {major}.{minor}")
print(f"ok: manylinux_{glibc[0]}_{glibc[1]} (glibc {major}.{minor} or older required)")
