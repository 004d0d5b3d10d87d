"""Troubleshooting flows: the bundled definitions, validation, the engine and the checks."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.troubleshooting import (
    CHECKS,
    Answer,
    Check,
    Flow,
    Observations,
    Outcome,
    Question,
    check_answer,
    evaluate,
    parse_flow,
    render,
    walk,
)

BUNDLED = ("no_internet", "slow_internet", "intermittent")


def definition(code: str) -> dict[str, Any]:
    path = resources.files("fiberdesk") / "data" / "flows" / f"{code}.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def flows() -> dict[str, Flow]:
    return {code: parse_flow(definition(code)) for code in BUNDLED}


# -- every outcome of every bundled flow is reachable ------------------------------------------

Route = tuple[dict[str, str], list[tuple[str, str]]]


def _routes(flow: Flow) -> Iterator[tuple[str, Route]]:
    """Every way through the flow: checks are given values lazily, as the path meets them,
    including checks that answer a question met on the path."""

    def explore(
        node_id: str, assign: dict[str, str], answers: list[tuple[str, str]], depth: int
    ) -> Iterator[tuple[str, Route]]:
        assert depth < 200
        node = flow.nodes[node_id]
        if isinstance(node, Outcome):
            yield node.id, (assign, answers)
            return
        if isinstance(node, Check):
            values = [assign[node.check]] if node.check in assign else CHECKS[node.check].values
            for value in values:
                yield from explore(
                    node.target(value), {**assign, node.check: value}, answers, depth + 1
                )
            return
        if isinstance(node, Question):
            for declaring in flow.check_nodes():
                mapping = (declaring.answers or {}).get(node.id)
                if mapping is None:
                    continue
                if declaring.check not in assign:
                    for value in CHECKS[declaring.check].values:
                        yield from explore(
                            node_id, {**assign, declaring.check: value}, answers, depth + 1
                        )
                    return
                if assign[declaring.check] in mapping:
                    option = node.option(mapping[assign[declaring.check]])
                    assert option is not None
                    yield from explore(option.next, assign, answers, depth + 1)
                    return
            for option in node.options:
                yield from explore(option.next, assign, [*answers, (node.id, option.id)], depth + 1)
            return
        yield from explore(node.next, assign, answers, depth + 1)

    yield from explore(flow.start, {}, [], 0)


@pytest.mark.parametrize("code", BUNDLED)
def test_every_outcome_is_reachable(flows: dict[str, Flow], code: str) -> None:
    flow = flows[code]
    reached: dict[str, Route] = {}
    for outcome, route in _routes(flow):
        reached.setdefault(outcome, route)
    outcomes = {n.id for n in flow.nodes.values() if isinstance(n, Outcome)}
    assert set(reached) == outcomes
    for outcome, (assign, answers) in reached.items():
        checks = {name: assign.get(name, CHECKS[name].values[-1]) for name in flow.checks_used()}
        position = walk(flow, checks, [Answer(n, o) for n, o in answers])
        assert position.finished and position.node == outcome
        assert position.unused == ()


@pytest.mark.parametrize("code", BUNDLED)
def test_bundled_flows_validate_and_round_trip(code: str) -> None:
    raw = definition(code)
    flow = parse_flow(raw)
    assert flow.code == code and raw["category"] == flow.category
    assert parse_flow(json.loads(json.dumps(raw))) == flow


# -- the spec's branches, through the pure engine -----------------------------------------------

HEALTHY = {
    "account_suspended": "no", "account_standing": "good", "maintenance_active": "no",
    "dying_gasp": "no", "ont_los": "no", "area_outage": "no", "ont_registered": "yes",
    "signal_class": "good", "ping": "ok", "recent_alarms": "none",
}  # fmt: skip


def _go(flow: Flow, checks: dict[str, str], *answers: tuple[str, str]) -> Any:
    return walk(flow, checks, [Answer(n, o) for n, o in answers])


def test_healthy_line_asks_the_lights_first(flows: dict[str, Flow]) -> None:
    position = _go(flows["no_internet"], HEALTHY)
    assert (position.node, position.finished, position.skipped) == ("q_lights", False, ())
    assert [s.node for s in position.steps if s.kind == "check"] == [
        "c_suspended", "c_standing", "c_maintenance", "c_dying_gasp", "c_los"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("check", "option", "then"),
    [("dying_gasp", "power_off", "q_power_on"), ("ont_los", "pon_red", "q_fiber_damage")],
)
def test_checks_answer_the_lights_question(
    flows: dict[str, Flow], check: str, option: str, then: str
) -> None:
    position = _go(flows["no_internet"], {**HEALTHY, check: "yes"})
    (skip,) = position.skipped
    assert (skip.node, skip.value) == ("q_lights", option)
    assert CHECKS[check].label in skip.reason and "yes" in skip.reason
    assert position.node == then
    assert not any(s.kind == "ask" and s.node == "q_lights" for s in position.steps)


def test_an_ont_in_los_in_an_area_outage_goes_to_the_noc(flows: dict[str, Flow]) -> None:
    position = _go(flows["no_internet"], {**HEALTHY, "ont_los": "yes", "area_outage": "yes"})
    assert position.finished and position.node == "o_outage"
    assert [s.node for s in position.skipped] == ["q_lights"]


@pytest.mark.parametrize(
    ("checks", "answers", "outcome"),
    [
        ({"account_suspended": "yes"}, [], "o_suspended"),
        ({"account_standing": "closed"}, [], "o_not_active"),
        ({"maintenance_active": "yes"}, [], "o_maintenance"),
        ({"dying_gasp": "yes"}, [("q_power_on", "off")], "o_visit_power"),
        ({"dying_gasp": "yes"}, [("q_power_on", "on"), ("q_power_works", "yes")],
         "o_resolved_power"),
        ({"ont_los": "yes"}, [("q_fiber_damage", "damaged")], "o_noc_fiber_damage"),
        ({"ont_los": "yes"}, [("q_fiber_damage", "none")], "o_noc_fiber"),
        ({}, [("q_lights", "lan_off"), ("q_lan_works", "yes")], "o_resolved_lan"),
        ({}, [("q_lights", "all_green"), ("q_restart_works", "yes")], "o_resolved_router"),
        ({"signal_class": "poor"}, [("q_lights", "all_green"), ("q_restart_works", "no")],
         "o_visit_signal"),
        ({"ont_registered": "no"}, [("q_lights", "lan_off"), ("q_lan_works", "no")],
         "o_noc_unregistered"),
        ({"ping": "unreachable"}, [("q_lights", "all_green"), ("q_restart_works", "no")],
         "o_visit_unreachable"),
        ({"recent_alarms": "many"}, [("q_lights", "all_green"), ("q_restart_works", "no")],
         "o_visit_unstable"),
        ({}, [("q_lights", "all_green"), ("q_restart_works", "no"), ("q_final", "yes")],
         "o_resolved_remote"),
        ({}, [("q_lights", "all_green"), ("q_restart_works", "no"), ("q_final", "no")],
         "o_visit_final"),
    ],
)  # fmt: skip
def test_no_internet_branches(
    flows: dict[str, Flow],
    checks: dict[str, str],
    answers: list[tuple[str, str]],
    outcome: str,
) -> None:
    position = _go(flows["no_internet"], {**HEALTHY, **checks}, *answers)
    assert position.finished and position.node == outcome


SLOW = {"plan_on_account": "known", "signal_class": "good", "pon_congestion": "no"}
EXPECT = [("q_plan", "same"), ("q_speed", "below_plan"), ("q_medium", "wifi")]


@pytest.mark.parametrize(
    ("checks", "result", "outcome"),
    [
        ({}, "matches", "o_resolved_wifi"),
        ({"signal_class": "poor"}, "below", "o_visit_signal"),
        ({"pon_congestion": "yes"}, "below", "o_noc_congestion"),
        ({}, "below", "o_visit_slow"),
        ({}, "inconsistent", "o_otdr"),
    ],
)
def test_slow_internet_result_branches(
    flows: dict[str, Flow], checks: dict[str, str], result: str, outcome: str
) -> None:
    flow = flows["slow_internet"]
    before = _go(flow, {**SLOW, **checks}, *EXPECT)
    assert before.node == "q_result" and before.guidance() == ["a_speed_test"]
    position = _go(flow, {**SLOW, **checks}, *EXPECT, ("q_result", result))
    assert position.finished and position.node == outcome


def test_slow_internet_explains_a_plan_the_customer_does_not_have(flows: dict[str, Flow]) -> None:
    position = _go(flows["slow_internet"], SLOW, ("q_plan", "faster"))
    assert position.node == "q_speed" and position.guidance() == ["a_plan"]


def test_refreshed_checks_apply_after_their_answer_only(flows: dict[str, Flow]) -> None:
    flow = flows["no_internet"]
    # the ONT lost power, the customer fixed it: later checks see the line healthy again
    answers = [Answer("q_power_on", "on", {"dying_gasp": "no"}), Answer("q_power_works", "no")]
    position = walk(flow, {**HEALTHY, "dying_gasp": "yes"}, answers)
    assert [s.node for s in position.skipped] == ["q_lights"]  # history stays as it was
    assert position.node == "q_final" and position.checks["dying_gasp"] == "no"


def test_answers_off_the_path_are_reported_unused(flows: dict[str, Flow]) -> None:
    position = _go(flows["no_internet"], HEALTHY, ("q_final", "yes"))
    assert position.node == "q_lights" and position.unused == (0,)


def test_check_answer_refuses_other_nodes_and_options(flows: dict[str, Flow]) -> None:
    flow = flows["no_internet"]
    position = _go(flow, HEALTHY)
    assert check_answer(flow, position, "q_lights", "lan_off").id == "q_lights"
    with pytest.raises(InvalidInput, match="not the current step") as exc:
        check_answer(flow, position, "q_final", "yes")
    assert exc.value.field == "node"
    with pytest.raises(InvalidInput, match="not an option") as exc:
        check_answer(flow, position, "q_lights", "purple")
    assert exc.value.field == "option"
    done = _go(flow, {**HEALTHY, "account_suspended": "yes"})
    with pytest.raises(InvalidInput, match="finished"):
        check_answer(flow, done, "q_lights", "lan_off")


def test_a_walk_refuses_an_option_that_does_not_exist(flows: dict[str, Flow]) -> None:
    with pytest.raises(InvalidInput, match="not an option"):
        _go(flows["no_internet"], HEALTHY, ("q_lights", "purple"))


def test_render_fills_facts() -> None:
    assert render("Rx {rx_dbm} dBm, {nope}", {"rx_dbm": "-21.5"}) == "Rx -21.5 dBm, unknown"


# -- validation ------------------------------------------------------------------------------


def tiny() -> dict[str, Any]:
    return {
        "code": "tiny",
        "name": "Tiny",
        "start": "c",
        "nodes": [
            {"id": "c", "kind": "check", "check": "ont_online",
             "branches": {"yes": "q", "no": "o_noc"}, "answers": {"q": {"no": "down"}}},
            {"id": "q", "kind": "question", "text": "Working?", "options": [
                {"id": "up", "label": "Yes", "next": "o_ok"},
                {"id": "down", "label": "No", "next": "a"}]},
            {"id": "a", "kind": "advice", "title": "Try again", "steps": ["Restart"],
             "next": "q"},
            {"id": "o_ok", "kind": "outcome", "outcome": "RESOLVED", "code": "OK",
             "text": "Fine"},
            {"id": "o_noc", "kind": "outcome", "outcome": "ESCALATE_NOC", "code": "DOWN",
             "text": "Down"},
        ],
    }  # fmt: skip


def test_a_loop_through_a_question_is_allowed() -> None:
    flow = parse_flow(tiny())
    position = _go(flow, {"ont_online": "yes"}, ("q", "down"), ("q", "down"), ("q", "up"))
    assert position.node == "o_ok" and position.used == (0, 1, 2)


def test_a_loop_whose_question_a_check_answers_is_stopped() -> None:
    raw = tiny()
    raw["nodes"][0]["branches"]["no"] = "q"
    raw["nodes"][1]["options"].append({"id": "give_up", "label": "Give up", "next": "o_noc"})
    flow = parse_flow(raw)
    with pytest.raises(InvalidInput, match="loop without asking"):
        _go(flow, {"ont_online": "no"})


def test_a_node_that_cannot_finish_is_refused() -> None:
    raw = tiny()
    raw["nodes"][1]["options"][0]["next"] = "a"  # q and a only lead to each other
    raw["nodes"][0]["branches"]["yes"] = "q2"
    raw["nodes"].append({"id": "q2", "kind": "question", "text": "Which?", "options": [
        {"id": "fine", "label": "Fine", "next": "o_ok"},
        {"id": "loop", "label": "Loop", "next": "q"}]})  # fmt: skip
    with pytest.raises(InvalidInput, match="node 'q': it can never lead to an outcome"):
        parse_flow(raw)


def _edit(change: Any) -> dict[str, Any]:
    raw = copy.deepcopy(tiny())
    change(raw)
    return raw


def _node(raw: dict[str, Any], node_id: str) -> dict[str, Any]:
    node: dict[str, Any] = next(n for n in raw["nodes"] if n["id"] == node_id)
    return node


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: _node(r, "a").update(next="nowhere"), "node 'a': leads to 'nowhere'"),
        (lambda r: r.update(start="gone"), "start 'gone' is not a node"),
        (lambda r: r["nodes"].append({"id": "o_lost", "kind": "outcome", "outcome": "RESOLVED",
                                      "code": "X", "text": "x"}),
         "node 'o_lost': nothing leads to it"),
        (lambda r: r["nodes"].extend([
            {"id": "a2", "kind": "advice", "title": "t", "steps": ["s"], "next": "c2"},
            {"id": "c2", "kind": "check", "check": "ont_los",
             "branches": {"yes": "a2", "no": "o_noc"}}])
         or _node(r, "c")["branches"].update(no="a2"),
         "loop that asks no question"),
        (lambda r: _node(r, "o_ok").update(outcome="CALL_MUM"), "node 'o_ok': outcome 'CALL_MUM'"),
        (lambda r: _node(r, "o_ok").update(code="lower"), "node 'o_ok': the code"),
        (lambda r: _node(r, "c").update(check="horoscope"), "node 'c': unknown check"),
        (lambda r: _node(r, "c")["branches"].update(maybe="q"), "never gives 'maybe'"),
        (lambda r: _node(r, "c")["branches"].pop("no"), "node 'c': no branch for no"),
        (lambda r: _node(r, "c").update(answers={"a": {"no": "x"}}), "answers 'a': not a question"),
        (lambda r: _node(r, "c").update(answers={"q": {"no": "sideways"}}), "has no option"),
        (lambda r: _node(r, "q").update(options=[{"id": "up", "label": "Y", "next": "o_ok"}]),
         "at least two options"),
        (lambda r: _node(r, "q")["options"][1].update(id="up"), "two options share an id"),
        (lambda r: _node(r, "a").update(nxt="q"), "node 'a': unknown field nxt"),
        (lambda r: r["nodes"].append(dict(_node(r, "a"))), "node 'a': the id is used twice"),
        (lambda r: _node(r, "a").update(kind="prayer"), "kind must be one of"),
        (lambda r: r.update(code="Bad Code"), "code 'Bad Code'"),
        (lambda r: r.update(category="WEATHER"), "category 'WEATHER'"),
        (lambda r: _node(r, "a").update(steps=[]), "advice needs a list of steps"),
    ],
)  # fmt: skip
def test_invalid_definitions_are_refused_naming_the_node(change: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_flow(_edit(change))
    assert message in exc.value.reason
    assert exc.value.field == "definition"


def test_a_definition_must_be_an_object() -> None:
    with pytest.raises(InvalidInput, match="JSON object"):
        parse_flow(["not", "a", "flow"])


# -- the checks' rules ----------------------------------------------------------------------------


def _value(name: str, **seen: Any) -> str:
    return evaluate([name], Observations(service_status=seen.pop("status", "ACTIVE"), **seen))[
        name
    ].value


def test_check_rules() -> None:
    assert _value("account_suspended", admin_state="SUSPENDED") == "yes"
    assert _value("account_suspended", status="SUSPENDED") == "yes"
    assert _value("account_suspended") == "no"
    assert _value("account_standing", status="DISCONNECTED") == "closed"
    assert _value("account_standing", status="RELOCATING") == "not_in_service"
    assert _value("area_outage", neighbours_down=1) == "no"
    assert _value("area_outage", neighbours_down=2) == "yes"
    assert _value("area_outage", outage=("Splitter LCP-1", None)) == "yes"
    assert _value("maintenance_active", maintenance=("Splicing", "2026-01-01 04:00")) == "yes"
    assert _value("ont_los", active_alarms=("LOF",)) == "yes"
    assert _value("dying_gasp", active_alarms=("DYING_GASP",)) == "yes"
    assert _value("signal_class", rx_dbm=Decimal("-29.1")) == "poor"
    assert _value("signal_class", rx_dbm=Decimal("-26")) == "acceptable"
    assert _value("signal_class") == "none"
    assert _value("ping", ping=(4, 4, 2.5)) == "ok"
    assert _value("ping", ping=(4, 2, 2.5)) == "loss"
    assert _value("ping", ping=(4, 0, None)) == "unreachable"
    assert _value("ping") == "unreachable"
    assert _value("recent_alarms", alarms_24h=("LOS",)) == "some"
    assert _value("recent_alarms", alarms_24h=("LOS", "LOS", "DYING_GASP")) == "many"
    assert _value("alarm_kind", alarms_24h=("LOW_RX", "DYING_GASP")) == "power"
    assert _value("alarm_kind", alarms_24h=("LOW_RX", "LOS")) == "los"
    assert _value("alarm_kind", alarms_24h=("HIGH_RX",)) == "low_rx"
    assert _value("pon_congestion", pon_utilisation=0.8) == "yes"
    assert _value("pon_congestion", pon_utilisation=0.79) == "no"
    assert _value("pon_congestion") == "unknown"
    assert _value("plan_on_account") == "none"
    result = evaluate(["plan_on_account"], Observations("ACTIVE", plan=("Plus", 300, 150)))
    assert result["plan_on_account"].facts["plan_down_mbps"] == "300"


def test_every_check_value_is_produced_by_its_rule() -> None:
    """Each declared value can come out of the rule (so no branch is dead by design)."""
    seen: dict[str, set[str]] = {name: set() for name in CHECKS}
    samples = [
        Observations("ACTIVE"), Observations("SUSPENDED"), Observations("DISCONNECTED"),
        Observations("PENDING"),
        Observations("ACTIVE", admin_state="SUSPENDED", registered=False, online=False,
                     active_alarms=("LOS", "DYING_GASP"), alarms_24h=("LOS",) * 3,
                     maintenance=("x", "y"), outage=("x", None), pon_utilisation=0.9,
                     plan=("p", 1, 1), ping=(4, 2, 1.0), rx_dbm=Decimal("-30")),
        Observations("ACTIVE", alarms_24h=("DYING_GASP",), ping=(4, 4, 1.0),
                     rx_dbm=Decimal("-10"), pon_utilisation=0.1),
        Observations("ACTIVE", alarms_24h=("LOW_RX",), rx_dbm=Decimal("-22")),
        Observations("ACTIVE", rx_dbm=Decimal("-26")),
    ]  # fmt: skip
    for sample in samples:
        for name, result in evaluate(CHECKS, sample).items():
            seen[name].add(result.value)
    assert {n: set(spec.values) for n, spec in CHECKS.items()} == seen
