"""The cell budget a workbook reader spends (``ExtractOptions.extra["max_cells"]``), shared by .xlsx and .xls."""

from __future__ import annotations

from extractkit.errors import TooLarge
from extractkit.models import Document, ExtractOptions

#: Cells a workbook may make the reader visit unless ``[extract.extra] max_cells`` says otherwise.
DEFAULT_MAX_CELLS = 2_000_000


class CellBudget:
    """Counts the cells visited in a workbook and stops the work past a limit."""

    def __init__(self, document: Document, limit: int) -> None:
        self.document = document
        self.limit = limit
        self.used = 0

    @classmethod
    def for_options(cls, document: Document, options: ExtractOptions) -> CellBudget:
        """The budget ``[extract.extra] max_cells`` allows (``DEFAULT_MAX_CELLS`` by default)."""
        return cls(document, int(options.extra.get("max_cells", DEFAULT_MAX_CELLS)))

    def spend(self, cells: int) -> None:
        """Count ``cells`` more cells; raise :class:`TooLarge` once over the limit."""
        self.used += cells
        if self.used > self.limit:
            raise TooLarge(
                f"{self.document.name} has more than {self.limit} cells to read "
                "(ExtractOptions.extra['max_cells']); split the workbook or raise the limit"
            )
