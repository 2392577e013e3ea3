"""Recalls on the trace scenario of test_trace_links: the affected population a recall on one resin lot
scopes, worked out by hand from the scenario's forward genealogy; holds refusing held stock leaving its
warehouse; the accounting and the signed close that releases the holds; drills; concurrent holds."""

import threading

import frappe
import pytest
from factories import acting_as, make_delivery, make_item, receive_stock, signed_workflow_action
from medtrace.signatures.esignature import SignatureError
from medtrace.recall.doctype.recall.recall import place_recall_holds, scope_recall
from medtrace.setup.permissions import WAREHOUSE_OPERATOR
from medtrace.traceability.trace_links import node_key
from test_roles import user_with_role  # noqa: F401 (fixture)
from test_trace_links import FINISHED, FORWARD, STORES, consumed, deliver, plant_fixtures

pytestmark = pytest.mark.requirement("MT-RCL-001")

TO_CLOSING = ("Mark Notified", "Start Recovery", "Check Effectiveness")


built_plant, plant = plant_fixtures()


def make_recall(plant, *symbols, **values):
	scope = [
		{"serial_no": plant.name(symbol)} if plant.nodes[symbol].startswith("Serial No::") else {"batch_no": plant.name(symbol)}
		for symbol in symbols
	]
	return frappe.get_doc(
		{"doctype": "Recall", "title": f"Recall of {', '.join(symbols)}", "classification": "Class II", "trigger": "Internal Finding",
		 "reason": "Resin lot out of specification", "scope": scope, **values}
	).insert()


def refusal(action) -> str:
	"""The message of a refused action, whose partial writes are rolled back."""
	frappe.db.savepoint("refused")
	frappe.clear_messages()
	with pytest.raises(frappe.ValidationError) as refused:
		action()
	frappe.db.rollback(save_point="refused")
	return str(refused.value)


def symbols_of(plant, rows) -> set:
	return {plant.symbol(node_key("Serial No", row.serial_no) if row.serial_no else node_key("Batch", row.batch_no)) for row in rows}


def active_holds(recall) -> set:
	return {
		hold.serial_no or hold.batch_no
		for hold in frappe.get_all("Recall Hold", filters={"recall": recall, "status": "Active"}, fields=["batch_no", "serial_no"])
	}


def test_recall_on_a_resin_lot_scopes_the_expected_population(plant):
	recall = signed_workflow_action(make_recall(plant, "RA"), "Scope Recall")
	assert recall.status == "Scoped"
	# Everything made from RA: its sub-assembly lot, the devices made of it, the cases packing them.
	assert symbols_of(plant, recall.affected_units) == set(FORWARD["RA"]) == {"RA", "SA1", "D1", "D2", "D3", "D4", "K1", "K2"}
	stock = {(plant.symbol(node_key("Batch", row.batch_no)), row.warehouse): row.qty_in_stock for row in recall.affected_units if row.warehouse}
	# RA: 100 received, 12 transferred to WIP and consumed; SA1: 10 made, 2 consumed by DEV-1 (DEV-2 was cancelled).
	assert stock == {("RA", STORES): 88, ("SA1", FINISHED): 8}
	(customer_a, address_a), (customer_b, address_b) = plant.customers["A"], plant.customers["B"]
	delivered = {
		(plant.symbol(node_key("Serial No", row.serial_no)), row.customer, row.delivery_note, row.address, row.qty_delivered, row.qty_returned)
		for row in recall.affected_units if row.customer
	}
	assert delivered == {
		("K1", customer_a, plant.docs["DN-A"].name, address_a, 1, 0),
		("K2", customer_b, plant.docs["DN-B"].name, address_b, 1, 0),
	}
	# The devices are inside the cases: affected, neither in stock nor delivered on their own.
	inside = {plant.symbol(node_key("Serial No", row.serial_no)) for row in recall.affected_units if not row.warehouse and not row.customer}
	assert inside == {"D1", "D2", "D3", "D4"}
	assert {row.customer: row.units_delivered for row in recall.customers} == {customer_a: 1, customer_b: 1}
	assert [(row.stock_uom, row.qty_in_stock, row.qty_delivered, row.qty_unaccounted) for row in recall.unit_totals] == [("Nos", 96, 2, 2)]
	assert recall.scoped_on and 0 < recall.scope_seconds < 5
	assert active_holds(recall.name) == {plant.name("RA"), plant.name("SA1")}


