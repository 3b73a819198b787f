"""Journey definitions: the templates are valid, and each kind of mistake is refused with its
YAML path and line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from streamwise.downstream.journeys import JourneyError, load_journey, templates
from streamwise.downstream.journeys.durations import format_duration, parse_duration
from streamwise.downstream.journeys.match import matches
from streamwise.downstream.journeys.templates import TEMPLATE_NAMES, load_template, write

HEAD = "name: j\ntrigger: {event: Signed Up}\nsteps:\n"


def issues(text: str) -> list[str]:
    with pytest.raises(JourneyError) as info:
        load_journey(text, "j.yaml")
    return [str(i) for i in info.value.issues]


def test_every_template_is_valid_and_listed() -> None:
    shipped = {t.name: t for t in templates()}
    assert list(shipped) == list(TEMPLATE_NAMES)
    welcome = load_template("welcome")
    assert welcome.trigger.event == "Signed Up"
    assert [s.kind for s in welcome.steps] == ["send", "wait", "branch", "send", "exit"]
    assert load_template("win_back").trigger.filter == "probability_alive < 0.3 and orders >= 2"
    cart = load_template("cart_abandonment")
    assert [c.event or c.email for c in cart.exit_on] == ["Order Completed", "unsubscribed"]
    assert cart.re_entry.cooldown == timedelta(days=7)


def test_templates_write_to_a_folder_once(tmp_path: Path) -> None:
    paths = write(tmp_path / "t")
    assert sorted(p.name for p in paths) == sorted(f"{n}.yaml" for n in TEMPLATE_NAMES)
    assert load_journey(paths[0].read_text()).name == "welcome"
    with pytest.raises(Exception, match="exist"):
        write(tmp_path / "t")


def test_unknown_step_kind_and_key_say_where_and_suggest() -> None:
    found = issues(HEAD + "  - id: a\n    sendd: {}\n  - exit\n")
    assert found == ["steps[0].sendd (line 5): unknown step kind or key 'sendd' (did you mean "
                     "'send'?); known: send, wait, branch, split, update, notify_sales, exit, "
                     "id, next"]  # fmt: skip
    assert "trigger.wher (line 2)" in issues("name: j\ntrigger: {event: X, wher: {}}\n"
                                             "steps: [exit]\n")[0]  # fmt: skip


def test_unknown_target_names_the_path_and_a_close_step() -> None:
    text = HEAD + ("  - id: check\n    branch: {if: {bought: true}, then: dne}\n"
                   "  - id: done\n    exit: {}\n")  # fmt: skip
    assert issues(text) == ["steps[0].branch.then (line 5): unknown step 'dne' (did you mean "
                            "'done'?); steps are check, done"]  # fmt: skip


def test_unreachable_step() -> None:
    text = HEAD + ("  - id: a\n    wait: 1d\n    next: z\n  - id: b\n    update: {x: 1}\n"
                   "  - id: z\n    exit: {}\n")  # fmt: skip
    assert issues(text) == ["steps[1] (line 7): step 'b' is unreachable: no step leads to it; "
                            "link it or remove it"]  # fmt: skip


def test_loop_without_a_wait_is_refused_and_with_one_allowed() -> None:
    loop = (HEAD + "  - id: a\n    update: {n: 1}\n  - id: b\n    branch: {if: {bought: true}, "
            "then: c, else: a}\n  - id: c\n    exit: {}\n")  # fmt: skip
    assert issues(loop) == ["steps[0] (line 4): loop without a wait: a → b → a would run at once "
                            "for ever; put a wait step in the loop"]  # fmt: skip
    ok = loop.replace("  - id: b\n", "  - wait: 2d\n  - id: b\n")
    assert [s.kind for s in load_journey(ok).steps] == ["update", "wait", "branch", "exit"]


def test_missing_exit() -> None:
    assert issues(HEAD + "  - id: a\n    update: {x: 1}\n") == [
        "steps[0] (line 4): missing exit: after step 'a' there is no step to go to; add "
        "`next: STEP` or end the steps with `- exit`"
    ]
    forever = HEAD + "  - id: a\n    wait: 1d\n  - id: b\n    update: {x: 1}\n    next: a\n"
    assert "missing exit" in issues(forever)[0]
    with_exit_on = forever.replace("steps:", "exit_on: [{event: Order Completed}]\nsteps:")
    assert load_journey(with_exit_on).exit_on[0].event == "Order Completed"


@pytest.mark.parametrize(
    ("value", "message"),
    [("3x", "'3x' is not a duration"), ("0d", "not a positive duration"), ("5", "no unit"),
     ("-1d", "not a duration")],
)  # fmt: skip
def test_bad_durations(value: str, message: str) -> None:
    found = issues(HEAD + f"  - wait: {value}\n  - exit\n")
    assert len(found) == 1
    assert found[0].startswith("steps[0].wait (line 4): ")
    assert message in found[0]


def test_durations_round_trip() -> None:
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    assert parse_duration("2w") == timedelta(days=14)
    assert format_duration(parse_duration("1d12h30m")) == "1d12h30m"


def test_several_problems_are_listed_together() -> None:
    text = ("name: '!bad'\ntrigger: {event: X, state: 'clv > 1'}\nre_entry: sometimes\n"
            "steps:\n  - wait: {event: Order Completed}\n  - send: {}\n  - exit\n")  # fmt: skip
    found = issues(text)
    assert [f.split(" ", 1)[0] for f in found] == ["name", "trigger", "re_entry", "steps[0].wait",
                                                   "steps[1].send"]  # fmt: skip
    assert "needs a `timeout`" in found[3]


def test_filters_and_send_settings_are_checked() -> None:
    text = HEAD + "  - branch: {if: {filter: 'clv >>= 3'}, then: z}\n  - id: z\n    exit: {}\n"
    assert issues(text)[0].startswith("steps[0].branch.if.filter (line 4): audience filter:")
    send = HEAD + "  - send: {variants: {A: {subject: Hi, html: '<p>x</p>'}}}\n  - exit\n"
    assert "needs a sender" in issues(send)[0]
    clicked = HEAD + "  - branch: {if: {clicked: nope}, then: z}\n  - id: z\n    exit: {}\n"
    assert "'nope' is not a send step" in issues(clicked)[0]


def test_yaml_errors_have_a_line() -> None:
    found = issues("name: j\ntrigger: [\n")
    assert found[0].startswith("(file) (line ")


def test_where_conditions() -> None:
    props = {"plan": "pro", "amount": 25, "product": {"category": "tents"}}
    assert matches({"plan": "pro", "product.category": "tents"}, props)
    assert matches({"plan": ["team", "pro"], "amount": {"gte": 20, "lt": 30}}, props)
    assert not matches({"amount": {"gt": 25}}, props)
    assert not matches({"missing": {"exists": True}}, props)
    assert matches({"missing": {"exists": False}}, props)
    assert not matches({"plan": {"gt": 3}}, props)  # mismatched types never match


def test_text_message_steps_need_the_webhook_channel() -> None:
    sms = ("name: j\ntrigger: {event: Signed Up}\nsettings:\n  text_message: "
           "{address_field: phone, consent_field: sms_consent}\n  channel: "
           "{url: 'https://sms.example.com/send'}\nsteps:\n  - id: text\n    send:\n"
           "      channel: webhook\n      variants: {A: {text: 'Hi {{ first_name }}'}}\n"
           "  - exit\n")  # fmt: skip
    step = load_journey(sms).by_id["text"]
    assert step.kind == "send"
    assert "need `channel: webhook`" in issues(sms.replace("      channel: webhook\n", ""))[0]
