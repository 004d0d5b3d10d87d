"""Line charts drawn by the server as inline SVG: readable without JavaScript.

``line_chart`` plots one value per month with the target and the alert threshold as dashed,
labelled horizontal lines (different dash patterns as well as colours, so they can be told
apart without colour), y-axis ticks in the metric's unit and month labels. The SVG carries a
``<title>`` and a ``<desc>`` that reads out every value for screen readers; each point has its
own ``<title>`` (shown as a tooltip by browsers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

INK, MUTED, GRID = "#1c2430", "#5b6675", "#d9dee5"
LINE, TARGET, ALERT = "#1f5fbf", "#17804a", "#b3261e"
LEFT, RIGHT, TOP, BOTTOM = 46, 74, 26, 34
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``ticks`` ticks."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = math.pow(10, math.floor(math.log10(raw)))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power  # pragma: no cover - the loop always returns


def _attr(text: str) -> str:
    return escape(text, quote=True)


def line_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    unit: str,
    target: float,
    alert: float,
    chart_id: str,
    ceiling: float | None = None,
    width: int = 400,
    height: int = 220,
) -> Markup:
    """An SVG line chart of ``points`` (label, value or None for no data); the y axis runs
    from 0 to a round number above every value and both lines, or to ``ceiling`` (5 for a
    score out of 5, 100 for a percentage) when that is lower."""
    values = [v for _, v in points if v is not None]
    top_value = max([*values, target, alert, 0.0])
    room = top_value * 1.1 or 1.0
    step = nice_step(room)
    y_max = step * math.ceil(room / step - 1e-9)
    if ceiling is not None and top_value <= ceiling < y_max:
        step, y_max = nice_step(ceiling, 5), ceiling
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM

    def x(i: int) -> float:
        n = len(points)
        return LEFT + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / y_max)

    def say(v: float | None) -> str:
        if v is None:
            return "no data"
        return f"{_fmt(v)}{'' if unit[:1] in '/%' else ' '}{unit}"

    readout = "; ".join(f"{label}: {say(v)}" for label, v in points)
    desc = f"{readout}. Target {say(target)}, alert threshold {say(alert)}."
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" class="chart" '
        f'aria-labelledby="{_attr(chart_id)}-title {_attr(chart_id)}-desc">',
        f'<title id="{_attr(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{_attr(chart_id)}-desc">{escape(desc)}</desc>',
    ]
    tick = 0.0
    while tick <= y_max + 1e-9:
        ty = y(tick)
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="{MUTED}" {FONT}>'
            f"{_fmt(tick)}</text>"
        )
        tick += step
    out.append(f'<text x="4" y="{TOP - 12}" fill="{MUTED}" {FONT}>{escape(unit)}</text>')
    for i, (label, _) in enumerate(points):
        out.append(
            f'<text x="{x(i):.1f}" y="{height - 10}" text-anchor="middle" fill="{MUTED}" '
            f"{FONT}>{escape(label)}</text>"
        )
    out += _threshold_lines(y(target), y(alert), target, alert, plot_w)
    run: list[str] = []
    for i, (_, v) in enumerate([*points, ("", None)]):
        if v is not None:
            run.append(f"{x(i):.1f},{y(v):.1f}")
            continue
        if len(run) > 1:
            out.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{LINE}" '
                f'stroke-width="2.5" stroke-linejoin="round"/>'
            )
        run = []
    for i, (label, v) in enumerate(points):
        if v is not None:
            out.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="4" fill="{LINE}">'
                f"<title>{escape(label)}: {escape(say(v))}</title></circle>"
            )
    if not values:
        out.append(
            f'<text x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
            f'fill="{INK}" {FONT}>No data in these months</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))  # every text above went through escape()


def _threshold_lines(
    y_target: float, y_alert: float, target: float, alert: float, plot_w: int
) -> list[str]:
    """The dashed target and alert lines, labelled at their right ends (kept apart)."""
    label_target, label_alert = y_target, y_alert
    if abs(label_target - label_alert) < 12:
        upper_is_target = label_target <= label_alert
        shift = (12 - abs(label_target - label_alert)) / 2
        label_target += -shift if upper_is_target else shift
        label_alert += shift if upper_is_target else -shift
    lines = []
    for name, colour, dash, line_y, text_y, value in (
        ("target", TARGET, "6 4", y_target, label_target, target),
        ("alert", ALERT, "2 3", y_alert, label_alert, alert),
    ):
        lines.append(
            f'<g class="{name}"><line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{line_y:.1f}" '
            f'y2="{line_y:.1f}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="{dash}"/>'
            f'<text x="{LEFT + plot_w + 4}" y="{text_y + 4:.1f}" fill="{colour}" {FONT}>'
            f"{name} {_fmt(value)}</text></g>"
        )
    return lines
