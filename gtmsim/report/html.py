"""One self-contained HTML file: headline table, figures, differing settings, manifest.

Figures are inline PNG (base64 data URIs); the page has inline CSS and no
script, loads nothing from anywhere and reads the same printed. Every string
that comes from the user (design and scenario names, descriptions, settings,
the manifest) goes through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from matplotlib.figure import Figure
from PIL import Image

from gtmsim.experiment.compare import compare
from gtmsim.experiment.ensemble import Ensemble
from gtmsim.report.figures import Shown
from gtmsim.results.metrics import METRICS
from gtmsim.results.table import format_number

# The headline table in sections: every number a figure prints is one of these metrics
# (or the ratio of two), so the room can find it here (tests/test_report_consistency.py).
REPORT_SECTIONS = (
    (
        "Bookings and deals",
        (
            "bookings",
            "bookings_inbound_usd",
            "bookings_outbound_usd",
            "deals_won",
            "deals_won_inbound",
            "deals_won_outbound",
            "win_rate",
            "cycle_days_median",
        ),
    ),
    (
        "Marketing-sourced funnel",
        (
            "inquiries",
            "mqls",
            "mqls_never_followed_up_share",
            "first_response_hours_median",
            "mqls_accepted",
            "buyers_returned",
            "accepted",
            "opportunities_inbound",
        ),
    ),
    (
        "Sales-sourced, and every source together",
        (
            "prospects_created",
            "opportunities_outbound",
            "opportunities",
            "lost_at_discovery",
            "lost_competitor",
            "lost_no_decision",
        ),
    ),
    (
        "Cost and people",
        (
            "marketing_spend",
            "marketing_spend_per_bookings",
            "ae_quota_attainment_median",
            "ae_quota_missed_share",
            "ae_selling_share",
            "trust_ae_mean",
        ),
    ),
)
REPORT_METRICS = tuple(m for _, metrics in REPORT_SECTIONS for m in metrics)

# The paired comparison keeps to the metrics a design changes (not the shared market's).
COMPARE_METRICS = (
    "bookings",
    "deals_won",
    "win_rate",
    "mqls",
    "accepted",
    "mqls_never_followed_up_share",
    "first_response_hours_median",
    "marketing_spend_per_bookings",
    "ae_quota_missed_share",
)

REPORT_DPI = 90

CSS = """
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 2em auto; max-width: 1300px;
       padding: 0 1.5em; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 2em; margin-bottom: 0.2em; }
