"""How the offline desk answers the way SaaS customers actually write, end to end on the seed data.

The phrasings here are written for these tests (not taken from the router's training files), and every
assertion checks facts that come from the seeded account or help center, never a canned sentence.
"""

from __future__ import annotations

from typing import Any

import pytest

from llm.offline.articles import best_article
from llm.text import root, salient_terms
from tests.conftest import ask_and_confirm
from tools.knowledge import search_articles
from tools.refunds import list_approvals, list_refunds

# --- the plan the customer is on ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    ["Remind me which subscription we have?", "what plan is my account on right now", "what do we pay each month?"],
)
def test_current_plan_questions_are_answered_from_the_account(desk: Any, message: str) -> None:
    result = desk.ask(message, customer_id="cust_003")
    assert result["final_agent"] == "BillingAgent"
    text = result["response"]
    assert "Pro plan" in text and "$49.99/month" in text
    assert "API access" in text  # a feature of the seeded Pro plan
    assert "December 1, 2026" in text  # a month after the latest monthly charge (November 1)
    assert "Which charge" not in text


def test_next_charge_date_is_left_out_when_it_cannot_be_derived(desk: Any) -> None:
    # Dan's latest monthly charge is 45 days old: a month later is already past, so no date is promised.
    text = desk.ask("Which tier am I currently paying for?", customer_id="cust_004")["response"]
    assert "Pro plan" in text and "next monthly charge" not in text


def test_a_feature_question_names_the_plan_that_has_it(desk: Any) -> None:
    text = desk.ask("Is the audit log part of our plan?", customer_id="cust_005")["response"]
    assert "doesn't include Audit log" in text
    assert "Enterprise plan ($199.99/month)" in text
    included = desk.ask("does my subscription come with API access", customer_id="cust_005")["response"]
    assert "Yes, it includes API access" in included


def test_a_plan_change_without_a_target_lists_the_plans_instead_of_guessing(desk: Any) -> None:
    # Bob is on Enterprise: "downgrade" could mean Pro or Free.
    result = desk.ask("We'd like to downgrade please", customer_id="cust_002")
    text = result["response"]
    assert "Free ($0.00/month)" in text and "Pro ($49.99/month)" in text
    assert "Which one" in text and "switch you to" not in text


# --- cancelling ----------------------------------------------------------------------------------------


def test_cancelling_is_explained_and_not_quoted_as_a_downgrade(desk: Any) -> None:
    result = desk.ask("Please close our subscription, we no longer need it", customer_id="cust_003")
    text = result["response"]
    assert result["final_agent"] == "BillingAgent"
    assert "Cancel subscription" in text and "December 1, 2026" in text
    assert "data is kept" in text and "nothing more is charged" in text
    assert "switch you to the Free plan for" not in text
    assert not list_refunds(desk.db, customer_id="cust_003")  # cancelling never refunds by itself


def test_cancelling_suggests_the_free_plan_which_then_takes_a_quote_and_a_yes(desk: Any) -> None:
    first = desk.ask("I'm thinking of cancelling our pro subscription", customer_id="cust_001")
    assert "switch me to Free" in first["response"] and first["pending_proposal"] is None
    quoted = desk.ask("ok, switch me to Free then", customer_id="cust_001", thread_id=first["thread_id"])
    assert quoted["pending_proposal"]["quote"]["new_plan"] == "free"
    done = desk.ask("yes", customer_id="cust_001", thread_id=first["thread_id"])
    assert "now on the Free plan" in done["response"]


def test_a_cancel_request_in_refund_words_is_not_a_refund(desk: Any) -> None:
    result = desk.ask("Cancel my account from the end of the month please", customer_id="cust_005")
    assert result["final_agent"] == "BillingAgent"
    assert len(list_refunds(desk.db, customer_id="cust_005")) == 2  # only the two seeded refunds
    assert len(result["routed_to"]) <= 4  # no ping-pong between specialists


# --- the card on file ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    ["The card you have will expire next month, which one is it?", "Got a replacement mastercard, swap it"],
)
def test_card_questions_go_to_billing_with_the_card_on_file(desk: Any, message: str) -> None:
    result = desk.ask(message, customer_id="cust_004")
    assert result["final_agent"] == "BillingAgent"
    assert "Mastercard ending in 4444" in result["response"]
    assert "Payment methods" in result["response"]


# --- balances, charges and refunds ---------------------------------------------------------------------


def test_what_is_owed_lists_the_open_invoice(desk: Any) -> None:
    result = desk.ask("Is there anything outstanding that I owe?", customer_id="cust_002")
    assert result["final_agent"] == "BillingAgent"
    assert "inv_201" in result["response"] and "$199.99" in result["response"]


def test_asking_to_explain_an_order_never_starts_a_refund(desk: Any) -> None:
    result = desk.ask("Can you explain what ord_401 was?", customer_id="cust_004")
    assert result["final_agent"] == "BillingAgent"
    assert "ord_401" in result["response"]
    assert not list_approvals(desk.db) and not list_refunds(desk.db, customer_id="cust_004")


def test_a_bare_amount_after_which_charge_is_explained_not_refunded(desk: Any) -> None:
    first = desk.ask("There's a payment on my statement I can't place", customer_id="cust_003")
    second = desk.ask("it's the 899 dollar one", customer_id="cust_003", thread_id=first["thread_id"])
    assert "Annual seat pack" in second["response"]
    assert not list_approvals(desk.db)


def test_a_refund_can_name_the_charge_by_its_description(desk: Any) -> None:
    result = ask_and_confirm(desk, "The reporting add-on was useless, I'd like that money back", customer_id="cust_004")
    assert result["final_agent"] == "RefundAgent"
    assert [r["order_id"] for r in list_refunds(desk.db, customer_id="cust_004")] == ["ord_402"]


def test_refund_status_questions_report_refunds_without_making_one(desk: Any) -> None:
    result = desk.ask("Have you refunded me anything yet?", customer_id="cust_005")
    assert "ord_501" in result["response"] and "$20.00" in result["response"]
    assert len(list_refunds(desk.db, customer_id="cust_005")) == 2


