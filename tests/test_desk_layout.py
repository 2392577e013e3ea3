"""What the Desk shows a quality team, checked for everything MedTrace ships (so later additions are covered):
the workspace per role, table columns that fit their grids, every dashboard label in Chinese, the DHR's
evidence print, the Change Request's changes table."""

import json

import frappe
import pytest
from frappe.desk.desktop import get_desktop_page
from frappe.translate import get_all_translations

from factories import acting_as, can_sign, make_device_identifier, released
from medtrace.setup.permissions import QUALITY_APPROVER, QUALITY_ROLES
from test_dhr import complete_lot, production, release_as  # noqa: F401 (fixture)
from test_roles import user_with_role  # noqa: F401 (fixture)

pytestmark = pytest.mark.requirement("MT-DSK-002")

# Frappe's grid has ten column units; fields listed beyond them are silently not shown.
GRID_COLUMNS = 10
# Columns Frappe gives a field without "columns" in a grid (frappe/public/js/frappe/form/grid_row.js).
DEFAULT_COLUMNS = {"Check": 1, "Int": 1, "Float": 1, "Currency": 1, "Percent": 1}


def medtrace_modules() -> list[str]:
	return frappe.get_all("Module Def", filters={"app_name": "medtrace"}, pluck="name")


def allowed(user: str, link_type: str, link_to: str) -> bool:
	"""Whether the user may open what a workspace item links to."""
	if link_type == "DocType":
		return bool(frappe.has_permission(link_to, "read", user=user))
	if link_type == "Page":
		page_roles = set(frappe.get_all("Has Role", filters={"parent": link_to, "parenttype": "Page"}, pluck="role"))
		return not page_roles or bool(page_roles & set(frappe.get_roles(user)))
	if link_type == "Report":
		return frappe.get_doc("Report", link_to).is_permitted()  # for the session's user
	return True


# The operators work from UDI Scan and stock documents; the MedTrace workspace (module MedTrace Setup) is the
# quality team's.
@pytest.mark.parametrize("role", QUALITY_ROLES)
@pytest.mark.requirement("MT-DSK-001")
def test_each_quality_role_sees_every_workspace_item_it_may_open(user_with_role, role):  # noqa: F811
	user = user_with_role(role)
	workspace = frappe.get_doc("Workspace", "MedTrace")
	with acting_as(user):
		frappe.clear_cache(user=user)
		page = get_desktop_page(json.dumps({"name": workspace.name, "title": workspace.title, "public": 1}))
		shown_shortcuts = {item["link_to"] for item in page["shortcuts"]["items"]}
		shown_links = {link["link_to"] for card in page["cards"]["items"] for link in card["links"]}
		for shortcut in workspace.shortcuts:
			if allowed(user, shortcut.type, shortcut.link_to):
				assert shortcut.link_to in shown_shortcuts, f"{role} may open {shortcut.link_to} but has no shortcut to it"
		for link in workspace.links:
			if link.type == "Link" and allowed(user, link.link_type, link.link_to):
				assert link.link_to in shown_links, f"{role} may open {link.link_to} but its card omits it"
	assert "udi-scan" in shown_shortcuts or not allowed(user, "Page", "udi-scan")


def test_workspace_links_name_what_exists():
	"""A shortcut or link to a page, report or doctype that does not exist is shown to nobody but Administrator."""
	workspace = frappe.get_doc("Workspace", "MedTrace")
	targets = [(item.type, item.link_to) for item in workspace.shortcuts] + [
		(link.link_type, link.link_to) for link in workspace.links if link.type == "Link"
	]
	for link_type, link_to in targets:
		assert frappe.db.exists(link_type, link_to), f"{link_type} {link_to}"


def test_every_grid_shows_all_its_list_columns():
	for doctype in frappe.get_all("DocType", filters={"istable": 1, "module": ("in", medtrace_modules())}, pluck="name"):
		fields = [df for df in frappe.get_meta(doctype).fields if df.in_list_view and not df.hidden]
		width = sum(df.columns or DEFAULT_COLUMNS.get(df.fieldtype, 2) for df in fields)
		assert width <= GRID_COLUMNS, f"{doctype}: {[(df.fieldname, df.columns) for df in fields]} take {width} columns"


