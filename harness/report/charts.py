"""The two charts of ``parity.html``, drawn as inline SVG (no scripts, no network): the stage
timings of one repository and the parity history. Each chart says what it shows and in which
units; every mark carries its value in ``data-`` attributes and a ``<title>`` (the tooltip)."""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from harness.report.digest import Timing, repo_timings, secs
from harness.report.history import SEVERITIES, HistoryRun, ParityHistory
from harness.report.model import RepoParity

SEVERITY_COLORS = {
    "ok": "#4ac26b",
    "sev3": "#54aeff",
    "sev2": "#d4a72c",
    "sev1": "#cf222e",
}
VERDICT_COLORS = {"pass": "#1a7f37", "fail": "#cf222e"}
ABSENT = "#eaeef2"
_TIMING = {
    "stage0": ("#c297ff", "#8250df"),
    "primary": ("#b6e3ff", "#0969da"),
    "candidate": ("#ffd8b5", "#bc4c00"),
}
_FAILED = ("#ffcecb", "#cf222e")
FONT = 'font-family="system-ui,sans-serif"'


def nice_step(top: float, ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving at most ``ticks`` steps up
    to ``top``."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def _num(value: float) -> str:
    return f"{value:g}"


def timing_chart(repo: RepoParity) -> str:
    """Horizontal bars on one axis in seconds: Stage 0 (shared) and each side's wall time,
    with the ``run.json`` stages inside it drawn darker. Exactly the values of
    :func:`~harness.report.digest.repo_timings`, which the page's timing table shows."""
    rows = repo_timings(repo)
    if not rows:
        return ""
    label_w, bar_w, row_h, top_pad = 200, 460, 30, 8
    width = label_w + bar_w + 260
    top = max(t.wall_s for t in rows)
    step = nice_step(top)
    scale_top = max(step, math.ceil(top / step) * step) if top > 0 else 1.0

    def x(seconds: float) -> float:
        return label_w + bar_w * seconds / scale_top

    axis_y = top_pad + row_h * len(rows) + 2
    parts = []
    for i in range(round(scale_top / step) + 1):
        tx = x(i * step)
        parts.append(
            f'<line x1="{tx:.1f}" y1="{top_pad - 4}" x2="{tx:.1f}" y2="{axis_y}" '
            f'stroke="#d0d7de" stroke-width="1"/>'
            f'<text x="{tx:.1f}" y="{axis_y + 14}" font-size="11" text-anchor="middle" '
            f'fill="#57606a">{_num(i * step)}</text>'
        )
    for i, t in enumerate(rows):
        y = top_pad + row_h * i
        parts.append(_timing_row(t, y, x))
    parts.append(
        f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + bar_w}" y2="{axis_y}" '
        'stroke="#57606a"/>'
        f'<text x="{label_w + bar_w / 2}" y="{axis_y + 30}" font-size="12" '
        'text-anchor="middle" fill="#1f2328">seconds (wall clock)</text>'
    )
    height = axis_y + 38
    return (
        f'<svg class="chart timings" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" {FONT} xmlns="http://www.w3.org/2000/svg" '
        f'aria-label="stage timings of {escape(repo.name)} in seconds">'
        f"<title>Stage timings of {escape(repo.name)}, seconds (wall clock)</title>"
        f"{''.join(parts)}</svg>"
    )


def _timing_row(t: Timing, y: int, scale: Callable[[float], float]) -> str:
    light, dark = _TIMING.get(t.key, _TIMING["stage0"]) if t.ok else _FAILED
    x0 = scale(0.0)
    x_end = max(x0 + 1.0, scale(t.wall_s))
    out = [
        f'<text x="{x0 - 8}" y="{y + 17}" font-size="12" text-anchor="end" '
        f'fill="#1f2328">{escape(t.label)}</text>',
        f'<rect class="bar" data-key="{t.key}" data-part="wall" data-seconds="{t.wall_s}" '
        f'x="{x0:.1f}" y="{y + 4}" width="{x_end - x0:.1f}" height="18" fill="{light}" '
        f'stroke="{dark}" stroke-width="1"><title>{escape(t.label)}: {secs(t.wall_s)} '
        "wall</title></rect>",
    ]
    at = 0.0
    for name, seconds in t.parts:
        px, pw = scale(at), max(1.0, scale(at + seconds) - scale(at))
        out.append(
            f'<rect class="bar part" data-key="{t.key}" data-part="{escape(name)}" '
            f'data-seconds="{seconds}" x="{px:.1f}" y="{y + 8}" width="{pw:.1f}" height="10" '
            f'fill="{dark}"><title>{escape(t.label)}: {escape(name)} {secs(seconds)}'
            "</title></rect>"
        )
        at += seconds
    text = secs(t.wall_s)
    if t.key != "stage0":
        text += " wall"
    text += "".join(f" · {name} {secs(s)}" for name, s in t.parts)
    if t.note:
        text += f" · {t.note}"
    out.append(
        f'<text x="{x_end + 6:.1f}" y="{y + 17}" font-size="12" fill="#1f2328">'
        f"{escape(text)}</text>"
    )
    return "".join(out)


# --- history ------------------------------------------------------------------------------------

HISTORY_REPO_ROWS = 15
"""At most this many repositories get a row of their own in the history chart."""


def _run_label(run: HistoryRun) -> str:
    """``MM-DD HH:MM`` of an ISO timestamp (UTC, as recorded)."""
    at = run.at
    return f"{at[5:10]} {at[11:16]}" if len(at) >= 16 else at


