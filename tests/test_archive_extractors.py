"""Archives: Tika's zips and generated zip, tar and compressed files, through the pipeline into a local index.

Generated archives that the standard library cannot write (member names in
CP932 without the UTF-8 flag, zip-encrypted members, symbolic links, members
that lie about their size) are assembled byte by byte by :func:`raw_zip`.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import tarfile
import time
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_pipeline import RecordingSource

from extractkit import Pipeline, extract
from extractkit.errors import DocumentError
from extractkit.models import ExtractOptions
from extractkit.plugins import Plugins, PluginSpec
from extractkit.testing import check_extractor
from extractkit_plugins.archive.tar_extractor import CompressedFileExtractor, TarExtractor
from extractkit_plugins.archive.zip_extractor import ZipExtractor
from extractkit_plugins.local.local_index_sink import LocalIndex

# -- building archives -----------------------------------------------------------


@dataclass
class RawEntry:
    """One zip entry as it sits in the file: ``data`` is the stored (maybe deflated, maybe encrypted) payload."""

    name: bytes
    data: bytes
    size: int
    crc: int
    method: int = zipfile.ZIP_STORED
    flags: int = 0
    mode: int = 0o100644


def stored(name: bytes, content: bytes, flags: int = 0) -> RawEntry:
    return RawEntry(name, content, len(content), zlib.crc32(content), flags=flags)


def deflated(name: bytes, content: bytes) -> RawEntry:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return RawEntry(name, packer.compress(content) + packer.flush(), len(content), zlib.crc32(content), 8)


def raw_zip(entries: list[RawEntry]) -> bytes:
    """A zip written field by field, so names, flags, modes and sizes are exactly what the test says."""
    out, central = bytearray(), bytearray()
    for entry in entries:
        offset = len(out)
        fields = (entry.flags, entry.method, 0, 0x21, entry.crc, len(entry.data), entry.size, len(entry.name))
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, *fields, 0) + entry.name + entry.data
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", (3 << 8) | 20, 20, *fields, 0, 0, 0, 0, entry.mode << 16, offset
        )
        central += entry.name
    start = len(out)
    count = len(entries)
    return bytes(out + central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), start, 0))


def zipcrypto(content: bytes, password: bytes) -> bytes:
    """PKWARE traditional encryption of a stored member: 12 header bytes, then the content."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc_byte(crc: int, byte: int) -> int:
        return zlib.crc32(bytes([byte]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def update(byte: int) -> None:
        keys[0] = crc_byte(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc_byte(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    header = bytes(11) + bytes([zlib.crc32(content) >> 24])
    encrypted = bytearray()
    for byte in header + content:
        temp = (keys[2] | 2) & 0xFFFF
        encrypted.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(byte)
    return bytes(encrypted)


def encrypted_entry(name: bytes, content: bytes, password: bytes = b"tika") -> RawEntry:
    return RawEntry(name, zipcrypto(content, password), len(content), zlib.crc32(content), flags=0x1)


def write_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def xlsx_bytes(text: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Q3"
    book.active["A1"] = text
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- running the pipeline ----------------------------------------------------------


def run(tmp_path: Path, files: list[Path], options: ExtractOptions | None = None, executor=None):
    plugins = Plugins(PluginSpec(entry_points=False))
    sink = plugins.make_sink("local_index", {"path": str(tmp_path / "index.db")})
    Pipeline(
        RecordingSource(files), sink, plugins=plugins, options=options, executor=executor, temp_dir=tmp_path / "work"
    ).run()
    sink.close()
    assert list((tmp_path / "work").iterdir()) == [], "embedded files were left behind in the job folder"
    return LocalIndex(tmp_path / "index.db", create=False)


def stored_uris(index: LocalIndex) -> set[str]:
    return {row[0] for row in index.db.execute("SELECT uri FROM documents")}


def failures(index: LocalIndex) -> dict[str, str]:
    return {row[0]: row[1] for row in index.db.execute("SELECT uri, reason FROM failures")}


def content(index: LocalIndex, uri: str) -> str:
    return index.db.execute("SELECT content FROM documents WHERE uri = ?", (uri,)).fetchone()[0]


# -- Tika's archives ----------------------------------------------------------------


def test_tika_test_documents_zip_members_are_documents_of_their_own(tmp_path, corpus):
    archive = corpus / "tika" / "test-documents.zip"
    index = run(tmp_path, [archive])
    parent = archive.as_uri()
    members = ["testEXCEL.xls", "testHTML.html", "testOpenOffice2.odt", "testPDF.pdf", "testPPT.ppt"]
    members += ["testRTF.rtf", "testTXT.txt", "testWORD.doc", "testXML.xml"]
    assert stored_uris(index) == {parent} | {f"{parent}!/{name}" for name in members}
    assert failures(index) == {}
    assert content(index, parent).splitlines() == members
    assert [hit.uri for hit in index.search("Content Analysis Toolkit")] == [f"{parent}!/testPDF.pdf"]
    assert [hit.uri for hit in index.search("Sample Powerpoint Slide")] == [f"{parent}!/testPPT.ppt"]
    assert parent in {hit.uri for hit in index.search("testOpenOffice2")}, "the archive is found by member names"


def test_tika_shift_jis_member_names(tmp_path, corpus):
    archive = corpus / "tika" / "testZipEntryNameCharsetShiftSJIS.zip"
    result = extract(archive)
    assert result.text == "文章1.txt\n文章2.txt" and result.metadata["name_encoding"] == "cp932"
    index = run(tmp_path, [archive])
    assert f"{archive.as_uri()}!/文章1.txt" in stored_uris(index)


# -- names ---------------------------------------------------------------------------


def test_japanese_names_in_cp932_and_with_the_utf8_flag(tmp_path):
    sjis = tmp_path / "sjis.zip"
    sjis.write_bytes(raw_zip([stored("議事録/会議.txt".encode("cp932"), "本日の議題は予算".encode())]))
    flagged = tmp_path / "utf8.zip"
    flagged.write_bytes(raw_zip([stored("報告書/第3四半期.txt".encode(), "売上は増加".encode(), flags=0x800)]))
    german = tmp_path / "german.zip"
    german.write_bytes(raw_zip([stored("Über Äpfel.txt".encode("cp437"), b"Apfel")]))
    assert extract(sjis).text == "議事録/会議.txt"
    assert extract(flagged).text == "報告書/第3四半期.txt"
    assert extract(german).text == "Über Äpfel.txt", "single accented letters stay CP437"
    index = run(tmp_path, [sjis, flagged])
    assert f"{sjis.as_uri()}!/議事録/会議.txt" in stored_uris(index)
    assert {hit.uri for hit in index.search("第3四半期")} == {
        flagged.as_uri(),
        f"{flagged.as_uri()}!/報告書/第3四半期.txt",
    }
    assert [hit.uri for hit in index.search("予算")] == [f"{sjis.as_uri()}!/議事録/会議.txt"]


def test_zip_slip_names_and_links_never_escape_the_job_folder(tmp_path):
    token = uuid.uuid4().hex
    archive = tmp_path / "slip.zip"
    entries = [
        stored(f"../../{token}-climb.txt".encode(), b"climbing out"),
        stored(f"/tmp/{token}-absolute.txt".encode(), b"absolute path"),
        stored(f"C:\\{token}\\drive.txt".encode(), b"drive letter"),
        RawEntry(f"{token}-link".encode(), b"/etc/passwd", 11, zlib.crc32(b"/etc/passwd"), mode=0o120777),
        stored(b"reports/", b"", flags=0),
    ]
    archive.write_bytes(raw_zip(entries))
    before = {path for path in tmp_path.rglob("*")}
    index = run(tmp_path, [archive])
    parent = archive.as_uri()
    assert stored_uris(index) == {
        parent,
        f"{parent}!/{token}-climb.txt",
        f"{parent}!/tmp/{token}-absolute.txt",
        f"{parent}!/{token}/drive.txt",
    }
    assert "root:" not in "".join(content(index, uri) for uri in stored_uris(index))
    metadata = index.db.execute("SELECT metadata FROM documents WHERE uri = ?", (parent,)).fetchone()[0]
    assert '"unsafe_names": 3' in metadata and '"skipped_entries": 2' in metadata
    escaped = [
        path for root in (tmp_path, tmp_path.parent, Path("/tmp"), Path.cwd()) for path in root.glob(f"{token}*")
    ]
    assert escaped == []
    assert {path for path in tmp_path.rglob("*")} - before <= {tmp_path / "index.db", tmp_path / "work"} | set(
        tmp_path.glob("index.db*")
    )


# -- nesting, tar and compressed files ------------------------------------------------


def test_nested_zip_with_an_xlsx_is_searchable_at_its_own_uri(tmp_path):
    inner = write_zip(tmp_path / "inner.zip", {"reports/q3.xlsx": xlsx_bytes("第3四半期 売上報告")})
    outer = write_zip(tmp_path / "archive.zip", {"notes.txt": b"see the reports", "reports.zip": inner.read_bytes()})
    index = run(tmp_path, [outer])
    parent = outer.as_uri()
    assert stored_uris(index) == {parent, f"{parent}!/notes.txt", f"{parent}!/reports.zip"} | {
        f"{parent}!/reports.zip!/reports/q3.xlsx"
    }
    assert [hit.uri for hit in index.search("売上報告")] == [f"{parent}!/reports.zip!/reports/q3.xlsx"]


def _tar_gz(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in (("docs/readme.txt", "圧縮されたテキスト".encode()), ("docs/data.csv", b"a,b\n1,2\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for kind, name in ((tarfile.SYMTYPE, "docs/passwd"), (tarfile.DIRTYPE, "docs"), (tarfile.CHRTYPE, "tty")):
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
            archive.addfile(info)
        info = tarfile.TarInfo("../../escape.txt")
        info.size = 6
        archive.addfile(info, io.BytesIO(b"escape"))
    return path


def test_tar_gz_tar_and_single_gz_files(tmp_path):
    tgz = _tar_gz(tmp_path / "bundle.tar.gz")
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w") as archive:
        archive.add(tmp_path / "bundle.tar.gz", arcname="inside/bundle.tgz")
    single = tmp_path / "report.txt.gz"
    single.write_bytes(gzip.compress("gzip で圧縮した報告".encode()))
    index = run(tmp_path, [tgz, plain, single])
    uris = stored_uris(index)
    assert {f"{tgz.as_uri()}!/docs/readme.txt", f"{tgz.as_uri()}!/docs/data.csv", f"{tgz.as_uri()}!/escape.txt"} < uris
    assert f"{plain.as_uri()}!/inside/bundle.tgz!/docs/readme.txt" in uris
    assert {hit.uri for hit in index.search("圧縮されたテキスト")} == {
        f"{tgz.as_uri()}!/docs/readme.txt",
        f"{plain.as_uri()}!/inside/bundle.tgz!/docs/readme.txt",
    }
    assert [hit.uri for hit in index.search("で圧縮した報告")] == [f"{single.as_uri()}!/report.txt"]
    listing = extract(tgz)
    assert listing.text == "docs/readme.txt\ndocs/data.csv\nescape.txt"
    assert listing.metadata["archive_format"] == "tar+gzip" and listing.metadata["skipped_entries"] == 3
    assert not (tmp_path.parent / "escape.txt").exists()


# -- limits ---------------------------------------------------------------------------


def test_a_member_that_lies_about_its_size_is_too_large_at_once(tmp_path):
    bomb = deflated(b"small.txt", bytes(50 * 1024 * 1024))
    bomb.size = 1000
    archive = tmp_path / "liar.zip"
    archive.write_bytes(raw_zip([stored(b"a.txt", b"fine"), bomb]))
    started = time.monotonic()
    index = run(tmp_path, [archive])
    assert time.monotonic() - started < 10
    assert failures(index) == {archive.as_uri(): "too_large"}
    [message] = [row[0] for row in index.db.execute("SELECT message FROM failures")]
    assert "declares 1000 bytes but inflates to more" in message
    assert stored_uris(index) == set()


def _zip_of(path: Path, member: str, data: bytes, copies: int) -> bytes:
    write_zip(path, {f"{n}-{member}": data for n in range(copies)})
    return path.read_bytes()


@pytest.mark.parametrize("lying", [False, True], ids=["honest-sizes", "lying-sizes"])
def test_a_three_level_zip_of_zips_bomb_ends_too_large_within_seconds(tmp_path, lying):
    if lying:
        leaf = deflated(b"zeros.bin", bytes(64 * 1024 * 1024))
        leaf.size = 4096
        level = raw_zip([leaf])
    else:
        level = _zip_of(tmp_path / "leaf.zip", "zeros.bin", bytes(64 * 1024 * 1024), 1)
    for depth in range(3):
        level = _zip_of(tmp_path / f"level{depth}.zip", f"level{depth}.zip", level, 4)
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(level)
    started = time.monotonic()
    index = run(tmp_path, [bomb])
    assert time.monotonic() - started < 30
    reasons = failures(index)
    assert len(stored_uris(index)) == 1 + 4 + 16, "the top and the two outer levels are indexed"
    assert len(reasons) == 64 and set(reasons.values()) == {"too_large"}, "every innermost zip is too_large"
    assert all(uri.endswith("-level0.zip") for uri in reasons)


def test_the_byte_cap_counts_what_is_written(tmp_path):
    archive = write_zip(tmp_path / "big.zip", {f"part{n}.txt": os.urandom(300_000).hex().encode() for n in range(4)})
    options = ExtractOptions(max_archive_uncompressed=1_000_000)
    index = run(tmp_path, [archive], options)
    assert failures(index) == {archive.as_uri(): "too_large"}
    gz = tmp_path / "zeros.gz"
    gz.write_bytes(gzip.compress(bytes(20 * 1024 * 1024)))
    with pytest.raises(DocumentError) as caught:
        extract(gz)
    assert caught.value.reason == "too_large" and "decompression bomb" in caught.value.message


def test_too_many_entries_are_refused_from_the_end_record(tmp_path):
    archive = write_zip(tmp_path / "many.zip", {f"f{n}.txt": b"x" for n in range(50)}, zipfile.ZIP_STORED)
    with pytest.raises(DocumentError) as caught:
        extract(archive, options=ExtractOptions(max_archive_entries=20))
    assert caught.value.reason == "too_large" and "max_archive_entries" in caught.value.message


# -- encryption, damage and look-alikes ------------------------------------------------


def test_an_encrypted_member_fails_as_encrypted_at_its_own_uri(tmp_path):
    archive = tmp_path / "mixed.zip"
    archive.write_bytes(raw_zip([stored(b"open.txt", b"readable text"), encrypted_entry(b"secret.txt", b"hidden")]))
    with zipfile.ZipFile(archive) as check:
        assert check.read("secret.txt", pwd=b"tika") == b"hidden", "the fixture is real ZipCrypto"
    everything = tmp_path / "sealed.zip"
    everything.write_bytes(raw_zip([encrypted_entry(b"a.txt", b"one"), encrypted_entry(b"b.txt", b"two")]))
    index = run(tmp_path, [archive, everything])
    assert stored_uris(index) == {archive.as_uri(), f"{archive.as_uri()}!/open.txt"}
    assert failures(index) == {f"{archive.as_uri()}!/secret.txt": "encrypted", everything.as_uri(): "encrypted"}


def test_damaged_members_and_look_alike_office_files(tmp_path):
    broken = stored(b"broken.txt", b"payload")
    broken.crc ^= 0xFFFF
    archive = tmp_path / "damaged.zip"
    archive.write_bytes(raw_zip([stored(b"good.txt", b"good text"), broken]))
    index = run(tmp_path, [archive])
    assert failures(index) == {f"{archive.as_uri()}!/broken.txt": "corrupt"}
    office = write_zip(tmp_path / "broken.docx", {"[Content_Types].xml": b"<Types/>", "word/other.xml": b"<x/>"})
    with pytest.raises(DocumentError) as caught:
        extract(office)
    assert caught.value.reason == "corrupt", "a damaged Office package is not read as an archive"


# -- isolation and conformance ----------------------------------------------------------


def test_archives_through_the_isolated_executor(tmp_path):
    from runner.isolation import IsolatedExecutor, IsolationLimits

    inner = write_zip(tmp_path / "inner.zip", {"q3.txt": "第3四半期".encode()})
    outer = tmp_path / "outer.zip"
    outer.write_bytes(raw_zip([stored(b"../../x/inner.zip", inner.read_bytes()), stored(b"a.txt", b"alpha")]))
    spec = PluginSpec(entry_points=False)
    limits = IsolationLimits(timeout_seconds=60)
    with IsolatedExecutor(spec, ExtractOptions(), limits, 1, temp_dir=tmp_path / "w") as executor:
        index = run(tmp_path, [outer], executor=executor)
    assert stored_uris(index) == {
        outer.as_uri(),
        f"{outer.as_uri()}!/a.txt",
        f"{outer.as_uri()}!/x/inner.zip",
        f"{outer.as_uri()}!/x/inner.zip!/q3.txt",
    }
    assert not (tmp_path.parent / "x").exists()


def test_extractors_pass_the_conformance_kit(tmp_path, corpus):
    check_extractor(
        ZipExtractor,
        [corpus / "tika" / "test-documents.zip", corpus / "tika" / "testZipEntryNameCharsetShiftSJIS.zip"],
        expected_text={"test-documents.zip": "testPDF.pdf", "testZipEntryNameCharsetShiftSJIS.zip": "文章2.txt"},
    )
    tgz = _tar_gz(tmp_path / "bundle.tgz")
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w") as archive:
        archive.add(tgz, arcname="bundle.tgz")
    check_extractor(TarExtractor, [plain], expected_text={"plain.tar": "bundle.tgz"})
    check_extractor(CompressedFileExtractor, [tgz], expected_text={"bundle.tgz": "docs/readme.txt"})
