"""Trace links: the genealogy of lots and serial numbers, kept from submitted stock transactions.

ERPNext records what a voucher moved in its Serial and Batch Bundles (one per voucher row and direction,
one entry per batch or serial number) but not what became what. When a stock-moving voucher is submitted
MedTrace reads its bundles and writes Trace Links of two kinds:

Consumption — the genealogy the trace engine walks:
- Manufacture, Repack, Disassemble: every input lot/serial → every output lot/serial of the same entry.
  ERPNext does not record which input went into which output, so every pairing is kept; traces err
  towards too many devices, never too few.
- Manufacture against a Work Order also links the Work Order → each output, and a Material Consumption
  for Manufacture entry links its inputs → the Work Order: material consumed for a Work Order separately
  reaches every lot/serial the Work Order makes, whichever Manufacture entry makes it.
- Subcontracting Receipt: the supplied lots/serials of a row → the lots/serials received on that row.

Movement — one link per bundle entry: a lot/serial going into or out of a warehouse (receipt, transfer,
issue, production, consumption, delivery, return, reconciliation), with the voucher's supplier or customer
as the To node.

Quantity attribution on Consumption links: qty is what the voucher consumed of the input; output_qty what
it produced of the output; attributed_qty = qty × output_qty ÷ the voucher's total output quantity (for a
Stock Entry all its output rows, tracked or not, in stock UOM; for a Subcontracting Receipt the received
row's lots/serials). The attributed quantities of an input therefore add up to what was consumed of it,
less the share of untracked outputs.

Links depend on their voucher alone, so hooks and a rebuild write the same links in any order. Cancelling a
voucher voids its links (kept, flagged, ignored by the engine); an amendment is a new voucher whose submit
writes new links.

Trace Node Stock is kept with the links: per lot and warehouse, the quantity in stock and the quantity that
came in (received, produced, counted in as opening stock). A trace shows every traced lot's stock; summed
from the lot's movements, that cost grows with the lot's use — a raw-material lot consumed into thousands of
sub-assemblies has thousands of movements, read at every trace through it. Kept, it is one row per lot and
warehouse. Its rows are named by a hash of lot and warehouse, so a voucher adds its quantities in one insert
that adds to existing rows; vouchers moving one lot at the same time wait on its row, as on ERPNext's Bins.
Serial numbers need no such table: ERPNext keeps a serial number's warehouse.
"""

import hashlib
from collections import defaultdict

import frappe
from erpnext.stock.utils import get_combine_datetime
from frappe.query_builder import DocType
from frappe.query_builder.functions import Sum
from frappe.utils import flt, now_datetime

TRACED_VOUCHER_TYPES = (
	"Purchase Receipt",
	"Purchase Invoice",
	"Subcontracting Receipt",
	"Delivery Note",
	"Sales Invoice",
	"Stock Entry",
	"Stock Reconciliation",
)
PROCESS_PURPOSES = ("Manufacture", "Repack", "Disassemble")
STOCK_ENTRY_EVENTS = {
	"Material Receipt": "Material Receipt",
	"Material Issue": "Material Issue",
	"Material Consumption for Manufacture": "Consumption",
	"Send to Subcontractor": "Send to Subcontractor",
}
# Voucher fields naming the party on the other side and its address (a customer's shipping address first).
PARTIES = {
	"Purchase Receipt": ("Supplier", "supplier", ("supplier_address",)),
	"Purchase Invoice": ("Supplier", "supplier", ("supplier_address",)),
	"Subcontracting Receipt": ("Supplier", "supplier", ("supplier_address",)),
	"Delivery Note": ("Customer", "customer", ("shipping_address_name", "customer_address")),
	"Sales Invoice": ("Customer", "customer", ("shipping_address_name", "customer_address")),
	"Stock Entry": ("Supplier", "supplier", ("supplier_address",)),
}
LINK_FIELDS = (
	"link_type", "event", "direction", "voucher_type", "voucher_no", "voucher_detail_no", "posting_datetime",
	"voided", "from_node", "from_lot_node", "from_item", "from_warehouse", "qty", "to_node", "to_lot_node",
	"to_item", "to_warehouse", "output_qty", "attributed_qty", "company", "party_type", "party", "address",
	"work_order", "bom", "is_return", "return_against",
)
# Numeric columns are NOT NULL.
NUMERIC_DEFAULTS = dict.fromkeys(("voided", "qty", "output_qty", "attributed_qty", "is_return"), 0)
# Quantities are stored as decimal(21,9).
QTY_PRECISION = 9
# Movements through which a lot or serial comes into the company's hands: the node's quantity.
ORIGIN_EVENTS = frozenset({"Receipt", "Production", "Material Receipt", "Subcontract Receipt", "Opening Stock"})
STOCK_ROWS_PER_STATEMENT = 1_000


