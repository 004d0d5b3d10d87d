"""The console's sign-up wizard, page by page (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import (
    Customer,
    OutboxMessage,
    PaymentMethod,
    PromotionRow,
    Quote,
    ServiceOrder,
)
from fiberdesk.domain.users import Role
from fiberdesk.services import signup_views
from fiberdesk.web.app import create_app
from tests.console.support import csrf_of, make_user, sign_in
from tests.factories import QualificationWorld, make_field_staff, make_qualification_world

CARD_OK = "4242 4242 4242 4242"
CARD_DECLINED = "4000000000000002"


@pytest.fixture
def world(fd: Fiberdesk) -> QualificationWorld:
    return make_qualification_world(fd)


@pytest.fixture
def client(fd: Fiberdesk) -> Iterator[TestClient]:
    with TestClient(create_app(fd), base_url="http://console.test") as c:
        yield c


@pytest.fixture
def csrf(fd: Fiberdesk, client: TestClient) -> str:
    make_user(fd, Role.CSR, "casey")
    return sign_in(client, "casey", page="/console/signup")


def _error_of(html: str, field: str) -> str:
    found = re.search(rf'id="e-{field}" role="alert">([^<]+)<', html)
    assert found, f"no error beside {field}"
    return found.group(1)


def _value_of(html: str, field: str) -> str:
    found = re.search(rf'name="{field}" value="([^"]*)"', html)
    assert found, f"no field {field}"
    return found.group(1)


def _quote(client: TestClient, csrf: str, premises_id: int, **extra: str) -> str:
    r = client.post(
        "/console/signup/quote",
        data={
            "csrf_token": csrf,
            "premises_id": str(premises_id),
            "plan": "GIGABIT",
            "term": "12M",
            **extra,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    reference = r.headers["location"].rsplit("/", 1)[1]
    assert reference.startswith("Q-")
    return reference


def _order(client: TestClient, csrf: str, reference: str) -> int:
    r = client.post(
        f"/console/signup/quotes/{reference}",
        data={
            "csrf_token": csrf,
            "name": "Robin Fiber",
            "email": "robin@example.com",
            "phone": "410-555-0123",
            "unit": "2B",
            "access_notes": "Gate code 4411",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    found = re.search(r"/orders/(\d+)/identity$", r.headers["location"])
    assert found, r.headers["location"]
    return int(found.group(1))


def _post(client: TestClient, url: str, csrf: str, **data: str) -> tuple[int, str, str]:
    r = client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False)
    return r.status_code, r.headers.get("location", ""), r.text


def _code(fd: Fiberdesk) -> str:
    with fd.uow(write=False) as uow:
        message = uow.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.kind == "identity_code")
            .order_by(OutboxMessage.id.desc())
        ).first()
        assert message is not None
        return str(message.context["code"])


def test_the_whole_wizard(
    fd: Fiberdesk, client: TestClient, world: QualificationWorld, csrf: str
) -> None:
    make_field_staff(fd)
    # address: a typo still finds it, with the plans on offer
    page = client.get("/console/signup", params={"address": "100 Test Road, Towson MD 21204"})
    assert page.status_code == 200
    assert "Serviceable" in page.text and "NAP-A" in page.text
    assert 'name="plan" value="GIGABIT"' in page.text
    assert '<ol class="steps signup-steps">' in page.text
    reference = _quote(client, csrf, world.premises["serviceable"])
    quote = client.get(f"/console/signup/quotes/{reference}")
    assert quote.status_code == 200 and reference in quote.text
    assert "Customer details" in quote.text and "12-month" in quote.text
    order_id = _order(client, csrf, reference)
    base = f"/console/signup/orders/{order_id}"

    # identity by a one-time code sent by text
    status, location, _ = _post(client, f"{base}/identity", csrf, action="send", channel="sms")
    assert status == 303 and "sent=sms" in location
    shown = client.get(location)
    assert 'name="code"' in shown.text and "Code sent by text" in shown.text
    status, location, _ = _post(
        client, f"{base}/identity", csrf, action="code", channel="sms", code=_code(fd)
    )
    assert (status, location) == (303, f"{base}/credit")

    # credit: 5555 is approved with a deposit, charged with the card
    status, location, _ = _post(
        client, f"{base}/credit", csrf, date_of_birth="1980-04-02", ssn_last4="5555"
    )
    assert (status, location) == (303, f"{base}/payment")
    pay = client.get(f"{base}/payment")
    assert "$100.00" in pay.text and "deposit" in pay.text
    status, location, _ = _post(
        client,
        f"{base}/payment",
        csrf,
        card_number=CARD_OK,
        card_expiry="12/40",
        card_cvc="123",
        autopay="on",
    )
    assert (status, location) == (303, f"{base}/contract")

    contract = client.get(f"{base}/contract")
    assert "12" in contract.text and "Terms version" in contract.text
    status, location, _ = _post(
        client,
        f"{base}/contract",
        csrf,
        accepted_name="robin  fiber",
        channel="phone",
        read_out="yes",
    )
    assert (status, location) == (303, f"{base}/window")

    window = client.get(f"{base}/window")
    slot = re.search(r'name="slot" value="([^"]+)"', window.text)
    assert slot, window.text
    status, location, _ = _post(client, f"{base}/window", csrf, slot=slot.group(1))
    assert (status, location) == (303, f"{base}/done")

    done = client.get(location)
    assert done.status_code == 200
    assert f"order {order_id} is booked" in done.text and "What happens next" in done.text
    # every step in the bar is done, and the Service Checklist ticks what sign-up covers
    bar = done.text.split('class="steps signup-steps"')[1].split("</ol>")[0]
    assert bar.count('class="done"') == 9
    checklist = done.text.split('class="checklist"')[1].split("</ol>")[0]
    assert checklist.count('class="done"') == 5  # identity, address, network, tier, scheduled
    assert checklist.count('class="todo"') == 3  # equipment, activation, satisfaction
    with fd.uow(write=False) as uow:
        customer = uow.session.scalar(sa.select(Customer).where(Customer.name == "Robin Fiber"))
        assert customer is not None and customer.status.value == "SCHEDULED"
        order = uow.session.get(ServiceOrder, order_id)
        assert order is not None and order.status.value == "SCHEDULED"
        assert order.details["deposit_charge"]
        assert order.details["checklist"]["identity"].startswith("One-time code by text")
        method = uow.session.scalar(
            sa.select(PaymentMethod).where(PaymentMethod.customer_id == customer.id)
        )
        assert method is not None and method.last4 == "4242" and method.autopay
    # GET on the order carries on where the sign-up is: the confirmation
    r = client.get(f"/console/signup/orders/{order_id}", follow_redirects=False)
    assert r.headers["location"] == f"{base}/done"


def _sign_up_to_the_window(fd: Fiberdesk, client: TestClient, csrf: str, premises_id: int) -> str:
    """Quote, order, identity, credit, payment and contract, each answered well."""
    base = f"/console/signup/orders/{_order(client, csrf, _quote(client, csrf, premises_id))}"
    _post(client, f"{base}/identity", csrf, action="send", channel="sms")
    answers: list[tuple[str, dict[str, str]]] = [
        ("identity", {"action": "code", "channel": "sms", "code": _code(fd)}),
        ("credit", {"date_of_birth": "1980-04-02", "ssn_last4": "5555"}),
        ("payment", {"card_number": CARD_OK, "card_expiry": "12/40", "card_cvc": "123"}),
        ("contract", {"accepted_name": "Robin Fiber", "channel": "phone", "read_out": "yes"}),
    ]
    for step, data in answers:
        status, _, text = _post(client, f"{base}/{step}", csrf, **data)
        assert status == 303, (step, text)
    return base


def test_an_address_that_needs_a_survey_books_the_survey_first(
    fd: Fiberdesk, client: TestClient, world: QualificationWorld, csrf: str
) -> None:
    from fiberdesk.domain.users import SYSTEM_ACTOR
    from fiberdesk.services import activation, scheduling

    make_field_staff(fd)
    base = _sign_up_to_the_window(fd, client, csrf, world.premises["long_drop"])
    order_id = int(base.rsplit("/", 1)[1])
    window = client.get(f"{base}/window")
    assert "Site survey visit" in window.text and "needs a site survey" in window.text
    assert "Book the survey" in window.text
    slot = re.search(r'name="slot" value="([^"]+)"', window.text)
    assert slot, window.text
    status, location, _ = _post(client, f"{base}/window", csrf, slot=slot.group(1))
    assert (status, location) == (303, f"{base}/done")
    done = client.get(location)
    assert "the site survey is booked" in done.text and "Tech " in done.text
    with fd.uow(write=False) as uow:
        orders = uow.session.scalars(
            sa.select(ServiceOrder).where(
                ServiceOrder.customer_id
                == sa.select(ServiceOrder.customer_id)
                .where(ServiceOrder.id == order_id)
                .scalar_subquery()
            )
        ).all()
        by_type = {o.type.value: o for o in orders}
        survey, install = by_type["SITE_SURVEY"], by_type["NEW_INSTALL"]
        assert survey.status.value == "SCHEDULED" and install.status.value == "OPEN"
        assert survey.details["install_order"] == order_id
    # the wizard goes on to the confirmation, which names the survey
    r = client.get(f"/console/signup/orders/{order_id}", follow_redirects=False)
    assert r.headers["location"] == f"{base}/done"

    # once the surveyor arrived and passed it, the same step books the installation
    activation.arrive(fd.uow, actor=SYSTEM_ACTOR, order_id=survey.id)
    scheduling.complete_survey(
        fd.uow, actor=SYSTEM_ACTOR, order_id=survey.id, passed=True, notes="route is clear"
    )
    window = client.get(f"{base}/window")
    assert "Installation window" in window.text and "Book this window" in window.text
    slot = re.search(r'name="slot" value="([^"]+)"', window.text)
    assert slot, window.text
    status, location, _ = _post(client, f"{base}/window", csrf, slot=slot.group(1))
    assert (status, location) == (303, f"{base}/done")
    assert f"order {order_id} is booked" in client.get(location).text
    with fd.uow(write=False) as uow:
        booked = uow.session.get(ServiceOrder, order_id)
        assert booked is not None and booked.status.value == "SCHEDULED"


def test_the_price_comes_from_the_quote_never_the_form(
    fd: Fiberdesk, client: TestClient, world: QualificationWorld, csrf: str
) -> None:
    reference = _quote(client, csrf, world.premises["serviceable"], monthly_total="1.00")
    with fd.uow(write=False) as uow:
        quote = uow.session.scalar(sa.select(Quote).where(Quote.reference == reference))
        assert quote is not None and quote.monthly_total > 1
    page = client.get(f"/console/signup/quotes/{reference}")
    assert f"${quote.monthly_total:,.2f}" in page.text


def test_bad_input_is_shown_beside_its_field_and_changes_nothing(
    fd: Fiberdesk, client: TestClient, world: QualificationWorld, csrf: str
) -> None:
    make_field_staff(fd)
    # a promotion that does not exist is refused beside the promotion
    r = client.post(
        "/console/signup/quote",
        data={
            "csrf_token": csrf,
            "premises_id": str(world.premises["serviceable"]),
            "plan": "GIGABIT",
            "term": "M2M",
            "promotion": "NOPE",
        },
    )
    assert r.status_code == 422 and "NOPE" in _error_of(r.text, "promotion")
    # a bad email: the form comes back with what was typed and the error beside it
    reference = _quote(client, csrf, world.premises["serviceable"])
    r = client.post(
        f"/console/signup/quotes/{reference}",
        data={
            "csrf_token": csrf,
            "name": "Robin Fiber",
            "email": "robin-at-example",
            "phone": "410-555-0123",
        },
    )
    assert r.status_code == 422
    assert "not a valid email" in _error_of(r.text, "email")
    assert _value_of(r.text, "email") == "robin-at-example"
    assert _value_of(r.text, "name") == "Robin Fiber"
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1
        quote = uow.session.scalar(sa.select(Quote).where(Quote.reference == reference))
        assert quote is not None and quote.status.value == "OPEN"  # no port held
    order_id = _order(client, csrf, reference)
    base = f"/console/signup/orders/{order_id}"

    # a wrong code, beside the code field; identity not checked off
    _post(client, f"{base}/identity", csrf, action="send", channel="email")
    wrong = "000000" if _code(fd) != "000000" else "111111"
    status, _, html = _post(
        client, f"{base}/identity", csrf, action="code", channel="email", code=wrong
    )
    assert status == 422
    assert "does not match" in _error_of(html, "code")
    assert _value_of(html, "code") == wrong
    # a photo ID number too short
    status, _, html = _post(
        client,
        f"{base}/identity",
        csrf,
        action="photo",
        document_type="passport",
        document_number="12",
    )
    assert status == 422 and "too short" in _error_of(html, "document_number")
    # a credit decline is said plainly; a child's birth date is refused beside the field
    status, _, html = _post(
        client, f"{base}/credit", csrf, date_of_birth="1980-01-01", ssn_last4="9999"
    )
    assert status == 422 and "declined" in html
    status, _, html = _post(
        client, f"{base}/credit", csrf, date_of_birth=date.today().isoformat(), ssn_last4="1111"
    )
    assert status == 422 and "18 or older" in _error_of(html, "date_of_birth")
    assert _value_of(html, "date_of_birth") == date.today().isoformat()
    # a declined card, beside the card number; the expiry is kept, the number is not
    status, _, html = _post(
        client,
        f"{base}/payment",
        csrf,
        card_number=CARD_DECLINED,
        card_expiry="11/39",
        card_cvc="123",
    )
    assert status == 422
    assert "ending 0002 was declined" in _error_of(html, "card_number")
    assert _value_of(html, "card_expiry") == "11/39"
    assert CARD_DECLINED not in html
    status, _, html = _post(
        client, f"{base}/payment", csrf, card_number=CARD_OK, card_expiry="13/39", card_cvc="123"
    )
    assert status == 422 and "expiry" in _error_of(html, "card_expiry")
    # the contract needs the account holder's name and the read-out confirmed
    status, _, html = _post(
        client,
        f"{base}/contract",
        csrf,
        accepted_name="Someone Else",
        channel="phone",
        read_out="yes",
    )
    assert status == 422 and "Robin Fiber" in _error_of(html, "accepted_name")
    status, _, html = _post(
        client, f"{base}/contract", csrf, accepted_name="Robin Fiber", channel="phone"
    )
    assert status == 422 and "agreed" in _error_of(html, "read_out")
    # the window page says what is missing before it offers windows
    window = client.get(f"{base}/window")
    assert "Before booking, finish" in window.text and 'name="slot"' not in window.text
    with fd.uow(write=False) as uow:
        order = uow.session.get(ServiceOrder, order_id)
        assert order is not None
        assert set(order.details["checklist"]) == {"address", "network", "tier"}
        refused = [s["step"] for s in order.steps if s["outcome"] == "refused"]
        assert refused == ["identity", "credit", "payment"]
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(PaymentMethod)) == 0


def test_addresses_that_need_a_choice_or_cannot_be_served(
    fd: Fiberdesk, client: TestClient, world: QualificationWorld, csrf: str
) -> None:
    vague = client.get("/console/signup", params={"address": "Test Rd Towson"})
    assert vague.status_code == 200
    assert "Which address is it?" in vague.text
    assert "/console/signup?premises_id=" in vague.text
    full = client.get("/console/signup", params={"premises_id": world.premises["nap_full"]})
    assert "Not serviceable" in full.text and "waitlist" in full.text
    assert 'action="/console/signup/quote"' not in full.text
    r = client.post(
        "/console/signup/quote",
        data={
            "csrf_token": csrf,
            "premises_id": str(world.premises["nap_full"]),
            "plan": "GIGABIT",
            "term": "M2M",
        },
    )
    assert r.status_code == 422 and "no quote" in r.text


def test_a_technician_may_not_sign_customers_up(
    fd: Fiberdesk, client: TestClient, world: QualificationWorld
) -> None:
    make_user(fd, Role.TECHNICIAN, "terry")
    sign_in(client, "terry", page="/console")
    assert client.get("/console/signup").status_code == 403
    token = csrf_of(client.get("/console").text)
    r = client.post(
        "/console/signup/quote",
        data={
            "csrf_token": token,
            "premises_id": str(world.premises["serviceable"]),
            "plan": "GIGABIT",
        },
    )
    assert r.status_code == 403 and "Not for your role" in r.text
    with fd.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Quote)) == 0


def test_terms_and_promotions_on_offer(fd: Fiberdesk, world: QualificationWorld) -> None:
    with fd.uow() as uow:
        uow.session.add_all(
            [
                PromotionRow(
                    code="OLD",
                    name="Old",
                    monthly_discount=5,
                    months=3,
                    valid_until=date(2020, 1, 1),
                ),
                PromotionRow(
                    code="NEW", name="New", monthly_discount=5, months=3, plan_codes=["GIGABIT"]
                ),
            ]
        )
        uow.commit()
    with fd.uow(write=False) as uow:
        terms = signup_views.contract_terms(uow)
        promos = {p.code: p for p in signup_views.promotions(uow)}
    assert [t.months for t in terms] == sorted(t.months for t in terms)
    assert "M2M" in {t.code for t in terms}
    assert "NEW" in promos and "OLD" not in promos and promos["NEW"].plan_codes == ["GIGABIT"]
    assert signup_views.mask("+14105550123") == "+1••••••0123"
    assert signup_views.mask("robin@example.com") == "ro•••@example.com"


def test_identity_and_birth_dates_never_ride_along_a_sign_in_redirect() -> None:
    from starlette.datastructures import FormData

    from fiberdesk.web.console.auth import kept_fields

    form = FormData(
        [("document_type", "passport"), ("document_number", "X1234567"),
         ("date_of_birth", "1980-01-01"), ("card_expiry", "12/30"), ("name", "Robin")]
    )  # fmt: skip
    assert kept_fields(form) == {"name": "Robin"}
