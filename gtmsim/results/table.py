"""Table: named columns of equal length, the shape of every summary and comparison."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Table:
    """Columns by name, all of one length; rows are dicts.

    Convert with :meth:`to_pandas` (needs pandas) or iterate :meth:`rows`.
    """

    columns: dict[str, list]

    def __post_init__(self) -> None:
        lengths = {len(v) for v in self.columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns differ in length: {lengths}")

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), []))

    def __getitem__(self, name: str) -> list:
        return self.columns[name]

    def rows(self) -> Iterator[dict[str, Any]]:
        """Each row as a dict of column -> value."""
        names = list(self.columns)
        for values in zip(*self.columns.values(), strict=True):
            yield dict(zip(names, values, strict=True))

    def where(self, **equal: Any) -> list[dict[str, Any]]:
        """Rows whose columns equal the given values, e.g. ``t.where(design="a")``."""
        return [r for r in self.rows() if all(r[k] == v for k, v in equal.items())]

    def to_pandas(self):
        """A pandas DataFrame (pandas is an optional dependency)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise ImportError('to_pandas() needs pandas: pip install "gtmsim[pandas]"') from exc
        return pd.DataFrame(self.columns)

    def to_csv(self) -> str:
        """The table as CSV text (a header row, then one row per row; nan as empty)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        for row in zip(*self.columns.values(), strict=True):
            writer.writerow(["" if _is_nan(v) else v for v in row])
        return out.getvalue()

    def to_text(self, columns: list[str] | None = None) -> str:
        """The table aligned for a terminal: numbers right-aligned and rounded for reading."""
        names = columns or list(self.columns)
        cells = [[_cell(v) for v in self.columns[n]] for n in names]
        widths = [max([len(n), *map(len, col)]) for n, col in zip(names, cells, strict=True)]
        numeric = [all(_is_number(v) for v in self.columns[n]) for n in names]
        lines = [
            "  ".join(
                n.rjust(w) if r else n.ljust(w)
                for n, w, r in zip(names, widths, numeric, strict=True)
            )
        ]
        for i in range(len(self)):
            lines.append(
                "  ".join(
                    c[i].rjust(w) if r else c[i].ljust(w)
                    for c, w, r in zip(cells, widths, numeric, strict=True)
                )
            )
        return "\n".join(line.rstrip() for line in lines)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: Any) -> str:
    """A value as people read it: thousands separated, 3 significant decimals below 1."""
    if not _is_number(value):
        return str(value)
    if _is_nan(value):
        return "-"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, int) or (abs(value) >= 100 and float(value).is_integer()):
        return f"{value:,.0f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