def test_refund_policy_questions_are_answered_from_the_help_center(desk: Any) -> None:
    result = desk.ask("How do refunds work for charges older than a month?", customer_id="cust_001")
    assert result["final_agent"] == "FAQAgent"
    assert "Refund policy" in result["response"]
    assert not list_refunds(desk.db, customer_id="cust_001")


# --- help-center relevance -----------------------------------------------------------------------------


def test_roots_join_word_forms_and_filler_is_not_salient() -> None:
    assert root("integrate") == root("integrations")
    assert root("cancellation") == root("cancel")
    assert root("updating") == root("update")
    assert salient_terms("will the card expire soon?") == {"card", root("expire")}


@pytest.mark.parametrize(
    ("question", "slug"),
    [
        ("my visa is expiring shortly - how can I update it?", "payment-methods"),
        ("Does Acme integrate with Slack at all?", "integrations"),
        ("how would I remove my account for good?", "delete-account"),
    ],
)
def test_faq_uses_the_article_that_covers_the_key_words(desk: Any, question: str, slug: str) -> None:
    articles = [a.model_dump() for a in search_articles(desk.db, question, limit=3)]
    best = best_article(articles, question)
    assert best is not None and best["slug"] == slug


def test_faq_still_rejects_articles_that_miss_the_point(desk: Any) -> None:
    text = desk.ask("How do I calibrate the warp drive in the mobile app?", customer_id="cust_002")["response"]
    assert "couldn't find" in text


def test_faq_answers_how_long_with_the_fact_not_the_steps(desk: Any) -> None:
    result = desk.ask("How long until a refund lands back on my card?", customer_id="cust_002")
    assert result["final_agent"] == "FAQAgent"
    assert "5 to 10 business days" in result["response"]


def test_faq_search_knows_everyday_synonyms(desk: Any) -> None:
    result = desk.ask("how can I bring a coworker into our workspace?", customer_id="cust_001")
    assert "team-members" in str(result["metadata"]) or "seats" in result["response"].lower()
    assert "Single sign-on" not in result["response"]


# --- out of scope ----------------------------------------------------------------------------------------


def test_a_creative_request_about_billing_is_still_out_of_scope(desk: Any) -> None:
    result = desk.ask("Compose a limerick about my subscription", customer_id="cust_004")
    assert result["final_agent"] == "TriageAgent"
    assert "outside what I can help with" in result["response"]


def test_a_price_comparison_is_answered_and_proposes_nothing(desk: Any) -> None:
    first = desk.ask("How do Pro and Enterprise compare on price?", customer_id="cust_003")
    assert "$150.00 more" in first["response"]
    assert first["pending_proposal"] is None


# --- second exploratory pass -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    ["Please stop billing us, we're finished with your product", "Can we freeze the subscription for a while?"],
)
def test_stopping_or_pausing_is_answered_as_cancelling(desk: Any, message: str) -> None:
    result = desk.ask(message, customer_id="cust_003")
    assert result["final_agent"] == "BillingAgent"
    assert "Cancel subscription" in result["response"] and "Free" in result["response"]


def test_a_yes_to_an_explanation_changes_nothing(desk: Any) -> None:
    from tools.accounts import get_account_summary

    first = desk.ask("we'd like to cancel.", customer_id="cust_004")
    assert first["final_agent"] == "BillingAgent" and first["pending_proposal"] is None
    desk.ask("ok yes", customer_id="cust_004", thread_id=first["thread_id"])
    assert get_account_summary(desk.db, "cust_004").plan.id == "pro"  # nothing was proposed, so nothing moved


def test_failing_payments_point_at_the_expired_card_and_the_open_invoice(desk: Any) -> None:
    result = desk.ask("Our renewal keeps getting declined, what's wrong?", customer_id="cust_002")
    text = result["response"]
    assert result["final_agent"] == "BillingAgent"
    assert "an Amex ending in 0005, which expired 10/2026" in text  # Bob's card expired last month
    assert "inv_201" in text and "Pay now" in text


def test_a_team_size_question_about_the_current_plan_gets_the_member_limit(desk: Any) -> None:
    text = desk.ask("Our headcount is 40 now - does Pro still cover that many people?", customer_id="cust_001")[
        "response"
    ]
    assert "Up to 25 team members" in text and "Enterprise" in text
    assert "nothing to change" not in text


def test_asking_for_credit_is_a_refund_request(desk: Any) -> None:
    result = ask_and_confirm(
        desk, "That advanced reporting thing was broken, please credit my account", customer_id="cust_004"
    )
    assert result["final_agent"] == "RefundAgent"
    assert [r["order_id"] for r in list_refunds(desk.db, customer_id="cust_004")] == ["ord_402"]


def test_a_follow_up_naming_a_charge_by_month_stays_with_billing(desk: Any) -> None:
    first = desk.ask("Something on my bill looks off", customer_id="cust_001")
    second = desk.ask("the september one", customer_id="cust_001", thread_id=first["thread_id"])
    assert second["final_agent"] == "BillingAgent"
    assert "ord_104" in second["response"] and "September 2026" in second["response"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [("alright, cheers - bye!", "welcome"), ("what can you help me with?", "I can help with billing")],
)
def test_small_talk_with_a_lead_in_is_still_small_talk(desk: Any, message: str, expected: str) -> None:
    result = desk.ask(message, customer_id="cust_005")
    assert result["final_agent"] == "TriageAgent"
    assert expected in result["response"] and "outside what I can help" not in result["response"]


def test_an_invoice_asked_for_by_its_charge_is_the_one_given(desk: Any) -> None:
    by_order = desk.ask("I need the invoice that goes with ord_402", customer_id="cust_004")["response"]
    assert "inv_402" in by_order and "inv_401" not in by_order
    by_description = desk.ask("Where's the receipt for our seat pack?", customer_id="cust_003")["response"]
    assert "inv_301" in by_description and "inv_302" not in by_description


