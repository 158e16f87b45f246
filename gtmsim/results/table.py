"""Table: named columns of equal length, the shape of every summary and comparison."""

from __future__ import annotations

import csv
import io
import math
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from typing import Any

from gtmsim.results.metrics import is_share

TEXT_WIDTH = 120
"""The width :meth:`Table.__str__` and the command's tables fit in."""

# Columns that hold a relative change or a share of replications: shown as percents.
SIGNED_PERCENT = ("relative_change", "relative_error")
PERCENT = ("p_improves", "share", "wins_share")
# Columns that hold a metric's value in a row with a "metric" column: shown as percents
# for a share metric (percentage points for differences).
VALUE_COLUMNS = (
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "baseline_mean",
    "design_mean",
    "observed",
    "simulated",
    "value",
)


@dataclass(frozen=True)
class Table:
    """Columns by name, all of one length; rows are dicts.

    Convert with :meth:`to_pandas` (needs pandas) or iterate :meth:`rows`;
    ``print(table)`` and a notebook show it as a table, shares and relative
    changes as percents.

    ``shown_as`` says how a column's numbers are shown where its name does not:
    column -> ``"percent"`` (a share), ``"points"`` (a difference of two shares,
    in percentage points) or ``"number"``, for the whole column or as a list with
    one per row. It changes the text only, never the values.
    """

    columns: dict[str, list]
    shown_as: dict[str, str | list[str]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        lengths = {len(v) for v in self.columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns differ in length: {lengths}")
        for name, kinds in self.shown_as.items():
            listed = [kinds] if isinstance(kinds, str) else list(kinds)
            if name not in self.columns:
                raise ValueError(f"shown_as names {name!r}, which is not a column")
            if not isinstance(kinds, str) and len(listed) != len(self.columns[name]):
                raise ValueError(f"shown_as[{name!r}] has {len(listed)} kinds for {len(self)} rows")
            if unknown := set(listed) - set(_SHOWN):
                raise ValueError(f"shown_as[{name!r}]: {sorted(unknown)}; expected {list(_SHOWN)}")

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

    def to_text(self, columns: list[str] | None = None, width: int | None = None) -> str:
        """The table aligned for a terminal: numbers right-aligned and rounded for
        reading, shares and relative changes as percents.

        With ``width``, the widest text column wraps so that lines fit, where they can.
        """
        names = columns or list(self.columns)
        cells = self._cells(names)
        widths = [max([len(n), *map(len, col)]) for n, col in zip(names, cells, strict=True)]
        numeric = [all(_is_number(v) for v in self.columns[n]) for n in names]
        wrapped = None
        text = [  # columns of words, which wrap between them
            i
            for i, (n, r) in enumerate(zip(names, numeric, strict=True))
            if not r and any(" " in str(v) for v in self.columns[n])
        ]
        if width is not None and text and sum(widths) + 2 * (len(names) - 1) > width:
            wrapped = max(text, key=lambda i: widths[i])
            room = width - (sum(widths) - widths[wrapped]) - 2 * (len(names) - 1)
            widths[wrapped] = max(room, len(names[wrapped]), 20)

        def line(values: list[str]) -> str:
            return "  ".join(
                v.rjust(w) if r else v.ljust(w)
                for v, w, r in zip(values, widths, numeric, strict=True)
            ).rstrip()

        lines = [line(names)]
        for i in range(len(self)):
            row = [c[i] for c in cells]
            if wrapped is None:
                lines.append(line(row))
                continue
            parts = textwrap.wrap(row[wrapped], widths[wrapped]) or [""]
            for k, part in enumerate(parts):
                lines.append(
                    line([part if j == wrapped else v if k == 0 else "" for j, v in enumerate(row)])
                )
        return "\n".join(lines)

    def to_html(self, columns: list[str] | None = None) -> str:
        """The table as an HTML ``<table>``, cells as :meth:`to_text` shows them."""
        names = columns or list(self.columns)
        cells = self._cells(names)
        numeric = [all(_is_number(v) for v in self.columns[n]) for n in names]

        def cell(tag: str, text: str, right: bool) -> str:
            style = ' style="text-align: right"' if right else ' style="text-align: left"'
            return f"<{tag}{style}>{escape(text)}</{tag}>"

        head = "".join(cell("th", n, r) for n, r in zip(names, numeric, strict=True))
        body = "".join(
            "<tr>"
            + "".join(cell("td", c[i], r) for c, r in zip(cells, numeric, strict=True))
            + "</tr>"
            for i in range(len(self))
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __str__(self) -> str:
        return self.to_text(width=TEXT_WIDTH)

    def _repr_html_(self) -> str:
        return self.to_html()

    def _cells(self, names: list[str]) -> list[list[str]]:
        """Each column's values as text: shares and relative changes as percents."""
        metrics = self.columns.get("metric")
        differences = "difference" in self.columns  # then ci_low/ci_high bound a difference
        out = []
        for n in names:
            values = self.columns[n]
            if n in self.shown_as:
                kinds = self.shown_as[n]
                kinds = [kinds] * len(values) if isinstance(kinds, str) else kinds
                col = [_SHOWN[k](v) for v, k in zip(values, kinds, strict=True)]
            elif n in SIGNED_PERCENT:
                col = [format_number(v, relative=True) for v in values]
            elif n in PERCENT:
                col = [
                    f"{v:.0%}" if _is_number(v) and math.isfinite(v) else _cell(v) for v in values
                ]
            elif metrics is not None and (n in VALUE_COLUMNS or n == "difference"):
                points = n == "difference" or (differences and n in ("ci_low", "ci_high"))
                col = [
                    format_number(v, m, difference=points)
                    for v, m in zip(values, metrics, strict=True)
                ]
            else:
                col = [_cell(v) for v in values]
            out.append(col)
        return out


def format_number(
    value: Any, metric: str | None = None, *, difference: bool = False, relative: bool = False
) -> str:
    """A number as the tables show it.

    A value of a share metric (see :func:`~gtmsim.results.metrics.is_share`) as a
    percent (23.4%), a ``difference`` of two shares in percentage points (+5 pp), a
    ``relative`` change as a signed percent (+49.1%); anything else rounded for
    reading (1,234, 0.152; NaN as "-").
    """
    if relative:
        return _percent(value, signed=True)
    if isinstance(metric, str) and is_share(metric):
        return _points(value) if difference else _percent(value)
    return _cell(value)


def _percent(value: Any, signed: bool = False) -> str:
    """A share or relative change as a percent: 52.3%, 0.152%, +49.1%."""
    if not _is_number(value) or _is_nan(value) or math.isinf(value):
        return _cell(value)
    text = _digits(100.0 * value) + "%"
    return f"+{text}" if signed and value > 0 else text


def _points(value: Any) -> str:
    """A difference of two shares in percentage points: -51.8 pp."""
    if not _is_number(value) or _is_nan(value) or math.isinf(value):
        return _cell(value)
    text = _digits(100.0 * value)
    return f"{'+' if value > 0 else ''}{text} pp"


def _digits(x: float) -> str:
    """Whole from 100 up, one decimal from 10, three significant digits below."""
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:,.1f}"
    return f"{x:.3g}" if abs(x) >= 1e-3 else f"{x:.2e}"


class ShownAsTable:
    """A mix-in for results that show themselves as a title and a :class:`Table`:
    ``print`` and notebooks (``_repr_html_``) both call :meth:`_display`."""

    def _display(self) -> tuple[str, Table]:
        raise NotImplementedError

    def __str__(self) -> str:
        title, table = self._display()
        return f"{title}\n{table}"

    def _repr_html_(self) -> str:
        title, table = self._display()
        return f"<p>{escape(title)}</p>{table.to_html()}"


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


_SHOWN = {"percent": _percent, "points": _points, "number": _cell}  # the kinds of Table.shown_as
