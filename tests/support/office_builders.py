"""Build real docx, xlsx and pptx files (good and hostile) for the Office extractor tests.

Good files are made with python-docx, openpyxl and python-pptx; what those
libraries cannot write (footnotes, text boxes, cached formula values, bombs,
DOCTYPEs) is added by editing the package's XML parts afterwards.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import docx
import openpyxl
from docx.enum.section import WD_SECTION
from docx.oxml import parse_xml
from docx.shared import Pt
from pptx import Presentation
from pptx.util import Inches

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NSDECLS = (
    f'xmlns:w="{W_NS}" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:v="urn:schemas-microsoft-com:vml"'
)
FOOTNOTE_TEXT = "脚注の本文です。"
TEXT_BOX_TEXT = "テキストボックスの中身"

Edit = bytes | Callable[[bytes], bytes] | None


def rewrite_zip(path: Path, edits: Mapping[str, Edit]) -> None:
    """Rewrite a package: each named part is replaced (bytes), transformed (callable) or removed (None)."""
    with zipfile.ZipFile(path) as source:
        parts = [(info.filename, source.read(info)) for info in source.infolist()]
    names = {name for name, _ in parts}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts:
            edit = edits.get(name, data)
            if edit is None:
                continue
            target.writestr(name, edit(data) if callable(edit) else edit)
        for name, edit in edits.items():
            if name not in names and isinstance(edit, bytes):
                target.writestr(name, edit)


# -- Word ---------------------------------------------------------------------------------------


def _text_box_run() -> str:
    box = f"<w:txbxContent><w:p><w:r><w:t>{TEXT_BOX_TEXT}</w:t></w:r></w:p></w:txbxContent>"
    return (
        f'<w:r {NSDECLS}><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor>'
        '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        f"<wps:wsp><wps:txbx>{box}</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>"
        f"</mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict>"
        "</mc:Fallback></mc:AlternateContent></w:r>"
    )


def _fill_table(document: docx.document.Document) -> None:
    table = document.add_table(rows=3, cols=3)
    for column, title in enumerate(("品目", "数量", "備考")):
        table.cell(0, column).text = title
    merged = table.cell(1, 1).merge(table.cell(1, 2))
    merged.text = "横に結合"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "縦に結合"
    table.cell(2, 1).text = "りんご"
    inner = table.cell(2, 2).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "入れ子A"
    inner.cell(0, 1).text = "入れ子B"


def _set_header_footer(section: docx.section.Section, header: str, footer: str) -> None:
    section.header.is_linked_to_previous = False
    section.header.paragraphs[0].text = header
    section.footer.is_linked_to_previous = False
    section.footer.paragraphs[0].text = footer


def _add_footnotes_part(path: Path) -> None:
    footnotes = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes xmlns:w="{W_NS}">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
        f'</w:footnote><w:footnote w:id="1"><w:p><w:r><w:t>{FOOTNOTE_TEXT}</w:t></w:r></w:p></w:footnote>'
        "</w:footnotes>"
    ).encode()
    relationship = (
        b'<Relationship Id="rIdFootnotes" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/footnotes" Target="footnotes.xml"/></Relationships>'
    )
    override = (
        b'<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'wordprocessingml.footnotes+xml"/></Types>'
    )
    rewrite_zip(
        path,
        {
            "word/footnotes.xml": footnotes,
            "word/_rels/document.xml.rels": lambda data: data.replace(b"</Relationships>", relationship),
            "[Content_Types].xml": lambda data: data.replace(b"</Types>", override),
        },
    )


def build_docx(path: Path) -> Path:
    """A Japanese docx with a table (merged cells, nested table), two sections, a footnote and a text box."""
    document = docx.Document()
    properties = document.core_properties
    properties.title = "年次報告書"
    properties.author = "山田太郎"
    properties.last_modified_by = "佐藤花子"
    properties.created = datetime(2024, 1, 2, 3, 4, 5)
    properties.modified = datetime(2024, 2, 3, 4, 5, 6)
    _set_header_footer(document.sections[0], "社外秘ヘッダー", "共通フッター")
    document.add_heading("年次報告書", level=1)
    intro = document.add_paragraph("本文の最初の段落です。")
    intro._p.append(parse_xml(f'<w:r xmlns:w="{W_NS}"><w:footnoteReference w:id="1"/></w:r>'))
    _fill_table(document)
    document.add_paragraph("表の後の段落。").runs[0].font.size = Pt(11)
    box_paragraph = document.add_paragraph("箱の前")
    box_paragraph._p.append(parse_xml(_text_box_run()))
    second = document.add_section(WD_SECTION.NEW_PAGE)
    _set_header_footer(second, "第二章ヘッダー", "共通フッター")
    document.add_paragraph("第二章の本文。English words stay spaced.")
    document.save(path)
    _add_footnotes_part(path)
    return path


def build_large_docx(path: Path, pages: int = 50) -> Path:
    """About ``pages`` pages of paragraphs and a 6x4 table per page, for timing."""
    document = docx.Document()
    for page in range(1, pages + 1):
        document.add_heading(f"第{page}章 Chapter {page}", level=2)
        for line in range(8):
            document.add_paragraph(f"第{page}章の{line + 1}段落目。これは検索のための本文です。 Paragraph {line} text.")
        table = document.add_table(rows=6, cols=4)
        for row in range(6):
            for column in range(4):
                table.cell(row, column).text = f"{page}-{row}-{column}"
        document.add_page_break()
    document.save(path)
    return path


def replace_document_xml(path: Path, document_xml: bytes) -> Path:
    """Replace word/document.xml of an existing docx."""
    rewrite_zip(path, {"word/document.xml": document_xml})
    return path


def doctype_document_xml(doctype: str, body_text: str) -> bytes:
    """A document.xml with a DOCTYPE in its prolog and ``body_text`` (which may use entities)."""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{doctype}\n'
        f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>{body_text}</w:t></w:r></w:p>'
        "</w:body></w:document>"
    ).encode()


BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)
EXTERNAL_ENTITY = '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def build_docx_bomb(path: Path, template: Path, inflated_bytes: int = 1100 * 1024 * 1024) -> Path:
    """A docx whose document.xml inflates to ``inflated_bytes`` of spaces, written in streamed chunks."""
    chunk = b" " * (1024 * 1024)
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                target.writestr(info.filename, source.read(info))
        with target.open("word/document.xml", "w", force_zip64=True) as stream:
            stream.write(f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>'.encode())
            for _ in range(inflated_bytes // len(chunk)):
                stream.write(chunk)
            stream.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return path


def patch_declared_size(path: Path, member: str, declared: int) -> Path:
    """Make the zip's local header and central directory understate one member's inflated size."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(member).header_offset
    data[local + 22 : local + 26] = declared.to_bytes(4, "little")
    name = member.encode()
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        name_length = int.from_bytes(data[central + 28 : central + 30], "little")
        if bytes(data[central + 46 : central + 46 + name_length]) == name:
            data[central + 24 : central + 28] = declared.to_bytes(4, "little")
            break
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    return path