@pytest.mark.requirement("MT-TRC-004")
def test_a_recall_on_a_shared_lot_nets_returns_and_scoping_again_keeps_the_tracking(plant):
	recall = signed_workflow_action(make_recall(plant, "SA2"), "Scope Recall")
	customer_c = plant.customers["C"][0]
	# C received K3 (D5, D6 made of SA2) and 3 spare SA2, and sent 1 back: 3 units out there. A and B got cases of D1-D4.
	assert {row.customer: row.units_delivered for row in recall.customers} == {
		plant.customers["A"][0]: 1, plant.customers["B"][0]: 1, customer_c: 3
	}
	spares = [row for row in recall.affected_units if row.customer == customer_c and row.batch_no == plant.name("SA2") and not row.serial_no]
	assert [(row.qty_delivered, row.qty_returned) for row in spares] == [(3, 1)]
	recall.customers[-1].update({"acknowledged": 1, "units_returned": 2})
	recall.save()
	assert scope_recall(recall.name)["customers"] == 3
	recall.reload()
	c = next(row for row in recall.customers if row.customer == customer_c)
	assert (c.acknowledged, c.units_returned, c.units_unaccounted) == (1, 2, 1)
	assert c.acknowledged_on


@pytest.mark.requirement("MT-RCL-002")
def test_holds_refuse_moving_affected_stock_and_not_unaffected_stock(plant):
	recall = signed_workflow_action(make_recall(plant, "RA"), "Scope Recall")
	customer_c, address_c = plant.customers["C"]
	sub_assembly = plant.items.sub_assembly
	message = refusal(lambda: deliver(plant, "DN-SA1", customer_c, address_c, [{"item_code": sub_assembly, "qty": 1, "batch_no": plant.name("SA1")}]))
	assert "on hold for a recall" in message and plant.name("SA1") in message and recall.name in message
	message = refusal(lambda: make_delivery(customer_c, sub_assembly, 1, FINISHED, doctype="Sales Invoice", batch_no=plant.name("SA1")))
	assert "on hold for a recall" in message and plant.name("SA1") in message
	message = refusal(
		lambda: plant.stock_entry("ISSUE-RA", "Material Issue", [consumed(plant.items.resin, 5, STORES, batch_no=plant.name("RA"))])
	)
	assert plant.name("RA") in message and recall.name in message
	# SA2 and RB were not made from RA.
	deliver(plant, "DN-SA2", customer_c, address_c, [{"item_code": sub_assembly, "qty": 1, "batch_no": plant.name("SA2")}])
	plant.stock_entry("ISSUE-RB", "Material Issue", [consumed(plant.items.resin, 5, STORES, batch_no=plant.name("RB"))])
	# Overlapping recalls both hold SA1; the refusal names both.
	second = signed_workflow_action(make_recall(plant, "SA1"), "Scope Recall")
	message = refusal(lambda: deliver(plant, "DN-SA1", customer_c, address_c, [{"item_code": sub_assembly, "qty": 1, "batch_no": plant.name("SA1")}]))
	assert recall.name in message and second.name in message


@pytest.mark.requirement("MT-RCL-003", "MT-RCL-002")
def test_closing_needs_every_unit_accounted_for_and_a_signature_and_releases_the_holds(plant):
	recall = signed_workflow_action(make_recall(plant, "RA"), "Scope Recall")
	for action in TO_CLOSING:
		recall = signed_workflow_action(recall, action)
	assert recall.status == "Effectiveness Check"
	message = refusal(lambda: signed_workflow_action(recall, "Close"))
	assert "units are not returned or corrected" in message
	assert not frappe.get_all("Electronic Signature", filters={"reference_name": recall.name})

	customer_a, customer_b = plant.customers["A"][0], plant.customers["B"][0]
	rows = {row.customer: row for row in recall.customers}
	rows[customer_a].units_returned = 2
	assert "2 Nos returned or corrected, but only 1 Nos were delivered" in refusal(recall.save)
	recall.reload()
	rows = {row.customer: row for row in recall.customers}
	rows[customer_a].update({"units_returned": 1, "acknowledged": 1})
	rows[customer_b].units_corrected = 1
	recall.save()
	assert recall.all_units_accounted_for
	assert customer_b in refusal(lambda: signed_workflow_action(recall, "Close"))  # B has not acknowledged
	rows = {row.customer: row for row in recall.customers}
	rows[customer_b].acknowledged = 1
	recall.save()

	assert "password" in refusal(lambda: signed_workflow_action(recall, "Close", password=""))
	recall.reload()
	recall.workflow_state = "Closed"
	assert isinstance(pytest.raises(SignatureError, recall.save).value, SignatureError)
	frappe.clear_messages()
	recall.reload()
	assert active_holds(recall.name) == {plant.name("RA"), plant.name("SA1")}

	closed = signed_workflow_action(recall, "Close")
	assert closed.status == "Closed"
	assert frappe.get_all("Electronic Signature", filters={"reference_name": recall.name}, pluck="meaning") == ["Closed"]
	assert active_holds(recall.name) == set()
	assert frappe.db.count("Recall Hold", {"recall": recall.name, "status": "Released", "released_on": ("is", "set")}) == 2
	customer_c, address_c = plant.customers["C"]
	deliver(plant, "DN-SA1", customer_c, address_c, [{"item_code": plant.items.sub_assembly, "qty": 1, "batch_no": plant.name("SA1")}])
	closed.reload()
	closed.reason = "Changed after closing"
	assert "closed and can no longer be changed" in refusal(closed.save)


