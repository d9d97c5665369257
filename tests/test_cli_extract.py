"""``extractkit extract`` and ``search`` as users try them: options, passwords, messages, formats, errors."""

from __future__ import annotations

import json
import shutil

import pytest

from support.cli import run_cli
from support.paths import CORPUS, REPO

SAMPLES = REPO / "examples" / "documents"
ENCRYPTED = CORPUS / "pdfminer.six" / "enc-aes-128.pdf"  # user password "baz"


def _config(tmp_path, sink_lines, source=SAMPLES, extract_lines=()):
    config = tmp_path / "worker.toml"
    config.write_text(
        "\n".join(
            [
                *("[source]", f'path = "{source}"', "[sink]", *sink_lines, "[extract]", *extract_lines),
                *("[worker]", f'temp_dir = "{tmp_path / "work"}"', "isolation = false"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return config


# -- search on what is not a local index (#3) -------------------------------------------


def test_search_on_a_jsonl_config_or_file_is_one_line(tmp_path):
    config = _config(tmp_path, ['type = "jsonl"', f'path = "{tmp_path / "out.jsonl"}"'])
    assert run_cli("run", "--config", str(config)).returncode == 0
    by_config = run_cli("search", "typhoon", "--config", str(config))
    assert by_config.returncode == 78, by_config.stderr
    assert "the config's sink is 'jsonl', which cannot be searched" in by_config.stderr
    assert by_config.stderr.count("\n") == 1 and "DatabaseError" not in by_config.stderr
    by_file = run_cli("search", "typhoon", "--index", str(tmp_path / "out.jsonl"))
    assert by_file.returncode == 69 and "is not a local index" in by_file.stderr
    assert by_file.stderr.count("\n") == 1 and "internal error" not in by_file.stderr


def test_an_empty_query_is_a_usage_error(tmp_path):
    for query in ("", "   ", "+++ --"):
        completed = run_cli("search", query, "--index", str(tmp_path / "none.db"))
        assert completed.returncode == 2, (query, completed.stderr)


def test_search_text_output_gives_score_and_page_and_json_the_same(tmp_path):
    index = tmp_path / "i.db"
    config = _config(tmp_path, ['type = "local_index"', f'path = "{index}"'])
    assert run_cli("run", "--config", str(config)).returncode == 0
    text = run_cli("search", "typhoon", "--index", str(index))
    assert text.returncode == 0, text.stderr
    assert "weather-report.en.txt  (score " in text.stdout and ", page 1)" in text.stdout
    hit = json.loads(run_cli("search", "typhoon", "--index", str(index), "--format", "json").stdout.splitlines()[0])
    assert hit["page"] == 1 and hit["score"] > 0 and "[typhoon]" in hit["snippet"].lower()


# -- --validate-only changes nothing (#7) -------------------------------------------------


def test_validate_only_creates_nothing(tmp_path):
    mistyped = tmp_path / "indx" / "deeper" / "index.db"
    config = _config(tmp_path, ['type = "local_index"', f'path = "{mistyped}"'])
    completed = run_cli("run", "--config", str(config), "--validate-only")
    assert completed.returncode == 0, completed.stderr
    jsonl = tmp_path / "missing" / "folder" / "out.jsonl"
    config = _config(tmp_path, ['type = "jsonl"', f'path = "{jsonl}"'])
    completed = run_cli("run", "--config", str(config), "--validate-only")
    assert completed.returncode == 0, completed.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["worker.toml"]  # no folder, no database, no TEMP_DIR


# -- OCR languages up front (#4) -----------------------------------------------------------


def test_an_unknown_ocr_language_is_a_config_error_up_front(tmp_path):
    config = _config(tmp_path, ['type = "jsonl"', 'path = "-"'], extract_lines=['ocr_languages = "klingon"'])
    completed = run_cli("run", "--config", str(config), "--validate-only")
    assert completed.returncode == 78, completed.stderr
    assert "klingon.traineddata" in completed.stderr and "tesseract-ocr-klingon" in completed.stderr
    assert completed.stderr.count("\n") == 1
    image = next((CORPUS / "tika").rglob("*.png"), None) or SAMPLES / "weather-report.en.txt"
    extract = run_cli("extract", "--ocr-languages", "jpn+klingon", str(image))
    assert extract.returncode == 78 and "'klingon'" in extract.stderr and "--ocr-languages" in extract.stderr
    ok = run_cli("extract", "--ocr-languages", "auto", str(SAMPLES / "weather-report.en.txt"))
    assert ok.returncode == 0, ok.stderr
    assert run_cli("extract", "--ocr-languages", "jpn_vert+eng", str(SAMPLES / "weather-report.en.txt")).returncode == 0


# -- --prefer (#5) -------------------------------------------------------------------------


def test_an_unknown_prefer_name_is_an_error_on_the_command_line_too():
    completed = run_cli("extract", "--prefer", "nosuch", str(SAMPLES / "weather-report.en.txt"))
    assert completed.returncode == 78
    assert "no extractor named 'nosuch'" in completed.stderr and "--prefer" in completed.stderr


# -- passwords (#8) -------------------------------------------------------------------------


def test_pdf_password_from_the_option_a_file_or_the_environment(tmp_path):
    locked = run_cli("extract", str(ENCRYPTED))
    assert locked.returncode == 12 and "pdf_password" in locked.stderr
    by_option = run_cli("extract", "--pdf-password", "baz", str(ENCRYPTED))
    assert by_option.returncode == 0 and "Secret!" in by_option.stdout, by_option.stderr
    secret = tmp_path / "pdf.pass"
    secret.write_text("baz\n", encoding="utf-8")
    by_file = run_cli("extract", "--pdf-password-file", str(secret), str(ENCRYPTED))
    assert by_file.returncode == 0 and "Secret!" in by_file.stdout, by_file.stderr
    by_env = run_cli("extract", str(ENCRYPTED), env={"EXTRACTKIT__EXTRACT__PDF_PASSWORD": "baz"})
    assert by_env.returncode == 0 and "Secret!" in by_env.stdout, by_env.stderr
    missing = run_cli("extract", "--pdf-password-file", str(tmp_path / "nope"), str(ENCRYPTED))
    assert missing.returncode == 78 and "--pdf-password-file" in missing.stderr
    unknown = run_cli("extract", str(ENCRYPTED), env={"EXTRACTKIT__EXTRACT__PDF_PASWORD": "baz"})
    assert unknown.returncode == 78 and "extract.pdf_pasword" in unknown.stderr


# -- messages name the file once, in full (#10) and empty input (#12) ----------------------


def test_failure_lines_name_the_full_path_once(tmp_path):
    for copy in ("copy1", "copy2"):
        (tmp_path / copy).mkdir()
        (tmp_path / copy / "a.xyz").write_bytes(b"\x00\x01\x02binary\xff" * 10)
    completed = run_cli("extract", str(tmp_path / "copy1"), str(tmp_path / "copy2"))
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 2
    for copy, line in zip(("copy1", "copy2"), lines, strict=True):
        assert line.startswith(f"extractkit: {tmp_path / copy / 'a.xyz'}: unsupported: ")
        assert line.count("a.xyz") == 1, line


def test_extract_on_an_empty_folder_says_so(tmp_path):
    completed = run_cli("extract", str(tmp_path))
    assert completed.returncode == 1
    assert completed.stderr.strip() == f"extractkit: no files to extract in '{tmp_path}'"


# -- standard input (#19) --------------------------------------------------------------------


def test_extract_reads_standard_input():
    completed = run_cli("extract", "-", "--format", "json", stdin="Hello from a pipe\n")
    assert completed.returncode == 0, completed.stderr
    record = json.loads(completed.stdout)
    assert record["path"] == "-" and record["uri"] == "stdin:" and "Hello from a pipe" in record["text"]


# -- one JSON schema (#21) -------------------------------------------------------------------


def test_extract_json_and_the_jsonl_sink_share_one_schema(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("meeting-notes.utf16.txt", "mount-fuji.eucjp.txt", "company-newsletter.sjis.txt"):
        shutil.copy(SAMPLES / name, docs)
    (docs / "empty.txt").write_bytes(b"")
    extracted = [json.loads(line) for line in run_cli("extract", str(docs), "--format", "json").stdout.splitlines()]
    config = _config(tmp_path, ['type = "jsonl"', f'path = "{tmp_path / "out.jsonl"}"'], source=docs)
    assert run_cli("run", "--config", str(config)).returncode == 0
    sunk = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    by_name = {record["name"]: record for record in sunk}
    for record in extracted:
        twin = by_name[record["name"]]
        assert set(record) - {"path"} == set(twin) - {"fingerprint"}, record["name"]
        assert record["schema_version"] == twin["schema_version"] == 1
        assert (record["type"], record["id"], record["uri"]) == (twin["type"], twin["id"], twin["uri"])
    encodings = {r["name"]: r["metadata"]["encoding"] for r in extracted if r["type"] == "result"}
    for name, encoding in encodings.items():
        import codecs

        assert encoding == codecs.lookup(encoding).name.replace("_", "-"), (name, encoding)  # one spelling


# -- Markdown and -o DIR (#24) ---------------------------------------------------------------


def _docx(path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_heading("Quarterly report", level=1)
    document.add_paragraph("Sales grew in every region.")
    document.add_heading("Regions", level=2)
    document.add_paragraph("Kanto", style="List Bullet")
    document.add_paragraph("Kansai", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for row, values in zip(table.rows, (("Region", "Sales"), ("Kanto", "120")), strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.save(str(path))


def test_markdown_keeps_headings_lists_and_tables(tmp_path):
    report = tmp_path / "report.docx"
    _docx(report)
    completed = run_cli("extract", "--format", "markdown", str(report))
    assert completed.returncode == 0, completed.stderr
    markdown = completed.stdout
    assert "# Quarterly report\n" in markdown and "## Regions\n" in markdown
    assert "- Kanto\n- Kansai\n" in markdown
    assert "| Region | Sales |\n| --- | --- |\n| Kanto | 120 |" in markdown
    csv = run_cli("extract", "--format", "markdown", str(SAMPLES / "product-catalog.csv"))
    assert csv.returncode == 0, csv.stderr


def test_output_dir_writes_one_file_per_input(tmp_path):
    out = tmp_path / "out"
    for copy in ("copy1", "copy2"):
        (tmp_path / "in" / copy).mkdir(parents=True)
        shutil.copy(SAMPLES / "weather-report.en.txt", tmp_path / "in" / copy / "x.txt")
    completed = run_cli("extract", "-o", str(out), "--format", "markdown", str(tmp_path / "in"))
    assert completed.returncode == 0, completed.stderr
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["in/copy1/x.txt.md", "in/copy2/x.txt.md"]
    assert (out / "in" / "copy1" / "x.txt.md").read_text(encoding="utf-8").startswith("Weekly Weather Report")
    assert completed.stdout == ""
