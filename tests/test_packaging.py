"""The first command of the README (``./run.sh demo``) installs without scary warnings.

Found walking the README in a fresh clone: pip printed setuptools' "`project.license` as a
TOML table is deprecated" banner three times. PEP 639 wants an SPDX string, which setuptools
reads from version 77 on, so the build requirement must say so.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_license_is_an_spdx_string_and_setuptools_can_read_it() -> None:
    doc = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert doc["project"]["license"] == "Apache-2.0"  # the README's "tailwatch's code is Apache-2.0"
    setuptools = next(r for r in doc["build-system"]["requires"] if r.startswith("setuptools"))
    m = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", setuptools)
    assert m is not None and int(m.group(1)) >= 77