# -- Excel --------------------------------------------------------------------------------------


def build_xlsx(path: Path) -> Path:
    """Two sheets with Japanese text, numbers, a date, an empty row and a formula with a cached value."""
    workbook = openpyxl.Workbook()
    sales = workbook.active
    sales.title = "売上"
    sales.append(["品目", "数量", "単価", "合計"])
    sales.append(["りんご", 3, 120, "=B2*C2"])
    sales.append([])
    sales.append(["みかん", 2.5, None, None])
    sales["A5"] = datetime(2024, 4, 1)
    sales["B5"] = datetime(2024, 4, 1, 9, 30)
    notes = workbook.create_sheet("メモ")
    notes["A1"] = "備考\tタブ入り"
    notes["C3"] = True
    workbook.properties.title = "売上表"
    workbook.properties.creator = "山田太郎"
    workbook.save(path)
    rewrite_zip(
        path,
        {"xl/worksheets/sheet1.xml": lambda data: data.replace(b"<f>B2*C2</f><v></v>", b"<f>B2*C2</f><v>360</v>")},
    )
    return path


def build_xlsx_with_cells(path: Path, rows: int, columns: int) -> Path:
    """A sheet filled with ``rows`` x ``columns`` numbers, written in write-only mode."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    for row in range(rows):
        sheet.append([row * columns + column for column in range(columns)])
    workbook.save(path)
    return path


def claim_dimension(path: Path, reference: str, sheet: str = "xl/worksheets/sheet1.xml") -> Path:
    """Set (or add) a sheet's declared dimension, e.g. ``A1:XFD1048576``."""

    def edit(data: bytes) -> bytes:
        start = data.find(b"<dimension ")
        if start >= 0:
            end = data.index(b"/>", start) + 2
            return data[:start] + f'<dimension ref="{reference}"/>'.encode() + data[end:]
        return data.replace(b"<sheetViews>", f'<dimension ref="{reference}"/><sheetViews>'.encode(), 1)

    rewrite_zip(path, {sheet: edit})
    return path


