"""The numbers that make a page a table are counted word by word exactly as the number pattern finds them."""

from __future__ import annotations

import random
import re

from extractkit_plugins.pdf.pdf_tables import count_numbers, is_tabular, is_tabular_text

#: The rule as a pattern over the whole text: a number with white space (or the text's ends) on both sides.
NUMBER = re.compile(r"(?<!\S)[-+(]?[$€¥£]?\d[\d,.]*%?\)?(?!\S)")
PIECES = (
    "1",
    "0",
    "1,248",
    "３",
    "٣",
    "-",
    "+",
    "(",
    ")",
    "$",
    "€",
    "%",
    ".",
    ",",
    "a",
    "第",
    " ",
    "\u3000",
    "\t",
    "\n",
    "\xa0",
)


def test_numbers_are_counted_as_the_pattern_finds_them():
    rng = random.Random(7)
    for _ in range(5000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 30)))
        found = len(NUMBER.findall(text))
        assert count_numbers(text, 1000) == found, repr(text)
        assert count_numbers(text, 3) == min(found, 3), repr(text)


def test_a_table_of_figures_is_tabular_and_prose_with_a_few_numbers_is_not():
    table = "\n".join(f"Row {index} 1,{index:03d} 0 ({index}) 12.5%" for index in range(8))
    assert is_tabular_text(table) and is_tabular(table.splitlines())
    prose = "In 2015 there were 3 reports.\n" * 4 + "第三十九条 1 2 3\n"
    assert not is_tabular_text(prose) and not is_tabular(prose.splitlines())
