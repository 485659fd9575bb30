"""Optional dependencies stay optional: importing equipoise loads none of them."""

import subprocess
import sys


def test_import_equipoise_never_imports_pyspark_or_torch():
    code = (
        "import sys, equipoise, equipoise.over_sampling, equipoise.under_sampling, "
        "equipoise.combine, equipoise.sampling, equipoise.datasets\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('pyspark', 'torch', 'py4j')]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
