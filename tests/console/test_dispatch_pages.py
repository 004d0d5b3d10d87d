"""The dispatch board and the appointment page: calendar, capacity, reschedule, reassign,
cancel, refusals next to the field, and 403 for roles outside dispatch (SQLite and
PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import Appointment, AuditEntry, Customer, ServiceOrder
from fiberdesk.domain.orders import AppointmentStatus, OrderStatus
from fiberdesk.domain.users import SYSTEM_ACTOR, Role
from fiberdesk.services import dispatch_board
from tests.console.field_world import book, build, ready_order, work_day
from tests.console.support import (
    client,
    csrf_of,
    detached,
    error_of,
    sign_in,
    sign_in_as,
)

__all__ = ["client"]


def test_the_board_shows_technicians_windows_capacity_and_waiting_orders(
    fd: Fiberdesk, client: TestClient
) -> None:
    w = build(fd)
    day = work_day()
    booked = ready_order(fd, w.world, 1)
    book(fd, booked, day, "AM", w.staff.technician_ids[0])
    ready_order(fd, w.world, 2)  # waits for a window
    sign_in_as(fd, client, Role.DISPATCHER, "dee", page="/console/dispatch")
    html = client.get(f"/console/dispatch?date={day.isoformat()}").text
    assert day.strftime("%A %d %B %Y") in html
    assert "Tech 1" in html and "Tech 2" in html
    assert "Jordan Fiber1" in html and "New installation" in html
    # AM: one of two taken; PM: both free
    assert "<strong>1 / 2</strong> booked, 1 free" in html
    assert "<strong>0 / 2</strong> booked, 2 free" in html
    assert "Full" in html  # Tech 1's AM
    waiting = html.split('id="wait-h"')[1]
    assert "Jordan Fiber2" in waiting and "Jordan Fiber1" not in waiting
    # previous and next day
    assert f'date={(day - timedelta(days=1)).isoformat()}&amp;view=day" rel="prev"' in html
    assert f'date={(day + timedelta(days=1)).isoformat()}&amp;view=day" rel="next"' in html
    week = client.get(f"/console/dispatch?date={day.isoformat()}&view=week")
    assert week.status_code == 200 and "Jordan Fiber1" in week.text
    assert "week of" in week.text
    bad = client.get("/console/dispatch?date=31-12-2026")
    assert bad.status_code == 200 and "is not a date" in bad.text


def test_a_visit_at_risk_is_highlighted(fd: Fiberdesk, client: TestClient) -> None:
    w = build(fd)
    day = work_day()
    order_id = ready_order(fd, w.world, 1)
    appointment_id = book(fd, order_id, day, "AM", w.staff.technician_ids[0])
    with fd.uow() as uow:  # the shift is gone since the booking
        uow.session.execute(
            sa.text("DELETE FROM technician_shifts WHERE technician_id = :t AND weekday = :d"),
            {"t": w.staff.technician_ids[0], "d": day.weekday()},
        )
        uow.commit()
    sign_in_as(fd, client, Role.DISPATCHER, "dee", page="/console/dispatch")
    html = client.get(f"/console/dispatch?date={day.isoformat()}").text
    risk = html.split('id="risk-h"')[1].split("</section>")[0]
    assert "Jordan Fiber1" in risk and "outside the technician&#39;s shift" in risk
    page = client.get(f"/console/dispatch/appointments/{appointment_id}").text
    assert "At risk:" in page and "outside the technician&#39;s shift" in page
    # the evening before, with no ONT assigned; then the window started, nobody set out
    with fd.uow(write=False) as uow:
        for now, why in (
            (datetime.combine(day, time(18), UTC) - timedelta(days=1), "no ONT assigned yet"),
            (datetime.combine(day, time(9), UTC), "the technician has not set out"),
            (datetime.combine(day, time(13), UTC), "the window has passed"),
        ):
            b = dispatch_board.board(
                uow, actor=SYSTEM_ACTOR, first=day, days=1, settings=fd.scheduling, now=now
            )
            assert any(why in r for v in b.at_risk for r in v.risks), (now, b.at_risk)


def test_reschedule_to_an_offered_window(fd: Fiberdesk, client: TestClient) -> None:
    w = build(fd)
    day = work_day()
    order_id = ready_order(fd, w.world, 1)
    appointment_id = book(fd, order_id, day, "AM", w.staff.technician_ids[0])
    csrf = sign_in_as(fd, client, Role.DISPATCHER, "dee", page="/console/dispatch")
    page = client.get(f"/console/dispatch/appointments/{appointment_id}")
    assert page.status_code == 200
    html = page.text
    assert "Jordan Fiber1" in html and "Gate code 4401" in html and "4105550101" in html, html
    offered = re.findall(r'name="slot" value="([^"]+)"', html)
    assert offered and f"{day.isoformat()} AM" not in offered
    # no window chosen: said next to the list, nothing changed
    r = client.post(
        f"/console/dispatch/appointments/{appointment_id}/reschedule",
        data={"csrf_token": csrf, "slot": ""},
    )
    assert r.status_code == 422 and "Choose one of the free windows" in error_of(r.text, "slot")
    target = offered[-1]
    r = client.post(
        f"/console/dispatch/appointments/{appointment_id}/reschedule",
        data={"csrf_token": csrf, "slot": target},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    new_id = int(r.headers["location"].split("/")[-1].split("?")[0])
    assert new_id != appointment_id
    assert detached(fd, Appointment, appointment_id).status is AppointmentStatus.CANCELLED
    moved = detached(fd, Appointment, new_id)
    assert f"{moved.day.isoformat()} {moved.window_code}" == target
    shown = client.get(r.headers["location"]).text
    assert "Visit moved" in shown and "Earlier bookings" in shown


def test_a_full_window_is_refused_next_to_the_field(fd: Fiberdesk, client: TestClient) -> None:
    w = build(fd, technicians=1)
    day = work_day()
    first = ready_order(fd, w.world, 1)
    book(fd, first, day, "AM")
    second = ready_order(fd, w.world, 2)
    appointment_id = book(fd, second, day, "PM")
    csrf = sign_in_as(fd, client, Role.DISPATCHER, "dee", page="/console/dispatch")
    # the AM window is not offered: it is full
    html = client.get(f"/console/dispatch/appointments/{appointment_id}").text
    assert f'value="{day.isoformat()} AM"' not in html
    # a double booking attempt through the other form (or a stale page) is refused
    for data, field in (
        ({"slot": f"{day.isoformat()} AM"}, "slot"),
        ({"day": day.isoformat(), "window": "AM"}, "day"),
    ):
        r = client.post(
            f"/console/dispatch/appointments/{appointment_id}/reschedule",
            data={"csrf_token": csrf, **data},
        )
        assert r.status_code == 422
        assert "fully booked" in error_of(r.text, field)
    # the user's choice is shown again
    assert 'name="day" value="' + day.isoformat() + '"' in r.text
    kept = detached(fd, Appointment, appointment_id)
    assert kept.status is AppointmentStatus.BOOKED and kept.window_code == "PM"
    with fd.uow(write=False) as uow:
        am = uow.session.scalar(
            sa.select(sa.func.count())
            .select_from(Appointment)
            .where(
                Appointment.day == day,
                Appointment.window_code == "AM",
                Appointment.status == AppointmentStatus.BOOKED,
            )
        )
        assert am == 1
    # a bad day on the other form
    r = client.post(
        f"/console/dispatch/appointments/{appointment_id}/reschedule",
        data={"csrf_token": csrf, "day": "", "window": "AM"},
    )
    assert r.status_code == 422 and "Choose a day" in error_of(r.text, "day")


def test_reassign_to_another_technician(fd: Fiberdesk, client: TestClient) -> None:
    w = build(fd)
    one, two = w.staff.technician_ids
    day = work_day()
    a = book(fd, ready_order(fd, w.world, 1), day, "AM", one)
    b = book(fd, ready_order(fd, w.world, 2), day, "AM", two)
    csrf = sign_in_as(fd, client, Role.DISPATCHER, "dee", page="/console/dispatch")
    html = client.get(f"/console/dispatch/appointments/{a}").text
    assert f'<option value="{two}"' not in html  # Tech 2 has no room left
    r = client.post(
        f"/console/dispatch/appointments/{a}/reassign",
        data={"csrf_token": csrf, "technician_id": str(two)},
    )
    assert r.status_code == 422
    assert "fully booked" in error_of(r.text, "technician_id")
    assert detached(fd, Appointment, a).technician_id == one
    r = client.post(
        f"/console/dispatch/appointments/{a}/reassign",
        data={"csrf_token": csrf, "technician_id": ""},
    )
    assert r.status_code == 422 and "Choose a technician" in error_of(r.text, "technician_id")
    # Tech 2's visit is cancelled: now there is room
    r = client.post(
        f"/console/dispatch/appointments/{b}/cancel",
        data={"csrf_token": csrf, "reason": "   "},
    )
    assert r.status_code == 422 and "Say why" in error_of(r.text, "reason")
    assert detached(fd, Appointment, b).status is AppointmentStatus.BOOKED
    r = client.post(
        f"/console/dispatch/appointments/{b}/cancel",
        data={"csrf_token": csrf, "reason": "Customer away that week"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert detached(fd, Appointment, b).status is AppointmentStatus.CANCELLED
    with fd.uow(write=False) as uow:
        order = uow.session.scalar(
            sa.select(ServiceOrder).join(Customer).where(Customer.name == "Jordan Fiber2")
        )
        assert order is not None and order.status is OrderStatus.OPEN
    html = client.get(f"/console/dispatch/appointments/{a}").text
    assert f'<option value="{two}"' in html
    r = client.post(
        f"/console/dispatch/appointments/{a}/reassign",
        data={"csrf_token": csrf, "technician_id": str(two)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert detached(fd, Appointment, a).technician_id == two
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(
            sa.select(AuditEntry.id).where(AuditEntry.action == "appointment.reassign")
        )
    assert "Visit given to the new technician" in client.get(r.headers["location"]).text


def test_roles_outside_dispatch_get_403(fd: Fiberdesk, client: TestClient) -> None:
    w = build(fd)
    appointment_id = book(fd, ready_order(fd, w.world, 1), work_day(), "AM")
    sign_in_as(fd, client, Role.BILLING, "bill", page="/console")
    for url in ("/console/dispatch", f"/console/dispatch/appointments/{appointment_id}"):
        r = client.get(url)
        assert r.status_code == 403 and "Jordan Fiber1" not in r.text
    csrf = csrf_of(client.get("/console").text)
    r = client.post(
        f"/console/dispatch/appointments/{appointment_id}/cancel",
        data={"csrf_token": csrf, "reason": "no"},
    )
    assert r.status_code == 403
    assert detached(fd, Appointment, appointment_id).status is AppointmentStatus.BOOKED
    client.cookies.clear()
    sign_in(client, w.staff.technician_user, page="/console/field")
    assert client.get("/console/dispatch").status_code == 403


def test_racing_reassignments_give_the_last_room_once(fd: Fiberdesk) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from fiberdesk.domain.errors import Refused
    from fiberdesk.services import scheduling

    w = build(fd, technicians=3)
    one, two, three = w.staff.technician_ids
    day = work_day()
    ids = [
        book(fd, ready_order(fd, w.world, 1), day, "AM", one),
        book(fd, ready_order(fd, w.world, 2), day, "AM", two),
    ]

    def move(appointment_id: int) -> str:
        try:
            scheduling.reassign(
                fd.uow,
                actor=SYSTEM_ACTOR,
                appointment_id=appointment_id,
                technician_id=three,
                settings=fd.scheduling,
            )
        except Refused as exc:
            return exc.reason
        return "moved"

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(move, ids))
    assert results.count("moved") == 1, results
    assert any("fully booked" in r for r in results), results
    with fd.uow(write=False) as uow:
        with_three = uow.session.scalar(
            sa.select(sa.func.count())
            .select_from(Appointment)
            .where(
                Appointment.technician_id == three,
                Appointment.status == AppointmentStatus.BOOKED,
            )
        )
    assert with_three == 1


def test_a_waiting_order_is_booked_from_the_board(fd: Fiberdesk, client: TestClient) -> None:
    w = build(fd, technicians=1)
    day = work_day()
    book(fd, ready_order(fd, w.world, 1), day, "AM")
    waiting = ready_order(fd, w.world, 2)
    unready = ready_order(fd, w.world, 3)
    with fd.uow() as uow:  # a third order whose sign-up is not finished
        from fiberdesk.services import orders

        order = orders.get_order(uow.session, unready)
        orders.check_off(order, "contract", None)
        uow.commit()
    csrf = sign_in_as(fd, client, Role.DISPATCHER, "dee", page="/console/dispatch")
    board = client.get(f"/console/dispatch?date={day.isoformat()}").text
    assert f'href="/console/dispatch/orders/{waiting}"' in board
    html = client.get(f"/console/dispatch/orders/{unready}").text
    assert "Not ready to book: contract" in html and 'name="slot"' not in html
    html = client.get(f"/console/dispatch/orders/{waiting}").text
    assert "Jordan Fiber2" in html and f'value="{day.isoformat()} AM"' not in html
    url = f"/console/dispatch/orders/{waiting}/book"
    r = client.post(url, data={"csrf_token": csrf, "slot": "", "technician_id": ""})
    assert r.status_code == 422 and "Choose one of the free windows" in error_of(r.text, "slot")
    r = client.post(
        url, data={"csrf_token": csrf, "slot": f"{day.isoformat()} AM", "technician_id": ""}
    )
    assert r.status_code == 422 and "fully booked" in error_of(r.text, "slot")
    with fd.uow(write=False) as uow:
        still = uow.session.get(ServiceOrder, waiting)
        assert still is not None and still.status is OrderStatus.OPEN
    r = client.post(
        url,
        data={"csrf_token": csrf, "slot": f"{day.isoformat()} PM", "technician_id": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    shown = client.get(r.headers["location"]).text
    assert "Visit booked" in shown and "Jordan Fiber2" in shown
    # the order now has its visit: the booking page leads to it
    again = client.get(f"/console/dispatch/orders/{waiting}", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/console/dispatch/appointments/")
