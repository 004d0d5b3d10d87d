"""The network drawn by the server as inline SVG, coloured by health (no JavaScript).

``olt_ports`` draws an OLT's front panel: one square per PON port, slots as rows and ports
as columns, each a link to that port's tree. ``pon_tree`` draws one PON port's tree (OLT,
PON port, splitter, NAPs, customers) as an indented tree that reads at 390 px as well as on
a desktop; the line into an element that is down is drawn red and crossed, where the cut
is. Colour is never the only signal: every element carries a symbol (a cross for down, a
bang for problems, a tick for working) and a ``<title>`` with its status in words, and the
pages show the same data as a table.

All text is escaped here (``_e``); the result is ``Markup`` for the templates.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from markupsafe import Markup

from fiberdesk.domain.network_health import ElementHealth, OntHealth
from fiberdesk.services.network_map import Node, OltSummary, PonSummary

COLOURS = {
    "red": "#b3261e",
    "orange": "#c2410c",
    "amber": "#a86400",
    "green": "#17804a",
    "grey": "#6b7280",
    "slate": "#475569",
    "blue": "#1f5fbf",
}
INK, MUTED, LINE = "#1c2430", "#5b6675", "#9aa4b2"
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'
#: a symbol per health, so colour is not the only signal
SYMBOL = {
    ElementHealth.DOWN: "✕",
    ElementHealth.POWER: "⚡",
    ElementHealth.WARNING: "!",
    ElementHealth.OK: "✓",
    ElementHealth.IDLE: "",
    OntHealth.LOS: "✕",
    OntHealth.DYING_GASP: "⚡",
    OntHealth.DEGRADED: "!",
    OntHealth.OFFLINE: "\u2013",
    OntHealth.ONLINE: "✓",
    OntHealth.NOT_INSTALLED: "",
}
BROKEN = (ElementHealth.DOWN, ElementHealth.POWER, OntHealth.LOS, OntHealth.DYING_GASP)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def colour(health: ElementHealth | OntHealth) -> str:
    return COLOURS.get(health.colour, COLOURS["grey"])


def counts_text(counts: dict[OntHealth, int]) -> str:
    """``11 loss of signal, 2 online`` (worst first; zeros left out)."""
    parts = [f"{counts[h]} {h.label.lower()}" for h in OntHealth if counts.get(h)]
    return ", ".join(parts) or "no customers"


def pon_title(p: PonSummary) -> str:
    outages = "; ".join(f"outage #{m.id} at {m.label}" for m in p.outages)
    return f"PON port {p.label}: {p.health.label}. {counts_text(p.counts)}" + (
        f". {outages}" if outages else ""
    )


def olt_ports(olt: OltSummary, href: Callable[[PonSummary], str], *, cell: int = 24) -> Markup:
    """An OLT's PON ports as a grid of linked squares (slots down, ports across)."""
    gap, left, top = 4, 44, 20
    slots = sorted({p.slot for p in olt.pons})
    ports = max((p.port for p in olt.pons), default=1)
    width = left + ports * (cell + gap) + 4
    height = top + max(len(slots), 1) * (cell + gap) + 4
    row = {slot: i for i, slot in enumerate(slots)}
    out = [
        f'<svg class="olt-ports" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="group" aria-label="{_e(olt.name)}: PON ports by slot and '
        f'port, coloured by health" {FONT} font-size="11">'
    ]
    for n in range(1, ports + 1):
        x = left + (n - 1) * (cell + gap) + cell / 2
        out.append(f'<text x="{x:g}" y="12" text-anchor="middle" fill="{MUTED}">{n}</text>')
    for slot, i in row.items():
        y = top + i * (cell + gap) + cell / 2 + 4
        out.append(f'<text x="0" y="{y:g}" fill="{MUTED}">slot {slot}</text>')
    for p in sorted(olt.pons, key=lambda p: (p.slot, p.port)):
        x = left + (p.port - 1) * (cell + gap)
        y = top + row[p.slot] * (cell + gap)
        fill = colour(p.health)
        idle = p.health is ElementHealth.IDLE
        out.append(
            f'<a href="{_e(href(p))}" class="node h-{p.health.value.lower()}">'
            f"<title>{_e(pon_title(p))}</title>"
            f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" rx="3" '
            + (
                f'fill="#fff" stroke="{fill}" stroke-dasharray="3 2"/>'
                if idle
                else f'fill="{fill}" stroke="{fill}"/>'
            )
        )
        symbol = SYMBOL[p.health]
        if symbol:
            out.append(
                f'<text x="{x + cell / 2:g}" y="{y + cell / 2 + 4:g}" text-anchor="middle" '
                f'fill="#fff" font-size="12" font-weight="700" aria-hidden="true">{symbol}</text>'
            )
        out.append("</a>")
    out.append("</svg>")
    return Markup("".join(out))


