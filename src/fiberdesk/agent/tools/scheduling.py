"""Installation visits (windows, booking, moving, cancelling) and the field steps that
follow: the ONT assigned and registered, then activation with a speed test."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from fiberdesk.agent.registry import Args, Call, ToolSpec, tool
from fiberdesk.agent.tools.common import OrderId, appointment_owner, order_owner, plain
from fiberdesk.domain.orders import OrderStatus
from fiberdesk.domain.users import Permission
from fiberdesk.services import activation, equipment, orders, scheduling

P = Permission
AppointmentId = Annotated[int, Field(ge=1, description="the visit's appointment id")]
Window = Annotated[
    str, Field(min_length=1, max_length=16, description="a window code, e.g. AM or PM")
]


class WindowsArgs(Args):
    order_id: OrderId
    start: date | None = Field(None, description="first day to look at (default tomorrow)")
    limit: int = Field(10, ge=1, le=50, description="at most this many windows")


def find_installation_windows(call: Call, args: WindowsArgs) -> dict[str, Any]:
    app = call.app
    slots = scheduling.find_windows(
        app.uow,
        actor=call.actor,
        order_id=args.order_id,
        settings=app.scheduling,
        start=args.start,
        limit=args.limit,
    )
    return {"order_id": args.order_id, "windows": [plain(s) for s in slots]}


class BookArgs(Args):
    order_id: OrderId
    day: date = Field(description="the window's day, YYYY-MM-DD")
    window: Window
    technician_id: int | None = Field(None, ge=1, description="a particular technician")


def book_installation(call: Call, args: BookArgs) -> dict[str, Any]:
    app = call.app
    booking = scheduling.book(
        app.uow,
        actor=call.actor,
        order_id=args.order_id,
        day=args.day,
        window=args.window,
        technician_id=args.technician_id,
        settings=app.scheduling,
    )
    return {"booking": plain(booking), "confirmation": "queued to the customer"}


class RescheduleArgs(Args):
    appointment_id: AppointmentId
    day: date = Field(description="the new day, YYYY-MM-DD")
    window: Window


def reschedule_appointment(call: Call, args: RescheduleArgs) -> dict[str, Any]:
    app = call.app
    booking = scheduling.reschedule(
        app.uow,
        actor=call.actor,
        appointment_id=args.appointment_id,
        day=args.day,
        window=args.window,
        settings=app.scheduling,
    )
    return {"booking": plain(booking)}


class CancelArgs(Args):
    appointment_id: AppointmentId
    reason: str = Field(min_length=1, max_length=500, description="why, in a few words")


def cancel_appointment(call: Call, args: CancelArgs) -> dict[str, Any]:
    scheduling.cancel(
        call.app.uow, actor=call.actor, appointment_id=args.appointment_id, reason=args.reason
    )
    return {"cancelled": args.appointment_id}


class EquipmentArgs(Args):
    order_id: OrderId
    serial: str | None = Field(
        None, max_length=20, description="the ONT's serial (default: the next one in stock)"
    )
    mac: str | None = Field(None, max_length=20, description="the MAC on the ONT's label")


def assign_equipment(call: Call, args: EquipmentArgs) -> dict[str, Any]:
    """Assign the ONT (unless the order has one already), then register it on the OLT."""
    app = call.app
    with app.uow(write=False) as uow:
        order = orders.show_order(uow, actor=call.actor, order_id=args.order_id)
    if not order.details.get("ont_serial"):
        with app.uow() as uow:
            order = equipment.assign_ont(
                uow, actor=call.actor, order_id=args.order_id, serial=args.serial, mac=args.mac
            )
    if not order.details.get("provisioned"):
        order = equipment.provision(
            app.uow, actor=call.actor, order_id=args.order_id, network=app.network
        )
    return {"order": plain(order)}


class ActivateArgs(Args):
    order_id: OrderId
    physical_confirmed: bool = Field(description="the technician confirms the install is done")
    download_mbps: Decimal = Field(ge=0, le=100_000, description="wired speed test, down")
    upload_mbps: Decimal = Field(ge=0, le=100_000, description="wired speed test, up")
    wired: bool = Field(True, description="the speed test was run over a cable")


def activate_service(call: Call, args: ActivateArgs) -> dict[str, Any]:
    app = call.app
    with app.uow(write=False) as uow:
        order = orders.show_order(uow, actor=call.actor, order_id=args.order_id)
    if order.status is OrderStatus.SCHEDULED:  # the technician is on site now
        activation.arrive(app.uow, actor=call.actor, order_id=args.order_id)
    view = activation.activate(
        app.uow,
        actor=call.actor,
        order_id=args.order_id,
        network=app.network,
        speed_test=activation.SpeedTest(args.download_mbps, args.upload_mbps, args.wired),
        physical_confirmed=args.physical_confirmed,
        min_share=Decimal(str(app.settings.speed_test_min_share)),
        company_name=app.settings.company_name,
        support_phone=app.settings.support_phone,
        surveys=app.kpi_settings,
    )
    return {"order": plain(view)}


TOOLS: list[ToolSpec[Any]] = [
    tool(
        "find_installation_windows",
        title="Find installation windows",
        description="""The earliest windows a technician with the right skill can visit the
        order's address, from tomorrow (or start) on, with how many technicians are free.""",
        args=WindowsArgs,
        permission=P.DISPATCH,
        handler=find_installation_windows,
        read_only=True,
    ),
    tool(
        "book_installation",
        title="Book an installation",
        description="""Book a window for the order's visit (the order's sign-up checklist
        must be complete); the customer becomes SCHEDULED and is sent a confirmation. Needs
        the customer's verified identity.""",
        args=BookArgs,
        permission=P.DISPATCH,
        handler=book_installation,
        account=lambda call, a: order_owner(call, a.order_id),
    ),
    tool(
        "reschedule_appointment",
        title="Reschedule a visit",
        description="""Move a booked visit to another window; if the new window cannot be
        had, the old booking stays. Needs the customer's verified identity.""",
        args=RescheduleArgs,
        permission=P.DISPATCH,
        handler=reschedule_appointment,
        account=lambda call, a: appointment_owner(call, a.appointment_id),
    ),
    tool(
        "cancel_appointment",
        title="Cancel a visit",
        description="""Cancel a booked visit (the order goes back to waiting for a window, a
        SCHEDULED customer to PENDING). Needs the customer's verified identity.""",
        args=CancelArgs,
        permission=P.DISPATCH,
        handler=cancel_appointment,
        account=lambda call, a: appointment_owner(call, a.appointment_id),
        destructive=True,
    ),
    tool(
        "assign_equipment",
        title="Assign and register the ONT",
        description="""Give the installation order an ONT from stock (a named serial, or
        the next one), with a static IP when the tier has one, and register it on the OLT
        with the tier's service profile. Needs the customer's verified identity.""",
        args=EquipmentArgs,
        permission=(P.FIELD_WORK, P.ORDERS_WRITE),
        handler=assign_equipment,
        account=lambda call, a: order_owner(call, a.order_id),
    ),
    tool(
        "activate_service",
        title="Activate the service",
        description="""Finish an installation on site: marks the technician on site if not
        yet, then checks the ONT is registered with a good signal and the wired speed test
        reaches the tier's speeds; every failed check is refused with its reason. On success
        the customer is ACTIVE and billing starts. Needs the customer's verified identity.""",
        args=ActivateArgs,
        permission=(P.FIELD_WORK, P.ORDERS_WRITE),
        handler=activate_service,
        account=lambda call, a: order_owner(call, a.order_id),
    ),
]
