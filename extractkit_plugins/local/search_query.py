"""The query syntax of the local index: words, "phrases", AND / OR / NOT, -term and parentheses.

- ``typhoon Izu``: both words (AND is implied between terms);
- ``"Hello world"``: the words in this order;
- ``cat OR dog``, ``NOT draft``, ``-draft``, ``(cat OR dog) -draft``;
- operators are upper-case; ``and``/``or`` in lower case are ordinary words, and
  an operator with nothing to act on (``AND`` alone) is searched as a word.

Latin-script terms match whole words, case-insensitively (``and`` does not
match ``Handgun``). A term with Japanese, Chinese or Korean characters matches
as a substring, since those scripts do not separate words. Punctuation inside a
term separates words (``e-mail`` is the phrase ``e mail``); a term made only of
punctuation is ignored, and a query with no words left is a usage error.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator

from extractkit.errors import ExitCode, ExtractkitError
from extractkit.normalize import CJK_CLASS

OPERATORS = ("AND", "OR", "NOT")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\uff66-\uff9f]")
_WORD = re.compile(r"\w+")
#: A Latin-script word is whole when no other such letter or digit touches it: Japanese and Chinese
#: set none of their spaces, so a kana or kanji next to it (``第2024-118号``, ``OpenSearchの``) is a boundary.
_LATIN_WORD_CHAR = f"[^\\W{CJK_CLASS}]"
_NOT_AFTER_WORD = f"(?<!{_LATIN_WORD_CHAR})"
_NOT_BEFORE_WORD = f"(?!{_LATIN_WORD_CHAR})"
_TOKEN = re.compile(r'\s*(?:(\()|(\))|(-?)"([^"]*)"?|(-?)([^\s()"]+))')


class QuerySyntaxError(ExtractkitError):
    """The query has nothing to search for (a usage error, exit 2)."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Term:
    """One thing to find: whole words in order (Latin script) or a substring (CJK)."""

    text: str
    substring: bool

    @property
    def pattern(self) -> re.Pattern[str]:
        """The compiled matcher over a document's text."""
        if self.substring:
            return re.compile(re.escape(self.text), re.IGNORECASE)
        words = _WORD.findall(self.text)
        return re.compile(_NOT_AFTER_WORD + r"\W+".join(map(re.escape, words)) + _NOT_BEFORE_WORD, re.IGNORECASE)

    @property
    def fragments(self) -> list[str]:
        """Pieces of three or more characters that any match must contain (for the trigram index)."""
        if self.substring:
            return [self.text] if len(self.text) >= 3 else []
        return [word for word in _WORD.findall(self.text) if len(word) >= 3]

    @property
    def short_fragments(self) -> list[str]:
        """Pieces under three characters, checked by a substring scan."""
        pieces = [self.text] if self.substring else _WORD.findall(self.text)
        return [piece for piece in pieces if len(piece) < 3]


@dataclass(frozen=True)
class Node:
    """An operator over sub-expressions: ``op`` is AND, OR or NOT (one child)."""

    op: str
    children: tuple[Node | Term, ...]


Expression = Node | Term


def make_term(text: str) -> Term | None:
    """A term for ``text``, or None when it holds no word at all."""
    text = unicodedata.normalize("NFKC", text).strip()
    if _CJK.search(text):
        stripped = text.strip("".join(c for c in text if not c.isalnum() and not _CJK.match(c)))
        return Term(stripped or text, substring=True)
    if not _WORD.search(text):
        return None
    return Term(" ".join(_WORD.findall(text)), substring=False)


def _tokens(query: str) -> Iterator[tuple[str, str]]:
    """(kind, value): kind is '(', ')', 'op', 'not', 'term'."""
    for match in _TOKEN.finditer(query):
        open_paren, close_paren, phrase_neg, phrase, word_neg, word = match.groups()
        if open_paren:
            yield "(", open_paren
        elif close_paren:
            yield ")", close_paren
        elif phrase is not None:
            if phrase_neg:
                yield "not", "-"
            yield "term", phrase
        elif word:
            if word in OPERATORS:
                yield "op", word
            elif word_neg and len(word) > 0:
                yield "not", "-"
                yield "term", word
            else:
                yield "term", word


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def parse_or(self) -> Expression | None:
        parts = [self.parse_and()]
        while self.peek() == ("op", "OR"):
            self.take()
            parts.append(self.parse_and())
        kept = tuple(part for part in parts if part is not None)
        return None if not kept else kept[0] if len(kept) == 1 else Node("OR", kept)

    def parse_and(self) -> Expression | None:
        parts: list[Expression | None] = []
        while (token := self.peek()) is not None and token != ("op", "OR") and token[0] != ")":
            if token == ("op", "AND"):
                self.take()
                continue
            parts.append(self.parse_unary())
        kept = tuple(part for part in parts if part is not None)
        return None if not kept else kept[0] if len(kept) == 1 else Node("AND", kept)

    def parse_unary(self) -> Expression | None:
        kind, _ = self.peek() or ("", "")
        if kind == "not" or self.peek() == ("op", "NOT"):
            self.take()
            if self.peek() is None:
                return None
            operand = self.parse_unary()
            return None if operand is None else Node("NOT", (operand,))
        return self.parse_primary()

    def parse_primary(self) -> Expression | None:
        kind, value = self.take()
        if kind == "(":
            inner = self.parse_or()
            if self.peek() is not None and self.peek()[0] == ")":  # type: ignore[index]
                self.take()
            return inner
        if kind == ")":
            return None
        return make_term(value)


def parse_query(query: str) -> Expression:
    """Parse ``query``; raise :class:`QuerySyntaxError` when nothing is left to search for."""
    tokens = list(_tokens(query))
    if all(kind in ("op", "(", ")", "not") for kind, _ in tokens):
        # Only operators: they are the words being searched for.
        tokens = [("term", value) for kind, value in tokens if kind == "op"]
    parser = _Parser(tokens)
    expression = parser.parse_or()
    while parser.peek() is not None:  # a stray ')' ends the expression early: read on
        parser.take()
        rest = parser.parse_or()
        if rest is not None:
            expression = rest if expression is None else Node("AND", (expression, rest))
    if expression is None:
        raise QuerySyntaxError(f"the query {query!r} has no words to search for")
    return expression


def leaves(expression: Expression, *, positive: bool = True) -> list[tuple[Term, bool]]:
    """Every term with whether it counts for the hit (False under a NOT)."""
    if isinstance(expression, Term):
        return [(expression, positive)]
    flip = expression.op == "NOT"
    return [pair for child in expression.children for pair in leaves(child, positive=positive != flip)]