# -- one PON port's tree ---------------------------------------------------------------

ROW, INDENT, LEFT, TOP = 34, 30, 12, 14


def node_text(n: Node) -> str:
    """What a node says beside it: its name, status and, for elements, its customers."""
    if n.customer is not None:
        c = n.customer
        port = f"port {c.port_number}" if c.port_number else ""
        return " · ".join(x for x in (n.label, n.health.label, port) if x)
    count = sum(n.counts.values())
    return f"{n.label} · {n.health.label}" + (f" · {count} customers" if count else "")


def node_title(n: Node) -> str:
    kind = {"olt": "OLT", "pon": "PON port", "splitter": "Splitter", "nap": "NAP"}
    if n.customer is not None:
        c = n.customer
        alarms = ", ".join(c.alarms) or "none"
        serial = f"ONT {c.serial}" if c.serial else "no ONT installed"
        return (
            f"Customer {n.label} ({c.account_number}), {c.address}: {n.health.label}. "
            f"{serial}; active alarms: {alarms}. Service: {c.status.description.lower()}."
        )
    outages = "; ".join(f"outage #{m.id} at {m.label}" for m in n.outages)
    return f"{kind[n.kind]} {n.label} ({n.detail}): {n.health.label}. " + (
        f"{counts_text(n.counts)}." + (f" {outages}." if outages else "")
    )


def _shape(kind: str, x: float, y: float, fill: str, stroke: str) -> str:
    if kind in ("olt", "pon"):
        return (
            f'<rect x="{x - 9:g}" y="{y - 9:g}" width="18" height="18" rx="2" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="2"/>'
        )
    if kind == "splitter":
        return (
            f'<polygon points="{x - 10:g},{y + 9:g} {x + 10:g},{y + 9:g} {x:g},{y - 10:g}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="2"/>'
        )
    if kind == "nap":
        return (
            f'<rect x="{x - 8:g}" y="{y - 8:g}" width="16" height="16" rx="5" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="2"/>'
        )
    return f'<circle cx="{x:g}" cy="{y:g}" r="8" fill="{fill}" stroke="{stroke}" stroke-width="2"/>'


