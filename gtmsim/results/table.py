"""Table: named columns of equal length, the shape of every summary and comparison."""

from __future__ import annotations

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