h2 { font-size: 1.5em; margin-top: 2em; border-bottom: 2px solid #ddd; padding-bottom: 0.2em; }
p.lead { font-size: 1.15em; color: #333; }
p.answer { font-size: 1.2em; background: #f4f8fb; border-left: 5px solid #0072B2;
           padding: 0.6em 1em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.95em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35em 0.8em; text-align: right;
         vertical-align: top; }
th { background: #f4f4f4; }
td.key, th.key { text-align: left; font-family: "DejaVu Sans Mono", monospace; }
td.text { text-align: left; max-width: 28em; overflow-wrap: anywhere; }
span.ci { color: #666; font-size: 0.85em; white-space: nowrap; }
span.swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.35em;
              vertical-align: -0.1em; }
figure { margin: 2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 1.05em; color: #333; margin-top: 0.4em; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 0.85em; }
.scroll { overflow-x: auto; }
"""


def figure_png(fig: Figure, dpi: int = REPORT_DPI) -> bytes:
    """A figure as compact PNG bytes (a 256-colour palette: a third of the size, same look)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    buf.seek(0)
    out = io.BytesIO()
    with Image.open(buf) as image:
        image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(
            out, format="png", optimize=True
        )
    return out.getvalue()


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested settings as dotted keys (lists stay whole values)."""
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: data}


def differing_settings(scenarios: Sequence[Any]) -> dict[str, list[Any]]:
    """The dotted settings whose values differ between scenarios: key -> value per scenario.

    Keys that one scenario lacks (e.g. a channel only one design has) show ``None``
    there. The name is left out: it heads the columns.
    """
    flat = [flatten(s.model_dump(mode="json")) for s in scenarios]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    out = {}
    for key in keys:
        if key == "name":
            continue
        values = [f.get(key) for f in flat]
        if any(v != values[0] for v in values[1:]):
            out[key] = values
    return out


def _value(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    return json.dumps(value)


def _swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{escape(colour)}"></span>'


def _headline(ensemble: Ensemble, colours: Mapping[str, str]) -> str:
    metrics = [m for m in REPORT_METRICS if m in ensemble.metrics]
    summary = ensemble.summary(metrics)
    cells = {(r["metric"], r["design"]): r for r in summary.rows()}
    head = "".join(f"<th>{_swatch(colours[d])}{escape(d)}</th>" for d in ensemble.designs)
    rows = []
    for section, names in REPORT_SECTIONS:
        shown = [m for m in names if m in ensemble.metrics]
        if shown:
            rows.append(
                f'<tr><th class="key" colspan="{len(ensemble.designs) + 1}">'
                f"{escape(section)}</th></tr>"
            )
        for m in shown:
            tds = []
            for d in ensemble.designs:
                r = cells[(m, d)]
                ci = ""
                if math.isfinite(r["ci_low"]) and math.isfinite(r["ci_high"]):
                    ci = (
                        f'<br><span class="ci">{format_number(r["ci_low"], m)} – '
                        f"{format_number(r['ci_high'], m)}</span>"
                    )
                tds.append(f"<td>{escape(format_number(r['mean'], m))}{ci}</td>")
            meaning = escape(METRICS.get(m, ""))
            rows.append(
                f'<tr><td class="key" title="{meaning}">{escape(m)}</td>{"".join(tds)}</tr>'
            )
    return (
        '<div class="scroll"><table><thead><tr><th class="key">metric</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        "<p>Mean over replications; below it the 95% confidence interval.</p>"
    )


def _answer(ensemble: Ensemble, baseline: str) -> str:
    """The bookings of each design against the baseline, in one sentence each."""
    if "bookings" not in ensemble.metrics or len(ensemble.designs) < 2:
        return ""
    parts = []
    for r in compare(ensemble, baseline, ["bookings"]).rows():
        rel, lo, hi, b = r["relative_change"], r["ci_low"], r["ci_high"], r["baseline_mean"]
        if not (math.isfinite(rel) and b):
            continue
        ci = ""
        if math.isfinite(lo) and math.isfinite(hi):
            ci = f" (95% CI {lo / abs(b):+.0%} to {hi / abs(b):+.0%})"
        parts.append(
            f"<b>{escape(r['design'])}</b> books {escape(f'{rel:+.0%}')}{escape(ci)} "
            f"against {escape(baseline)}"
        )
    return f'<p class="answer">{"; ".join(parts)}.</p>' if parts else ""


def _comparison(ensemble: Ensemble, baseline: str, colours: Mapping[str, str]) -> str:
    """Paired differences, one row per metric and one column per design."""
    metrics = [m for m in COMPARE_METRICS if m in ensemble.metrics]
    table = compare(ensemble, baseline, metrics)
    others = [d for d in ensemble.designs if d != baseline]
    if not len(table) or not others:
        return ""
    cells = {(r["metric"], r["design"]): r for r in table.rows()}
    rows = []
    for m in metrics:
        tds = []
        for d in others:
            r = cells[(m, d)]
            rel = r["relative_change"]
            rel_text = f"{rel:+.0%}" if isinstance(rel, float) and math.isfinite(rel) else "–"
            diff, lo, hi = (
                format_number(r[k], m, difference=True) for k in ("difference", "ci_low", "ci_high")
            )
            tds.append(
                f"<td><b>{escape(diff)}</b> ({rel_text})<br>"
                f'<span class="ci">{escape(lo)} – {escape(hi)}</span><br>'
                f'<span class="ci">{_improves_text(r)}</span></td>'
            )
        rows.append(f'<tr><td class="key">{escape(m)}</td>{"".join(tds)}</tr>')
    head = "".join(f"<th>{_swatch(colours[d])}{escape(d)}</th>" for d in others)
    return (
        f"<h3>Paired difference versus {escape(baseline)} (design − baseline)</h3>"
        '<div class="scroll"><table><thead><tr><th class="key">metric</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        "<p>The mean paired difference and its relative change; below it the 95% "
        "confidence interval and the share of paired replications in which the design "
        "was better (higher, or lower where lower is better).</p>"
    )


def _overrides(ensemble: Ensemble) -> str:
    """The settings changed for every design (``--set``), in words; nothing without any."""
    from gtmsim.scenario.loader import overrides_text

    text = overrides_text(ensemble.manifest.get("overrides"))
    if not text:
        return ""
    return f'<p class="answer">Settings changed for every design: <code>{escape(text)}</code></p>'


def _improves_text(row: Mapping[str, Any]) -> str:
    """How often the design did better, in the metric's better direction."""
    if row["better"] == "neither":
        return "neither way is better"
    share = row["p_improves"]
    return f"better in {share:.0%}" if math.isfinite(share) else "–"


def _settings(ensemble: Ensemble, colours: Mapping[str, str]) -> str:
    diff = differing_settings(ensemble.scenarios)
    if len(ensemble.scenarios) < 2:
        return "<p>One design: nothing to compare.</p>"
    if not diff:
        return "<p>The designs have identical settings (apart from their names).</p>"
    head = "".join(f"<th>{_swatch(colours[d])}{escape(d)}</th>" for d in ensemble.designs)
    rows = "".join(
        f'<tr><td class="key">{escape(k)}</td>'
        + "".join(f'<td class="text">{escape(_value(v))}</td>' for v in values)
        + "</tr>"
        for k, values in diff.items()
    )
    return (
        f"<p>{len(diff)} setting(s) differ; every other setting is the same in every design.</p>"
        f'<div class="scroll"><table><thead><tr><th class="key">setting</th>{head}</tr>'
        f"</thead><tbody>{rows}</tbody></table></div>"
    )


def _robust(result: Any) -> str:
    """The robust comparison: share of worlds won, quantiles, what decides, and the figure."""
    from gtmsim.plots.robustness import robust as robust_figure

    rows = []
    for r in result.table().rows():
        share = r["wins_share"]
        decided = r["decided_by"] or "nothing: the verdict is the same in every world"
        rows.append(
            f'<tr><td class="key">{escape(r["design"])}</td>'
            f"<td><b>{escape('–' if math.isnan(share) else f'{share:.0%}')}</b></td>"
            + "".join(
                f"<td>{escape(format_number(r[q], result.metric, difference=True))}</td>"
                for q in ("q05", "median", "q95")
            )
            + f'<td class="text">{escape(decided)}</td>'
            f'<td class="text">{escape(r["margin_moved_by"] or "–")}</td></tr>'
        )
    data = base64.b64encode(figure_png(robust_figure(result))).decode("ascii")
    names = ", ".join(result.assumptions) or "none"
    return f"""<h2 id="robust">Across the plausible worlds</h2>
<p>The designs were run in {result.samples} plausible worlds ({escape(result.method)} sample over
the ranges the scenario files declare for {len(result.assumptions)} assumption(s)), every design
in every world with the same {result.replications} paired replication(s). The metric is
<code>{escape(result.metric)}</code>, design − {escape(result.baseline)}.</p>
<div class="scroll"><table><thead><tr><th class="key">design</th><th>beats
{escape(result.baseline)} in</th><th>5%</th><th>median</th><th>95%</th>
<th class="text">the verdict depends most on</th><th class="text">the margin moves most
with</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>
<p>What the verdict depends on: the assumption whose values differ most between the worlds
the design wins and those it loses (Kolmogorov-Smirnov statistic); what moves the margin:
the largest Spearman rank correlation with the difference. Assumptions: {escape(names)}.</p>
<figure id="fig-robust"><img alt="the difference per design across the plausible worlds"
src="data:image/png;base64,{data}"><figcaption>One dot per world: the difference from
{escape(result.baseline)}, coloured by where the world puts the assumption that decides the
design's verdict (dark: low end of its range, light: high end). Right of the line the design
wins.</figcaption></figure>
"""


def report_html(
    ensemble: Ensemble,
    figures: Sequence[Shown],
    baseline: str | int = 0,
    title: str | None = None,
    robust: Any = None,
) -> str:
    """The report as one HTML string (figures embedded as PNG).

    ``robust``, a :class:`~gtmsim.experiment.robust.RobustResult`, adds its section
    after the headline figures.
    """
    from gtmsim.plots.style import design_colours

    base = ensemble.designs[ensemble.design_index(baseline)]
    colours = design_colours(ensemble.designs)
    n = len(ensemble.replications)
    days = ensemble.scenarios[0].simulation.horizon_days if ensemble.scenarios else float("nan")
    seed = ensemble.manifest.get("seed", ensemble.scenarios[0].simulation.seed)
    title = title or "gtmsim report: " + " vs ".join(ensemble.designs)
    descriptions = "".join(
        f"<li>{_swatch(colours[d])}<b>{escape(d)}</b>: {escape(s.description or '')}</li>"
        for d, s in zip(ensemble.designs, ensemble.scenarios, strict=True)
    )
    figure_html = []
    nav = ['<li><a href="#headline">Headline figures</a></li>']
    for shown in figures:
        data = base64.b64encode(figure_png(shown.figure)).decode("ascii")
        anchor = escape(f"fig-{shown.key}")
        suptitle = shown.figure.get_suptitle().split("\n")[0]
        nav.append(f'<li><a href="#{anchor}">{escape(suptitle or shown.key)}</a></li>')
        figure_html.append(
            f'<figure id="{anchor}"><img alt="{escape(suptitle)}" '
            f'src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(shown.caption)}</figcaption></figure>"
        )
    if robust is not None:
        nav.insert(1, '<li><a href="#robust">Across the plausible worlds</a></li>')
    nav += [
        '<li><a href="#settings">Settings in which the designs differ</a></li>',
        '<li><a href="#manifest">Manifest</a></li>',
    ]
    manifest = json.dumps(ensemble.manifest, indent=1, default=str, sort_keys=True)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{CSS}</style>
</head>
<body>
<h1>{escape(title)}</h1>
<p class="lead">{len(ensemble.designs)} design(s), {n} paired replication(s) each
(replication <i>r</i> of every design sees the same leads and the same luck),
{escape(f"{days:g}")} simulated days, seed {escape(str(seed))}; baseline
<b>{escape(base)}</b>. Made by gtmsim on {escape(created)}.</p>
{_overrides(ensemble)}
<ul>{descriptions}</ul>
<nav><ol>{"".join(nav)}</ol></nav>
<h2 id="headline">Headline figures</h2>
{_answer(ensemble, base)}
{_headline(ensemble, colours)}
{_comparison(ensemble, base, colours)}
{_robust(robust) if robust is not None else ""}
<h2>Figures</h2>
{"".join(figure_html)}
<h2 id="settings">Settings in which the designs differ</h2>
{_settings(ensemble, colours)}
<h2 id="manifest">Manifest</h2>
<p>What is needed to reproduce these results: scenario hashes, seed, versions, executor.</p>
<pre>{escape(manifest)}</pre>
</body>
</html>
"""