def history_chart(history: ParityHistory, repos: list[str]) -> str:
    """One column per run, oldest left: the run's verdict, the severity of each of ``repos``
    in it, and its findings per severity as stacked bars (count)."""
    runs = history.runs
    n = len(runs)
    shown = repos[:HISTORY_REPO_ROWS]
    label_w, cell = 170, max(14.0, min(48.0, 760 / max(n, 1)))
    bars_h, row_h = 130, 16
    width = int(label_w + cell * n + 20)
    y_verdict = 8
    y_repos = y_verdict + row_h + 8
    y_bars = y_repos + row_h * len(shown) + 16
    y_axis = y_bars + bars_h
    counted = [r.findings for r in runs if r.findings is not None]
    top = max((sum(f.values()) for f in counted), default=0)
    step = max(1.0, nice_step(float(top), 4))
    scale_top = max(step, math.ceil(top / step) * step)

    def bar_y(count: float) -> float:
        return y_axis - bars_h * count / scale_top

    parts = [
        f'<text x="{label_w - 8}" y="{y_verdict + 12}" font-size="12" text-anchor="end">'
        "verdict</text>"
    ]
    parts += [
        f'<text x="{label_w - 8}" y="{y_repos + row_h * i + 12}" font-size="12" '
        f'text-anchor="end">{escape(name)}</text>'
        for i, name in enumerate(shown)
    ]
    for i in range(round(scale_top / step) + 1):
        ty = bar_y(i * step)
        parts.append(
            f'<line x1="{label_w}" y1="{ty:.1f}" x2="{label_w + cell * n:.1f}" y2="{ty:.1f}" '
            f'stroke="#d0d7de"/><text x="{label_w - 8}" y="{ty + 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="#57606a">{_num(i * step)}</text>'
        )
    parts.append(
        f'<text x="14" y="{y_bars + bars_h / 2:.1f}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {y_bars + bars_h / 2:.1f})">findings (count)</text>'
    )
    every = max(1, math.ceil(34 / cell))
    for i, run in enumerate(runs):
        cx = label_w + cell * i
        parts.append(_history_column(run, cx, cell, shown, y_verdict, y_repos, row_h, bar_y))
        if run.current or (n - 1 - i) % every == 0:
            label = "this run" if run.current else _run_label(run)
            weight = ' font-weight="bold"' if run.current else ""
            lx, ly = cx + cell / 2, y_axis + 10
            parts.append(
                f'<text x="{lx:.1f}" y="{ly}" font-size="11" text-anchor="end"{weight} '
                f'transform="rotate(-40 {lx:.1f} {ly})">{escape(label)}</text>'
            )
    parts.append(
        f'<line x1="{label_w}" y1="{y_axis}" x2="{label_w + cell * n:.1f}" y2="{y_axis}" '
        'stroke="#57606a"/>'
    )
    height = y_axis + 70
    return (
        f'<svg class="chart history" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" {FONT} xmlns="http://www.w3.org/2000/svg" '
        'aria-label="parity history: verdict, severity per repository and findings per run">'
        "<title>Parity history: verdict, severity per repository, findings (count) per run"
        f"</title>{''.join(parts)}</svg>"
    )


def _history_column(
    run: HistoryRun,
    cx: float,
    cell: float,
    repos: list[str],
    y_verdict: int,
    y_repos: int,
    row_h: int,
    bar_y: Callable[[float], float],
) -> str:
    pad = 1.5 if cell < 20 else 3.0
    w = cell - 2 * pad
    label = "this run" if run.current else run.at
    out = [f'<g class="run" data-run="{escape(run.run_id)}" data-verdict="{run.verdict}">']
    if run.current:
        out.append(
            f'<rect x="{cx:.1f}" y="0" width="{cell:.1f}" height="{bar_y(0.0) + 2:.1f}" '
            'fill="#fff8c5"/>'
        )
    out.append(
        f'<rect class="verdict" data-verdict="{run.verdict}" x="{cx + pad:.1f}" '
        f'y="{y_verdict}" width="{w:.1f}" height="{row_h - 2}" rx="2" '
        f'fill="{VERDICT_COLORS.get(run.verdict, ABSENT)}"><title>{escape(label)}: '
        f"{escape(run.verdict)}</title></rect>"
    )
    for i, name in enumerate(repos):
        severity = run.repos.get(name)
        fill = SEVERITY_COLORS.get(severity or "", ABSENT)
        out.append(
            f'<rect class="cell" data-repo="{escape(name)}" data-severity="{severity or "-"}" '
            f'x="{cx + pad:.1f}" y="{y_repos + row_h * i}" width="{w:.1f}" '
            f'height="{row_h - 2}" fill="{fill}"><title>{escape(label)}: {escape(name)} '
            f"{escape(severity or 'not in this run')}</title></rect>"
        )
    if run.findings is None:
        base = bar_y(0.0)
        out.append(
            f'<text x="{cx + cell / 2:.1f}" y="{base - 4:.1f}" font-size="9" '
            f'text-anchor="middle" fill="#57606a">n/a<title>{escape(label)}: findings '
            "not recorded (a row written before the history held them)</title></text>"
        )
    else:
        at = 0
        for sev in reversed(SEVERITIES):  # sev3 at the bottom, sev1 on top
            count = run.findings.get(sev, 0)
            if not count:
                continue
            y0, y1 = bar_y(at + count), bar_y(at)
            out.append(
                f'<rect class="findings" data-severity="{sev}" data-count="{count}" '
                f'x="{cx + pad:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{y1 - y0:.1f}" '
                f'fill="{SEVERITY_COLORS[sev]}"><title>{escape(label)}: {count} {sev}'
                "</title></rect>"
            )
            at += count
    out.append("</g>")
    return "".join(out)