@pytest.mark.requirement("MT-DSK-003")
def test_every_dashboard_and_workspace_label_has_a_chinese_translation():
	translations = get_all_translations("zh")
	workspace = frappe.get_doc("Workspace", "MedTrace")
	labels = {workspace.label}
	labels |= {row.label for row in workspace.shortcuts + workspace.links + workspace.charts + workspace.number_cards if row.label}
	modules = medtrace_modules()
	labels |= set(frappe.get_all("Number Card", filters={"module": ("in", modules)}, pluck="label"))
	labels |= set(frappe.get_all("Dashboard Chart", filters={"module": ("in", modules)}, pluck="chart_name"))
	missing = sorted(label for label in labels if label not in translations)
	assert missing == []


@pytest.mark.requirement("MT-DSK-003")
def test_release_wording_and_signature_time_in_chinese():
	translations = get_all_translations("zh")
	assert translations["Released"] == "已放行"
	assert translations["Signed On"] == "签名时间" != translations["Signature"]


@pytest.mark.requirement("MT-CC-001")
def test_change_request_changes_show_the_field_label_and_its_value():
	di = released(make_device_identifier(storage_conditions="Store below 25 °C"))
	change_request = frappe.get_doc(
		{
			"doctype": "Change Request", "title": "Storage conditions", "change_type": "Labeling", "description": "Stability data",
			"risk_level": "Low",
			"affected_records": [{"reference_doctype": "UDI Device Identifier", "reference_name": di.name}],
			"proposed_changes": [{"reference_doctype": "UDI Device Identifier", "reference_name": di.name,
			                      "fieldname": "storage_conditions", "new_value": "Store below 30 °C"}],
			"approval_requirements": [{"role": "MedTrace Quality Approver", "approvals_needed": 1}],
		}
	).insert()
	change = change_request.proposed_changes[0]
	assert (change.field_label, change.current_value) == ("Storage and Handling Conditions", "Store below 25 °C")
	grid = [df.fieldname for df in frappe.get_meta("Change Request Change").fields if df.in_list_view]
	assert "field_label" in grid and "fieldname" not in grid


@pytest.mark.requirement("MT-DHR-004", "MT-SIG-005")
def test_dhr_evidence_prints_the_signing_reason_and_readable_values(production, user_with_role):  # noqa: F811
	lot_dhr, _leak = complete_lot(production)
	release_as(can_sign(user_with_role(QUALITY_APPROVER)), lot_dhr.name)
	printed = " ".join(frappe.get_print("Device History Record", lot_dhr.name, "Device History Record").split())
	assert "Reason / Comment: Lot reviewed" in printed
	recorded_at = frappe.get_doc("Device History Record", lot_dhr.name).parameters[0].recorded_at
	assert frappe.utils.format_datetime(recorded_at) in printed and str(recorded_at) not in printed
	assert "In Specification" in printed and "<td>Yes</td>" in printed.replace("> <", "><")
	assert "BOM / Routing" not in printed and f"<td>{production.bom}</td>" in printed


@pytest.mark.requirement("MT-TRC-008")
def test_trace_link_lists_and_reports_show_items_not_node_keys():
	columns = {df.fieldname for df in frappe.get_meta("Trace Link").fields if df.in_list_view}
	assert {"from_item", "to_item", "qty"} <= columns
	assert not columns & {"from_node", "to_node"}


@pytest.mark.parametrize(
	("block_type", "key", "table"),
	[("shortcut", "shortcut_name", "shortcuts"), ("number_card", "number_card_name", "number_cards"), ("chart", "chart_name", "charts"),
	 ("card", "card_name", "links")],
)
def test_every_workspace_block_finds_its_item(block_type, key, table):
	"""The Desk draws a workspace block from the item whose label is the block's name
	(frappe/public/js/frappe/views/workspace/blocks/block.js): a block naming no item's label shows nothing."""
	workspace = frappe.get_doc("Workspace", "MedTrace")
	labels = {row.label for row in workspace.get(table) if table != "links" or row.type == "Card Break"}
	blocks = [block["data"][key] for block in json.loads(workspace.content) if block["type"] == block_type]
	assert blocks and [name for name in blocks if name not in labels] == []