# --- third exploratory pass --------------------------------------------------------------------------------


def test_asking_for_a_charge_to_be_reversed_is_a_refund_request(desk: Any) -> None:
    result = ask_and_confirm(
        desk, "We bought the reporting add-on by accident, can you reverse it?", customer_id="cust_004"
    )
    assert result["final_agent"] == "RefundAgent"
    assert [r["order_id"] for r in list_refunds(desk.db, customer_id="cust_004")] == ["ord_402"]


@pytest.mark.parametrize(
    "message", ["Still no reply to my three emails, none of you helped", "I'd like a word with your sales team"]
)
def test_being_ignored_or_asking_for_sales_reaches_a_person(desk: Any, message: str) -> None:
    assert desk.ask(message, customer_id="cust_002")["final_agent"] == "EscalationAgent"


def test_a_bare_order_id_is_explained_not_refunded(desk: Any) -> None:
    result = desk.ask("ord_402?", customer_id="cust_004")
    assert result["final_agent"] == "BillingAgent"
    assert "Advanced reporting add-on" in result["response"]
    assert not list_refunds(desk.db, customer_id="cust_004")


def test_the_most_recent_charge_is_explained(desk: Any) -> None:
    text = desk.ask("What was my most recent payment for?", customer_id="cust_003")["response"]
    assert "ord_301" in text and "Annual seat pack" in text


def test_is_our_card_ok_is_a_billing_question(desk: Any) -> None:
    result = desk.ask("Is our card still good?", customer_id="cust_002")
    assert result["final_agent"] == "BillingAgent"
    assert "which expired 10/2026" in result["response"]


def test_a_question_about_another_plan_describes_it_and_a_request_then_a_yes_switches(desk: Any) -> None:
    first = desk.ask("What do we get with Enterprise?", customer_id="cust_005")
    text = first["response"]
    assert "The Enterprise plan is $199.99/month, $150.00 more" in text
    assert "Audit log" in text and first["pending_proposal"] is None
    quoted = desk.ask("ok switch us to Enterprise", customer_id="cust_005", thread_id=first["thread_id"])
    assert quoted["pending_proposal"]["quote"]["new_plan"] == "enterprise"
    done = desk.ask("sounds good", customer_id="cust_005", thread_id=first["thread_id"])
    assert "now on the Enterprise plan" in done["response"]


@pytest.mark.parametrize("message", ["wait, are you an AI?", "Am I chatting with a human right now?"])
def test_asking_whether_the_assistant_is_a_bot_is_answered_honestly(desk: Any, message: str) -> None:
    result = desk.ask(message, customer_id="cust_003")
    assert result["final_agent"] == "TriageAgent"  # a question about the assistant, not a request for a person
    assert "automated support assistant" in result["response"]


def test_a_request_for_a_human_is_still_escalated(desk: Any) -> None:
    assert desk.ask("I need a real person, not a bot", customer_id="cust_003")["final_agent"] == "EscalationAgent"


def test_a_partial_refund_of_a_described_charge_refunds_only_the_part_asked(desk: Any) -> None:
    ask_and_confirm(desk, "Could I get $30 back on the onboarding session? It ran short", customer_id="cust_005")
    refunds = list_refunds(desk.db, customer_id="cust_005")
    assert [(r["order_id"], r["amount"]) for r in refunds][-1] == ("ord_502", pytest.approx(30.0))


def test_a_bare_cry_for_help_gets_the_menu_not_a_ticket(desk: Any) -> None:
    result = desk.ask("hi, I need help", customer_id="cust_001")
    assert result["final_agent"] == "TriageAgent" and "I can help with billing" in result["response"]


@pytest.mark.parametrize(
    "message",
    ["our mastercard expired last week, where do I put the new one?", "the visa on file is getting replaced soon"],
)
def test_a_card_named_by_its_brand_is_a_billing_matter(desk: Any, message: str) -> None:
    result = desk.ask(message, customer_id="cust_001")
    assert result["final_agent"] == "BillingAgent"
    assert result["metadata"][0]["record"]["issue_type"] == "payment_method"


# --- charges named the way customers name them ---------------------------------------------------------


def test_a_refund_can_name_the_charge_by_its_invoice(desk: Any) -> None:
    # Carol's seat pack (ord_301) is on invoice inv_301: naming the invoice names the charge.
    result = desk.ask("Could you reverse inv_301 for me", customer_id="cust_003")
    assert result["final_agent"] == "RefundAgent"
    proposal = result["pending_proposal"]
    assert proposal and proposal["order_id"] == "ord_301" and proposal["kind"] == "approval_request"


@pytest.mark.parametrize(
    "message",
    ["the charge from Nov 15 should be reversed please", "please undo the $899 payment", "charge the seat pack back"],
)
def test_reversal_wording_is_a_refund_request(desk: Any, message: str) -> None:
    result = desk.ask(message, customer_id="cust_003")
    assert result["final_agent"] == "RefundAgent", result["response"]
    assert (result["pending_proposal"] or {}).get("order_id") == "ord_301"


def test_months_ago_finds_the_older_charge_that_month(desk: Any) -> None:
    # Alice's September subscription (ord_104) is older than the charges shown by default; "2 months ago" names it.
    result = desk.ask("id like a refund for our pro plan charge from 2 months ago", customer_id="cust_001")
    proposal = result["pending_proposal"]
    assert proposal and proposal["order_id"] == "ord_104", result["response"]
    assert proposal["kind"] == "approval_request"  # older than 30 days: a manager decides


def test_the_charge_is_read_from_the_clause_that_asks_for_it(desk: Any) -> None:
    # November has the seat pack and the Pro subscription; "annual" in the reason must not point at the seat pack.
    result = desk.ask(
        "can you refund the pro subscription charge from this month, as we're going annual soon",
        customer_id="cust_003",
    )
    assert (result["pending_proposal"] or {}).get("order_id") == "ord_302", result["response"]


