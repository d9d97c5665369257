"""Legacy Office and OpenDocument: the builtin pure-Python readers against odfdo and LibreOffice headless.

Usage: ``python bench/legacy_office.py [--repeats N] [--files PATH...]``.

The files are the public corpus's Apache Tika documents (.doc, .xls, .ppt, .odt,
.ods) plus any given with ``--files``. Each candidate runs in a fresh child
process per file type, so its peak RSS (``ru_maxrss``) is its own:

- ``builtin``: the extractor extractkit registers for the type (olefile, xlrd,
  zipfile + lxml), called ``--repeats`` times per file after one warm-up call;
- ``odfdo``: odfdo's ``Document(...).get_formatted_text()`` for OpenDocument files;
- ``libreoffice-cold``: ``soffice --headless --convert-to docx|xlsx|pptx`` per
  file (the OOXML twin the existing readers would then read; that read is not
  counted) with a new private profile each time, as one isolated job would run it;
- ``libreoffice-warm``: the same with one profile reused (the best LibreOffice can do
  without a resident server).

LibreOffice's peak RSS is the largest child's (``RUSAGE_CHILDREN``). Results go
to ``bench/results/legacy_office.json`` and a table on standard output.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _paths

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "public" / "tika"
DEFAULT_FILES = (
    "testWORD.doc",
    "testWORD_various.doc",
    "testEXCEL.xls",
    "testPPT.ppt",
    "testOpenOffice2.odt",
    "testODFwithOOo3.odt",
    "test-columnar.ods",
)
RESULTS = REPO / "bench" / "results" / "legacy_office.json"
LIBREOFFICE_TIMEOUT = 120
PYTHON_TIMEOUT = 60
#: What LibreOffice converts each type to, so the existing OOXML readers can take over.
OOXML_TWIN = {".doc": "docx", ".odt": "docx", ".xls": "xlsx", ".ods": "xlsx", ".ppt": "pptx", ".odp": "pptx"}

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
candidate, repeats, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def builtin(path):
    from extractkit import extract
    from extractkit.plugins import Plugins, PluginSpec
    global plugins
    try:
        plugins
    except NameError:
        plugins = Plugins(PluginSpec(entry_points=False))
    return extract(path, plugins=plugins).text
def odfdo(path):
    from odfdo import Document
    return Document(path).get_formatted_text()
read = {"builtin": builtin, "odfdo": odfdo}[candidate]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sizes = [len(read(path)) for path in paths]  # warm-up: imports and first use
start = time.perf_counter()
for _ in range(repeats):
    for path in paths:
        read(path)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "documents": repeats * len(paths), "peak_kb": peak, "baseline_kb": before,
                  "characters": sizes}))
"""


def run_python_candidate(candidate: str, paths: list[Path], repeats: int) -> dict:
    """Time one in-process candidate in a fresh interpreter."""
    try:
        completed = subprocess.run(
            [sys.executable, "-c", _CHILD, candidate, str(repeats), *map(str, paths)],
            env=_paths.child_environment(),
            capture_output=True,
            text=True,
            timeout=PYTHON_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"no result after {PYTHON_TIMEOUT} s"}
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "failed"}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run_libreoffice(paths: list[Path], repeats: int, *, warm: bool) -> dict:
    """Convert every file to text with soffice, one process per file, in its own process group."""
    soffice = shutil.which("soffice")
    if soffice is None:
        return {"error": "soffice not installed (apt-get install libreoffice-writer-nogui ...)"}
    documents = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-lo-") as folder:
        shared_profile = Path(folder) / "profile"
        if warm:  # first start writes the profile: not counted
            _convert(soffice, paths[0], Path(folder), shared_profile)
            start = time.perf_counter()
        for round_number in range(repeats):
            for index, path in enumerate(paths):
                profile = shared_profile if warm else Path(folder) / f"profile-{round_number}-{index}"
                _convert(soffice, path, Path(folder), profile)
                documents += 1
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "documents": documents, "peak_kb": peak, "baseline_kb": 0}


def _convert(soffice: str, path: Path, out: Path, profile: Path) -> None:
    command = [
        soffice,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        OOXML_TWIN[path.suffix.lower()],
        "--outdir",
        str(out),
        str(path),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        process.wait(timeout=LIBREOFFICE_TIMEOUT)
    except subprocess.TimeoutExpired:
        import os
        import signal

        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main() -> None:
    """Measure every candidate on every file type and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--libreoffice-repeats", type=int, default=1)
    parser.add_argument("--files", nargs="*", type=Path, default=[])
    arguments = parser.parse_args()
    files = [CORPUS / name for name in DEFAULT_FILES] + list(arguments.files)
    by_type: dict[str, list[Path]] = {}
    for path in files:
        by_type.setdefault(path.suffix.lower(), []).append(path)
    results: dict[str, dict[str, dict]] = {}
    for suffix, paths in sorted(by_type.items()):
        row = {"builtin": run_python_candidate("builtin", paths, arguments.repeats)}
        if suffix.startswith(".od"):
            row["odfdo"] = run_python_candidate("odfdo", paths, arguments.repeats)
        row["libreoffice-cold"] = run_libreoffice(paths, arguments.libreoffice_repeats, warm=False)
        row["libreoffice-warm"] = run_libreoffice(paths, arguments.libreoffice_repeats, warm=True)
        results[suffix] = row
        print(suffix, json.dumps(row), file=sys.stderr, flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"{'type':6} {'candidate':18} {'docs/s':>10} {'peak RSS MB':>12}")
    for suffix, row in results.items():
        for candidate, measured in row.items():
            if "error" in measured:
                print(f"{suffix:6} {candidate:18} {measured['error']}")
                continue
            rate = measured["documents"] / measured["seconds"] if measured["seconds"] else float("inf")
            print(f"{suffix:6} {candidate:18} {rate:10.1f} {measured['peak_kb'] / 1024:12.1f}")


if __name__ == "__main__":
    main()
