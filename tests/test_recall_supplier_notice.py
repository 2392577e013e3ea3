"""Recalls triggered by a supplier's notice, on the plant of test_trace_starts: the notice names the supplier,
its lot numbers and/or receipt dates and items; scoping finds our lots from them (and records the numbers
nothing was received under) and scopes forward as any recall — holds, customers, drills. Expectations are
worked out by hand from the scenario of test_trace_links."""

import frappe
import pytest
from factories import signed_workflow_action
from frappe.utils import add_days, nowdate
from medtrace.recall.doctype.recall.recall import scope_recall
from medtrace.traceability.trace_links import node_key
from test_recall import active_holds, refusal, symbols_of
from test_trace_links import FORWARD, plant_fixtures
from test_trace_starts import build_plant_with_suppliers, receive

pytestmark = pytest.mark.requirement("MT-RCL-007")

pytestmark = pytest.mark.requirement("MT-RCL-007")


built_plant, plant = plant_fixtures(build_plant_with_suppliers)


def notice_recall(plant, supplier: str, lots: str | None = None, **values):
	return frappe.get_doc(
		{"doctype": "Recall", "title": "Supplier notice", "classification": "Class II", "trigger": "Supplier Notice",
		 "reason": "The supplier reports contaminated lots", "supplier": supplier, "supplier_lots": lots, **values}
	).insert()


def scope_of(plant, recall) -> dict[str, tuple]:
	return {
		plant.symbol(node_key("Serial No", row.serial_no) if row.serial_no else node_key("Batch", row.batch_no)): (
			row.supplier_lot, row.from_supplier_notice
		)
		for row in recall.scope
	}


def test_a_supplier_notice_scopes_the_lots_it_names_and_everything_made_from_them(plant):
	recall = notice_recall(plant, plant.supplier, f"{plant.sup['RA']}\nSUP-NEVER-SENT")
	assert scope_of(plant, recall) == {"RA": (plant.sup["RA"], 1)}
	assert recall.supplier_lots_not_received == "SUP-NEVER-SENT"
	recall = signed_workflow_action(recall, "Scope Recall")
	# As a recall on RA: SA1 was made of it, D1-D4 of SA1 (DEV-2, cancelled, made D5 and D6 of SA2), K1 and K2 of those.
	assert symbols_of(plant, recall.affected_units) == set(FORWARD["RA"])
	assert {row.customer: row.units_delivered for row in recall.customers} == {plant.customers["A"][0]: 1, plant.customers["B"][0]: 1}
	assert active_holds(recall.name) == {plant.name("RA"), plant.name("SA1")}


def test_the_same_supplier_lot_received_twice_is_scoped_twice_and_scoping_again_finds_a_third(plant):
	recall = notice_recall(plant, plant.supplier, plant.sup["RB"], supplied_items=[{"item": plant.items.resin}])
	recall.append("scope", {"batch_no": plant.name("TT")})  # added by hand: kept when the notice is read again
	recall.save()
	assert scope_of(plant, recall) == {"RB": (plant.sup["RB"], 1), "RB2": (plant.sup["RB"], 1), "TT": (None, 0)}
	recall = signed_workflow_action(recall, "Scope Recall")
	assert symbols_of(plant, recall.affected_units) == set(FORWARD["RB"]) | set(FORWARD["TT"]) | {"RB2"}

	plant.lot("RB3", plant.items.resin, medtrace_supplier_lot=plant.sup["RB"])
	receive(plant, "PR-6", plant.supplier, [(plant.items.resin, "RB3", 5)])
	scope_recall(recall.name)
	recall.reload()
	assert scope_of(plant, recall) == {"RB": (plant.sup["RB"], 1), "RB2": (plant.sup["RB"], 1), "RB3": (plant.sup["RB"], 1), "TT": (None, 0)}
	assert plant.name("RB3") in active_holds(recall.name)


def test_a_supplier_notice_by_receipt_dates_and_items(plant):
	ten_days_ago = add_days(nowdate(), -10)
	second = notice_recall(plant, plant.supplier2, received_from=ten_days_ago, received_to=ten_days_ago)
	# TY came from the same supplier today, on a receipt since cancelled.
	assert scope_of(plant, second) == {"TX": (plant.sup["TT"], 1)}
	tubing = notice_recall(plant, plant.supplier, received_from=nowdate(), supplied_items=[{"item": plant.items.tubing}])
	assert scope_of(plant, tubing) == {"TT": (plant.sup["TT"], 1)}
	# The number SUP-TT is the second supplier's too: the notice of the first finds only its own lot.
	assert scope_of(plant, notice_recall(plant, plant.supplier, plant.sup["TT"])) == {"TT": (plant.sup["TT"], 1)}


@pytest.mark.requirement("MT-DRL-001")
@pytest.mark.requirement("MT-DRL-001")
def test_a_drill_from_a_supplier_notice_finds_its_expected_population_and_holds_nothing(plant):
	expected = "\n".join(plant.name(symbol) for symbol in FORWARD["RA"])
	drill = notice_recall(plant, plant.supplier, plant.sup["RA"], is_drill=1, expected_population=expected)
	drill = signed_workflow_action(drill, "Scope Recall")
	assert drill.drill_accuracy == 100
	assert drill.back_trace_seconds > 0 and drill.forward_trace_seconds > 0
	assert not active_holds(drill.name)


def test_a_supplier_notice_naming_nothing_received_is_refused(plant):
	assert "Name the supplier's lot numbers or the receipt dates" in refusal(lambda: notice_recall(plant, plant.supplier))
	assert "No lot received from supplier" in refusal(lambda: notice_recall(plant, plant.supplier2, plant.sup["RA"]))
	assert "before they start" in refusal(
		lambda: notice_recall(plant, plant.supplier, received_from=nowdate(), received_to=add_days(nowdate(), -1))
	)
