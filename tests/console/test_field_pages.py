"""The technician's pages: the route, a work order, and the steps on site from setting out
to activation or a repair closure; bad input shown next to the field and nothing changed;
403 for another technician's work order (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import (
    Customer,
    Equipment,
    OutboxMessage,
    ServiceOrder,
    Technician,
    User,
)
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.equipment import EquipmentStatus
from fiberdesk.domain.orders import OrderStatus, OrderType
from fiberdesk.domain.users import SYSTEM_ACTOR, Role
from fiberdesk.services import scheduling
from tests.console.field_world import World, book, build, ready_order, work_day
from tests.console.support import (
    client,
    csrf_of,
    detached,
    error_of,
    make_user,
    sign_in,
    sign_in_as,
)
from tests.factories import make_active_customers

__all__ = ["client"]


def _customer_status(fd: Fiberdesk, order_id: int) -> ServiceStatus:
    with fd.uow(write=False) as uow:
        order = uow.session.get(ServiceOrder, order_id)
        assert order is not None
        customer = uow.session.get(Customer, order.customer_id)
        assert customer is not None
        return customer.status


def _second_technician_user(fd: Fiberdesk, w: World) -> str:
    make_user(fd, Role.TECHNICIAN, "tech2")
    with fd.uow() as uow:
        user_id = uow.session.scalar(sa.select(User.id).where(User.username == "tech2"))
        tech = uow.session.get(Technician, w.staff.technician_ids[1])
        assert tech is not None
        tech.user_id = user_id
        uow.commit()
    return "tech2"


def _booked_for_tech1(fd: Fiberdesk) -> tuple[World, int]:
    w = build(fd)
    order_id = ready_order(fd, w.world, 1)
    book(fd, order_id, work_day(), "AM", w.staff.technician_ids[0])
    return w, order_id


def test_the_route_lists_my_visits_in_order(fd: Fiberdesk, client: TestClient) -> None:
    w = build(fd)
    day = work_day()
    first = ready_order(fd, w.world, 1)
    second = ready_order(fd, w.world, 2)
    book(fd, second, day, "PM", w.staff.technician_ids[0])
    book(fd, first, day, "AM", w.staff.technician_ids[0])
    other = ready_order(fd, w.world, 3)
    book(fd, other, day, "AM", w.staff.technician_ids[1])
    sign_in(client, w.staff.technician_user, page="/console/field")
    html = client.get("/console/field").text
    assert "My work orders" in html
    assert html.index("Jordan Fiber1") < html.index("Jordan Fiber2")  # AM, then PM
    assert "Jordan Fiber3" not in html  # another technician's
    assert "08:00\u201312:00" in html and "New installation" in html
    assert 'href="tel:+14105550101"' in html and "DISPATCH LN" in html
    assert f'href="/console/field/workorders/{first}"' in html
    assert "km from the last stop" in html


def test_another_technicians_work_order_is_403(fd: Fiberdesk, client: TestClient) -> None:
    w, order_id = _booked_for_tech1(fd)
    other = _second_technician_user(fd, w)
    csrf = sign_in(client, other, page="/console/field")
    r = client.get(f"/console/field/workorders/{order_id}")
    assert r.status_code == 403 and "Jordan Fiber1" not in r.text
    r = client.post(
        f"/console/field/workorders/{order_id}/en-route",
        data={"csrf_token": csrf, "eta_minutes": "20"},
    )
    assert r.status_code == 403
    with fd.uow(write=False) as uow:
        assert (
            uow.session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == "technician_on_the_way")
            )
            == 0
        )
    # a billing user may not open the field pages; an admin may see any work order
    client.cookies.clear()
    sign_in_as(fd, client, Role.BILLING, "bill")
    assert client.get("/console/field").status_code == 403
    assert client.get(f"/console/field/workorders/{order_id}").status_code == 403
    client.cookies.clear()
    sign_in_as(fd, client, Role.ADMIN, "ada")
    page = client.get(f"/console/field/workorders/{order_id}")
    assert page.status_code == 200 and "Jordan Fiber1" in page.text
    route = client.get(f"/console/field?technician={w.staff.technician_ids[0]}").text
    assert "Tech 1's work orders" in route and "Jordan Fiber1" in route


def test_an_installation_from_setting_out_to_active(fd: Fiberdesk, client: TestClient) -> None:
    w, order_id = _booked_for_tech1(fd)
    csrf = sign_in(client, w.staff.technician_user, page="/console/field")
    url = f"/console/field/workorders/{order_id}"
    html = client.get(url).text
    for text in (
        "Jordan Fiber1",
        "Gate code 4401",
        "Directions",
        "NAP NAP-XGS",
        "Optical power meter",
        "I'm on my way",
    ):
        assert text in html, text

    def post(step: str, **data: str) -> str:
        r = client.post(f"{url}/{step}", data={"csrf_token": csrf, **data}, follow_redirects=False)
        assert r.status_code == 303, r.text
        return client.get(r.headers["location"]).text

    def refused(step: str, field: str, **data: str) -> str:
        r = client.post(f"{url}/{step}", data={"csrf_token": csrf, **data})
        assert r.status_code == 422, r.text
        for name, value in data.items():  # the input is shown again
            if name == field:
                assert f'value="{value}"' in r.text
        return error_of(r.text, field)

    assert "1 to 600" in refused("en-route", "eta_minutes", eta_minutes="900")
    html = post("en-route", eta_minutes="25")
    assert "on the way" in html
    with fd.uow(write=False) as uow:
        message = uow.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.kind == "technician_on_the_way")
        )
        assert message is not None and message.context["eta_minutes"] == 25
    html = post("arrive")
    assert _customer_status(fd, order_id) is ServiceStatus.INSTALLING
    # the ONT: a bad serial, one not in stock, then one from stock
    assert "not an ONT serial" in refused("ont", "serial", serial="HWTC12")
    assert "not in the inventory" in refused("ont", "serial", serial="ZZZZ00000001")
    assert detached(fd, ServiceOrder, order_id).details.get("ont_serial") is None
    serial = w.staff.serials[2]
    html = post("ont", serial=serial.lower())
    assert serial in html
    # activation before the readings says what is missing, next to the field
    assert "Rx reading first" in refused("activate", "rx_dbm", physical_confirmed="yes")
    # Rx: not a number, outside what a meter shows, below the ONT's sensitivity
    assert "must be a number" in refused("rx", "rx_dbm", rx_dbm="abc")
    assert "not a power meter reading" in refused("rx", "rx_dbm", rx_dbm="19.5")
    assert "below the ONT&#39;s sensitivity" in refused("rx", "rx_dbm", rx_dbm="-31.4")
    order = detached(fd, ServiceOrder, order_id)
    assert "rx_reading" not in order.details
    assert order.steps[-1]["step"] == "rx_reading" and order.steps[-1]["outcome"] == "refused"
    html = post("rx", rx_dbm="-19.6")
    assert "-19.6 dBm" in html and "Excellent" in html
    # speed test below the plan (PLUS 300/150, 90 % needed)
    assert "under 90%" in refused(
        "speed-test", "download_mbps", download_mbps="120", upload_mbps="140"
    )
    assert "under 90%" in refused(
        "speed-test", "upload_mbps", download_mbps="290", upload_mbps="80"
    )
    assert "Enter the upload" in refused(
        "speed-test", "upload_mbps", download_mbps="290", upload_mbps=""
    )
    assert "speed_test_entry" not in detached(fd, ServiceOrder, order_id).details
    post("speed-test", download_mbps="291.5", upload_mbps="148")
    # activation needs the physical installation confirmed
    assert "Confirm the drop" in refused("activate", "physical_confirmed")
    assert _customer_status(fd, order_id) is ServiceStatus.INSTALLING
    html = post("activate", physical_confirmed="yes")
    assert "Service activated" in html
    assert _customer_status(fd, order_id) is ServiceStatus.ACTIVE
    order = detached(fd, ServiceOrder, order_id)
    assert order.status is OrderStatus.COMPLETED and order.details["provisioned"]
    with fd.uow(write=False) as uow:
        unit = uow.session.scalar(sa.select(Equipment).where(Equipment.serial_number == serial))
        assert unit is not None and unit.status is EquipmentStatus.INSTALLED
        kinds = set(uow.session.scalars(sa.select(OutboxMessage.kind)))
        assert "welcome" in kinds


def test_a_preassigned_ont_is_swapped_for_the_one_in_hand(
    fd: Fiberdesk, client: TestClient
) -> None:
    w, order_id = _booked_for_tech1(fd)
    from fiberdesk.services import equipment

    with fd.uow() as uow:
        equipment.assign_ont(uow, actor=SYSTEM_ACTOR, order_id=order_id, serial=w.staff.serials[0])
    csrf = sign_in(client, w.staff.technician_user, page="/console/field")
    url = f"/console/field/workorders/{order_id}"
    assert w.staff.serials[0] in client.get(url).text
    r = client.post(f"{url}/ont", data={"csrf_token": csrf, "serial": w.staff.serials[0]})
    assert r.status_code == 422 and "already on this order" in error_of(r.text, "serial")
    r = client.post(
        f"{url}/ont",
        data={"csrf_token": csrf, "serial": w.staff.serials[1]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert detached(fd, ServiceOrder, order_id).details["ont_serial"] == w.staff.serials[1]
    with fd.uow(write=False) as uow:
        statuses = dict(
            uow.session.execute(
                sa.select(Equipment.serial_number, Equipment.status).where(
                    Equipment.serial_number.in_(w.staff.serials[:2])
                )
            ).all()
        )
    assert statuses == {
        w.staff.serials[0]: EquipmentStatus.IN_STOCK,
        w.staff.serials[1]: EquipmentStatus.ASSIGNED,
    }


def test_a_repair_visit_is_closed_with_its_resolution(fd: Fiberdesk, client: TestClient) -> None:
    from datetime import timedelta

    from fiberdesk.db.base import utcnow
    from tests.factories import make_field_staff

    active = make_active_customers(fd, per_nap=1, naps=("NAP-A",))
    staff = make_field_staff(fd)
    customer_id = active.customer_ids[0]
    with fd.uow() as uow:
        order = ServiceOrder(
            customer_id=customer_id,
            type=OrderType.REPAIR,
            status=OrderStatus.OPEN,
            created_at=utcnow() - timedelta(days=1),
            details={"symptom": "no light on the ONT"},
            steps=[],
        )
        uow.session.add(order)
        uow.session.flush()
        order_id = order.id
        uow.commit()
    scheduling.book(
        fd.uow,
        actor=SYSTEM_ACTOR,
        order_id=order_id,
        day=work_day(),
        window="PM",
        settings=fd.scheduling,
        technician_id=staff.technician_ids[0],
    )
    csrf = sign_in(client, staff.technician_user, page="/console/field")
    url = f"/console/field/workorders/{order_id}"
    html = client.get(url).text
    assert "Repair visit" in html and "visual fault locator" in html
    assert "Close the repair" not in html  # not on site yet
    r = client.post(f"{url}/arrive", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    html = client.get(url).text
    assert "Close the repair" in html and "Activate the service" not in html
    r = client.post(f"{url}/repair", data={"csrf_token": csrf, "resolution": "ok"})
    assert r.status_code == 422
    assert "Say what you found" in error_of(r.text, "resolution")
    assert detached(fd, ServiceOrder, order_id).status is OrderStatus.IN_PROGRESS
    r = client.post(
        f"{url}/repair",
        data={"csrf_token": csrf, "resolution": "Dirty connector at the NAP cleaned; Rx -18.9"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    order = detached(fd, ServiceOrder, order_id)
    assert order.status is OrderStatus.COMPLETED
    assert order.details["resolution"].startswith("Dirty connector")
    done = client.get(r.headers["location"]).text
    assert "Repair visit closed" in done and "Dirty connector" in done
    assert csrf_of(done)
