"""Mass balance and mock recall drills on the trace scenario of test_trace_links: every scenario lot's
balance worked out by hand, the exact gap a lost consumption record leaves, a drill's timings and accuracy
and what it must not leave behind, the drill history report, and the recall report PDF."""

import io
import unicodedata

import frappe
import pytest
from factories import acting_as, signed_workflow_action
from frappe.desk.query_report import run as run_report
from frappe.utils import flt, today
from medtrace.recall.mass_balance import recalculate_mass_balance
from medtrace.setup.permissions import WAREHOUSE_OPERATOR
from medtrace.traceability.trace_links import node_key
from pypdf import PdfReader
from test_recall import TO_CLOSING, make_recall, refusal
from test_roles import user_with_role  # noqa: F401 (fixture)
from test_trace_links import FINISHED, FORWARD, STORES, plant_fixtures

pytestmark = pytest.mark.requirement("MT-RCL-004")

BALANCE_COLUMNS = ("qty_received", "qty_consumed", "qty_in_stock", "qty_delivered", "qty_returned", "qty_scrapped", "qty_unexplained")


built_plant, plant = plant_fixtures()


def balances(plant, recall) -> dict[str, tuple]:
	"""The recall's mass balance by lot symbol: the columns in BALANCE_COLUMNS' order, then balanced."""
	return {
		plant.symbol(node_key("Batch", row.batch_no)): (*(flt(row.get(column)) for column in BALANCE_COLUMNS), row.balanced)
		for row in recall.mass_balance
	}


def expected_population(plant, symbols) -> str:
	return "\n".join(plant.name(symbol) for symbol in symbols)


def test_every_scenario_lot_balances_to_zero_unexplained(plant):
	recall = signed_workflow_action(make_recall(plant, "RA", "RB", "TT"), "Scope Recall")
	# Worked out from the scenario: received, consumed into other lots, on hand, delivered, returned, scrapped,
	# unexplained. RA: 12 went into SA1; RB: 8 into SA1 and 20 into SA2; TT: 10 into each; SA1: 2 into
	# D1-D4 (DEV-2's 2 were cancelled); SA2: 2 into D1-D4 and 2 into D5-D6, 3 delivered to C, 1 returned.
	assert balances(plant, recall) == {
		"RA": (100, 12, 88, 0, 0, 0, 0, 1),
		"RB": (100, 28, 72, 0, 0, 0, 0, 1),
		"TT": (50, 20, 30, 0, 0, 0, 0, 1),
		"SA1": (10, 2, 8, 0, 0, 0, 0, 1),
		"SA2": (10, 4, 4, 3, 1, 0, 0, 1),
	}
	on_hand = {plant.symbol(node_key("Batch", row.batch_no)): row.stock_by_warehouse for row in recall.mass_balance}
	assert on_hand == {"RA": f"{STORES}: 88", "RB": f"{STORES}: 72", "TT": f"{STORES}: 30", "SA1": f"{FINISHED}: 8", "SA2": f"{FINISHED}: 4"}
	assert recalculate_mass_balance(recall.name) == {"lots": 5, "unbalanced": {}}


def test_a_lost_consumption_record_shows_as_the_exact_gap(plant, monkeypatch):
	recall = signed_workflow_action(make_recall(plant, "RA"), "Scope Recall")
	assert {row.batch_no: row.balanced for row in recall.mass_balance} == {plant.name("RA"): 1, plant.name("SA1"): 1}
	# The genealogy loses the record of RA's 12 going into SA1 (WO1's manufacture).
	lost = {"link_type": "Consumption", "from_node": plant.nodes["RA"], "to_node": plant.nodes["SA1"], "voided": 0}
	assert frappe.db.count("Trace Link", lost) == 1
	frappe.db.delete("Trace Link", lost)

	assert recalculate_mass_balance(recall.name) == {"lots": 2, "unbalanced": {plant.name("RA"): 12}}
	recall.reload()
	assert balances(plant, recall)["RA"] == (100, 0, 88, 0, 0, 0, 12, 0)
	assert balances(plant, recall)["SA1"][-2:] == (0, 1)
	unbalanced = frappe.get_all("Recall Mass Balance", filters={"parent": recall.name, "balanced": 0}, pluck="batch_no")
	assert unbalanced == [plant.name("RA")]
	# Frappe's Access Log of the print commits the transaction, lost record included, unless in its test mode.
	monkeypatch.setattr(frappe.flags, "in_test", True)
	html = frappe.get_print("Recall", recall.name, "Recall Report")
	assert '<td class="rr-unexplained">12</td>' in html


