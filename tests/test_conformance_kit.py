"""The conformance kit catches what breaks the contract, and says so precisely."""

from __future__ import annotations

import datetime

import pytest

from extractkit import ExtractionResult, Extractor, Page, Sink, Source, SourceItem
from extractkit.errors import CorruptDocument
from extractkit.models import Document
from extractkit.testing import ConformanceError, check_extractor, check_sink, check_source


class Careful(Extractor):
    """Reads ASCII text and refuses everything else: the kit passes it."""

    name = "careful"
    mime_types = ("text/x-careful",)

    def extract(self, document):
        data = document.path.read_bytes()
        if not data.isascii() or b"\x00" in data:
            raise CorruptDocument(f"{document.name}: not ASCII text")
        text = data.decode()
        return ExtractionResult(text=text, pages=(Page(1, text),), metadata={"lines": text.count("\n")})


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("hello\n")
    return path


def test_a_careful_extractor_passes(sample):
    check_extractor(Careful, [sample], expected_text={"a.txt": "hello"})


def test_an_extractor_that_accepts_random_bytes_fails(sample):
    class Accepting(Careful):
        name = "accepting"

        def extract(self, document):
            text = document.path.read_bytes().decode("latin-1")
            return ExtractionResult(text=text, pages=(Page(1, text),))

    with pytest.raises(ConformanceError, match=r"random bytes: extract\(\) returned a result"):
        check_extractor(Accepting, [sample])


def test_metadata_must_be_plain_json(sample):
    class Dated(Careful):
        name = "dated"

        def extract(self, document):
            result = super().extract(document)
            return ExtractionResult(result.text, result.pages, {"created": datetime.datetime(2024, 1, 2)})

    with pytest.raises(ConformanceError, match=r"metadata\['created'\] is datetime"):
        check_extractor(Dated, [sample], check_bad_input=False)


def test_page_texts_must_add_up_to_the_text(sample):
    class Inconsistent(Careful):
        name = "inconsistent"

        def extract(self, document):
            return ExtractionResult("whole text", (Page(1, "something else"),))

    with pytest.raises(ConformanceError, match="pages must add up to text"):
        check_extractor(Inconsistent, [sample], check_bad_input=False)


def test_a_name_taken_by_a_builtin_is_refused(sample):
    class Text(Careful):
        name = "text"

    with pytest.raises(ConformanceError, match="'text' is the name of the builtin extractor"):
        check_extractor(Text, [sample])


def test_a_missing_sample_and_a_failing_extract_are_reported_as_such(tmp_path, sample):
    with pytest.raises(ConformanceError) as raised:
        check_extractor(Careful, [tmp_path / "nope.txt"], expected_text={"nope.txt": "x"})
    assert "sample '" in str(raised.value) and "does not exist" in str(raised.value)
    assert "not sampled" not in str(raised.value)

    class Failing(Careful):
        name = "failing"

        def extract(self, document):
            raise CorruptDocument("broken")

    with pytest.raises(ConformanceError) as raised:
        check_extractor(Failing, [sample], expected_text={"a.txt": "hello"})
    assert "a.txt: extract() raised CorruptDocument" in str(raised.value)
    assert "not sampled" not in str(raised.value)


class ListSink(Sink):
    """A correct in-memory sink."""

    name = "list"
    stored: dict = {}

    def write(self, document, result):
        ListSink.stored[document.id] = result

    def write_failure(self, failure):
        pass


class ShortAnswerSink(ListSink):
    """Answers once for a whole batch."""

    name = "short"

    def write_batch(self, records):
        return [None]


class ForgetfulSink(ListSink):
    """Claims fingerprints but never keeps them."""

    name = "forgetful"

    def fingerprints(self, ids):
        return {}


def test_check_sink(tmp_path):
    check_sink(ListSink, tmp_path)
    with pytest.raises(ConformanceError, match="one entry per record"):
        check_sink(ShortAnswerSink, tmp_path)
    with pytest.raises(ConformanceError, match="did not return the fingerprint"):
        check_sink(ForgetfulSink, tmp_path)


class TwoFiles(Source):
    """Yields two files of a folder."""

    name = "two"

    def __init__(self, folder, count=None, duplicate=False):
        super().__init__()
        self.folder, self.count, self.duplicate, self.stopped = folder, count, duplicate, False

    def items(self):
        names = ["a.txt", "a.txt" if self.duplicate else "b.txt"]
        for name in names:
            if self.stopped:
                return
            path = self.folder / name
            yield SourceItem(uri=path.as_uri(), name=name, attributes={"path": str(path)})

    def count_items(self):
        return self.count

    def fetch(self, item, workdir):
        path = self.folder / item.name
        return Document(uri=item.uri, path=path, name=item.name, size=path.stat().st_size)

    def stop(self):
        self.stopped = True


def test_check_source(tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(name)
    assert len(check_source(lambda: TwoFiles(tmp_path, count=2), tmp_path / "w", expected_count=2)) == 2
    with pytest.raises(ConformanceError, match=r"count_items\(\) says 5"):
        check_source(lambda: TwoFiles(tmp_path, count=5), tmp_path / "w")
    with pytest.raises(ConformanceError, match="the same uri twice"):
        check_source(lambda: TwoFiles(tmp_path, duplicate=True), tmp_path / "w")


def test_the_worked_sink_of_the_plugin_guide_passes_check_sink(tmp_path):
    from support.paths import REPO

    guide = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    code = guide.split("```python\n# extractkit_csv/__init__.py\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "extractkit_csv", "exec"), namespace)  # the guide's own example
    sink_class = namespace["CsvSink"]
    check_sink(lambda: sink_class({"path": str(tmp_path / "out.csv")}), tmp_path)
    rows = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 4 and rows[0].endswith(",ok,conformance check")
