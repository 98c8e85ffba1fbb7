"""The domain layer ships its bytecode (layers/domain/Makefile, run by ``sam build``).

Lambda's file system is read-only: a layer of sources is compiled again on every cold start (the
history_chunk handler imported in 0.81 s from sources, 0.30 s from this build's bytecode). These
tests run the Makefile's bytecode step on a copy of our package (the pip step needs the registry;
``make build`` runs it whole) and prove the bytecode is what Python loads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.util import cache_from_source
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "domain"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    artifacts = tmp_path_factory.mktemp("DomainLayer")
    command = ["make", "-s", "-C", str(LAYER), "bytecode-DomainLayer", f"ARTIFACTS_DIR={artifacts}"]
    subprocess.run(  # noqa: S603 - make, on our own Makefile
        [*command, f"LAYER_PYTHON={sys.executable}"],
        check=True,
        capture_output=True,
        text=True,
    )
    return artifacts / "python"


def test_every_module_of_ours_has_unchecked_bytecode(built: Path) -> None:
    sources = sorted((built / "whatrack").rglob("*.py"))
    assert len(sources) == len(list((LAYER / "whatrack").rglob("*.py"))) > 50
    for source in sources:
        pyc = Path(cache_from_source(str(source)))
        header = pyc.read_bytes()[:16]
        flags = int.from_bytes(header[4:8], "little")
        assert flags == 0b01, f"{pyc.name}: not hash-based unchecked bytecode (flags {flags:#b})"


def test_python_loads_the_bytecode_and_never_compiles_the_sources(built: Path, tmp_path: Path) -> None:
    layer = tmp_path / "python"
    shutil.copytree(built, layer)
    # a source that would fail if it were compiled: only its bytecode can be imported
    (layer / "whatrack" / "domain" / "ids.py").write_text("raise SystemExit('the source was compiled')\n")
    env = {**os.environ, "PYTHONPATH": str(layer), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", "import whatrack.domain.ids as m; print(m.new_id.__name__)"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "new_id"