@pytest.mark.requirement("MT-DRL-001")
def test_a_drill_is_timed_checked_against_its_expected_population_and_leaves_nothing_behind(plant):
	ledger_entries, emails = frappe.db.count("Stock Ledger Entry"), frappe.db.count("Email Queue")
	drill = make_recall(plant, "RA", is_drill=1, expected_population=expected_population(plant, FORWARD["RA"]))
	drill = signed_workflow_action(drill, "Scope Recall")
	timings = ("back_trace_seconds", "forward_trace_seconds", "customer_list_seconds", "mass_balance_seconds")
	assert all(0 < drill.get(timing) < 5 for timing in timings), {timing: drill.get(timing) for timing in timings}
	assert (drill.drill_accuracy, drill.drill_missed, drill.drill_unexpected) == (100, None, None)
	assert all(row.balanced for row in drill.mass_balance) and len(drill.mass_balance) == 2

	# A wrong expectation: the engineer listed RB's population. Found ∩ expected = SA1, D1-D4, K1, K2 (7);
	# found ∪ expected adds RA and RB, SA2, D5, D6, K3 (13).
	drill.expected_population = expected_population(plant, FORWARD["RB"])
	drill.save()
	assert drill.drill_accuracy == flt(100 * 7 / 13, 2) < 100
	assert set(drill.drill_missed.split("\n")) == {plant.name(symbol) for symbol in ("RB", "SA2", "D5", "D6", "K3")}
	assert drill.drill_unexpected == plant.name("RA")
	drill.expected_population = expected_population(plant, FORWARD["RA"])
	drill.save()
	assert drill.drill_accuracy == 100

	assert not drill.accounted_for_on  # A and B hold a case each
	for row in drill.customers:
		row.update({"acknowledged": 1, "units_returned": row.units_delivered})
	drill.save()
	assert drill.accounted_for_on and drill.accounted_for_seconds > 0
	for action in (*TO_CLOSING, "Close"):
		drill = signed_workflow_action(drill, action)
	assert drill.status == "Closed"

	assert not frappe.get_all("Recall Hold", filters={"recall": drill.name})
	assert frappe.db.count("Email Queue") == emails
	assert frappe.db.count("Stock Ledger Entry") == ledger_entries


@pytest.mark.requirement("MT-DRL-002")
def test_the_drill_history_lists_drills_with_their_timings_and_a_chart(plant):
	drill = signed_workflow_action(
		make_recall(plant, "SA2", is_drill=1, expected_population=expected_population(plant, FORWARD["SA2"])), "Scope Recall"
	)
	real = signed_workflow_action(make_recall(plant, "SA1"), "Scope Recall")
	report = run_report("Mock Recall Drill History", filters={"from_date": today(), "to_date": today()})
	rows = {row["recall"]: row for row in report["result"]}
	assert drill.name in rows and real.name not in rows
	row = rows[drill.name]
	assert (row["drill_accuracy"], row["affected_units"], row["unbalanced_lots"]) == (100, len(drill.affected_units), 0)
	assert row["forward_trace_seconds"] == pytest.approx(drill.forward_trace_seconds, abs=1e-3) and row["forward_trace_seconds"] > 0
	datasets = {dataset["name"]: dataset["values"] for dataset in report["chart"]["data"]["datasets"]}
	assert list(datasets) == ["Back Trace (ms)", "Forward Trace (ms)", "Customer List (ms)", "Mass Balance (ms)"]
	position = next(index for index, label in enumerate(report["chart"]["data"]["labels"]) if drill.name in label)
	assert datasets["Forward Trace (ms)"][position] == round(drill.forward_trace_seconds * 1000)
	assert "after To Date" in refusal(lambda: run_report("Mock Recall Drill History", filters={"from_date": today(), "to_date": "2000-01-01"}))

	assert frappe.db.get_value("Dashboard Chart", "Mock Recall Drill Times", ["report_name", "is_standard"]) == ("Mock Recall Drill History", 1)
	workspace = frappe.get_doc("Workspace", "MedTrace")
	assert "Mock Recall Drill Times" in {chart.chart_name for chart in workspace.charts}
	assert "Mock Recall Drill Times" in workspace.content


@pytest.mark.requirement("MT-RCL-006")
def test_the_recall_report_renders_to_pdf(plant, web_server, monkeypatch):
	drill = signed_workflow_action(
		make_recall(plant, "RA", is_drill=1, expected_population=expected_population(plant, FORWARD["RA"])), "Scope Recall"
	)
	monkeypatch.setattr(frappe.flags, "in_test", True)  # as above: the print's Access Log would commit
	pdf = frappe.get_print("Recall", drill.name, "Recall Report", as_pdf=True)
	# The PDF's text with its ligatures (ﬁ, ﬀ) as letters and its tabs as spaces.
	text = " ".join(unicodedata.normalize("NFKC", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages)
	text = " ".join(text.split())
	assert drill.name in text
	for heading in ("Mock Recall (Drill)", "Mass Balance", "Drill Accuracy", "Affected Units", "Electronic Signatures"):
		assert heading in text, heading
	# Table cells wrap long names.
	compact = "".join(text.split())
	assert plant.name("SA1") in compact and "".join(plant.customers["A"][0].split()) in compact


def test_recalculating_the_mass_balance_refuses_bad_input(plant, user_with_role):
	assert "does not exist" in refusal(lambda: recalculate_mass_balance("RCL-NO-SUCH-RECALL"))
	recall = make_recall(plant, "RA")
	assert "Scope recall" in refusal(lambda: recalculate_mass_balance(recall.name))
	with acting_as(user_with_role(WAREHOUSE_OPERATOR)), pytest.raises(frappe.PermissionError):
		recalculate_mass_balance(recall.name)
