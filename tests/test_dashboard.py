"""The MedTrace workspace's number cards and charts: installed, on the workspace, and counting real records."""

import json

import frappe
import pytest
from frappe.desk.doctype.dashboard_chart.dashboard_chart import get as get_chart
from frappe.desk.doctype.number_card.number_card import get_result

from factories import make_item

pytestmark = pytest.mark.requirement("MT-DSK-001")

CARDS = (
	"DHRs Awaiting Release", "Open Data Quality Exceptions", "Failed Integration Messages", "Pending Integration Messages",
	"Open Recalls",
)
CHARTS = ("Open Data Quality Exceptions by Severity", "Integration Messages by Status", "Trace Response Times")


def test_cards_and_charts_are_installed_and_on_the_workspace():
	workspace = frappe.get_doc("Workspace", "MedTrace")
	content = json.loads(workspace.content)
	# A workspace block names its item by the item's label (frappe/public/js/frappe/views/workspace/blocks/block.js).
	card_of_label = {row.label: row.number_card_name for row in workspace.number_cards}
	shown_cards = {card_of_label.get(block["data"]["number_card_name"]) for block in content if block["type"] == "number_card"}
	shown_charts = {block["data"]["chart_name"] for block in content if block["type"] == "chart"}
	for card in (*CARDS, UNACCOUNTED, DRILLS):
		assert frappe.db.get_value("Number Card", card, "is_standard") == 1, card
		assert card in shown_cards
	for chart in CHARTS:
		assert frappe.db.get_value("Dashboard Chart", chart, "is_standard") == 1, chart
		assert chart in shown_charts


UNACCOUNTED = "Recall Units Unaccounted For"
DRILLS = "Open Mock Recall Drills"


def card_value(name: str) -> int:
	card = frappe.get_doc("Number Card", name)
	return get_result(card.as_json(), card.filters_json)


@pytest.mark.parametrize("card", CARDS)
def test_each_card_counts_what_its_filters_select(card):
	record = frappe.get_doc("Number Card", card)
	before = card_value(card)
	assert before == frappe.db.count(record.document_type, json.loads(record.filters_json))
	add_matching_record(card)
	assert card_value(card) == before + 1


def add_matching_record(card: str) -> None:
	if card == "DHRs Awaiting Release":
		dhr = frappe.get_doc({"doctype": "Device History Record", "item": make_item(has_batch_no=1).name, "status": "Complete"})
		dhr.name = f"DHR-CARD-{frappe.generate_hash(length=6)}"
		dhr.db_insert()
	elif card == "Open Recalls":
		insert_recall(status="Notified", is_drill=0)
		insert_recall(status="Closed", is_drill=0)
		insert_recall(status="Notified", is_drill=1)
	elif card == "Open Data Quality Exceptions":
		exception = frappe.get_doc({"doctype": "Data Quality Exception", "status": "Open", "severity": "Major"})
		exception.name = f"DQE-CARD-{frappe.generate_hash(length=6)}"
		exception.db_insert()
	else:
		message = frappe.get_doc(
			{"doctype": "Integration Message", "status": "Failed" if card.startswith("Failed") else "Queued"}
		)
		message.name = f"MT-CARD:{frappe.generate_hash(length=6)}"
		message.db_insert()


def insert_recall(**values) -> None:
	recall = frappe.get_doc({"doctype": "Recall", "title": "Card", **values})
	recall.name = f"RCL-CARD-{frappe.generate_hash(length=6)}"
	recall.db_insert()


def test_unaccounted_card_counts_the_open_real_recalls_with_units_out_there():
	before = card_value(UNACCOUNTED)
	insert_recall(status="In Progress", is_drill=0, all_units_accounted_for=0)
	insert_recall(status="In Progress", is_drill=0, all_units_accounted_for=1)
	insert_recall(status="Closed", is_drill=0, all_units_accounted_for=0)
	insert_recall(status="In Progress", is_drill=1, all_units_accounted_for=0)
	assert card_value(UNACCOUNTED) == before + 1


