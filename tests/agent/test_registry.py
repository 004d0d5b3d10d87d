"""The tool declarations themselves: schemas, permissions, safety flags (no server)."""

from __future__ import annotations

import typing

from fiberdesk.agent.tools import REGISTRY
from fiberdesk.agent.tools.changes import ChurnReason
from fiberdesk.agent.tools.comms import SENDABLE, Sendable
from fiberdesk.domain.users import Actor, Channel, Permission, Role
from fiberdesk.messages import CATALOG
from fiberdesk.services.disconnect import CHURN_REASONS

#: the tools that change a customer's account: each needs a verified identity
ACCOUNT_CHANGES = {
    "credit_check",
    "add_payment_method",
    "accept_contract",
    "book_installation",
    "reschedule_appointment",
    "cancel_appointment",
    "assign_equipment",
    "activate_service",
    "change_tier",
    "relocate",
    "suspend_service",
    "resume_service",
    "disconnect_service",
}
#: the costly or destructive ones: a preview first, then confirm=<token>
CONFIRMED = {"change_tier", "relocate", "suspend_service", "disconnect_service"}


def test_every_tool_has_a_description_and_a_closed_json_schema() -> None:
    specs = REGISTRY.all()
    assert len(specs) == 35
    for spec in specs:
        tool = spec.mcp_tool()
        assert tool.description and len(tool.description) > 40, spec.name
        schema = tool.input_schema
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        assert "$defs" not in schema and "$ref" not in str(schema), spec.name
        for name, prop in schema["properties"].items():
            assert "title" not in prop, (spec.name, name)


def test_account_changes_need_identity_and_costly_ones_a_confirmation() -> None:
    needs_identity = {s.name for s in REGISTRY.all() if s.account is not None}
    assert needs_identity == ACCOUNT_CHANGES
    for spec in REGISTRY.all():
        has_confirm = "confirm" in spec.schema()["properties"]
        assert has_confirm == (spec.name in CONFIRMED), spec.name
        if spec.name in CONFIRMED:
            annotations = spec.mcp_tool().annotations
            assert annotations is not None and annotations.destructive_hint is True
            assert "confirm" not in spec.schema().get("required", [])


def test_listing_follows_the_roles_permissions() -> None:
    def names(role: Role) -> set[str]:
        return {s.name for s in REGISTRY.for_actor(Actor("x", role, Channel.AGENT))}

    assert names(Role.ADMIN) == names(Role.SUPERVISOR) == {s.name for s in REGISTRY.all()}
    assert "billing_account" not in names(Role.TECHNICIAN)
    assert "billing_account" in names(Role.BILLING)
    assert "change_tier" not in names(Role.BILLING)
    for spec in REGISTRY.all():
        assert all(isinstance(p, Permission) for p in spec.permissions)


def test_the_argument_enums_match_the_services() -> None:
    assert set(typing.get_args(ChurnReason)) == set(CHURN_REASONS)
    assert set(typing.get_args(Sendable)) == set(SENDABLE)
    assert set(SENDABLE) <= set(CATALOG)
    assert "identity_code" not in SENDABLE and "satisfaction_survey" not in SENDABLE
    assert all(CATALOG[k].audience == "customer" for k in SENDABLE)