def pon_tree(
    root: Node, href: Callable[[Node], str | None], *, width: int = 360, label: str = ""
) -> Markup:
    """The tree under ``root`` as an indented SVG tree with elbow connectors."""
    rows: list[tuple[int, Node, Node | None]] = []

    def visit(n: Node, depth: int, parent: Node | None) -> None:
        rows.append((depth, n, parent))
        for child in n.children:
            visit(child, depth + 1, n)

    visit(root, 0, None)
    height = TOP + len(rows) * ROW
    # about 7.2 px a character at 13 px: wide enough for the longest line
    width = max(
        width,
        *(int(LEFT + 26 + d * INDENT + len(node_text(n)) * 7.2 + 10) for d, n, _ in rows),
    )
    position: dict[int, tuple[float, float]] = {}
    lines: list[str] = []
    nodes: list[str] = []
    for i, (depth, n, parent) in enumerate(rows):
        x, y = LEFT + 10 + depth * INDENT, TOP + i * ROW + ROW / 2
        position[id(n)] = (x, y)
        fill = colour(n.health)
        if parent is not None:
            px, py = position[id(parent)]
            broken = n.health in BROKEN
            cut = broken and parent.health not in BROKEN
            stroke = COLOURS["red"] if broken else LINE
            power = n.health in (OntHealth.DYING_GASP, ElementHealth.POWER)
            dash = ' stroke-dasharray="4 3"' if power else ""
            lines.append(
                f'<path d="M{px:g},{py + 10:g} V{y:g} H{x - 11:g}" fill="none" '
                f'stroke="{stroke}" stroke-width="{3 if broken else 1.5}"{dash}/>'
            )
            if cut:  # where the light stops: a cross on the line into the element
                cx, cy = px + (x - px) / 2 + 2, y
                lines.append(
                    f'<g class="cut" stroke="{COLOURS["red"]}" stroke-width="3" '
                    f'aria-hidden="true"><path d="M{cx - 5:g},{cy - 5:g} L{cx + 5:g},{cy + 5:g} '
                    f'M{cx + 5:g},{cy - 5:g} L{cx - 5:g},{cy + 5:g}"/></g>'
                )
        idle = n.health in (ElementHealth.IDLE, OntHealth.NOT_INSTALLED)
        shape = _shape(n.kind, x, y, "#fff" if idle else fill, fill)
        symbol = SYMBOL[n.health]
        mark = (
            f'<text x="{x:g}" y="{y + 4:g}" text-anchor="middle" fill="#fff" font-size="11" '
            f'font-weight="700" aria-hidden="true">{symbol}</text>'
            if symbol and not idle
            else ""
        )
        weight = ' font-weight="600"' if n.kind != "customer" else ""
        text = f'<text x="{x + 16:g}" y="{y + 4:g}" fill="{INK}"{weight}>{_e(node_text(n))}</text>'
        body = f"<title>{_e(node_title(n))}</title>{shape}{mark}{text}"
        link = href(n)
        css = f"node {n.kind} h-{n.health.value.lower()}"
        if link:
            nodes.append(f'<a href="{_e(link)}" class="{css}">{body}</a>')
        else:
            nodes.append(f'<g class="{css}" tabindex="0">{body}</g>')
    return Markup(
        f'<svg class="pon-tree" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="group" aria-label="{_e(label or "PON tree")}" {FONT} font-size="13">'
        + "".join(lines)
        + "".join(nodes)
        + "</svg>"
    )


def legend() -> Markup:
    """The colours and symbols, in words."""
    items = [
        (OntHealth.ONLINE, "Online / working"),
        (OntHealth.DEGRADED, "Degraded Rx / some problems"),
        (OntHealth.DYING_GASP, "Dying gasp (power)"),
        (OntHealth.LOS, "Loss of signal / down"),
        (OntHealth.OFFLINE, "Offline (suspended)"),
        (OntHealth.NOT_INSTALLED, "Not installed / no service"),
    ]
    out = ['<ul class="net-legend" aria-label="Legend">']
    for health, text in items:
        fill = colour(health)
        idle = health is OntHealth.NOT_INSTALLED
        dashed = ' stroke-dasharray="3 2"' if idle else ""
        out.append(
            f'<li><svg width="16" height="16" aria-hidden="true"><rect x="1" y="1" width="14" '
            f'height="14" rx="3" fill="{"#fff" if idle else fill}" stroke="{fill}" stroke-width="2"'
            f"{dashed}/>"
            f'<text x="8" y="12" text-anchor="middle" fill="#fff" font-size="10" '
            f'font-weight="700" {FONT}>{SYMBOL[health]}</text></svg> {_e(text)}</li>'
        )
    out.append("</ul>")
    return Markup("".join(out))
