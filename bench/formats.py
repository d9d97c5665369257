"""Documents per second and peak memory per format, on the public corpus files (email, RTF, EPUB, XML, HTML, archives).

Usage: ``python bench/formats.py [--seconds S]``.

Each format runs in a fresh child process: it loads the builtin plugins, extracts
every file of the format once untimed (imports, warm caches), then extracts them
round after round for about ``--seconds`` and reports documents per second. Peak
memory is the child's maximum resident set size (``resource.getrusage``), beside
its size right after the warm-up round, so the format's own cost shows.

Formats named ``…+members`` are extracted with a job folder, as the pipeline
does: the embedded documents (archive members, attachments) are written out and
extracted too, and each counts as a document.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import _paths  # noqa: F401  (puts the checkout and tests/ on sys.path)

CORPUS = Path(os.environ.get("EXTRACTKIT_CORPUS", "/work/shared/corpus/public"))
TIKA = CORPUS / "tika"
#: Files of each format in the corpus; members of Tika's test-documents.zip are copied out first.
FORMATS = {
    "eml": sorted(str(p) for p in TIKA.glob("testRFC822*")) + sorted(str(p) for p in TIKA.glob("*.eml")),
    "msg": sorted(str(p) for p in TIKA.glob("*.msg")),
    "rtf": sorted(str(p) for p in TIKA.glob("*.rtf")),
    "epub": sorted(str(p) for p in TIKA.glob("*.epub")),
    "xml": ["zip:testXML.xml"],
    "html": ["zip:testHTML.html"],
    "zip": [str(TIKA / "test-documents.zip"), str(TIKA / "testZipEntryNameCharsetShiftSJIS.zip")],
    "tar.gz": ["tgz:test-documents.zip"],
    "zip+members": [str(TIKA / "test-documents.zip"), str(TIKA / "testZipEntryNameCharsetShiftSJIS.zip")],
    "tar.gz+members": ["tgz:test-documents.zip"],
    "eml+members": [str(TIKA / "testRFC822_multipart_attachments.eml")],
    "msg+members": [str(TIKA / "testMSG_att_doc.msg")],
}


def _materialise(paths: list[str], workdir: Path) -> list[str]:
    out = []
    for path in paths:
        if path.startswith("tgz:"):
            import tarfile

            target = workdir / (Path(path[4:]).stem + ".tar.gz")
            with zipfile.ZipFile(TIKA / path[4:]) as archive, tarfile.open(target, "w:gz") as tar:
                for info in archive.infolist():
                    member = tarfile.TarInfo(info.filename)
                    member.size = info.file_size
                    with archive.open(info) as data:
                        tar.addfile(member, data)
            out.append(str(target))
        elif path.startswith("zip:"):
            name = path[4:]
            with zipfile.ZipFile(TIKA / "test-documents.zip") as archive:
                target = workdir / name
                target.write_bytes(archive.read(name))
            out.append(str(target))
        else:
            out.append(path)
    return out


def _extract_tree(path: str, plugins) -> int:
    """Extract a file and its embedded documents as the pipeline does; return how many documents that was."""
    import dataclasses
    import shutil
    import tempfile

    from extractkit.embedded import extract_children
    from extractkit.models import ExtractOptions
    from extractkit.processing import local_document, process_document

    workdir = Path(tempfile.mkdtemp(prefix="extractkit-bench-job-"))
    try:
        outcome = process_document(dataclasses.replace(local_document(path), workdir=workdir), plugins)
        children = extract_children(outcome, lambda document: process_document(document, plugins), ExtractOptions())
        return 1 + len(children)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_child(paths: list[str], seconds: float, with_members: bool = False) -> dict:
    """Measure in this process: warm-up round, then timed rounds; returns the numbers as a dict."""
    from extractkit import extract
    from extractkit.plugins import Plugins, PluginSpec

    plugins = Plugins(PluginSpec(entry_points=False))

    def once(path: str) -> int:
        if with_members:
            return _extract_tree(path, plugins)
        extract(path, plugins=plugins)
        return 1

    for path in paths:
        once(path)
    warm_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    documents = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for path in paths:
            documents += once(path)
    elapsed = time.perf_counter() - started
    return {
        "files": len(paths),
        "bytes": sum(Path(path).stat().st_size for path in paths),
        "documents": documents,
        "docs_per_second": documents / elapsed,
        "warm_rss_mb": warm_rss / 1024,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--with-members", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(run_child(args.child, args.seconds, args.with_members)))
        return
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory(prefix="extractkit-bench-formats-") as workdir:
        for name, paths in FORMATS.items():
            files = _materialise(paths, Path(workdir))
            completed = subprocess.run(
                [sys.executable, __file__, "--seconds", str(args.seconds)]
                + (["--with-members"] if name.endswith("+members") else [])
                + ["--child", *files],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            )
            rows.append((name, json.loads(completed.stdout.strip().splitlines()[-1])))
    print(f"{'format':15} {'files':>5} {'KB':>7} {'docs/s':>9} {'RSS warm MB':>12} {'RSS peak MB':>12}")
    for name, row in rows:
        print(
            f"{name:15} {row['files']:5d} {row['bytes'] / 1024:7.0f} {row['docs_per_second']:9.1f} "
            f"{row['warm_rss_mb']:12.1f} {row['peak_rss_mb']:12.1f}"
        )


if __name__ == "__main__":
    main()
