"""The editor's JavaScript: its unit tests (node's test runner) pass and the shipped bundle is fresh."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (bash .ci/setup installs nodejs)")
    return node


def test_js_unit_tests() -> None:
    tests = sorted(str(p) for p in (REPO / "js" / "tests").glob("*.test.js"))
    result = subprocess.run([_node(), "--test", *tests], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_shipped_bundle_is_built_from_the_sources() -> None:
    result = subprocess.run([_node(), "js/build.mjs", "--check"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
