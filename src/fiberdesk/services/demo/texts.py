"""The words of the demo's tickets: what customers report and how it was resolved.

Resolutions are (code, text, needs a visit); the code is what the reports group by.
"""

from __future__ import annotations

from fiberdesk.domain.tickets import TicketCategory

C = TicketCategory

DESCRIPTIONS: dict[TicketCategory, tuple[str, ...]] = {
    C.NO_INTERNET: (
        "No internet since this morning; the PON light on the ONT is red",
        "Internet down on every device; ONT lights look normal",
        "No connection after last night's storm and power cut",
        "ONT shows a blinking LOS light and nothing works",
    ),
    C.SLOW_SPEED: (
        "Speed tests show about a third of the plan's speed in the evening",
        "Downloads are slow on the {plan} plan; tested over WiFi",
        "Upload speed far below the plan during video calls",
    ),
    C.INTERMITTENT: (
        "Connection drops several times an evening for a minute or two",
        "Video calls freeze every few minutes, then recover",
        "Service goes down for a few seconds whenever it rains",
    ),
    C.WIFI: (
        "WiFi does not reach the upstairs bedrooms",
        "A new laptop cannot join the WiFi network",
        "Customer forgot the WiFi password",
        "Smart TV keeps losing the WiFi connection",
    ),
    C.BILLING: (
        "Charged twice for this month's service",
        "Asks about the prorated amount on the last invoice",
        "Autopay failed; asks how to pay by phone",
        "Wants paperless billing and a copy of last month's invoice",
    ),
    C.INSTALLATION: (
        "Wants an earlier installation date",
        "Asks what to prepare before the technician arrives",
        "The drop cable was left across the lawn after installation",
    ),
    C.EQUIPMENT: (
        "ONT power supply makes a buzzing noise",
        "Router restarts on its own several times a day",
        "ONT has no lights at all",
    ),
    C.RELOCATION: (
        "Moving next month; wants service at the new address",
        "Asks whether fiber is available at a new address",
    ),
    C.OTHER: (
        "Asks how to set up parental controls",
        "Asks about the outage in the neighbourhood last week",
        "Wants to add a second contact to the account",
    ),
}

RESOLUTIONS: dict[TicketCategory, tuple[tuple[str, str, bool], ...]] = {
    C.NO_INTERNET: (
        ("ONT_REBOOT", "ONT restarted remotely; service restored", False),
        ("CUSTOMER_EQUIPMENT", "Router was unplugged; customer reconnected it", False),
        ("FIBER_REPAIR", "Technician replaced a damaged drop connector; Rx back to normal", True),
        ("ONT_REPLACED", "ONT failed; replaced on site and re-registered", True),
    ),
    C.SLOW_SPEED: (
        ("WIFI_ADVICE", "Wired test shows full plan speed; advised on router placement", False),
        ("PROFILE_FIXED", "Wrong speed profile on the OLT corrected by the NOC", False),
        ("UPGRADE_OFFERED", "Usage exceeds the plan; an upgrade was offered", False),
    ),
    C.INTERMITTENT: (
        ("ONT_REBOOT", "ONT firmware updated and restarted; no drops since", False),
        ("FIBER_REPAIR", "Dirty connector at the NAP cleaned; Rx stable again", True),
        ("NETWORK_FIX", "NOC cleared flapping alarms on the PON port", False),
    ),
    C.WIFI: (
        ("WIFI_CONFIGURED", "Changed the WiFi channel and enabled band steering", False),
        ("MESH_ADVISED", "Advised a mesh node for the upper floor", False),
        ("PASSWORD_RESET", "WiFi password reset with the customer", False),
    ),
    C.BILLING: (
        ("BILLING_ADJUSTMENT", "Duplicate charge refunded", False),
        ("BILLING_EXPLAINED", "Proration explained; no change needed", False),
        ("PAYMENT_TAKEN", "Payment taken by phone", False),
    ),
    C.INSTALLATION: (
        ("RESCHEDULED", "Installation moved to an earlier window", False),
        ("INFO_PROVIDED", "Installation steps explained", False),
        ("FOLLOW_UP_VISIT", "Technician returned to bury the drop cable", True),
    ),
    C.EQUIPMENT: (
        ("ONT_REPLACED", "ONT replaced on site", True),
        ("POWER_SUPPLY_REPLACED", "Replacement power supply sent by mail", False),
        ("ROUTER_RESET", "Router factory reset and reconfigured", False),
    ),
    C.RELOCATION: (
        ("RELOCATION_ORDERED", "Relocation order entered for the new address", False),
        ("INFO_PROVIDED", "New address is covered; a quote was sent", False),
    ),
    C.OTHER: (("INFO_PROVIDED", "Question answered", False),),
}

OUTAGE_DESCRIPTION = "No internet; neighbours are down too"
OUTAGE_RESOLUTION = (
    "OUTAGE_RESTORED",
    "Feeder cable cut by roadwork; splicing crew repaired it and all ONTs re-registered",
)
WAITING_TEXT = "Asked the customer to test with a wired connection and reply"
REOPEN_TEXT = "Customer reports the problem is back"

ACCESS_NOTES = (
    "Gate code {code}; call on arrival",
    "Dog in the back yard; knock at the front door",
    "Use the side entrance; ONT location agreed in the basement",
    "Building manager holds the riser room key; call ahead",
)
