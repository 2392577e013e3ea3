"""Flat views of a trace (medtrace.traceability.engine.run_trace's result) that the exports and the
traceability reports share: deliveries per customer and lot, receipts per supplier and lot, how much of a
lot each product holds, and one serial number's life."""

from collections import defaultdict

from frappe import _

from medtrace.traceability.engine import RECEIVED, RETURNED_TO_SUPPLIER
from medtrace.traceability.trace_links import QTY_PRECISION, parse_node_key

CUSTOMER_EVENTS = ("Delivery", "Sales Return")
SUPPLIER_EVENTS = (*RECEIVED, *RETURNED_TO_SUPPLIER)


def translated(value: str | None) -> str | None:
	"""A name the trace holds as data (a doctype, event or status) in the user's language."""
	return _(value) if value else value


def report_columns(columns: list[dict]) -> list[dict]:
	"""A report's columns, text aligned left: the Desk's table aligns right a column whose first value is empty."""
	numeric = ("Float", "Int", "Currency", "Check")
	return [column if column["fieldtype"] in numeric else {**column, "align": "left"} for column in columns]


def node_columns() -> list[dict]:
	"""The columns naming a traced lot, serial number or Work Order, as the reports show them."""
	return [
		*record_columns(),
		{"fieldname": "udi", "label": _("UDI"), "fieldtype": "Data", "width": 240},
		{"fieldname": "qty", "label": _("Qty"), "fieldtype": "Float", "width": 80},
		{"fieldname": "uom", "label": _("UOM"), "fieldtype": "Data", "width": 70},
	]


def record_columns() -> list[dict]:
	"""The columns naming a lot, serial number or Work Order and its item."""
	return [
		{"fieldname": "name", "label": _("Lot / Serial No"), "fieldtype": "Dynamic Link", "options": "node_doctype", "width": 200},
		{"fieldname": "node_doctype", "label": _("Record Type"), "fieldtype": "Data", "hidden": 1},
		{"fieldname": "record_type", "label": _("Record Type"), "fieldtype": "Data", "width": 110},
		{"fieldname": "item", "label": _("Item"), "fieldtype": "Link", "options": "Item", "width": 140},
		{"fieldname": "item_name", "label": _("Item Name"), "fieldtype": "Data", "width": 160},
	]


def record_cells(node: dict) -> dict:
	"""A traced node's (or a row naming one's) values for record_columns."""
	return {
		"name": node["name"],
		"node_doctype": node["doctype"],
		"record_type": translated(node["doctype"]),
		"item": node["item"],
		"item_name": node["item_name"],
	}


def node_cells(node: dict) -> dict:
	"""A traced node's values for node_columns."""
	return {
		**record_cells(node),
		"udi": node["udi"],
		"qty": node["qty"],
		"uom": node["uom"],
	}


def documents_of(result: dict, party_type: str, events: tuple) -> dict[tuple, dict]:
	"""(party, node) → the documents and addresses of the party's movements of the node."""
	found = defaultdict(lambda: {"documents": {}, "addresses": []})
	for row in result["movements"]:
		if row["party_type"] == party_type and row["event"] in events:
			entry = found[(row["party"], row["node"])]
			entry["documents"][row["voucher_no"]] = row["voucher_type"]
			if row["address"] and row["address"] not in entry["addresses"]:
				entry["addresses"].append(row["address"])
	return found


def customer_deliveries(result: dict) -> list[dict]:
	"""One row per customer and lot or serial number delivered to them: quantities net of returns, the
	delivery notes and returns, and where it was shipped."""
	nodes = {node["node"]: node for node in result["nodes"]}
	documents = documents_of(result, "Customer", CUSTOMER_EVENTS)
	rows = []
	for customer in result["customers"]:
		addresses = {address["address"]: address for address in customer["addresses"]}
		for lot in customer["lots"]:
			found = documents[(customer["customer"], lot["node"])]
			rows.append(
				{
					"customer": customer["customer"],
					"customer_name": customer["customer_name"],
					"node": nodes.get(lot["node"], {}),
					"delivered_qty": lot["delivered_qty"],
					"returned_qty": lot["returned_qty"],
					"net_qty": lot["net_qty"],
					"documents": found["documents"],
					"addresses": [addresses.get(address, {"address": address}) for address in found["addresses"]],
				}
			)
	return rows