# -- PowerPoint ---------------------------------------------------------------------------------


def build_pptx(path: Path) -> Path:
    """Two slides: shapes placed out of order, a table with a merge, a group, and speaker notes."""
    presentation = Presentation()
    presentation.core_properties.title = "四半期報告"
    presentation.core_properties.author = "山田太郎"
    blank = presentation.slide_layouts[6]
    slide = presentation.slides.add_slide(blank)
    lower = slide.shapes.add_textbox(Inches(1), Inches(5), Inches(4), Inches(1))
    lower.text_frame.text = "下の段落"
    right = slide.shapes.add_textbox(Inches(5), Inches(1), Inches(3), Inches(1))
    right.text_frame.text = "右上"
    left = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(3), Inches(1))
    left.text_frame.text = "左上"
    table = slide.shapes.add_table(2, 3, Inches(1), Inches(3), Inches(6), Inches(1)).table
    for column, title in enumerate(("地域", "売上", "前年比")):
        table.cell(0, column).text = title
    table.cell(1, 0).text = "関東"
    table.cell(1, 1).merge(table.cell(1, 2))
    table.cell(1, 1).text = "結合セル"
    group = slide.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(6), Inches(6), Inches(2), Inches(1)).text_frame.text = "グループ後"
    group.shapes.add_textbox(Inches(1), Inches(6), Inches(2), Inches(1)).text_frame.text = "グループ前"
    slide.notes_slide.notes_text_frame.text = "発表者ノートです。"
    second = presentation.slides.add_slide(presentation.slide_layouts[1])
    second.shapes.title.text = "まとめ"
    second.placeholders[1].text_frame.text = "English and 日本語"
    presentation.save(path)
    return path


_TRANSITIONAL_NAME = re.compile(
    rb"http://schemas\.openxmlformats\.org/"
    rb"(wordprocessingml|spreadsheetml|presentationml|drawingml|officeDocument|schemaLibrary)/2006/([A-Za-z-]+)"
)


def make_strict(path: Path) -> Path:
    """Rewrite a transitional OOXML package in place as Strict Open XML (namespaces and relationship types)."""

    def strict(match: re.Match[bytes]) -> bytes:
        name = match.group(2).replace(b"extended-properties", b"extendedProperties")
        name = name.replace(b"custom-properties", b"customProperties")
        return b"http://purl.oclc.org/ooxml/" + match.group(1) + b"/" + name

    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            if name.endswith((".xml", ".rels")):
                data = _TRANSITIONAL_NAME.sub(strict, data)
                data = data.replace(b"/relationships/extended-properties", b"/relationships/extendedProperties")
            archive.writestr(name, data)
    return path