def node_key(doctype: str, name: str | None) -> str | None:
	return f"{doctype}::{name}" if name else None


def parse_node_key(key: str) -> tuple[str, str]:
	doctype, _separator, name = key.partition("::")
	return doctype, name


def record_trace_links(doc, method=None) -> None:
	"""on_submit of stock-moving vouchers."""
	insert_links(links_of_voucher(doc.doctype, doc.name))


def void_trace_links(doc, method=None) -> None:
	"""on_cancel of stock-moving vouchers: the links stay, flagged, for the record of what was undone."""
	TraceLink = DocType("Trace Link")
	voided = (
		frappe.qb.from_(TraceLink)
		.select(TraceLink.link_type, TraceLink.from_node, TraceLink.direction, TraceLink.event, TraceLink.qty,
		        TraceLink.from_warehouse, TraceLink.to_warehouse)
		.where((TraceLink.voucher_type == doc.doctype) & (TraceLink.voucher_no == doc.name) & (TraceLink.voided == 0)
		       & (TraceLink.link_type == "Movement"))
		.run(as_dict=True)
	)
	add_to_node_stock(voided, sign=-1)
	(
		frappe.qb.update(TraceLink)
		.set(TraceLink.voided, 1)
		.set(TraceLink.modified, now_datetime())
		.set(TraceLink.modified_by, frappe.session.user)
		.where((TraceLink.voucher_type == doc.doctype) & (TraceLink.voucher_no == doc.name) & (TraceLink.voided == 0))
		.run()
	)


@frappe.whitelist(methods=["POST"])
def rebuild_trace_links() -> dict:
	"""Recreate every Trace Link from ERPNext's Serial and Batch Bundles: links of submitted vouchers, and
	voided links of cancelled ones. Safe to run again; runs in one transaction."""
	frappe.only_for("System Manager")
	frappe.db.delete("Trace Link")
	frappe.db.delete("Trace Node Stock")
	vouchers = links = 0
	for voucher_type, voucher_no in traced_vouchers():
		written = links_of_voucher(voucher_type, voucher_no)
		insert_links(written)
		vouchers += 1
		links += len(written)
	return {"vouchers": vouchers, "links": links}


def traced_vouchers() -> list[tuple[str, str]]:
	"""Submitted and cancelled vouchers that moved a lot or serial number."""
	Bundle = DocType("Serial and Batch Bundle")
	vouchers = []
	for voucher_type in TRACED_VOUCHER_TYPES:
		Voucher = DocType(voucher_type)
		vouchers += (
			frappe.qb.from_(Bundle)
			.join(Voucher)
			.on(Voucher.name == Bundle.voucher_no)
			.select(Bundle.voucher_type, Bundle.voucher_no)
			.distinct()
			.where((Bundle.voucher_type == voucher_type) & (Voucher.docstatus > 0))
			.orderby(Bundle.voucher_no)
			.run()
		)
	return vouchers


def insert_links(links: list[dict]) -> None:
	if not links:
		return
	now, user = now_datetime(), frappe.session.user
	frappe.db.bulk_insert(
		"Trace Link",
		fields=["name", "creation", "modified", "owner", "modified_by", *LINK_FIELDS],
		values=[
			# 16 hex digits: no name collision to fear among millions of links.
			(frappe.generate_hash(length=16), now, now, user, user, *(link.get(field, NUMERIC_DEFAULTS.get(field)) for field in LINK_FIELDS))
			for link in links
		],
	)
	add_to_node_stock(links)


def stock_row_name(node: str, warehouse: str | None) -> str:
	return hashlib.md5(f"{node}\x1f{warehouse or ''}".encode()).hexdigest()