def supplier_lots(result: dict) -> list[dict]:
	"""One row per supplier and lot received from them, with the receipts and returns."""
	nodes = {node["node"]: node for node in result["nodes"]}
	documents = documents_of(result, "Supplier", SUPPLIER_EVENTS)
	return [
		{
			"supplier": supplier["supplier"],
			"supplier_name": supplier["supplier_name"],
			"node": nodes.get(lot["node"], {}),
			"supplier_lot": lot["supplier_lot"],
			"received_qty": lot["received_qty"],
			"returned_qty": lot["returned_qty"],
			"documents": documents[(supplier["supplier"], lot["node"])]["documents"],
		}
		for supplier in result["suppliers"]
		for lot in supplier["lots"]
	]


def component_quantities(result: dict) -> dict[str, float]:
	"""Forward trace: node → how much of the traced lot it holds, in the lot's unit. A product holds, of
	each node it was made from, what the link attributes to it; of that node's own share of the lot, the
	part per unit made. Work Orders pass on what was consumed for them to what they made."""
	nodes = {node["node"]: node for node in result["nodes"]}
	root = result["query"]["node"]
	incoming, outgoing = defaultdict(list), defaultdict(list)
	for link in result["edges"]:
		incoming[link["to"]].append(link)
		outgoing[link["from"]].append(link)
	share, held = {}, {}
	for key in topological_order(nodes, result["edges"]):
		node = nodes[key]
		if key == root or node["depth"] == 0:
			# The lot itself, and its serial numbers: a unit of each is a unit of the lot.
			share[key] = 1
			continue
		held[key] = round(
			sum(share[link["from"]] * link["attributed_qty"] for link in incoming[key] if link["from"] in share), QTY_PRECISION
		)
		made = sum(link["attributed_qty"] for link in outgoing[key]) if node["doctype"] == "Work Order" else node["qty"]
		share[key] = held[key] / made if made else 0
	return held


def topological_order(nodes: dict, links: list) -> list[str]:
	"""Every node after all it was made from; nodes on a cycle (a lot reworked into itself) last, by depth."""
	pending = {key: 0 for key in nodes}
	following = defaultdict(list)
	for link in links:
		pending[link["to"]] += 1
		following[link["from"]].append(link["to"])
	ready = sorted((key for key, count in pending.items() if not count), key=lambda key: (nodes[key]["depth"], key))
	order = []
	while ready:
		key = ready.pop()
		order.append(key)
		for after in following[key]:
			pending[after] -= 1
			if not pending[after]:
				ready.append(after)
	placed = set(order)
	return order + sorted((key for key in nodes if key not in placed), key=lambda key: (nodes[key]["depth"], key))