CHART_TITLE = "地域別売上"
SERIES_NAMES = ("2023年度", "2024年度")
COMMENT_TEXT = "ここは要確認です。"


def _chart_pptx(path: Path) -> Path:
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE

    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[6])
    data = CategoryChartData()
    data.categories = ["関東", "関西"]
    for index, name in enumerate(SERIES_NAMES):
        data.add_series(name, (10 + index, 20 + index))
    frame = slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(1), Inches(6), Inches(4), data)
    frame.chart.has_title = True
    frame.chart.chart_title.text_frame.text = CHART_TITLE
    presentation.save(str(path))
    return path


def build_pptx_with_chart_and_comment(path: Path) -> Path:
    """One slide with a titled column chart of two named series, and a legacy comment on the slide."""
    _chart_pptx(path)
    comment = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<p:cmLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
        f'<p:cm authorId="0" dt="2024-01-02T03:04:05.000" idx="1"><p:pos x="10" y="10"/><p:text>{COMMENT_TEXT}</p:text>'
        "</p:cm></p:cmLst>"
    ).encode()
    rewrite_zip(
        path,
        {
            "ppt/comments/comment1.xml": comment,
            "ppt/slides/_rels/slide1.xml.rels": lambda data: data.replace(
                b"</Relationships>",
                b'<Relationship Id="rIdComment" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'relationships/comments" Target="../comments/comment1.xml"/></Relationships>',
            ),
            "[Content_Types].xml": lambda data: data.replace(
                b"</Types>",
                b'<Override PartName="/ppt/comments/comment1.xml" ContentType="application/vnd.openxmlformats-'
                b'officedocument.presentationml.comments+xml"/></Types>',
            ),
        },
    )
    return path


def build_docx_with_chart_and_comment(path: Path, work: Path) -> Path:
    """A docx with a comment on its first paragraph and an inline chart (the chart part of a generated pptx)."""
    document = docx.Document()
    paragraph = document.add_paragraph("コメント付きの段落。")
    document.add_comment(paragraph.runs, text=COMMENT_TEXT, author="山田太郎")
    document.add_paragraph("CHART-ANCHOR")
    document.save(str(path))
    with zipfile.ZipFile(_chart_pptx(work / "chart-source.pptx")) as source:
        chart_xml = source.read("ppt/charts/chart1.xml")
    inline = (
        b'<w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing">'
        b'<wp:extent cx="5486400" cy="3200400"/><wp:docPr id="1" name="Chart 1"/>'
        b'<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        b'<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart">'
        b'<c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rIdChart1"/>'
        b"</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"
    )
    rewrite_zip(
        path,
        {
            "word/charts/chart1.xml": chart_xml,
            "word/document.xml": lambda data: data.replace(b"<w:t>CHART-ANCHOR</w:t></w:r>", b"</w:r>" + inline),
            "word/_rels/document.xml.rels": lambda data: data.replace(
                b"</Relationships>",
                b'<Relationship Id="rIdChart1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'relationships/chart" Target="charts/chart1.xml"/></Relationships>',
            ),
            "[Content_Types].xml": lambda data: data.replace(
                b"</Types>",
                b'<Override PartName="/word/charts/chart1.xml" ContentType="application/vnd.openxmlformats-'
                b'officedocument.drawingml.chart+xml"/></Types>',
            ),
        },
    )
    return path


def build_xlsx_with_comment(path: Path) -> Path:
    """A workbook whose first sheet has a value and a comment on B2."""
    from openpyxl.comments import Comment

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "集計"
    sheet["A1"] = "合計"
    sheet["B2"] = 42
    sheet["B2"].comment = Comment(COMMENT_TEXT, "山田太郎")
    workbook.save(str(path))
    return path