def add_to_node_stock(links: list[dict], sign: int = 1) -> None:
	"""Add (sign 1) or take back (sign -1) the lot movements among links to Trace Node Stock."""
	changes = defaultdict(lambda: [0.0, 0.0])
	for link in links:
		if link["link_type"] != "Movement" or link.get("voided") or not link["from_node"].startswith("Batch::"):
			continue
		qty = flt(link["qty"]) * sign
		change = changes[(link["from_node"], link.get("to_warehouse") or link.get("from_warehouse"))]
		change[0] += qty if link["direction"] == "In" else -qty
		if link["direction"] == "In" and link["event"] in ORIGIN_EVENTS:
			change[1] += qty
	now, user = now_datetime(), frappe.session.user
	# In one order, so that two vouchers moving the same lots lock their rows in the same order.
	rows = [
		(stock_row_name(node, warehouse), now, now, user, user, node, warehouse,
		 round(balance, QTY_PRECISION), round(received, QTY_PRECISION))
		for (node, warehouse), (balance, received) in sorted(changes.items(), key=lambda change: (change[0][0], change[0][1] or ""))
	]
	for start in range(0, len(rows), STOCK_ROWS_PER_STATEMENT):
		chunk = rows[start : start + STOCK_ROWS_PER_STATEMENT]
		frappe.db.sql(
			f"""insert into `tabTrace Node Stock`
				(name, creation, modified, owner, modified_by, node, warehouse, balance_qty, received_qty)
			values {", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))}
			on duplicate key update balance_qty = balance_qty + values(balance_qty),
				received_qty = received_qty + values(received_qty), modified = values(modified),
				modified_by = values(modified_by)""",
			[value for row in chunk for value in row],
		)


def rebuild_node_stock() -> None:
	"""Every lot's Trace Node Stock anew from its Trace Links, in one statement: for a migration, and for
	links written in bulk."""
	frappe.db.delete("Trace Node Stock")
	now, user = now_datetime(), frappe.session.user
	frappe.db.sql(
		"""insert into `tabTrace Node Stock`
			(name, creation, modified, owner, modified_by, node, warehouse, balance_qty, received_qty)
		select md5(concat(from_node, char(31), coalesce(to_warehouse, from_warehouse, ''))), %(now)s, %(now)s,
			%(user)s, %(user)s, from_node, coalesce(to_warehouse, from_warehouse),
			sum(if(direction = 'In', qty, -qty)), sum(if(direction = 'In' and event in %(origin)s, qty, 0))
		from `tabTrace Link`
		where link_type = 'Movement' and voided = 0 and from_node like 'Batch::%%'
		group by from_node, coalesce(to_warehouse, from_warehouse)""",
		{"now": now, "user": user, "origin": tuple(ORIGIN_EVENTS)},
	)


def links_of_voucher(voucher_type: str, voucher_no: str) -> list[dict]:
	"""The links a submitted voucher makes; for a cancelled voucher, the same links voided."""
	voucher = voucher_header(voucher_type, voucher_no)
	if not voucher.docstatus or voucher.get("update_stock") == 0:
		return []
	entries = bundle_entries(voucher)
	if not entries:
		return []
	supplied_rows = subcontract_supplied_rows(voucher) if voucher_type == "Subcontracting Receipt" else {}
	return [
		*movement_links(voucher, entries, supplied_rows),
		*consumption_links(voucher, entries, supplied_rows),
	]


def voucher_header(voucher_type: str, voucher_no: str) -> frappe._dict:
	fields = ["name", "docstatus", "company", "posting_date", "posting_time"]
	if voucher_type in ("Stock Entry", "Stock Reconciliation"):
		fields += ["purpose"]
	if voucher_type == "Stock Entry":
		fields += ["is_return", "work_order", "bom_no"]
	elif voucher_type != "Stock Reconciliation":
		fields += ["is_return", "return_against"]
	if voucher_type in ("Purchase Invoice", "Sales Invoice"):
		fields += ["update_stock"]
	party = PARTIES.get(voucher_type)
	if party:
		fields += [party[1], *party[2]]
	voucher = frappe.db.get_value(voucher_type, voucher_no, fields, as_dict=True)
	voucher.voucher_type = voucher_type
	voucher.posting_datetime = get_combine_datetime(voucher.posting_date, voucher.posting_time)
	voucher.party_type = party[0] if party and voucher.get(party[1]) else None
	voucher.party = voucher.get(party[1]) if party else None
	voucher.address = next((voucher[field] for field in party[2] if voucher.get(field)), None) if party else None
	return voucher


