"""Message templates: every kind renders, shows its fields, escapes HTML, and a broken
template directory is refused when it is loaded, not when a message is sent."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from fiberdesk.domain.errors import InvalidInput
from fiberdesk.messages import (
    CATALOG,
    ESSENTIAL,
    KINDS,
    Branding,
    TemplateError,
    default_templates,
    load_templates,
)
from fiberdesk.messages.render import TEMPLATES, day, money, shown, term
from fiberdesk.services.messages import ESSENTIAL_KINDS

BRAND = Branding("Patapsco Light & Fiber", "410-555-0177", "care@patapsco.example.com")

LIFECYCLE = {
    "quote", "order_confirmation", "installation_confirmation", "appointment_reminder",
    "technician_on_the_way", "welcome", "ticket_opened", "ticket_updated", "ticket_resolved",
    "outage_notification", "restoration_notice", "planned_maintenance", "payment_reminder",
    "suspension_notice", "resume_notice", "disconnection_confirmation",
    "equipment_return_reminder", "satisfaction_survey", "identity_code", "kpi_alert",
}  # fmt: skip


def _sample(kind: str, **changes: Any) -> dict[str, Any]:
    return {**CATALOG[kind].sample, **changes}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the bundled templates to break."""
    path = tmp_path / "templates"
    shutil.copytree(TEMPLATES, path)
    return path


def test_the_catalog_has_every_lifecycle_message_and_the_outbox_essentials() -> None:
    assert set(KINDS) == LIFECYCLE
    assert ESSENTIAL == ESSENTIAL_KINDS
    for spec in CATALOG.values():
        assert spec.label and spec.sent_when
        names = [f.name for f in spec.fields]
        assert len(names) == len(set(names)), spec.name
        assert set(spec.sample) <= spec.field_names, spec.name
        assert set(spec.required) <= set(spec.sample), spec.name


@pytest.mark.parametrize("kind", sorted(LIFECYCLE))
def test_every_kind_shows_its_required_fields_in_text_and_html(kind: str) -> None:
    spec = CATALOG[kind]
    r = default_templates().render(kind, spec.sample, BRAND)
    assert r.subject and "\n" not in r.subject and r.subject == r.subject.strip()
    assert r.text.endswith("\n") and "\n\n\n" not in r.text
    assert r.html.lstrip().startswith("<!doctype html>")
    for f in spec.fields:
        if not f.required:
            continue
        for piece in shown(f, spec.sample[f.name]):
            assert piece in r.text, (kind, f.name, piece)
            assert str(escape(piece)) in r.html, (kind, f.name, piece)
    # the branding: the operator's name everywhere, the support line in every HTML footer
    assert BRAND.company_name in r.text
    assert str(escape(BRAND.company_name)) in r.html
    if spec.audience == "customer":
        assert BRAND.support_phone in r.html and BRAND.support_email in r.html
    assert "Chesapeake" not in r.text + r.html  # no sample branding left behind


def test_installation_confirmation_carries_the_spec_fields() -> None:
    r = default_templates().render(
        "installation_confirmation",
        _sample(
            "installation_confirmation", date="Monday, June 16, 2025", time_window="12:00-17:00"
        ),
        BRAND,
    )
    for part in (r.text, r.html):
        assert "Monday, June 16, 2025" in part and "12:00-17:00" in part
        assert "1207 Providence Rd, Towson, MD 21286" in part
        assert "410-555-0177" in part
        assert "marked van" in part and "WiFi network name" in part
    assert "Patapsco Light & Fiber" in r.text and "Patapsco Light &amp; Fiber" in r.html
    assert r.subject == "Booked: your fiber installation on Monday, June 16, 2025"


def test_outage_notification_says_status_area_times_work_and_sorry() -> None:
    r = default_templates().sample("outage_notification", BRAND)
    for part in (r.text, r.html):
        assert "Outage Detected" in part and "Towson 21286" in part
        assert "14:05 UTC" in part and "18:00 UTC" in part
        assert "working to bring the service back" in part and "sorry" in part


def test_disconnection_lists_the_bill_the_total_and_the_equipment() -> None:
    r = default_templates().sample("disconnection_confirmation", BRAND)
    for part in (r.text, r.html):
        assert "Security deposit returned" in part and "-$100.00" in part
        assert "$16.59" in part and "Please pay" in part
        assert "ONT HWTC1A2B3C4D" in part and "Thursday, October 30, 2025" in part
    refund = _sample("disconnection_confirmation", final_amount="-35.10", equipment_to_return=[])
    r = default_templates().render("disconnection_confirmation", refund, BRAND)
    assert "we will refund $35.10" in r.text and "no equipment to return" in r.text


def test_the_survey_link_is_a_link() -> None:
    r = default_templates().sample("satisfaction_survey", BRAND)
    link = CATALOG["satisfaction_survey"].sample["survey_link"]
    assert link in r.text and f'href="{link}"' in r.html


def test_html_escapes_what_customers_type_and_text_keeps_it() -> None:
    name = "<script>alert('x')</script> O'Brien & Co"
    context = _sample("ticket_opened", customer_name=name, description="<b>slow</b>")
    r = default_templates().render("ticket_opened", context, BRAND)
    assert "<script>" not in r.html and "<b>slow" not in r.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; O&#39;Brien &amp; Co" in r.html
    assert "&lt;b&gt;slow&lt;/b&gt;" in r.html
    assert name in r.text  # plain text is not HTML