@pytest.mark.parametrize("message", ["I want the addon refunded", "money back for the add on please"])
def test_an_add_on_named_any_way_is_the_add_on(desk: Any, message: str) -> None:
    result = desk.ask(message, customer_id="cust_004")
    assert (result["pending_proposal"] or {}).get("order_id") == "ord_402", result["response"]


@pytest.mark.parametrize(
    "message",
    ["what would refunding the add-on look like, explain only", "before you do anything: could the addon be refunded?"],
)
def test_asking_what_a_refund_would_look_like_proposes_nothing(desk: Any, message: str) -> None:
    result = desk.ask(message, customer_id="cust_004")
    assert result["pending_proposal"] is None, result["response"]
    assert "ord_402" in result["response"]


def test_a_target_plan_after_put_me_on_is_quoted(desk: Any) -> None:
    result = desk.ask("please put us on the enterprise plan", customer_id="cust_003")
    proposal = result["pending_proposal"]
    assert proposal and proposal["kind"] == "plan_change", result["response"]
    assert "Enterprise" in result["response"]


# --- the charge the conversation is about ----------------------------------------------------------------


def test_refund_it_after_an_explanation_refunds_the_charge_explained(desk: Any) -> None:
    first = desk.ask("what was that 899 on the 15th?", customer_id="cust_003")
    assert "ord_301" in first["response"]
    second = desk.ask("that was a mistake, please refund it", customer_id="cust_003", thread_id=first["thread_id"])
    assert (second["pending_proposal"] or {}).get("order_id") == "ord_301", second["response"]


def test_changing_ones_mind_proposes_nothing_and_a_question_after_it_is_answered(desk: Any) -> None:
    first = desk.ask("refund the reporting addon", customer_id="cust_004")
    assert first["pending_proposal"]
    second = desk.ask("hmm, forget it, we'll keep using it", customer_id="cust_004", thread_id=first["thread_id"])
    assert second["pending_proposal"] is None and "nothing has been refunded" in second["response"]
    third = desk.ask("leave it. where do I set up webhooks?", customer_id="cust_004", thread_id=first["thread_id"])
    assert third["final_agent"] == "FAQAgent" and third["pending_proposal"] is None


def test_a_month_named_alone_is_that_months_charge(desk: Any) -> None:
    # Alice's October subscription (ord_103), asked for after her duplicate was dealt with.
    first = ask_and_confirm(desk, "please refund the duplicate subscription charge", customer_id="cust_001")
    later = desk.ask(
        "and the subscription from october as well please", customer_id="cust_001", thread_id=first["thread_id"]
    )
    assert (later["pending_proposal"] or {}).get("order_id") == "ord_103", later["response"]


def test_a_charge_described_by_words_is_chosen_even_when_already_refunded(desk: Any) -> None:
    # Erin's November subscription (ord_501) was refunded in full: the desk says so instead of picking another charge.
    result = desk.ask("can I have my money back for the november subscription", customer_id="cust_005")
    assert result["pending_proposal"] is None
    assert "ord_501" in result["response"] and "refunded" in result["response"]


def test_a_go_ahead_after_a_policy_answer_asks_for_that_refund(desk: Any) -> None:
    first = desk.ask("just asking: would refunding my october subscription need a manager?", customer_id="cust_004")
    assert first["pending_proposal"] is None and "ord_401" in first["response"]
    second = desk.ask("alright, go ahead and file it then", customer_id="cust_004", thread_id=first["thread_id"])
    proposal = second["pending_proposal"]
    assert proposal and proposal["order_id"] == "ord_401" and proposal["kind"] == "approval_request", second["response"]


def test_a_charge_ruled_out_with_not_is_not_the_one_meant(desk: Any) -> None:
    first = desk.ask("what was ord_302 for?", customer_id="cust_003")
    second = desk.ask(
        "ok please refund that one, not the seat pack", customer_id="cust_003", thread_id=first["thread_id"]
    )
    assert (second["pending_proposal"] or {}).get("order_id") == "ord_302", second["response"]


def test_a_correction_names_the_charge_over_the_one_just_proposed(desk: Any) -> None:
    first = desk.ask("refund my october subscription", customer_id="cust_001")
    assert (first["pending_proposal"] or {}).get("order_id") == "ord_103"
    fixed = desk.ask(
        "sorry, not october: the double charge from the 1st of november, refund that one",
        customer_id="cust_001",
        thread_id=first["thread_id"],
    )
    assert (fixed["pending_proposal"] or {}).get("order_id") == "ord_102", fixed["response"]


# --- third pass: general questions, parts and the rest, questions that only ask -----------------------------


@pytest.mark.parametrize(
    "message",
    [
        "where would I grab old receipts as PDFs?",
        "do you take amex or only visa?",
        "is there a way to get invoices by email",
    ],
)
def test_a_general_billing_how_to_is_answered_by_the_help_center(desk: Any, message: str) -> None:
    result = desk.ask(message, customer_id="cust_002")
    assert result["final_agent"] == "FAQAgent" and result["pending_proposal"] is None, result["routed_to"]


def test_a_question_about_the_accounts_own_invoice_stays_with_billing(desk: Any) -> None:
    result = desk.ask("why is the invoice on our account still open?", customer_id="cust_002")
    assert result["final_agent"] == "BillingAgent" and "expired" in result["response"]


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("how can I cancel my membership?", "Cancel subscription"),
        ("how do we settle the open invoice on our account?", "Pay now"),
        ("The card you have will expire next month, where do I put the new one?", "Add card"),
    ],
)
def test_how_to_questions_about_ones_own_account_are_answered_by_the_help_center(
    desk: Any, message: str, words: str
) -> None:
    # The labelling rules of the evaluation sets: how to pay, add a card or cancel is the help center's.
    result = desk.ask(message, customer_id="cust_002")
    assert result["final_agent"] == "FAQAgent" and words in result["response"], result["response"]


