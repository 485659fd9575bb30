"""One version: Cargo.toml's workspace version, as the installed package, the compiled module, the
``equipoise --version`` command and the CHANGELOG all report it."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import equipoise
from equipoise import _core
from equipoise.cli import main

# The source tree (a clone or the unpacked sdist) whose tests run against the installed wheel.
ROOT = Path(__file__).resolve().parents[1]


def _cargo_version() -> str:
    text = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
    section = re.search(r"^\[workspace\.package\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    assert section, "Cargo.toml has no [workspace.package] table"
    version = re.search(r'^version\s*=\s*"([^"]+)"', section.group(1), re.M)
    assert version, "[workspace.package] has no version"
    return version.group(1)


def test_version_is_cargo_tomls_everywhere():
    version = _cargo_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", version), version
    assert equipoise.__version__ == version
    assert _core.__version__ == version
    # The installed distribution's metadata (what pip and importlib see) says the same.
    assert importlib.metadata.version("equipoise") == version


def test_changelog_has_a_section_for_this_version():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", changelog, re.M)
    assert headings, "CHANGELOG.md has no '## [version]' sections"
    assert equipoise.__version__ in headings or (
        headings[0] == "Unreleased" and equipoise.__version__ in headings[1:2]
    ), f"CHANGELOG.md's newest sections {headings[:2]} do not name {equipoise.__version__}"


def test_cli_version_flag(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"equipoise {equipoise.__version__}"


def test_installed_console_script_prints_the_version():
    # The entry point pip installed next to this interpreter (bin/ or Scripts/).
    script = shutil.which("equipoise", path=str(Path(sys.executable).parent))
    assert script is not None, "the equipoise console script is not installed"
    out = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"equipoise {equipoise.__version__}"