def test_a_subject_is_one_line_even_when_a_field_is_not() -> None:
    context = _sample("planned_maintenance", title="Cabinet\nupgrade\r\n  phase 2")
    r = default_templates().render("planned_maintenance", context, BRAND)
    assert r.subject == "Planned maintenance: Cabinet upgrade phase 2"


def test_branding_comes_from_configuration_not_the_context() -> None:
    context = _sample("welcome", company_name="Stale Name", support_number="000")
    r = default_templates().render("welcome", context, BRAND)
    assert "Stale Name" not in r.text + r.html + r.subject
    assert "Welcome to Patapsco Light & Fiber" in r.subject


def test_optional_fields_may_be_left_out_and_extra_keys_are_ignored() -> None:
    spec = CATALOG["outage_notification"]
    context = {name: spec.sample[name] for name in spec.required} | {"unknown_extra": 1}
    r = default_templates().render("outage_notification", context, BRAND)
    assert "Towson 21286" in r.text
    r = default_templates().render(
        "suspension_notice", _sample("suspension_notice", ends_on=None), BRAND
    )
    assert "Back on" not in r.text and "paying it brings the service back" in r.text


@pytest.mark.parametrize("value", [None, "absent"])
def test_a_missing_required_field_fails_at_render(value: str | None) -> None:
    context = _sample("installation_confirmation", time_window=value)
    if value == "absent":
        del context["time_window"]
    with pytest.raises(InvalidInput) as caught:
        default_templates().render("installation_confirmation", context, BRAND)
    assert caught.value.field == "time_window" and "time_window" in caught.value.reason


def test_an_unknown_kind_or_a_badly_shaped_field_fails_at_render() -> None:
    with pytest.raises(InvalidInput, match="no message kind 'fax_cover'"):
        default_templates().render("fax_cover", {}, BRAND)
    with pytest.raises(InvalidInput, match="not an amount"):
        default_templates().render(
            "payment_reminder", _sample("payment_reminder", balance="lots"), BRAND
        )
    with pytest.raises(InvalidInput, match="must be a list"):
        default_templates().render(
            "equipment_return_reminder", _sample("equipment_return_reminder", items="ONT"), BRAND
        )
    bad_lines = _sample("disconnection_confirmation", final_bill_lines=[{"description": "x"}])
    with pytest.raises(InvalidInput, match="description and an amount"):
        default_templates().render("disconnection_confirmation", bad_lines, BRAND)  # fmt: skip


def test_an_unknown_field_fails_at_load_naming_kind_file_and_field(tree: Path) -> None:
    body = tree / "installation_confirmation" / "body.html"
    body.write_text(body.read_text().replace("{{ time_window }}", "{{ arrival_window }}", 1))
    with pytest.raises(TemplateError) as caught:
        load_templates(tree)
    err = caught.value
    assert (err.kind, err.file, err.field) == (
        "installation_confirmation",
        "installation_confirmation/body.html",
        "arrival_window",
    )
    assert "arrival_window" in str(err) and "installation_confirmation/body.html" in str(err)


def test_an_unknown_field_in_the_shared_layout_fails_at_load(tree: Path) -> None:
    layout = tree / "_layout.html"
    layout.write_text(layout.read_text().replace("{{ support_email }}", "{{ support_fax }}", 1))
    with pytest.raises(TemplateError) as caught:
        load_templates(tree)
    assert caught.value.field == "support_fax" and caught.value.file == "_layout.html"


def test_a_kind_without_its_three_files_fails_at_load(tree: Path) -> None:
    (tree / "welcome" / "body.txt").unlink()
    with pytest.raises(TemplateError, match=r"welcome/body\.txt is missing") as caught:
        load_templates(tree)
    assert caught.value.kind == "welcome"


def test_a_syntax_error_or_a_stray_kind_fails_at_load(tree: Path) -> None:
    (tree / "fax_cover").mkdir()
    with pytest.raises(TemplateError, match="fax_cover"):
        load_templates(tree)
    shutil.rmtree(tree / "fax_cover")
    (tree / "quote" / "subject.txt").write_text("Quote {{ quote_reference ")
    with pytest.raises(TemplateError, match=r"quote/subject\.txt line 1"):
        load_templates(tree)


def test_the_bundled_templates_load_once() -> None:
    assert default_templates() is default_templates()
    assert load_templates().kinds == KINDS


def test_the_docs_describe_every_kind() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "messages.md").read_text()
    for spec in CATALOG.values():
        assert f"| `{spec.name}` | {spec.label}" in docs, spec.name
        required = ", ".join(f"`{name}`" for name in spec.required)
        assert f"| `{spec.name}` | {required} |" in docs, spec.name


def test_filters() -> None:
    assert money("1234.5") == "$1,234.50" and money("-10") == "-$10.00"
    assert money("-10", absolute=True) == "$10.00"
    with pytest.raises(InvalidInput):
        money(1.5)
    assert day("2025-06-12") == "Thursday, June 12, 2025" and day("soon") == "soon"
    assert term("M2M") == "month to month" and term("24M") == "24-month contract"