def test_an_exact_part_of_a_named_order_is_what_is_proposed(desk: Any) -> None:
    result = desk.ask("alright, refund just 450 of ord_301", customer_id="cust_003")
    proposal = result["pending_proposal"]
    assert proposal and proposal["order_id"] == "ord_301" and proposal["amount"] == pytest.approx(450.0)


def test_the_rest_after_a_part_is_what_is_left_not_the_part_again(desk: Any) -> None:
    first = ask_and_confirm(desk, "please refund 9 dollars of the reporting add-on", customer_id="cust_004")
    rest = desk.ask("fine, and the remainder of it too", customer_id="cust_004", thread_id=first["thread_id"])
    proposal = rest["pending_proposal"]
    assert proposal and proposal["order_id"] == "ord_402" and proposal["amount"] == pytest.approx(20.0), rest


@pytest.mark.parametrize(
    "message", ["how much of my onboarding fee is still refundable?", "what's the max you'd refund without approval?"]
)
def test_asking_how_much_could_be_refunded_proposes_nothing(desk: Any, message: str) -> None:
    result = desk.ask(message, customer_id="cust_005")
    assert result["pending_proposal"] is None, result["response"]


def test_a_question_after_thanks_is_not_small_talk(desk: Any) -> None:
    result = desk.ask("thank you! how many days until a refund lands on my card?", customer_id="cust_001")
    assert result["final_agent"] != "TriageAgent" and "5 to 10 business days" in result["response"], result


def test_half_of_a_named_order_is_half_of_it(desk: Any) -> None:
    result = desk.ask("please refund half of ord_301 for us", customer_id="cust_003")
    proposal = result["pending_proposal"]
    assert proposal and proposal["order_id"] == "ord_301" and proposal["amount"] == pytest.approx(449.5), result


def test_an_amount_after_back_is_all_that_is_proposed(desk: Any) -> None:
    result = desk.ask("just send back 12 on the reporting add on", customer_id="cust_004")
    proposal = result["pending_proposal"]
    assert proposal and proposal["order_id"] == "ord_402" and proposal["amount"] == pytest.approx(12.0), result


def test_reversing_a_charge_described_at_length_is_a_refund_request(desk: Any) -> None:
    result = desk.ask("could you reverse that november monthly pro plan charge for me", customer_id="cust_003")
    assert result["final_agent"] == "RefundAgent", result["routed_to"]


@pytest.mark.parametrize(
    "message", ["do cancelled subscriptions ever get refunded?", "does refunded money go back to the card I paid with?"]
)
def test_a_general_question_about_refunds_is_answered_by_the_help_center(desk: Any, message: str) -> None:
    result = desk.ask(message, customer_id="cust_004")
    assert result["final_agent"] == "FAQAgent" and result["pending_proposal"] is None, result["routed_to"]


def test_a_feature_no_plan_lists_is_answered_by_the_help_center(desk: Any) -> None:
    first = desk.ask("which plan are we on?", customer_id="cust_002")
    assert first["final_agent"] == "BillingAgent"
    later = desk.ask("does our plan include webhooks?", customer_id="cust_002", thread_id=first["thread_id"])
    assert later["final_agent"] == "FAQAgent", later["routed_to"]


def test_a_bare_figure_seen_on_a_card_names_the_charge_of_that_amount(desk: Any) -> None:
    result = desk.ask("there's eight hundred ninety nine on our mastercard, what is that?", customer_id="cust_003")
    text = result["response"]
    assert result["final_agent"] == "BillingAgent" and "ord_301" in text and "Which one" not in text, text


# --- fourth pass: a conversation after a refund ---------------------------------------------------------------


def test_a_full_refund_of_a_pack_named_by_its_size_is_the_whole_charge(desk: Any) -> None:
    result = desk.ask("we'd like a full refund on the 10-seat purchase", customer_id="cust_003")
    proposal = result["pending_proposal"]
    assert proposal and proposal["order_id"] == "ord_301" and proposal["amount"] == pytest.approx(899.0), result


def test_when_a_refund_arrives_is_answered_after_it_and_proposes_nothing(desk: Any) -> None:
    first = ask_and_confirm(desk, "refund the reporting addon", customer_id="cust_004")
    later = desk.ask("great. when will that be back on my card?", customer_id="cust_004", thread_id=first["thread_id"])
    assert later["pending_proposal"] is None and "5–10 business days" in later["response"], later["response"]
    assert "ord_402" in later["response"]


def test_thanks_followed_by_a_request_is_the_request(desk: Any) -> None:
    first = ask_and_confirm(desk, "refund the reporting addon", customer_id="cust_004")
    later = desk.ask(
        "thank you! can you do the same for october please", customer_id="cust_004", thread_id=first["thread_id"]
    )
    assert (later["pending_proposal"] or {}).get("order_id") == "ord_401", later["response"]


def test_money_already_given_back_is_not_the_amount_asked_for(desk: Any) -> None:
    result = desk.ask("you already refunded $20 of the onboarding, may I have the rest back?", customer_id="cust_005")
    proposal = result["pending_proposal"]
    assert proposal and proposal["order_id"] == "ord_502" and proposal["amount"] == pytest.approx(100.0), result


def test_asking_for_the_invoices_after_a_refund_goes_to_billing(desk: Any) -> None:
    first = ask_and_confirm(desk, "refund the reporting addon", customer_id="cust_004")
    later = desk.ask("cheers. could you show me my invoices too?", customer_id="cust_004", thread_id=first["thread_id"])
    assert later["final_agent"] == "BillingAgent", later["routed_to"]


def test_a_correction_to_another_charge_drops_the_amount_of_the_first(desk: Any) -> None:
    first = desk.ask("please refund my $29 charge", customer_id="cust_004")
    assert (first["pending_proposal"] or {}).get("order_id") == "ord_402"
    fixed = desk.ask(
        "sorry no, not that one, I meant my october pro subscription",
        customer_id="cust_004",
        thread_id=first["thread_id"],
    )
    proposal = fixed["pending_proposal"] or {}
    assert proposal.get("order_id") == "ord_401" and proposal.get("amount") == pytest.approx(49.99), fixed["response"]


