"""Searching the local index: candidates from the trigram index, matches checked word by word, BM25 ranking.

The FTS5 trigram index finds every document that contains a term's pieces of
three or more characters; shorter pieces (東京, 猫, "AI") use a substring scan.
Each candidate is then checked with the term's own matcher (whole words for
Latin script, substrings for CJK; see :mod:`.search_query`), the AND / OR / NOT
tree is evaluated over those sets, and the hits are ranked with BM25 computed
over the matches themselves, so a short query ranks as well as a long one.
"""

from __future__ import annotations

import bisect
import json
import math
import sqlite3
from typing import Any, Iterable

from extractkit.models import SearchHit

from .search_query import Expression, Node, Term, leaves, parse_query

SNIPPET_CHARS = 60
K1 = 1.2
B = 0.75
#: Extra weight of a match in the file name over one in the text.
NAME_WEIGHT = 2.0


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


class _Corpus:
    """Lazy access to the documents' text, by rowid."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.rows: dict[int, tuple[str, str, str, str, str | None]] = {}
        columns = {row[1] for row in db.execute("PRAGMA table_info(documents)")}
        self.page_column = "page_starts" if "page_starts" in columns else "NULL"

    def all_ids(self) -> set[int]:
        return {row[0] for row in self.db.execute("SELECT rowid FROM documents")}

    def load(self, rowids: Iterable[int]) -> None:
        missing = [rowid for rowid in rowids if rowid not in self.rows]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = (
                f"SELECT rowid, id, uri, name, coalesce(content, ''), {self.page_column} "  # noqa: S608
                f"FROM documents WHERE rowid IN ({marks})"
            )
            for rowid, id_, uri, name, content, pages in self.db.execute(sql, chunk):
                self.rows[rowid] = (id_, uri, name, content, pages)

    def candidates(self, term: Term) -> set[int]:
        """Documents that may match: every long piece through the trigram index, short ones by a scan."""
        long_pieces, short_pieces = term.fragments, term.short_fragments
        if long_pieces:
            match = " AND ".join(_phrase(piece) for piece in long_pieces)
            found = {
                row[0]
                for row in self.db.execute("SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?", (match,))
            }
        else:
            found = self.all_ids()
        for piece in short_pieces:
            if not found:
                break
            rows = self.db.execute(
                "SELECT rowid FROM documents WHERE instr(lower(coalesce(content, '') || ' ' || name), lower(?)) > 0",
                (piece,),
            )
            found &= {row[0] for row in rows}
        return found


def _evaluate(expression: Expression, matches: dict[Term, set[int]], corpus: _Corpus) -> set[int]:
    if isinstance(expression, Term):
        return matches[expression]
    assert isinstance(expression, Node)
    sets = [_evaluate(child, matches, corpus) for child in expression.children]
    if expression.op == "NOT":
        return corpus.all_ids() - sets[0]
    if expression.op == "AND":
        return set.intersection(*sets)
    return set.union(*sets)


def search(db: sqlite3.Connection, query: str, limit: int = 10) -> list[SearchHit]:
    """The best ``limit`` documents for ``query``, best first (see the module docstring)."""
    expression = parse_query(query)
    terms = leaves(expression)
    corpus = _Corpus(db)
    matches: dict[Term, set[int]] = {}
    for term, _ in terms:
        if term in matches:
            continue
        candidates = corpus.candidates(term)
        corpus.load(candidates)
        pattern = term.pattern
        matches[term] = {
            rowid
            for rowid in candidates
            if pattern.search(corpus.rows[rowid][3]) or pattern.search(corpus.rows[rowid][2])
        }
    hits = _evaluate(expression, matches, corpus)
    if not hits:
        return []
    corpus.load(hits)
    positive = list(dict.fromkeys(term for term, counts in terms if counts))
    total, average = db.execute("SELECT count(*), avg(length(coalesce(content, ''))) FROM documents").fetchone()
    scored = []
    for rowid in hits:
        _, _, name, content, _ = corpus.rows[rowid]
        score = 0.0
        for term in positive:
            frequency = len(term.pattern.findall(content)) + NAME_WEIGHT * len(term.pattern.findall(name))
            if not frequency:
                continue
            df = len(matches[term])
            idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
            norm = K1 * (1 - B + B * len(content) / max(average or 1.0, 1.0))
            score += idf * frequency * (K1 + 1) / (frequency + norm)
        scored.append((-score, name, rowid, score))
    scored.sort()
    return [_hit(corpus.rows[rowid], positive, score) for _, _, rowid, score in scored[:limit]]


def _spans(content: str, terms: list[Term]) -> list[tuple[int, int]]:
    spans = sorted(match.span() for term in terms for match in term.pattern.finditer(content))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        elif end > start:
            merged.append((start, end))
    return merged


def _hit(row: tuple[str, str, str, str, str | None], terms: list[Term], score: float) -> SearchHit:
    id_, uri, name, content, page_starts = row
    spans = _spans(content, terms)
    if not spans:
        return SearchHit(id_, uri, name, content[: SNIPPET_CHARS * 2].replace("\n", " "), round(score, 4))
    return SearchHit(id_, uri, name, snippet(content, spans), round(score, 4), _page_at(page_starts, spans[0][0]))


def snippet(content: str, spans: list[tuple[int, int]]) -> str:
    """Text around the first match with every match inside it in [brackets]; a second window for a later match."""
    windows: list[tuple[int, int]] = []
    for start, end in spans:
        if windows and start < windows[-1][1]:
            continue
        if len(windows) == 2:
            break
        windows.append((max(0, start - SNIPPET_CHARS), min(len(content), end + SNIPPET_CHARS)))
    pieces = []
    for low, high in windows:
        text, cursor = "", low
        for start, end in spans:
            if start >= low and end <= high:
                text += content[cursor:start] + "[" + content[start:end] + "]"
                cursor = end
        text += content[cursor:high]
        pieces.append(("…" if low else "") + text.replace("\n", " ") + ("…" if high < len(content) else ""))
    return " ".join(pieces)


def _page_at(page_starts: str | None, offset: int) -> int | None:
    if not page_starts:
        return None
    starts: list[Any] = json.loads(page_starts)
    if not starts:
        return None
    index = bisect.bisect_right([start for _, start in starts], offset) - 1
    return int(starts[max(index, 0)][0])


def page_starts(content: str, pages: Iterable[tuple[int, str]]) -> list[tuple[int, int]]:
    """Where each page's text begins in the document's text: ``[(page number, offset)]``."""
    starts: list[tuple[int, int]] = []
    cursor = 0
    for number, text in pages:
        probe = text.strip()[:64]
        if not probe:
            continue
        found = content.find(probe, cursor)
        if found < 0:
            continue
        starts.append((number, found))
        cursor = found + len(probe)
    return starts
