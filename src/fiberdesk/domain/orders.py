"""Service orders: their kinds and the order lifecycle."""

from __future__ import annotations

from fiberdesk.domain.status import LabelledStatus, Transitions


class OrderType(LabelledStatus):
    NEW_INSTALL = ("NEW_INSTALL", "New installation")
    SITE_SURVEY = ("SITE_SURVEY", "Site survey")
    REPAIR = ("REPAIR", "Repair visit")
    UPGRADE = ("UPGRADE", "Upgrade")
    DOWNGRADE = ("DOWNGRADE", "Downgrade")
    RELOCATION = ("RELOCATION", "Relocation")
    SUSPENSION = ("SUSPENSION", "Suspension")
    RESUME = ("RESUME", "Resume")
    DISCONNECT = ("DISCONNECT", "Disconnection")


class OrderStatus(LabelledStatus):
    OPEN = ("OPEN", "Open", "slate", "Entered, waiting for a window or a step")
    SCHEDULED = ("SCHEDULED", "Scheduled", "blue", "A visit is booked")
    IN_PROGRESS = ("IN_PROGRESS", "In progress", "amber", "Work has started")
    COMPLETED = ("COMPLETED", "Completed", "green", "Done")
    CANCELLED = ("CANCELLED", "Cancelled", "grey", "Called off")


ORDER_TRANSITIONS: Transitions[OrderStatus] = Transitions(
    "service order",
    {
        OrderStatus.OPEN: {
            OrderStatus.SCHEDULED,
            OrderStatus.IN_PROGRESS,
            OrderStatus.COMPLETED,
            OrderStatus.CANCELLED,
        },
        OrderStatus.SCHEDULED: {
            OrderStatus.OPEN,
            OrderStatus.IN_PROGRESS,
            OrderStatus.CANCELLED,
        },
        OrderStatus.IN_PROGRESS: {
            OrderStatus.SCHEDULED,
            OrderStatus.COMPLETED,
            OrderStatus.CANCELLED,
        },
        OrderStatus.COMPLETED: set(),
        OrderStatus.CANCELLED: set(),
    },
)


class AppointmentStatus(LabelledStatus):
    BOOKED = ("BOOKED", "Booked", "blue")
    EN_ROUTE = ("EN_ROUTE", "Technician on the way", "amber")
    ON_SITE = ("ON_SITE", "On site", "amber")
    COMPLETED = ("COMPLETED", "Completed", "green")
    CANCELLED = ("CANCELLED", "Cancelled", "grey")
    MISSED = ("MISSED", "Missed", "red")


APPOINTMENT_TRANSITIONS: Transitions[AppointmentStatus] = Transitions(
    "appointment",
    {
        AppointmentStatus.BOOKED: {
            AppointmentStatus.EN_ROUTE,
            AppointmentStatus.ON_SITE,
            AppointmentStatus.CANCELLED,
            AppointmentStatus.MISSED,
        },
        AppointmentStatus.EN_ROUTE: {
            AppointmentStatus.ON_SITE,
            AppointmentStatus.CANCELLED,
            AppointmentStatus.MISSED,
        },
        AppointmentStatus.ON_SITE: {AppointmentStatus.COMPLETED, AppointmentStatus.MISSED},
        AppointmentStatus.COMPLETED: set(),
        AppointmentStatus.CANCELLED: set(),
        AppointmentStatus.MISSED: set(),
    },
)