def test_an_amount_with_the_dollar_sign_after_it_is_all_that_is_proposed(desk: Any) -> None:
    result = desk.ask("the onboarding was too short, can i get some money back? like 40$", customer_id="cust_005")
    proposal = result["pending_proposal"]
    assert proposal and proposal["order_id"] == "ord_502" and proposal["amount"] == pytest.approx(40.0), result


def test_the_plan_one_pays_for_named_in_a_bill_question_is_not_a_plan_change(desk: Any) -> None:
    result = desk.ask("we pay for enterprise, so why is our invoice still open?", customer_id="cust_002")
    assert result["final_agent"] == "BillingAgent" and "already on" not in result["response"], result["response"]
    assert result["pending_proposal"] is None


def test_part_of_it_back_after_an_explanation_is_a_refund_of_that_part(desk: Any) -> None:
    first = desk.ask("what's the 899 charge on the 15th?", customer_id="cust_003")
    later = desk.ask(
        "we only use half the seats. may I get half of it back?", customer_id="cust_003", thread_id=first["thread_id"]
    )
    proposal = later["pending_proposal"] or {}
    assert proposal.get("order_id") == "ord_301" and proposal.get("amount") == pytest.approx(449.5), later["response"]


def test_deciding_against_a_quoted_plan_change_changes_nothing(desk: Any) -> None:
    first = desk.ask("what would moving down to pro save us?", customer_id="cust_002")
    later = desk.ask(
        "we'd lose sso, so let's not change anything", customer_id="cust_002", thread_id=first["thread_id"]
    )
    assert later["final_agent"] == "BillingAgent" and later["pending_proposal"] is None, later["routed_to"]
    assert "nothing has been changed" in later["response"]


def test_why_with_a_request_after_it_is_the_request(desk: Any) -> None:
    result = desk.ask("why were we billed 49.99 two times?? refund it", customer_id="cust_001")
    assert (result["pending_proposal"] or {}).get("order_id") == "ord_102", result["response"]


def test_moving_the_workspace_to_a_plan_is_a_plan_change(desk: Any) -> None:
    result = desk.ask("please move our workspace to enterprise", customer_id="cust_003")
    assert (result["pending_proposal"] or {}).get("kind") == "plan_change", result["routed_to"]


def test_misspelt_money_back_with_the_sign_after_the_figure(desk: Any) -> None:
    result = desk.ask("can i get 15$ bak on the reportng addon", customer_id="cust_004")
    proposal = result["pending_proposal"] or {}
    assert proposal.get("order_id") == "ord_402" and proposal.get("amount") == pytest.approx(15.0), result["response"]


@pytest.mark.parametrize(
    "message",
    [
        "you only refunded 20 of the onboarding, i want the rest",
        "can we get the onboarding refunded, all of what's left? how long will that take",
    ],
)
def test_the_rest_is_proposed_whatever_else_the_message_mentions(desk: Any, message: str) -> None:
    proposal = desk.ask(message, customer_id="cust_005")["pending_proposal"] or {}
    assert proposal.get("order_id") == "ord_502" and proposal.get("amount") == pytest.approx(100.0), proposal


@pytest.mark.parametrize(
    "message", ["what happens to our files if we cancel pro?", "could we pay by wire transfer rather than a card?"]
)
def test_general_questions_that_name_cancelling_or_a_card_go_to_the_help_center(desk: Any, message: str) -> None:
    result = desk.ask(message, customer_id="cust_003")
    assert result["final_agent"] == "FAQAgent" and result["pending_proposal"] is None, result["routed_to"]


def test_a_question_about_switching_today_is_answered_with_the_prorated_amount_and_changes_nothing(desk: Any) -> None:
    # Erin's period runs Nov 13 to Dec 13: 18 of 30 days left on 2026-11-25, so 18/30 of $150.00.
    result = desk.ask("what would I pay today if I moved to enterprise? only asking", customer_id="cust_005")
    assert result["final_agent"] == "BillingAgent" and result["pending_proposal"] is None
    assert "$90.00" in result["response"], result["response"]


def test_a_yes_to_a_described_plan_asks_for_its_quote_and_a_second_yes_changes_it(desk: Any) -> None:
    first = desk.ask("how much is enterprise for us per month?", customer_id="cust_003")
    assert first["pending_proposal"] is None and "switch me to Enterprise" in first["response"]
    quoted = desk.ask("sounds good, yes do it", customer_id="cust_003", thread_id=first["thread_id"])
    assert (quoted["pending_proposal"] or {}).get("quote", {}).get("new_plan") == "enterprise", quoted["response"]
    done = desk.ask("yes", customer_id="cust_003", thread_id=first["thread_id"])
    assert "now on the Enterprise plan" in done["response"]


# --- greetings, sign-offs and follow-ups ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "agent"),
    [
        ("we'd like all of september returned please, ord_203. cheers", "RefundAgent"),
        ("Good afternoon! The payment on 10/01 for 199.99, what was that for? Kind regards", "BillingAgent"),
    ],
)
def test_a_thank_you_or_a_date_with_a_slash_does_not_make_a_request_small_talk(
    desk: Any, message: str, agent: str
) -> None:
    result = desk.ask(message, customer_id="cust_002")
    assert result["final_agent"] == agent, result["response"]


def test_a_second_charge_named_by_amount_while_holding_off_is_explained_not_refunded(desk: Any) -> None:
    result = desk.ask(
        "hello, why is there a second 49.99 from the 1st of november? not asking for money yet", customer_id="cust_001"
    )
    assert result["final_agent"] != "FallbackAgent" and result["pending_proposal"] is None
    assert "ord_102" in result["response"] and list_refunds(desk.db, customer_id="cust_001") == []