def bundle_entries(voucher) -> list[frappe._dict]:
	"""Every batch/serial the voucher moved. A cancelled voucher's bundles are cancelled with it."""
	Bundle = DocType("Serial and Batch Bundle")
	Entry = DocType("Serial and Batch Entry")
	query = (
		frappe.qb.from_(Entry)
		.join(Bundle)
		.on(Bundle.name == Entry.parent)
		.select(
			Bundle.item_code, Bundle.warehouse, Bundle.type_of_transaction, Bundle.voucher_detail_no,
			Entry.serial_no, Entry.batch_no, Entry.qty,
		)
		.where(
			(Bundle.voucher_type == voucher.voucher_type)
			& (Bundle.voucher_no == voucher.name)
			& Bundle.type_of_transaction.isin(["Inward", "Outward"])
		)
		.orderby(Bundle.voucher_detail_no, Bundle.type_of_transaction, Bundle.name, Entry.idx)
	)
	if voucher.docstatus == 1:
		query = query.where((Bundle.docstatus == 1) & (Bundle.is_cancelled == 0))
	else:
		query = query.where(Bundle.docstatus > 0)
	entries = query.run(as_dict=True)
	for entry in entries:
		entry.inward = entry.type_of_transaction == "Inward"
		entry.qty = abs(flt(entry.qty))
		entry.node = node_key("Serial No", entry.serial_no) or node_key("Batch", entry.batch_no)
		entry.lot_node = node_key("Batch", entry.batch_no) if entry.serial_no else None
	return [entry for entry in entries if entry.node]


def subcontract_supplied_rows(voucher) -> dict[str, str]:
	"""Supplied-item row → the received-item row it was supplied for."""
	return dict(
		frappe.get_all(
			"Subcontracting Receipt Supplied Item",
			filters={"parent": voucher.name, "parenttype": "Subcontracting Receipt"},
			fields=["name", "reference_name"],
			as_list=True,
		)
	)


def base_link(voucher, link_type: str, event: str) -> dict:
	return {
		"link_type": link_type,
		"event": event,
		"voucher_type": voucher.voucher_type,
		"voucher_no": voucher.name,
		"posting_datetime": voucher.posting_datetime,
		"voided": 1 if voucher.docstatus == 2 else 0,
		"company": voucher.company,
		"party_type": voucher.party_type,
		"party": voucher.party,
		"address": voucher.address,
		"work_order": voucher.get("work_order"),
		"bom": voucher.get("bom_no"),
		"is_return": voucher.get("is_return") or 0,
		"return_against": voucher.get("return_against"),
	}


def movement_links(voucher, entries: list, supplied_rows: dict) -> list[dict]:
	party_node = node_key(voucher.party_type, voucher.party) if voucher.party_type else None
	return [
		{
			**base_link(voucher, "Movement", movement_event(voucher, entry, supplied_rows)),
			"direction": "In" if entry.inward else "Out",
			"voucher_detail_no": entry.voucher_detail_no,
			"from_node": entry.node,
			"from_lot_node": entry.lot_node,
			"from_item": entry.item_code,
			"from_warehouse": None if entry.inward else entry.warehouse,
			"to_warehouse": entry.warehouse if entry.inward else None,
			"to_node": party_node,
			"qty": entry.qty,
		}
		for entry in entries
	]


def movement_event(voucher, entry, supplied_rows: dict) -> str:
	voucher_type = voucher.voucher_type
	if voucher_type in ("Purchase Receipt", "Purchase Invoice"):
		return "Receipt" if entry.inward else "Purchase Return"
	if voucher_type in ("Delivery Note", "Sales Invoice"):
		if not entry.inward:
			return "Delivery"
		# Inward without a return: an internal customer's target warehouse.
		return "Sales Return" if voucher.is_return else "Transfer"
	if voucher_type == "Subcontracting Receipt":
		if entry.voucher_detail_no in supplied_rows:
			return "Consumption"
		return "Subcontract Receipt" if entry.inward else "Subcontract Return"
	if voucher_type == "Stock Reconciliation":
		return "Opening Stock" if voucher.purpose == "Opening Stock" else "Reconciliation"
	if voucher.purpose in PROCESS_PURPOSES:
		return "Production" if entry.inward else "Consumption"
	return STOCK_ENTRY_EVENTS.get(voucher.purpose, "Transfer")