@pytest.mark.requirement("MT-DRL-001")
def test_a_drill_scopes_the_same_population_and_holds_nothing(plant):
	drill = signed_workflow_action(make_recall(plant, "RA", is_drill=1), "Scope Recall")
	assert symbols_of(plant, drill.affected_units) == set(FORWARD["RA"])
	assert not frappe.get_all("Recall Hold", filters={"recall": drill.name})
	assert "a drill places no holds" in refusal(lambda: place_recall_holds(drill.name))
	customer_c, address_c = plant.customers["C"]
	deliver(plant, "DN-SA1", customer_c, address_c, [{"item_code": plant.items.sub_assembly, "qty": 1, "batch_no": plant.name("SA1")}])


def test_bad_input_is_refused_with_a_message(plant):
	def recall_with(scope):
		return lambda: frappe.get_doc(
			{"doctype": "Recall", "title": "Bad", "classification": "Class I", "trigger": "Complaint", "reason": "x", "scope": scope}
		).insert()

	assert "enter either a lot or a serial number" in refusal(recall_with([{}]))
	assert "enter either a lot or a serial number" in refusal(recall_with([{"batch_no": plant.name("RA"), "serial_no": plant.name("D1")}]))
	assert "listed twice" in refusal(recall_with([{"batch_no": plant.name("RA")}, {"batch_no": plant.name("RA")}]))
	assert "Could not find" in refusal(recall_with([{"batch_no": "NO-SUCH-LOT"}]))
	recall = make_recall(plant, "RA")
	assert "Scope recall" in refusal(lambda: place_recall_holds(recall.name))
	recall.customers = []
	recall.set("scope", [])
	assert "List the lots or serial numbers" in refusal(recall.save)
	assert "is not an action" in refusal(lambda: signed_workflow_action(make_recall(plant, "RA"), "Close"))


def test_scoping_and_holding_need_write_rights_on_the_recall(plant, user_with_role):
	recall = make_recall(plant, "RA")
	with acting_as(user_with_role(WAREHOUSE_OPERATOR)):
		with pytest.raises(frappe.PermissionError):
			scope_recall(recall.name)
		with pytest.raises(frappe.PermissionError):
			place_recall_holds(recall.name)


@pytest.mark.requirement("MT-RCL-002")
def test_concurrent_holds_for_overlapping_recalls_end_consistent(test_site):
	"""Four connections place the holds of two recalls sharing a lot at the same moment, each recall twice:
	each recall ends holding its lots once."""
	bench = frappe.local.sites_path
	item = make_item(has_batch_no=1, create_new_batch=1).name
	for _receipt in range(3):
		receive_stock(item, 5)
	lots = frappe.get_all("Batch", filters={"item": item}, pluck="name", order_by="creation")
	assert len(lots) == 3
	recalls = []
	for scope in (lots[:2], lots[1:]):
		recall = frappe.get_doc(
			{"doctype": "Recall", "title": "Concurrent holds", "classification": "Class II", "trigger": "Supplier Notice",
			 "reason": "Supplier notice", "scope": [{"batch_no": lot} for lot in scope]}
		).insert()
		scope_recall(recall.name)
		recalls.append(recall.name)
	frappe.db.commit()

	barrier, placed, errors = threading.Barrier(4), [], []

	def placer(recall: str) -> None:
		frappe.init(site=test_site, sites_path=bench)
		frappe.connect()
		frappe.set_user("Administrator")
		try:
			barrier.wait(timeout=30)
			placed.append(place_recall_holds(recall))
			frappe.db.commit()
		except Exception as error:  # noqa: BLE001 (reported by the test)
			errors.append(error)
		finally:
			frappe.destroy()

	threads = [threading.Thread(target=placer, args=(recall,)) for recall in (*recalls, *recalls)]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join(timeout=60)
	frappe.db.rollback()
	assert not errors, errors
	assert sorted(placed) == [0, 0, 2, 2]
	holds = frappe.get_all("Recall Hold", filters={"recall": ("in", recalls)}, fields=["recall", "batch_no"])
	assert sorted((hold.recall, hold.batch_no) for hold in holds) == sorted(
		[(recalls[0], lots[0]), (recalls[0], lots[1]), (recalls[1], lots[1]), (recalls[1], lots[2])]
	)
