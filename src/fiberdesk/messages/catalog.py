"""The message catalog: every kind of message, its fields, and sample data to preview it.

A kind's name is the template directory's name and the ``kind`` of its outbox rows; its
fields are the keys of the context the services queue it with (``services/*``). Each field
has a format, decided by its name so that a field means the same thing in every kind:
``money`` amounts are decimal strings ("64.99"), ``date`` values ISO dates ("2025-06-12"),
``list`` values lists of strings, ``lines`` a final bill's lines ({description, amount}).

The operator's branding (``company_name``, ``support_phone``, ``support_email``) is not a
field: it comes from the settings when a message is rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

Format = Literal["text", "number", "money", "date", "list", "lines", "term", "flag", "link"]

#: available to every template, from the settings (``render.Branding``)
BRANDING_FIELDS = ("company_name", "support_phone", "support_email")

_FORMATS: dict[str, Format] = {
    **dict.fromkeys(
        ("monthly_total", "monthly_total_after_promotion", "one_time_total", "final_amount",
         "fee", "balance"),
        "money",
    ),
    **dict.fromkeys(
        ("valid_until", "activated_on", "disconnect_on", "return_by", "starts_on", "ends_on",
         "resumed_on", "expires_on"),
        "date",
    ),
    **dict.fromkeys(
        ("notes", "next_steps", "what_to_expect", "how_to_prepare", "equipment_to_return",
         "items"),
        "list",
    ),
    **dict.fromkeys(
        ("download_mbps", "upload_mbps", "eta_minutes", "days_past_due", "reminder", "minutes",
         "order_number", "outage_id"),
        "number",
    ),
    "final_bill_lines": "lines",
    "term": "term",
    "survey_required": "flag",
    "survey_link": "link",
}  # fmt: skip

_LABELS = {
    "customer_name": "Customer name",
    "quote_reference": "Quote reference",
    "download_mbps": "Download speed (Mbps)",
    "upload_mbps": "Upload speed (Mbps)",
    "term": "Contract term code",
    "monthly_total_after_promotion": "Monthly total after the promotion",
    "one_time_total": "One-time charges",
    "valid_until": "Quote valid until",
    "notes": "Notes (site survey requirements)",
    "survey_required": "A site survey is needed first",
    "time_window": "Time window",
    "what_to_expect": "What to expect (lines)",
    "how_to_prepare": "How to prepare (lines)",
    "eta_minutes": "Minutes until arrival",
    "category": "Ticket category",
    "status": "Status",
    "detected": "Detected (time, for people)",
    "detected_at": "Detected (ISO time)",
    "estimated_resolution": "Estimated resolution (for people)",
    "estimated_resolution_at": "Estimated resolution (ISO time)",
    "restored": "Restored (time, for people)",
    "restored_at": "Restored (ISO time)",
    "kind": "Kind of fault",
    "area": "Affected area",
    "starts": "Starts (time, for people)",
    "ends": "Ends (time, for people)",
    "starts_at": "Starts (ISO time)",
    "ends_at": "Ends (ISO time)",
    "days_past_due": "Days past due",
    "reminder": "Reminder number",
    "reason": "Reason",
    "final_bill_lines": "Final bill lines",
    "final_amount": "Final amount (negative: a refund)",
    "equipment_to_return": "Equipment to return",
    "items": "Equipment to return",
    "fee": "Non-return fee",
    "survey_link": "Survey link",
    "topic": "What the survey is about",
    "code": "One-time code",
    "minutes": "Minutes the code is valid",
    "threshold": "Alert threshold",
    "target": "Target",
    "period": "Period",
    "scope": "Scope (all, a team or an area)",
    "recipient_name": "Recipient name",
}


@dataclass(frozen=True, slots=True)
class MessageField:
    name: str
    label: str
    required: bool
    format: Format


@dataclass(frozen=True, slots=True)
class MessageKind:
    name: str
    label: str
    #: sent whatever the customer's preferences say (services.messages.ESSENTIAL_KINDS)
    essential: bool
    #: "customer", or "staff" for messages to the operator's own people
    audience: str
    #: the action that queues it
    sent_when: str
    fields: tuple[MessageField, ...]
    sample: Mapping[str, Any] = field(default_factory=dict)

    @property
    def field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


def _fields(spec: str) -> tuple[MessageField, ...]:
    """Fields from "name, name, ?optional": a leading ? marks a field that may be left out."""
    out = []
    for raw in spec.split(","):
        name = raw.strip().lstrip("?")
        label = _LABELS.get(name, name.replace("_", " ").capitalize())
        out.append(MessageField(name, label, not raw.strip().startswith("?"),
                                _FORMATS.get(name, "text")))  # fmt: skip
    return tuple(out)


_KINDS: list[MessageKind] = []


def _kind(name: str, label: str, sent_when: str, fields: str, sample: dict[str, Any],
          *, essential: bool = False, audience: str = "customer") -> None:  # fmt: skip
    _KINDS.append(MessageKind(name, label, essential, audience, sent_when, _fields(fields),
                              MappingProxyType(sample)))  # fmt: skip


# -- sample data: invented people, example.com addresses, 555-01xx numbers -------------------
_WHO = {"customer_name": "Marisol Okafor", "account_number": "0000010421"}
_ADDRESS = "1207 Providence Rd, Towson, MD 21286"
_TICKET = {
    "customer_name": "Marisol Okafor",
    "ticket_number": "TKT-000318",
    "category": "Slow speed",
    "description": "WiFi speeds drop in the evening in the upstairs office.",
    "status_link": "https://desk.example/tickets/status/318.1749538800.5f0c1e2a9b7d4c3e",
}
_OUTAGE = {
    "customer_name": "Marisol Okafor",
    "outage_id": 27,
    "kind": "Fiber fault",
    "area": "Towson 21286",
    "detected": "Tuesday, June 10, 2025 at 14:05 UTC",
    "detected_at": "2025-06-10T14:05:00+00:00",
}

_kind("quote", "Quote", "a quote is created with a contact e-mail (services.quotes.create_quote)",
      "customer_name, quote_reference, service_address, plan_name, download_mbps, upload_mbps, "
      "term, monthly_total, ?monthly_total_after_promotion, one_time_total, valid_until, ?notes",
      {"customer_name": "Marisol Okafor", "quote_reference": "Q-7KD2M9",
       "service_address": _ADDRESS, "plan_name": "Plus", "download_mbps": 300,
       "upload_mbps": 150, "term": "12M", "monthly_total": "58.29",
       "monthly_total_after_promotion": "68.89", "one_time_total": "104.94",
       "valid_until": "2025-07-10", "notes": []})  # fmt: skip
_kind("order_confirmation", "Order confirmation",
      "an order is placed from a quote (services.orders.create_order)",
      "customer_name, account_number, order_number, service_address, plan_name, monthly_total, "
      "one_time_total, ?next_steps, ?survey_required",
      {**_WHO, "order_number": 5120, "service_address": _ADDRESS, "plan_name": "Plus",
       "monthly_total": "68.89", "one_time_total": "104.94",
       "next_steps": ["identity", "credit check", "payment", "contract", "installation window"],
       "survey_required": False})  # fmt: skip
_kind("identity_code", "One-time identity code",
      "a sign-up asks for a one-time code (services.signup.send_identity_code), by e-mail or SMS",
      "code, minutes, ?customer_name",
      {"code": "482913", "minutes": 10, "customer_name": "Marisol Okafor"},
      essential=True)  # fmt: skip
_kind("installation_confirmation", "Installation confirmation",
      "an installation window is booked or moved (services.scheduling)",
      "customer_name, date, time_window, service_address, what_to_expect, how_to_prepare, "
      "?account_number",
      {**_WHO, "date": "Thursday, June 12, 2025", "time_window": "08:00-12:00",
       "service_address": _ADDRESS,
       "what_to_expect": ["A technician in a marked van, carrying a company ID.",
                          "About one to two hours of work.",
                          "An adult (18+) at home for the whole visit, with a photo ID."],
       "how_to_prepare": ["Clear the wall where the fiber box (ONT) should go.",
                          "Pick a central, raised spot for the WiFi router.",
                          "Choose your WiFi network name and password."]})  # fmt: skip
_kind("appointment_reminder", "Appointment reminder",
      "the day before an installation or field visit (the reminder run)",
      "customer_name, date, time_window, service_address, ?technician_name, ?how_to_prepare, "
      "?account_number",
      {**_WHO, "date": "Thursday, June 12, 2025", "time_window": "08:00-12:00",
       "service_address": _ADDRESS, "technician_name": "Dev Ramaswamy",
       "how_to_prepare": ["Clear the wall where the fiber box (ONT) should go."]})  # fmt: skip
_kind("technician_on_the_way", "Technician on the way",
      "the technician sets off (services.activation.en_route); by SMS when there is a phone",
      "customer_name, technician_name, eta_minutes, service_address",
      {"customer_name": "Marisol Okafor", "technician_name": "Dev Ramaswamy",
       "eta_minutes": 25, "service_address": _ADDRESS})  # fmt: skip
_kind("welcome", "Welcome on activation",
      "the service is activated after the installation (services.activation)",
      "customer_name, account_number, plan_name, download_mbps, upload_mbps, service_address, "
      "activated_on",
      {**_WHO, "plan_name": "Plus", "download_mbps": 300, "upload_mbps": 150,
       "service_address": _ADDRESS, "activated_on": "2025-06-12"})  # fmt: skip
_kind("ticket_opened", "Ticket opened", "a support ticket is opened (services.tickets.open_ticket)",
      "customer_name, ticket_number, category, status, description, ?resolution, ?status_link",
      {**_TICKET, "status": "New"})  # fmt: skip
_kind("ticket_updated", "Ticket updated",
      "a ticket's status changes or a note is added (services.tickets.update_ticket)",
      "customer_name, ticket_number, category, status, ?description, ?resolution, "
      "?status_link",
      {**_TICKET, "status": "In progress"})  # fmt: skip
_kind("ticket_resolved", "Ticket resolved",
      "a ticket is resolved, by staff or a troubleshooting flow (services.tickets.resolve)",
      "customer_name, ticket_number, category, status, ?description, resolution, "
      "?status_link",
      {**_TICKET, "status": "Resolved",
       "resolution": "Moved the router to the landing; set a clearer channel."})  # fmt: skip
_kind("outage_notification", "Outage notification",
      "an outage is opened or grows to more customers (services.outages.correlate)",
      "customer_name, status, area, detected, estimated_resolution, ?kind, ?outage_id, "
      "?detected_at, ?estimated_resolution_at",
      {**_OUTAGE, "status": "Outage Detected",
       "estimated_resolution": "Tuesday, June 10, 2025 at 18:00 UTC",
       "estimated_resolution_at": "2025-06-10T18:00:00+00:00"}, essential=True)  # fmt: skip
_kind("restoration_notice", "Restoration notice",
      "an outage is resolved (services.outages.resolve_outage, or alarms clearing)",
      "customer_name, area, restored, ?status, ?duration, ?detected, ?kind, ?outage_id, "
      "?detected_at, ?restored_at",
      {**_OUTAGE, "status": "Service Restored",
       "restored": "Tuesday, June 10, 2025 at 16:40 UTC",
       "restored_at": "2025-06-10T16:40:00+00:00", "duration": "2 h 35 min"},
      essential=True)  # fmt: skip
_kind("planned_maintenance", "Planned maintenance notice",
      "a maintenance window is planned on a network element (services.outages.create_maintenance)",
      "customer_name, title, area, starts, ends, ?description, ?starts_at, ?ends_at",
      {"customer_name": "Marisol Okafor", "title": "Splitter cabinet upgrade",
       "area": "LCP-TOW-14", "starts": "Wednesday, June 18, 2025 at 06:00 UTC",
       "ends": "Wednesday, June 18, 2025 at 08:00 UTC",
       "description": "Service may drop for up to 20 minutes while fibers are moved.",
       "starts_at": "2025-06-18T06:00:00+00:00",
       "ends_at": "2025-06-18T08:00:00+00:00"})  # fmt: skip
_kind("payment_reminder", "Payment reminder",
      "the dunning run finds an overdue balance at a reminder step (services.holds.run_dunning)",
      "customer_name, account_number, balance, days_past_due, ?reminder",
      {**_WHO, "balance": "68.89", "days_past_due": 10, "reminder": 2})  # fmt: skip
_kind("suspension_notice", "Suspension notice",
      "service is suspended: a vacation hold, or non-payment (services.holds)",
      "customer_name, account_number, reason, starts_on, ?ends_on",
      {**_WHO, "reason": "Vacation hold", "starts_on": "2025-07-01", "ends_on": "2025-08-15"},
      essential=True)  # fmt: skip
_kind("resume_notice", "Resume notice",
      "service resumes after a hold or a payment (services.holds.resume)",
      "customer_name, account_number, resumed_on",
      {**_WHO, "resumed_on": "2025-08-15"})  # fmt: skip
_kind("disconnection_confirmation", "Disconnection confirmation with final bill",
      "an account is disconnected (services.disconnect.disconnect)",
      "customer_name, account_number, disconnect_on, final_bill_lines, final_amount, "
      "equipment_to_return, return_by",
      {**_WHO, "disconnect_on": "2025-09-30",
       "final_bill_lines": [
           {"description": "Service 2025-09-01 to 2025-09-30 (Plus)", "amount": "64.99"},
           {"description": "Early termination fee (3 months left)", "amount": "45.00"},
           {"description": "Security deposit returned", "amount": "-100.00"},
           {"description": "Tax on service lines", "amount": "6.60"}],
       "final_amount": "16.59", "equipment_to_return": ["ONT HWTC1A2B3C4D", "ROUTER RT8842117"],
       "return_by": "2025-10-30"}, essential=True)  # fmt: skip
_kind("equipment_return_reminder", "Equipment return reminder",
      "a week before equipment is due back (services.disconnect.run_returns)",
      "customer_name, items, return_by, fee",
      {"customer_name": "Marisol Okafor", "items": ["ROUTER RT8842117"],
       "return_by": "2025-10-30", "fee": "100.00"})  # fmt: skip
_kind("satisfaction_survey", "Satisfaction survey",
      "after an installation or a resolved ticket (the survey run)",
      "customer_name, survey_link, ?topic, ?expires_on",
      {"customer_name": "Marisol Okafor",
       "survey_link": "https://survey.example.com/s/8f3k2q", "topic": "your installation",
       "expires_on": "2025-06-26"})  # fmt: skip
_kind("kpi_alert", "KPI alert",
      "a key metric crosses its alert threshold (the KPI run, to supervisors)",
      "metric, value, target, threshold, period, ?scope, ?recipient_name",
      {"metric": "First-contact resolution", "value": "61 %", "target": "70 %",
       "threshold": "65 %", "period": "week of June 9, 2025", "scope": "team CSR",
       "recipient_name": "Priya Castellanos"}, audience="staff")  # fmt: skip

#: every kind, in the order of the customer's lifecycle
CATALOG: Mapping[str, MessageKind] = MappingProxyType({k.name: k for k in _KINDS})
KINDS: tuple[str, ...] = tuple(CATALOG)
ESSENTIAL: frozenset[str] = frozenset(k.name for k in _KINDS if k.essential)

#: the branding shown in previews when no settings are given
SAMPLE_BRANDING = MappingProxyType(
    {
        "company_name": "Chesapeake Fiber",
        "support_phone": "410-555-0142",
        "support_email": "help@chesapeake-fiber.example.com",
    }
)