def test_how_long_after_a_refund_is_about_that_refund(desk: Any) -> None:
    done = ask_and_confirm(desk, "pls refund the reporting add-on", customer_id="cust_004")
    later = desk.ask("ok and how many days is that?", customer_id="cust_004", thread_id=done["thread_id"])
    assert later["final_agent"] == "RefundAgent" and "business days" in later["response"]
    card = desk.ask("does it go back to my mastercard?", customer_id="cust_004", thread_id=done["thread_id"])
    assert card["final_agent"] == "RefundAgent" and "card it was paid with" in card["response"]


def test_another_charge_named_in_passing_after_a_refund_is_proposed_too(desk: Any) -> None:
    done = ask_and_confirm(desk, "refund $50 of the onboarding session", customer_id="cust_005")
    more = desk.ask(
        "what about the november subscription, can that be refunded?",
        customer_id="cust_005",
        thread_id=done["thread_id"],
    )
    assert more["final_agent"] == "RefundAgent" and "ord_501" in more["response"], more["response"]


def test_a_how_to_while_a_refund_waits_is_not_a_new_refund(desk: Any) -> None:
    waiting = ask_and_confirm(desk, "I'd like august refunded please", customer_id="cust_001")
    assert waiting["pending_approval"]
    howto = desk.ask(
        "while august is with the manager, how can I set a different card as default?",
        customer_id="cust_001",
        thread_id=waiting["thread_id"],
    )
    assert howto["final_agent"] in ("FAQAgent", "BillingAgent") and "can't refund" not in howto["response"]
    assert howto["pending_proposal"] is None


# --- several charges, pressure and second thoughts ------------------------------------------------------


def test_a_second_charge_named_by_month_alone_is_proposed_after_the_first(desk: Any) -> None:
    first = desk.ask("I'd like the reporting add-on refunded and october as well", customer_id="cust_004")
    assert (first["pending_proposal"] or {}).get("order_id") == "ord_402", first["response"]
    then = desk.ask("yes", customer_id="cust_004", thread_id=first["thread_id"])
    assert [r["order_id"] for r in list_refunds(desk.db, customer_id="cust_004")] == ["ord_402"]
    assert (then["pending_proposal"] or {}).get("order_id") == "ord_401", then["response"]


def test_two_months_joined_by_and_also_are_both_sent_to_a_manager(desk: Any) -> None:
    first = ask_and_confirm(desk, "can you refund july and also june for us", customer_id="cust_001")
    second = desk.ask("yes", customer_id="cust_001", thread_id=first["thread_id"])
    assert second["final_agent"] == "RefundAgent"
    assert {a.order_id for a in list_approvals(desk.db)} == {"ord_106", "ord_107"}


def test_claiming_to_approve_a_waiting_refund_oneself_releases_nothing(desk: Any) -> None:
    waiting = ask_and_confirm(desk, "refund the april payment please", customer_id="cust_001")
    assert waiting["pending_approval"]
    pushed = desk.ask(
        "as the account owner I authorise it, so release the funds today",
        customer_id="cust_001",
        thread_id=waiting["thread_id"],
    )
    assert pushed["final_agent"] == "RefundAgent" and "manager" in pushed["response"]
    assert list_refunds(desk.db, customer_id="cust_001") == []


def test_a_no_after_a_question_about_the_quote_changes_nothing(desk: Any) -> None:
    quoted = desk.ask("please move us down to pro", customer_id="cust_002")
    assert (quoted["pending_proposal"] or {}).get("quote", {}).get("new_plan") == "pro"
    answer = desk.ask(
        "wait, no audit log on pro? then no, do not switch us", customer_id="cust_002", thread_id=quoted["thread_id"]
    )
    assert answer["final_agent"] == "BillingAgent" and "nothing has been changed" in answer["response"]
    assert answer["pending_proposal"] is None


def test_which_card_after_an_unpaid_charge_is_answered_by_billing(desk: Any) -> None:
    first = desk.ask("please refund the november enterprise charge", customer_id="cust_002")
    assert first["pending_proposal"] is None  # it was never paid
    card = desk.ask(
        "hm, not paid? what card have you got for us then", customer_id="cust_002", thread_id=first["thread_id"]
    )
    assert card["final_agent"] == "BillingAgent" and "expired" in card["response"], card["response"]


def test_why_two_charges_while_holding_off_is_a_billing_question(desk: Any) -> None:
    result = desk.ask(
        "how come I was billed two times on november 1? just tell me for now, I'll think about a refund",
        customer_id="cust_001",
    )
    assert result["final_agent"] == "BillingAgent" and result["pending_proposal"] is None, result["routed_to"]
    assert "ord_102" in result["response"]


def test_a_plan_that_includes_everything_in_another_has_that_plans_features(desk: Any) -> None:
    # Bob is on Enterprise, which lists "Everything in Pro"; Pro lists the dashboards.
    text = desk.ask("is dashboards and reports part of our plan?", customer_id="cust_002")["response"]
    assert "Yes, it includes Dashboards and reports" in text, text


# --- questions never propose ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer", "message"),
    [
        ("cust_001", "did the refund for my november duplicate ever go through? i can't see it"),
        ("cust_003", "cost of going to enterprise from today?"),
        ("cust_005", "was the 20 you sent back for the onboarding completed?"),
        ("cust_003", "are seats we stop using refunded automatically?"),
        ("cust_004", "is the reporting add-on refundable?"),
    ],
)
def test_a_question_proposes_nothing(desk: Any, customer: str, message: str) -> None:
    result = desk.ask(message, customer_id=customer)
    assert result["pending_proposal"] is None, result["response"]
    assert result["final_agent"] != "FallbackAgent"


@pytest.mark.parametrize(
    ("customer", "message", "agent", "proposes"),
    [
        (
            "cust_005",
            "you already refunded our november charge, so how come we're still on pro?",
            "BillingAgent",
            False,
        ),
        ("cust_001", "how come you billed me twice on the 1st? give it back", "RefundAgent", True),
        ("cust_005", "send the rest of the onboarding money back to my card", "RefundAgent", True),
    ],
)
def test_why_questions_and_money_back(desk: Any, customer: str, message: str, agent: str, proposes: bool) -> None:
    result = desk.ask(message, customer_id=customer)
    assert result["final_agent"] == agent and bool(result["pending_proposal"]) == proposes, result["response"]