def consumption_links(voucher, entries: list, supplied_rows: dict) -> list[dict]:
	if voucher.voucher_type == "Subcontracting Receipt":
		return subcontract_consumption_links(voucher, entries, supplied_rows) if not voucher.is_return else []
	if voucher.voucher_type != "Stock Entry":
		return []
	if voucher.purpose == "Material Consumption for Manufacture" and voucher.work_order:
		return consumed_for_work_order(voucher, entries)
	if voucher.purpose not in PROCESS_PURPOSES:
		return []
	inputs = [entry for entry in entries if not entry.inward]
	outputs = [entry for entry in entries if entry.inward]
	total_output = stock_entry_output_qty(voucher.name) or sum(output.qty for output in outputs)
	links = pair_inputs_with_outputs(voucher, voucher.purpose, inputs, outputs, total_output)
	if voucher.purpose == "Manufacture" and voucher.work_order:
		links += work_order_outputs(voucher, outputs)
	return links


def stock_entry_output_qty(stock_entry: str) -> float:
	Detail = DocType("Stock Entry Detail")
	total = (
		frappe.qb.from_(Detail)
		.select(Sum(Detail.transfer_qty))
		.where(
			(Detail.parent == stock_entry)
			& (Detail.parenttype == "Stock Entry")
			& (Detail.t_warehouse.isnotnull())
			& (Detail.t_warehouse != "")
			& ((Detail.s_warehouse.isnull()) | (Detail.s_warehouse == ""))
		)
		.run()
	)
	return flt(total[0][0]) if total else 0


def pair_inputs_with_outputs(voucher, event: str, inputs: list, outputs: list, total_output: float) -> list[dict]:
	return [
		{
			**base_link(voucher, "Consumption", event),
			"voucher_detail_no": source.voucher_detail_no,
			"from_node": source.node,
			"from_lot_node": source.lot_node,
			"from_item": source.item_code,
			"from_warehouse": source.warehouse,
			"qty": source.qty,
			"to_node": output.node,
			"to_lot_node": output.lot_node,
			"to_item": output.item_code,
			"to_warehouse": output.warehouse,
			"output_qty": output.qty,
			"attributed_qty": flt(source.qty * output.qty / total_output, QTY_PRECISION) if total_output else 0,
		}
		for source in inputs
		for output in outputs
	]


def work_order_outputs(voucher, outputs: list) -> list[dict]:
	production_item = frappe.db.get_value("Work Order", voucher.work_order, "production_item")
	return [
		{
			**base_link(voucher, "Consumption", "Manufacture"),
			"voucher_detail_no": output.voucher_detail_no,
			"from_node": node_key("Work Order", voucher.work_order),
			"from_item": production_item,
			"qty": output.qty,
			"to_node": output.node,
			"to_lot_node": output.lot_node,
			"to_item": output.item_code,
			"to_warehouse": output.warehouse,
			"output_qty": output.qty,
			"attributed_qty": output.qty,
		}
		for output in outputs
	]


def consumed_for_work_order(voucher, entries: list) -> list[dict]:
	production_item = frappe.db.get_value("Work Order", voucher.work_order, "production_item")
	return [
		{
			**base_link(voucher, "Consumption", "Material Consumption for Manufacture"),
			"voucher_detail_no": source.voucher_detail_no,
			"from_node": source.node,
			"from_lot_node": source.lot_node,
			"from_item": source.item_code,
			"from_warehouse": source.warehouse,
			"qty": source.qty,
			"to_node": node_key("Work Order", voucher.work_order),
			"to_item": production_item,
			"attributed_qty": source.qty,
		}
		for source in entries
		if not source.inward
	]


def subcontract_consumption_links(voucher, entries: list, supplied_rows: dict) -> list[dict]:
	links = []
	for row in dict.fromkeys(supplied_rows.values()):
		outputs = [entry for entry in entries if entry.inward and entry.voucher_detail_no == row]
		inputs = [entry for entry in entries if supplied_rows.get(entry.voucher_detail_no) == row and not entry.inward]
		links += pair_inputs_with_outputs(voucher, "Subcontracting", inputs, outputs, sum(output.qty for output in outputs))
	return links