def serial_history(made: dict, used: dict) -> list[dict]:
	"""A serial number's life, from its backward (made) and forward (used) trace of one level: every
	movement, each with what it was made from or went into on that document, and its inspections, in
	time order. Each trace leaves to its links the making or the use it follows, which the other shows."""
	serial = made["query"]["node"]
	serial_no = parse_node_key(serial)[1]
	item = next(node["item"] for node in made["nodes"] if node["node"] == serial)
	related = defaultdict(list)
	for link in made["edges"]:
		if link["to"] == serial:
			related[link["voucher_no"]].append(link["from"])
	for link in used["edges"]:
		if link["from"] == serial:
			related[link["voucher_no"]].append(link["to"])
	movements = {}
	for row in (*made["movements"], *used["movements"]):
		if row["node"] == serial:
			movements.setdefault((row["voucher_type"], row["voucher_no"], row["event"], row["direction"], row["warehouse"]), row)
	vouchers = {row["voucher_no"] for row in movements.values()}
	inspections = {
		inspection["quality_inspection"]: inspection
		for inspection in (*made["quality_inspections"], *used["quality_inspections"])
		if inspection["serial_no"] == serial_no
		or (not inspection["serial_no"] and not inspection["batch_no"] and inspection["item"] == item
		    and inspection["reference_name"] in vouchers)
	}
	rows = [
		{**row, "related": sorted(set(related[row["voucher_no"]])), "status": None}
		for row in movements.values()
	]
	rows += [
		{
			"node": serial, "event": inspection["inspection_type"], "direction": None, "qty": None, "warehouse": None,
			"voucher_type": "Quality Inspection", "voucher_no": inspection["quality_inspection"],
			"posting_datetime": inspection["inspected_at"], "party_type": None, "party": None, "address": None,
			"related": [], "status": inspection["status"],
		}
		for inspection in inspections.values()
	]
	return sorted(rows, key=lambda row: (row["posting_datetime"], row["direction"] != "In", row["voucher_no"]))


def customer_devices(result: dict) -> list[dict]:
	"""A customer's trace (backward from every lot and serial number delivered to it): one row per lot or
	serial number with its UDI, deliveries and returns, whether it is still held, and what it contains —
	every lot and serial number upstream of it, and the supplier lots among them: what a field action
	letter lists per customer."""
	nodes = {node["node"]: node for node in result["nodes"]}
	made_from = defaultdict(set)
	for link in result["edges"]:
		made_from[link["to"]].add(link["from"])
	supplier_of = {lot["node"]: supplier["supplier"] for supplier in result["suppliers"] for lot in supplier["lots"]}
	first_delivered = {}
	for row in result["movements"]:
		if row["event"] == "Delivery" and row["node"] not in first_delivered:
			first_delivered[row["node"]] = row["posting_datetime"]
	rows = []
	for delivered in customer_deliveries(result):
		node = delivered["node"]
		if not node:
			continue
		upstream = sorted(ancestors(node["node"], made_from) & set(nodes), key=lambda key: (nodes[key]["depth"], key))
		rows.append(
			{
				"customer": delivered["customer"],
				"customer_name": delivered["customer_name"],
				"node": node["node"],
				"name": node["name"],
				"doctype": node["doctype"],
				"item": node["item"],
				"item_name": node["item_name"],
				"lot": node["lot"],
				"serial_no": node["serial_no"],
				"udi": node["udi"],
				"delivered_qty": delivered["delivered_qty"],
				"returned_qty": delivered["returned_qty"],
				"net_qty": delivered["net_qty"],
				"return_status": return_status(delivered),
				"documents": delivered["documents"],
				"addresses": delivered["addresses"],
				"first_delivered": first_delivered.get(node["node"]),
				"contains": [nodes[key]["name"] for key in upstream if nodes[key]["doctype"] != "Work Order"],
				"supplier_lots": [
					f"{nodes[key]['supplier_lot']} ({supplier_of[key]})" if supplier_of.get(key) else nodes[key]["supplier_lot"]
					for key in upstream if nodes[key]["supplier_lot"]
				],
			}
		)
	return sorted(rows, key=lambda row: (row["item"] or "", row["lot"] or "", row["name"]))


def ancestors(key: str, made_from: dict) -> set[str]:
	"""Every node a node was made from, at any level (cycles end)."""
	found, pending = set(), [key]
	while pending:
		for parent in made_from[pending.pop()]:
			if parent not in found:
				found.add(parent)
				pending.append(parent)
	found.discard(key)
	return found


def return_status(delivered: dict) -> str:
	if not delivered["returned_qty"]:
		return _("Still Held")
	return _("Returned") if delivered["net_qty"] <= 0 else _("Partly Returned")