def test_drills_are_counted_on_their_own_card_and_the_recall_cards_say_they_leave_them_out():
	"""A drill in progress is not a recall, but the dashboard must not hide it without saying so."""
	before = card_value(DRILLS)
	insert_recall(status="Notified", is_drill=1)
	insert_recall(status="Closed", is_drill=1)
	insert_recall(status="Notified", is_drill=0)
	assert card_value(DRILLS) == before + 1
	for card in frappe.get_all("Number Card", filters={"document_type": "Recall", "module": "MedTrace Setup"}, fields=["name", "label", "filters_json"]):
		if ["Recall", "is_drill", "=", 0] in json.loads(card.filters_json):
			assert card.label.endswith("(Excluding Drills)"), card.name


@pytest.mark.parametrize("chart", ["Trace Response Times", "Mock Recall Drill Times"])
def test_report_charts_draw_a_single_data_point(chart):
	"""A line through one point draws nothing (and errors in the browser): the workspace draws these charts as
	bars, and the reports draw one day or one drill as bars."""
	chart_doc = frappe.get_doc("Dashboard Chart", chart)
	assert chart_doc.type == "Bar"
	report = frappe.get_doc("Report", chart_doc.report_name)
	module = frappe.get_module(f"medtrace.{frappe.scrub(report.module)}.report.{frappe.scrub(report.name)}.{frappe.scrub(report.name)}")
	one_row = [frappe._dict(day=frappe.utils.getdate(), p50_ms=1, p95_ms=2, recall="RCL-1", scoped_on=frappe.utils.now_datetime(),
	                        back_trace_seconds=0.1, forward_trace_seconds=0.1, customer_list_seconds=0.1, mass_balance_seconds=0.1,
	                        accounted_for_seconds=None)]
	assert module.chart(one_row)["type"] == "bar"


def test_severity_chart_groups_open_exceptions():
	for severity in ("Critical", "Critical", "Minor"):
		exception = frappe.get_doc({"doctype": "Data Quality Exception", "status": "Open", "severity": severity})
		exception.name = f"DQE-CHART-{frappe.generate_hash(length=6)}"
		exception.db_insert()
	closed = frappe.get_doc({"doctype": "Data Quality Exception", "status": "Closed", "severity": "Critical"})
	closed.name = f"DQE-CHART-{frappe.generate_hash(length=6)}"
	closed.db_insert()
	data = get_chart(chart=frappe.get_doc("Dashboard Chart", "Open Data Quality Exceptions by Severity").as_json(), no_cache=1)
	counts = dict(zip(data["labels"], data["datasets"][0]["values"], strict=True))
	expected = frappe.db.sql(
		"select severity, count(*) from `tabData Quality Exception` where status = 'Open' group by severity"
	)
	assert counts == {severity: count for severity, count in expected}
	assert counts["Critical"] >= 2


@pytest.mark.requirement("MT-TRC-009")
def test_trace_response_times_are_recorded_and_reported():
	from medtrace.traceability.api import get_trace
	from medtrace.traceability.report.trace_response_times.trace_response_times import execute, percentile

	from factories import receive_stock

	item = make_item(has_batch_no=1, create_new_batch=1)
	receive_stock(item.name, 5)
	lot = frappe.db.get_value("Batch", {"item": item.name})
	for direction in ("backward", "forward", "forward"):
		get_trace(lot, direction=direction, depth=3)
	logged = frappe.get_all(
		"Trace Query Log", filters={"identifier": lot}, fields=["direction", "depth", "nodes", "duration_ms", "user"], order_by="traced_at"
	)
	assert [(row.direction, row.depth, row.user) for row in logged] == [
		("backward", 3, "Administrator"), ("forward", 3, "Administrator"), ("forward", 3, "Administrator")
	]
	assert all(row.nodes >= 1 and row.duration_ms > 0 for row in logged)

	today = frappe.utils.today()
	_columns, rows, _message, chart = execute({"from_date": today, "to_date": today})
	durations = frappe.get_all(
		"Trace Query Log", filters={"traced_at": (">=", today)}, pluck="duration_ms"
	)
	assert rows == [{"day": frappe.utils.getdate(today), "traces": len(durations), "p50_ms": percentile(durations, 0.5),
	                 "p95_ms": percentile(durations, 0.95), "max_ms": max(durations)}]
	assert [dataset["values"] for dataset in chart["data"]["datasets"]] == [[rows[0]["p50_ms"]], [rows[0]["p95_ms"]]]
	assert percentile([5, 1, 4, 2, 3], 0.5) == 3 and percentile(list(range(1, 101)), 0.95) == 95