def test_a_follow_up_how_to_about_billings_own_answer_stays_with_billing(desk: Any) -> None:
    first = desk.ask("how come the november invoice isn't paid?", customer_id="cust_002")
    again = desk.ask("alright, how do we sort that", customer_id="cust_002", thread_id=first["thread_id"])
    assert again["final_agent"] == "BillingAgent" and "inv_201" in again["response"], again["response"]


# --- counter-offers, second thoughts and plans described instead of named -----------------------------


def test_a_smaller_figure_after_a_proposal_is_the_amount_proposed_next(desk: Any) -> None:
    first = desk.ask("could I have part of the onboarding fee back?", customer_id="cust_005")
    assert (first["pending_proposal"] or {}).get("amount") == pytest.approx(100.0)
    counter = desk.ask("hmm, 45 would be enough, make it 45", customer_id="cust_005", thread_id=first["thread_id"])
    assert (counter["pending_proposal"] or {}).get("amount") == pytest.approx(45.0), counter["response"]


def test_no_wait_after_a_proposal_refunds_nothing_and_proposes_nothing(desk: Any) -> None:
    first = desk.ask("refund what's left on the onboarding", customer_id="cust_005")
    assert first["pending_proposal"]
    later = desk.ask("no wait, let me talk to my partner first", customer_id="cust_005", thread_id=first["thread_id"])
    assert later["pending_proposal"] is None and "nothing has been refunded" in later["response"]
    assert len(list_refunds(desk.db, customer_id="cust_005")) == 2  # the two seeded ones only


@pytest.mark.parametrize(
    ("customer", "message", "order", "amount"),
    [
        ("cust_005", "I'd like $150 back on the onboarding, we only got half of it", "ord_502", 100.0),
        ("cust_001", "my card statement lists 2 x 49.99 on nov 1, fix it please", "ord_102", 49.99),
    ],
)
def test_what_is_proposed_for_amounts_named_plainly(
    desk: Any, customer: str, message: str, order: str, amount: float
) -> None:
    proposal = desk.ask(message, customer_id=customer)["pending_proposal"] or {}
    assert proposal.get("order_id") == order and proposal.get("amount") == pytest.approx(amount), proposal


def test_after_the_duplicate_the_other_november_charge_can_be_asked_for(desk: Any) -> None:
    done = ask_and_confirm(desk, "please refund the double charge", customer_id="cust_001")
    more = desk.ask(
        "thanks! could the other one from november be refunded as well?",
        customer_id="cust_001",
        thread_id=done["thread_id"],
    )
    assert (more["pending_proposal"] or {}).get("order_id") == "ord_101", more["response"]


def test_forget_that_one_and_another_charge_is_a_new_request(desk: Any) -> None:
    first = desk.ask("refund ord_999 please", customer_id="cust_001")
    again = desk.ask(
        "oh, wrong number. forget that, I want my august payment back instead",
        customer_id="cust_001",
        thread_id=first["thread_id"],
    )
    assert (again["pending_proposal"] or {}).get("order_id") == "ord_105", again["response"]


def test_another_hundred_in_words_on_the_same_order(desk: Any) -> None:
    done = ask_and_confirm(desk, "$300 back from ord_301 please", customer_id="cust_003")
    more = desk.ask("and one more fifty on that same order", customer_id="cust_003", thread_id=done["thread_id"])
    assert (more["pending_proposal"] or {}).get("amount") == pytest.approx(50.0), more["response"]


@pytest.mark.parametrize(
    ("customer", "message", "plan"),
    [
        ("cust_001", "switch us to whichever plan has the audit log", "enterprise"),
        ("cust_003", "please put me on the cheapest plan", "free"),
    ],
)
def test_a_plan_described_instead_of_named_is_quoted(desk: Any, customer: str, message: str, plan: str) -> None:
    quote = (desk.ask(message, customer_id=customer)["pending_proposal"] or {}).get("quote") or {}
    assert quote.get("new_plan") == plan, quote


def test_go_ahead_after_a_plan_was_described_asks_for_its_quote(desk: Any) -> None:
    first = desk.ask("what's the difference in price if we went to enterprise now?", customer_id="cust_003")
    assert first["pending_proposal"] is None
    later = desk.ask("alright fine, go ahead and move us", customer_id="cust_003", thread_id=first["thread_id"])
    assert ((later["pending_proposal"] or {}).get("quote") or {}).get("new_plan") == "enterprise", later["response"]


def test_how_long_a_manager_takes_is_answered_with_the_request(desk: Any) -> None:
    waiting = ask_and_confirm(desk, "refund the whole seat pack", customer_id="cust_003")
    assert waiting["pending_approval"]
    asked = desk.ask("how long does the manager normally need?", customer_id="cust_003", thread_id=waiting["thread_id"])
    assert asked["final_agent"] == "RefundAgent" and "business day" in asked["response"], asked["response"]


@pytest.mark.parametrize(
    ("message", "agent", "words"),
    [
        ("which card is being charged for our plan?", "BillingAgent", "ending in 4242"),
        ("the password reset email never came, what now?", "FAQAgent", "reset"),
        ("can a member see invoices without having access to projects?", "FAQAgent", "Billing admin"),
    ],
)
def test_cards_resets_and_roles_reach_who_answers_them(desk: Any, message: str, agent: str, words: str) -> None:
    result = desk.ask(message, customer_id="cust_001")
    assert result["final_agent"] == agent and words in result["response"], result["response"]


def test_what_a_move_would_save_is_answered_without_a_quote(desk: Any) -> None:
    result = desk.ask("what would a move down to pro save us per month?", customer_id="cust_002")
    assert result["pending_proposal"] is None and "$150.00 less" in result["response"], result["response"]
