"""``pip install extractkit`` with no extras: text files and PDF text layers work, the rest names its extra."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hostile.generate import text_pdf
from support.paths import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel built from this tree and only its required dependencies."""
    root = tmp_path_factory.mktemp("bare")
    tree = root / "src"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, tree)
    for package in ("extractkit", "extractkit_plugins", "runner"):
        shutil.copytree(REPO / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    wheels = root / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), "."],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    [wheel] = wheels.glob("extractkit-*.whl")
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr
    return venv


def _extractkit(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(venv / "bin" / "extractkit"), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_bare_install_has_none_of_the_extras(bare_venv):
    listed = subprocess.run([str(bare_venv / "bin" / "pip"), "list"], capture_output=True, text=True, check=True)
    names = {line.split()[0].lower() for line in listed.stdout.splitlines()[2:]}
    assert not names & {"python-docx", "pillow", "boto3", "opensearch-py", "lxml", "pdfplumber"}, names


def test_text_files_and_pdf_text_layers_are_extracted(bare_venv, tmp_path):
    (tmp_path / "note.txt").write_text("図書館の開館時間 library opening hours\n", encoding="utf-8")
    (tmp_path / "report.pdf").write_bytes(text_pdf(("Hello isolation", "Broken files must not break the batch")))
    done = _extractkit(bare_venv, "extract", "note.txt", "report.pdf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "図書館の開館時間" in done.stdout and "Hello isolation" in done.stdout


def test_a_docx_and_an_image_name_the_extra_to_install(bare_venv, tmp_path):
    from support.office_builders import build_docx

    build_docx(tmp_path / "letter.docx")
    shutil.copy(REPO.parent / "shared" / "corpus" / "public" / "python-docx" / "test.docx", tmp_path / "other.docx")
    done = _extractkit(bare_venv, "extract", "letter.docx", cwd=tmp_path)
    assert done.returncode == 10, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "install extractkit[office] to read .docx files" in line and "letter.docx" in line
    assert "Traceback" not in done.stderr and "ImportError" not in done.stderr


def test_a_config_that_needs_a_missing_extra_is_one_line(bare_venv, tmp_path):
    config = tmp_path / "worker.toml"
    config.write_text(
        '[source]\ntype = "folder"\npath = "."\n[sink]\ntype = "opensearch"\nendpoint = "http://127.0.0.1:9"\n'
    )
    done = _extractkit(bare_venv, "run", "--config", str(config), "--validate-only", cwd=tmp_path)
    assert done.returncode == 78, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "install extractkit[opensearch]" in line
