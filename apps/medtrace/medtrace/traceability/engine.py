"""Trace engine: where a lot or serial number came from (backward) and where it went (forward), over the
Trace Links kept by medtrace.traceability.trace_links, with what lies at the ends of the genealogy:
suppliers and their lots, quality inspections, work orders and BOMs, warehouses, customers with their
delivery addresses, and the documents in chronological order.

The genealogy is walked level by level with one query per level for the whole set of nodes reached, never
one per node, so a trace costs a query per level whatever its width. A node reached once is not walked
again: cycles (a lot reworked into itself) end, and each node keeps the depth it was first reached at.

Nodes are keyed "<doctype>::<name>": Batch, Serial No, and Work Order (through which material consumed
separately for a Work Order reaches its products). A serial number that belongs to a batch is a node of
its own; tracing the batch includes its serial numbers.

Movements: the making and consuming the followed links show are not repeated; every other movement of a
traced node is (receipts, transfers, deliveries, returns, counts…), and so are making and consuming where
the genealogy ends. Backward, an upstream lot's history ends with its last use in the genealogy: what became
of the rest of the lot belongs to other products. Stock (a node's in_stock, warehouses) is the current one.

Starts: a trace starts from one lot or serial number (or a scanned UDI of one), or from the lots and serial
numbers something else stands for, all walked together as the first level (one query per level still):
- a supplier: every lot and serial number received from it (Purchase Receipt or Invoice, Subcontracting
  Receipt), optionally received within a date range and of chosen items;
- a supplier's lot number (typed, or read from the supplier's GS1 or HIBC label): every one of our lots
  carrying it, optionally only those of one supplier, received within a date range, of chosen items. A
  number carried by lots of more than one supplier or item is ambiguous: the trace covers them all and
  says so, with the candidates;
- a customer: every lot and serial number delivered to it; deliveries and returns shown are its own only.
Voided links (cancelled vouchers) never make a start.

Filters: a date range limits the links followed and the movements shown to those posted within it; item
keeps only nodes of those items in the result (the walk still passes through other items); customer keeps
only deliveries to and returns from those customers.
"""

import datetime
import functools
import gc
from collections import defaultdict, namedtuple
from dataclasses import dataclass, field, replace

import frappe
from frappe import _
from frappe.query_builder import DocType
from frappe.utils import cint, flt, get_datetime, now_datetime

from medtrace.traceability.trace_links import QTY_PRECISION, node_key, parse_node_key
from medtrace.udi.scan import ScanError, interpret_scan, resolve_scanned_udi
from medtrace.utils.filters import checked_date, checked_names, shown

DEFAULT_MAX_DEPTH = 50
DIRECTIONS = ("backward", "forward")
TRACEABLE_DOCTYPES = ("Batch", "Serial No")
# What a trace can start from: a lot, serial number or UDI (the identifier), or what these stand for.
START_TYPES = ("identifier", "supplier", "supplier_lot", "customer")
SUPPLIER_LOT = "Supplier Lot"
RECEIVED, RETURNED_TO_SUPPLIER = ("Receipt", "Subcontract Receipt"), ("Purchase Return", "Subcontract Return")
# Trace Link columns the engine reads, the link's name first; only these, as a trace may read 50,000 links.
Edge = namedtuple(
	"Edge",
	("name", "from_node", "to_node", "qty", "output_qty", "attributed_qty", "event", "voucher_type", "voucher_no",
	 "posting_datetime", "work_order", "bom"),
)
Movement = namedtuple(
	"Movement",
	("from_node", "event", "direction", "qty", "warehouse", "voucher_type", "voucher_no", "posting_datetime",
	 "party_type", "party", "address", "is_return", "return_against"),
)
LotRecord = namedtuple(
	"LotRecord",
	("name", "item", "item_name", "batch_id", "manufacturing_date", "expiry_date", "medtrace_supplier_lot",
	 "udi_element_string", "udi_device_identifier", "stock_uom"),
)
SerialRecord = namedtuple(
	"SerialRecord",
	("name", "item_code", "item_name", "batch_no", "status", "warehouse", "udi_element_string", "udi_device_identifier",
	 "udi_manufacture_date", "udi_expiry_date"),
)
# Values read as text that the engine computes with or sorts by.
TYPED_VALUES = {
	"qty": float, "output_qty": float, "attributed_qty": float, "is_return": int,
	"posting_datetime": datetime.datetime.fromisoformat,
}
# Movements of making and consuming, which the consumption links followed already show.
PROCESS_EVENTS = ("Production", "Consumption")


class TraceInputError(frappe.ValidationError):
	pass


@dataclass(frozen=True)
class TraceRequest:
	"""What to trace from a node, checked by trace_request()."""

	direction: str = "backward"
	depth: int = 10
	from_date: datetime.date | None = None
	to_date: datetime.date | None = None
	items: frozenset = frozenset()
	customers: frozenset = frozenset()

	def filters(self) -> dict:
		return {
			"from_date": as_text(self.from_date),
			"to_date": as_text(self.to_date),
			"item": sorted(self.items),
			"customer": sorted(self.customers),
		}


@dataclass(frozen=True)
class TraceStart:
	"""What a trace starts from (start_of(), record_start()): doctype and name say what it is — a Batch or
	Serial No, a Supplier, a Customer, a Supplier Lot number, or the record (a Recall) whose lots it is —
	and nodes are the lots and serial numbers it stands for."""

	start_type: str
	doctype: str
	name: str
	nodes: tuple[str, ...]
	identifier: str | None = None
	supplier: str | None = None
	received_from: datetime.date | None = None
	received_to: datetime.date | None = None
	supplied_items: frozenset = frozenset()
	# The lots and serial numbers found, with whom they came from: what makes a supplier lot ambiguous.
	candidates: tuple = ()
	ambiguous: bool = False

	@property
	def node(self) -> str:
		return node_key(self.doctype, self.name)


@dataclass
class Walk:
	depths: dict[str, int]  # node key → the level it was first reached at
	edges: dict[str, Edge] = field(default_factory=dict)  # Trace Link name → consumption link followed
	truncated: bool = False  # the genealogy goes on beyond the depth limit


def reject(message: str, title: str | None = None) -> None:
	frappe.throw(message, TraceInputError, title=title or _("Cannot Trace"))


def max_trace_depth() -> int:
	return cint(frappe.db.get_single_value("MedTrace Settings", "max_trace_depth")) or DEFAULT_MAX_DEPTH


def trace(
	identifier: str,
	direction: str = "backward",
	depth: int = 10,
	from_date=None,
	to_date=None,
	item=None,
	customer=None,
	start_type: str = "identifier",
	supplier: str | None = None,
	received_from=None,
	received_to=None,
	supplied_item=None,
) -> dict:
	"""Trace whatever the identifier names, read as start_type says: a batch or serial number, or a scanned
	UDI (GS1, HIBC, Digital Link) of one; a supplier; a supplier's lot number or label (of that supplier
	only when one is given); a customer. received_from, received_to and supplied_item choose a supplier's
	or supplier lot's receipts. item, customer and supplied_item take one name or a list."""
	request = trace_request(direction, depth, from_date, to_date, item, customer)
	start = start_of(start_type, identifier, supplier, received_from, received_to, supplied_item)
	return trace_from(start, request)


def trace_record(
	doctype: str,
	name: str,
	direction: str = "backward",
	depth: int = 10,
	from_date=None,
	to_date=None,
	item=None,
	customer=None,
) -> dict:
	"""Trace a Batch or Serial No."""
	return run_trace(doctype, name, trace_request(direction, depth, from_date, to_date, item, customer))


def collection_paused(function):
	"""Runs function with Python's cyclic garbage collector paused. A wide trace builds hundreds of thousands
	of rows, records and dictionaries, none of them in a cycle, and the collector would walk them over and
	over while they are built: 5–10 % of a trace reaching 14,000 lots and serials."""

	@functools.wraps(function)
	def paused(*args, **kwargs):
		enabled = gc.isenabled()
		gc.disable()
		try:
			return function(*args, **kwargs)
		finally:
			if enabled:
				gc.enable()

	return paused


def run_trace(doctype: str, name: str, request: TraceRequest, identifier: str | None = None) -> dict:
	"""The trace of a Batch or Serial No for a checked request; identifier is what the user entered."""
	return trace_from(record_start(doctype, name, identifier), request)


def index_dives_for_long_lists(function):
	"""Runs function with MariaDB looking up every value of a long IN list in the index. Beyond
	eq_range_index_dive_limit values (200) it estimates them from index statistics instead, and for the
	Trace Link indexes those estimates make it scan rather than seek: a customer's backward trace of 1,083
	lots and serial numbers took 2.4 s instead of 0.45 s. The lookups cost little next to the query."""

	@functools.wraps(function)
	def diving(*args, **kwargs):
		previous = frappe.db.sql("select @@session.eq_range_index_dive_limit")[0][0]
		frappe.db.sql("set session eq_range_index_dive_limit = 0")
		try:
			return function(*args, **kwargs)
		finally:
			frappe.db.sql("set session eq_range_index_dive_limit = %s", (previous,))

	return diving


@collection_paused
@index_dives_for_long_lists
def trace_from(start: TraceStart, request: TraceRequest) -> dict:
	"""The trace from a start (start_of(), record_start(), records_start()) for a checked request."""
	if start.start_type == "customer":
		# A customer's trace shows its own deliveries and returns, not those of other customers.
		request = replace(request, customers=frozenset({start.name}))
	starts = set(start.nodes)
	walked = walk(starts, request)
	records = node_records(walked.depths)
	members = serial_numbers_of_batches(walked.depths, records)
	for serial, batch in members.items():
		walked.depths.setdefault(serial, walked.depths[batch])
	records.update(node_records(set(members) - set(records)))
	kept = {key for key in walked.depths if key in starts or not request.items or records.get(key, {}).get("item") in request.items}
	edges = [edge for edge in walked.edges.values() if edge.from_node in kept and edge.to_node in kept]
	stock = current_stock(kept, records)
	events = [row for row in movements_of(kept, walked, request) if shown_to_customer_filter(row, request)]
	items = {key: record.get("item") for key, record in records.items()}
	path = on_the_path(events, walked, starts, request)
	inspections = quality_inspections_of(kept, records, edges, path)
	return {
		"query": {
			"identifier": start.identifier or start.name,
			"start_type": start.start_type,
			"doctype": start.doctype,
			"name": start.name,
			"node": start.node,
			"start": describe_start(start, records),
			"direction": request.direction,
			"depth": request.depth,
			"max_depth": max_trace_depth(),
			"depth_reached": max(walked.depths[key] for key in kept),
			"truncated": walked.truncated,
			"filters": request.filters(),
			"user": frappe.session.user,
			"traced_at": as_text(now_datetime()),
		},
		"nodes": describe_nodes(kept, walked.depths, records, stock),
		"edges": [
			describe_edge(edge, items)
			for edge in sorted(edges, key=lambda e: (e.posting_datetime, e.voucher_no, e.from_node, e.to_node))
		],
		"movements": [describe_movement(row) for row in path],
		"suppliers": suppliers_of(path, records),
		"quality_inspections": inspections,
		"work_orders": work_orders_of(kept, edges),
		"boms": boms_of(kept, edges),
		"warehouses": warehouses_of(stock),
		"customers": customers_of(path, records),
		"timeline": timeline_of(edges, path, inspections),
	}


# Input


def check_traceable(doctype: str, name: str) -> None:
	if doctype not in TRACEABLE_DOCTYPES or not isinstance(name, str) or not name or not frappe.db.exists(doctype, name):
		reject(_("{0} {1} does not exist.").format(_(doctype), shown(name)), _("Unknown Identifier"))


def validate_direction(direction) -> str:
	if direction not in DIRECTIONS:
		reject(_("Direction must be backward or forward, not {0}.").format(shown(direction)))
	return direction


def validate_depth(depth) -> int:
	limit = max_trace_depth()
	try:
		value = int(str(depth).strip())
	except (TypeError, ValueError):
		reject(_("Depth must be a whole number from 1 to {0}, not {1}.").format(limit, shown(depth)))
	if not 1 <= value <= limit:
		reject(_("Depth must be from 1 to {0} levels, not {1}.").format(limit, value))
	return value


def trace_request(direction="backward", depth=10, from_date=None, to_date=None, item=None, customer=None) -> TraceRequest:
	"""Checked trace arguments, as they come from code or an HTTP request; bad ones are refused with a
	message."""
	request = TraceRequest(
		validate_direction(direction), validate_depth(depth), parse_date(from_date), parse_date(to_date), as_set(item),
		as_set(customer),
	)
	if request.from_date and request.to_date and request.from_date > request.to_date:
		reject(_("The date range ends on {0}, before it starts on {1}.").format(request.to_date, request.from_date))
	return request


def parse_date(value) -> datetime.date | None:
	return checked_date(value, exception=TraceInputError, title=_("Cannot Trace"))


def as_set(value) -> frozenset:
	"""One name, a list of names, or a JSON list of names (as an HTTP query string carries it)."""
	return checked_names(value, exception=TraceInputError, title=_("Cannot Trace"))


def resolve_identifier(identifier) -> tuple[str, str]:
	"""The Batch or Serial No an identifier names, through the same interpretation as the UDI scan: a
	scanned UDI names its serial number if it carries one, else its lot."""
	if not isinstance(identifier, str) or not identifier.strip():
		reject(_("Enter or scan a lot, serial number or UDI to trace."))
	scanned = interpret_scan(identifier)
	try:
		resolved = resolve_scanned_udi(scanned)
	except ScanError:
		# A bare value matching nothing: say so in the trace's terms.
		frappe.clear_last_message()
		reject(_("No lot or serial number {0} is known.").format(shown(identifier.strip())), _("Unknown Identifier"))
	if resolved["status"] == "ambiguous":
		reject(resolved["message"], _("Ambiguous Identifier"))
	if resolved["status"] in ("unknown", "inconsistent"):
		reject(resolved["message"], _("Unknown Identifier"))
	if resolved.get("serial_no"):
		return "Serial No", resolved["serial_no"]
	if resolved.get("batch"):
		return "Batch", resolved["batch"]
	if scanned.lot or scanned.serial:
		reject(
			_("No lot or serial number {0} is known.").format(shown(scanned.serial or scanned.lot)), _("Unknown Identifier")
		)
	reject(
		_("{0} identifies the device type {1}, not a lot or serial number: scan the full UDI.").format(
			shown(identifier.strip()), resolved.get("item")
		),
		_("Not a Lot or Serial Number"),
	)


# Starts


def start_of(start_type, value, supplier=None, received_from=None, received_to=None, supplied_item=None) -> TraceStart:
	"""The checked start a trace's arguments name (see the module's docstring); what does not exist, or
	stands for no lot or serial number, is refused with a message."""
	if start_type not in START_TYPES:
		reject(
			_("Start a trace from a lot, serial number or UDI, a supplier, a supplier lot or a customer, not {0}.").format(
				shown(start_type)
			)
		)
	if start_type == "identifier":
		doctype, name = resolve_identifier(value)
		return record_start(doctype, name, value)
	if not isinstance(value, str) or not value.strip():
		reject(
			{
				"supplier": _("Choose the supplier to trace from."),
				"supplier_lot": _("Enter or scan the supplier's lot number to trace."),
				"customer": _("Choose the customer to trace from."),
			}[start_type]
		)
	value = value.strip()
	if start_type == "customer":
		check_exists("Customer", value)
		return customer_start(value)
	received = ReceiptChoice(parse_date(received_from), parse_date(received_to), as_set(supplied_item))
	if received.from_date and received.to_date and received.from_date > received.to_date:
		reject(_("The receipt date range ends on {0}, before it starts on {1}.").format(received.to_date, received.from_date))
	if start_type == "supplier":
		check_exists("Supplier", value)
		return supplier_start(value, received)
	if supplier is not None and supplier != "" and not isinstance(supplier, str):
		reject(_("{0} is not a supplier.").format(shown(supplier)))
	if supplier:
		check_exists("Supplier", supplier)
	return supplier_lot_start(value, supplier or None, received)


def check_exists(doctype: str, name: str) -> None:
	if not frappe.db.exists(doctype, name):
		reject(_("{0} {1} does not exist.").format(_(doctype), shown(name)), _("Unknown Identifier"))


def record_start(doctype: str, name: str, identifier: str | None = None) -> TraceStart:
	"""A trace from one Batch or Serial No; identifier is what the user entered."""
	check_traceable(doctype, name)
	return TraceStart("identifier", doctype, name, (node_key(doctype, name),), identifier=identifier or name)


def records_start(doctype: str, name: str, nodes) -> TraceStart:
	"""One trace from several lots and serial numbers (node keys), on behalf of a record such as a Recall."""
	return TraceStart("records", doctype, name, tuple(dict.fromkeys(nodes)), identifier=name)


@dataclass(frozen=True)
class ReceiptChoice:
	"""Which receipts of a supplier or supplier lot a trace starts from."""

	from_date: datetime.date | None = None
	to_date: datetime.date | None = None
	items: frozenset = frozenset()

	def conditions(self, values: dict) -> str:
		condition = posted_within(self.from_date, self.to_date, values, "received")
		if self.items:
			values["received_items"] = tuple(self.items)
			condition += " and from_item in %(received_items)s"
		return condition

	def described(self) -> str:
		"""The choice as words to add to a sentence: "" when it chooses every receipt."""
		parts = []
		if self.from_date or self.to_date:
			parts.append(_("received from {0} to {1}").format(self.from_date or "…", self.to_date or "…"))
		if self.items:
			parts.append(_("of {0}").format(shown(", ".join(sorted(self.items)))))
		return (" " + " ".join(parts)) if parts else ""


Receipt = namedtuple("Receipt", ("from_node", "from_lot_node", "from_item", "party", "qty", "voucher_no", "posting_datetime"))


def receipts_where(condition: str, values: dict) -> list[Receipt]:
	"""Submitted receipts from suppliers (and subcontractors) matching the condition, oldest first."""
	return [
		Receipt(*row)
		for row in frappe.db.sql(
			f"""select from_node, from_lot_node, from_item, party, qty, voucher_no, posting_datetime from `tabTrace Link`
			where link_type = 'Movement' and voided = 0 and event in %(received_events)s and party_type = 'Supplier'
				and {condition}
			order by posting_datetime, voucher_no, from_node""",
			{**values, "received_events": RECEIVED},
		)
	]


def candidate_lots(receipts: list[Receipt], lot_of=lambda row: row.from_node) -> dict[str, dict]:
	"""Node → what was received of it: from whom, how much, on which receipts, first when."""
	found = {}
	for row in receipts:
		node = lot_of(row)
		candidate = found.setdefault(
			node,
			{"node": node, "item": row.from_item, "supplier": row.party, "received_qty": 0, "first_received": as_text(row.posting_datetime),
			 "receipts": []},
		)
		candidate["received_qty"] = round(candidate["received_qty"] + flt(row.qty), QTY_PRECISION)
		if row.voucher_no not in candidate["receipts"]:
			candidate["receipts"].append(row.voucher_no)
	return found


def supplier_start(supplier: str, received: ReceiptChoice) -> TraceStart:
	"""Every lot and serial number received from the supplier, as the receipt choice narrows them."""
	values = {"party_node": node_key("Supplier", supplier)}
	receipts = receipts_where("to_node = %(party_node)s" + received.conditions(values), values)
	if not receipts:
		reject(
			_("No lot or serial number was received from supplier {0}{1}.").format(shown(supplier), received.described()),
			_("Nothing to Trace"),
		)
	candidates = candidate_lots(receipts)
	return TraceStart(
		"supplier", "Supplier", supplier, tuple(candidates), identifier=supplier, supplier=supplier, received_from=received.from_date,
		received_to=received.to_date, supplied_items=received.items, candidates=tuple(candidates.values()),
	)


def supplier_lot_start(text: str, supplier: str | None, received: ReceiptChoice) -> TraceStart:
	"""Every one of our lots carrying the supplier's lot number (typed, or on the supplier's label) and
	received from a supplier — that one, if given — as the receipt choice narrows them."""
	number, label_items = supplier_lot_number(text)
	batches = {
		node_key("Batch", row.name): row
		for row in frappe.get_all("Batch", filters={"medtrace_supplier_lot": number}, fields=["name", "item"])
		if label_items is None or row.item in label_items
	}
	candidates = {}
	if batches:
		values = {"lots": tuple(batches), "party_node": node_key("Supplier", supplier)}
		# A serialised lot is received as its serial numbers: their movements name the lot.
		receipts = receipts_where(
			"(from_node in %(lots)s or from_lot_node in %(lots)s)" + (" and to_node = %(party_node)s" if supplier else "")
			+ received.conditions(values),
			values,
		)
		candidates = candidate_lots(receipts, lambda row: row.from_lot_node or row.from_node)
	if not candidates:
		reject(
			_("None of our lots carries the supplier lot number {0}{1}{2}.").format(
				shown(number), _(" from supplier {0}").format(shown(supplier)) if supplier else "", received.described()
			),
			_("Unknown Supplier Lot"),
		)
	ambiguous = len({(candidate["supplier"], candidate["item"]) for candidate in candidates.values()}) > 1
	return TraceStart(
		"supplier_lot", SUPPLIER_LOT, number, tuple(sorted(candidates)), identifier=text, supplier=supplier,
		received_from=received.from_date, received_to=received.to_date, supplied_items=received.items,
		candidates=tuple(candidates[node] for node in sorted(candidates)), ambiguous=ambiguous,
	)


def supplier_lot_number(text: str) -> tuple[str, frozenset | None]:
	"""The supplier's lot number a typed number or a scanned supplier label (GS1, read by biip, or HIBC)
	carries, and, when the label's GTIN is the barcode of items of ours, those items."""
	scanned = interpret_scan(text)
	if scanned.input_format == "identifier":
		return scanned.identifier, None
	if not scanned.lot:
		reject(_("The supplier's label carries no lot number: scan the label of the lot."), _("No Supplier Lot"))
	return scanned.lot, items_with_barcode(scanned.di) if scanned.di and scanned.di.isdigit() else None


def items_with_barcode(gtin: str) -> frozenset | None:
	"""Items whose barcode is the GTIN, however many leading zeros it was entered with; None when none."""
	forms = {gtin, gtin.lstrip("0"), gtin[1:] if len(gtin) == 14 and gtin.startswith("0") else gtin}
	items = frappe.get_all("Item Barcode", filters={"barcode": ("in", sorted(forms)), "parenttype": "Item"}, pluck="parent")
	return frozenset(items) or None


def customer_start(customer: str) -> TraceStart:
	"""Every lot and serial number delivered to the customer."""
	nodes = frappe.db.sql_list(
		"""select distinct from_node from `tabTrace Link`
		where to_node = %(party_node)s and link_type = 'Movement' and voided = 0 and event = 'Delivery'
		order by from_node""",
		{"party_node": node_key("Customer", customer)},
	)
	if not nodes:
		reject(_("No lot or serial number was delivered to customer {0}.").format(shown(customer)), _("Nothing to Trace"))
	return TraceStart("customer", "Customer", customer, tuple(nodes), identifier=customer)


def describe_start(start: TraceStart, records: dict) -> dict:
	"""The start as the result shows it; root is the tree's root when the start is not one lot or serial."""
	party_name = {"Supplier": "supplier_name", "Customer": "customer_name"}.get(start.doctype)
	label = frappe.db.get_value(start.doctype, start.name, party_name) if party_name else None
	single = start.start_type == "identifier"
	return {
		"start_type": start.start_type,
		"doctype": start.doctype,
		"name": start.name,
		"label": label,
		"nodes": sorted(start.nodes),
		"supplier": start.supplier,
		"received_from": as_text(start.received_from),
		"received_to": as_text(start.received_to),
		"supplied_items": sorted(start.supplied_items),
		"ambiguous": start.ambiguous,
		"message": _(
			"Supplier lot {0} is carried by lots of more than one supplier or item, all of them traced here: choose the supplier to trace only its lots."
		).format(start.name) if start.ambiguous else None,
		"candidates": [
			{**candidate, "name": parse_node_key(candidate["node"])[1], "doctype": parse_node_key(candidate["node"])[0],
			 "item_name": records.get(candidate["node"], {}).get("item_name"),
			 "lot": records.get(candidate["node"], {}).get("lot"),
			 "supplier_lot": records.get(candidate["node"], {}).get("supplier_lot")}
			for candidate in start.candidates
		],
		"root": None if single else {
			"node": start.node, "doctype": start.doctype, "name": start.name, "depth": None, "item": None, "item_name": label,
			"udi": None, "udi_di": None, "lot": None, "serial_no": None,
			"supplier_lot": start.name if start.doctype == SUPPLIER_LOT else None, "status": None, "qty": None,
			"in_stock": None, "uom": None, "manufacturing_date": None, "expiry_date": None,
		},
	}


# Reading many rows
#
# The queries below take the nodes of a whole level as one bound list: the query builder would bind each of
# up to tens of thousands of nodes separately, which costs more than running the query. Column names and
# conditions are constants; every value is a bound parameter.
#
# Their rows come packed: pymysql decodes each column of each row in Python, which for the tens of
# thousands of rows of a wide trace costs more than the query. Each row travels as one text column instead,
# its values joined by the ASCII unit separator, NULL sent as the record separator; dates stay text, as the
# trace returns them. Lot and serial numbers holding these characters are refused (medtrace.udi.identifiers),
# but older ones may exist: a query whose rows do not unpack is read again column by column.
SEPARATOR, NULL = "\x1f", "\x1e"


def read_rows(query_of, values: dict, row_type, expressions: dict | None = None) -> list:
	"""Rows of row_type from the query query_of(select list) makes, read packed; expressions gives SQL for
	fields not read as columns."""
	columns = [(expressions or {}).get(field, f"`{field}`") for field in row_type._fields]
	packed = "concat_ws(char(31 using utf8mb4), " + ", ".join(f"ifnull({column}, char(30 using utf8mb4))" for column in columns) + ")"
	typed = [(position, TYPED_VALUES[field]) for position, field in enumerate(row_type._fields) if field in TYPED_VALUES]
	records = []
	# One pass, the conversions inline: a wide trace reads tens of thousands of rows.
	for (text,) in frappe.db.sql(query_of(packed), values):
		row = [None if value == NULL else value for value in text.split(SEPARATOR)]
		if len(row) != len(columns):
			# As text, as packed values are.
			rows = frappe.db.sql(query_of(", ".join(f"cast({column} as char)" for column in columns)), values)
			return [typed_record(list(row), typed, row_type) for row in rows]
		for position, convert in typed:
			if row[position] is not None:
				row[position] = convert(row[position])
		records.append(row_type._make(row))
	return records


def typed_record(row: list, typed: list, row_type):
	for position, convert in typed:
		if row[position] is not None:
			row[position] = convert(row[position])
	return row_type._make(row)


# The walk


def walk(starts: set, request: TraceRequest) -> Walk:
	"""Breadth-first over Consumption links from the start nodes: one query per level, for the whole level."""
	backward = request.direction == "backward"
	near, near_lot, far = ("to_node", "to_lot_node", "from_node") if backward else ("from_node", "from_lot_node", "to_node")
	walked = Walk(depths=dict.fromkeys(starts, 0))
	frontier = set(starts)
	level = 0
	while frontier and level < request.depth:
		level += 1
		reached = set()
		for link in links_at(frontier, near, near_lot, request):
			walked.edges[link.name] = link
			# Reached through its batch: the serial number is part of the node already walked.
			walked.depths.setdefault(getattr(link, near), level - 1)
			other_end = getattr(link, far)
			if other_end not in walked.depths:
				walked.depths[other_end] = level
				reached.add(other_end)
		frontier = reached
	walked.truncated = bool(frontier) and bool(links_at(frontier, near, near_lot, request, limit=1))
	return walked


def links_at(nodes: set, near: str, near_lot: str, request: TraceRequest, limit: int | None = None) -> list[Edge]:
	"""Consumption links whose near end is one of the nodes, or a serial number of one of the batches."""
	values = {"nodes": tuple(nodes), "batches": tuple(key for key in nodes if key.startswith("Batch::"))}
	conditions = "link_type = 'Consumption' and voided = 0" + period_condition(request, values)
	limit_clause = f" limit {int(limit)}" if limit else ""

	def query(columns: str) -> str:
		# Two index lookups joined by union: an OR of the two columns would make MariaDB merge indexes.
		selects = [f"(select {columns} from `tabTrace Link` where `{near}` in %(nodes)s and {conditions}{limit_clause})"]
		if values["batches"]:
			selects.append(f"(select {columns} from `tabTrace Link` where `{near_lot}` in %(batches)s and {conditions}{limit_clause})")
		# Over a thousand values MariaDB turns an IN list into a join with a table of them, and for the lot end
		# (NULL on most links) then reads the whole table: seconds at a million links. Kept as a list, each
		# value is looked up in the index (see index_dives_for_long_lists).
		return "set statement in_predicate_conversion_threshold = 0 for " + " union all ".join(selects)

	rows = read_rows(query, values, Edge)
	# A serial number's link matches twice when its batch is traced too.
	return list({row.name: row for row in rows}.values())


def period_condition(request: TraceRequest, values: dict) -> str:
	"""The SQL condition keeping links posted within the request's date range; its bounds go into values."""
	return posted_within(request.from_date, request.to_date, values, "period")


def posted_within(from_date, to_date, values: dict, name: str) -> str:
	"""The SQL condition keeping links posted from from_date through to_date, whole days; its bounds go into
	values as {name}_from and {name}_before, so that two ranges can share a query."""
	condition = ""
	if from_date:
		values[f"{name}_from"] = datetime.datetime.combine(from_date, datetime.time.min)
		condition += f" and posting_datetime >= %({name}_from)s"
	if to_date:
		values[f"{name}_before"] = datetime.datetime.combine(to_date + datetime.timedelta(days=1), datetime.time.min)
		condition += f" and posting_datetime < %({name}_before)s"
	return condition


def serial_numbers_of_batches(depths: dict, records: dict) -> dict[str, str]:
	"""Serial numbers (node keys) of the traced batches of serialised items, with their batch's node key, as
	their movements name them (Serial No has no index on its batch)."""
	batches = {key: records.get(key, {}).get("item") for key in depths if key.startswith("Batch::")}
	serialised = set(
		frappe.get_all("Item", filters={"name": ("in", list(set(batches.values()))), "has_serial_no": 1}, pluck="name")
	) if batches else set()
	batches = tuple(key for key, item in batches.items() if item in serialised)
	if not batches:
		return {}
	return dict(
		frappe.db.sql(
			"""select distinct from_node, from_lot_node from `tabTrace Link`
			where from_lot_node in %(batches)s and link_type = 'Movement' and voided = 0""",
			{"batches": batches},
		)
	)


def movements_of(kept: set, walked: Walk, request: TraceRequest) -> list[Movement]:
	"""The kept nodes' movements a trace shows: what happened to them besides the making and consuming the
	followed links show — where the genealogy ends (a lot made from untracked material, consumed into an
	untracked product, the start's own making or use) those are the only record — within the date range."""
	values = {
		"nodes": tuple(key for key in kept if not key.startswith("Work Order::")),
		"process_events": PROCESS_EVENTS,
		"unproduced": tuple(kept - {edge.to_node for edge in walked.edges.values()}),
		"unconsumed": tuple(kept - {edge.from_node for edge in walked.edges.values()}),
	}
	events = ["event not in %(process_events)s"]
	if values["unproduced"]:
		events.append("(event = 'Production' and from_node in %(unproduced)s)")
	if values["unconsumed"]:
		events.append("(event = 'Consumption' and from_node in %(unconsumed)s)")
	period = period_condition(request, values)
	rows = read_rows(
		lambda columns: f"""select {columns} from `tabTrace Link`
		where from_node in %(nodes)s and link_type = 'Movement' and voided = 0 and ({' or '.join(events)}){period}""",
		values,
		Movement,
		# A movement's warehouse is the one it went into or came out of.
		{"warehouse": "coalesce(`to_warehouse`, `from_warehouse`)"},
	)
	return sorted(rows, key=lambda row: (row.posting_datetime, row.voucher_no, row.from_node, row.direction))


def current_stock(kept: set, records: dict) -> dict[str, dict]:
	"""Per lot or serial: the quantity it came into the company's hands with, and where it is now, whatever
	the date range: ERPNext keeps a serial number's warehouse, MedTrace a lot's (Trace Node Stock)."""
	stock = {}
	for key in kept:
		if key.startswith("Serial No::"):
			warehouse = records.get(key, {}).get("warehouse")
			stock[key] = {"qty": 1, "warehouses": {warehouse: 1} if warehouse else {}}
	lots = tuple(key for key in kept if key.startswith("Batch::"))
	if not lots:
		return stock
	for node, warehouse, balance, received in frappe.db.sql(
		"select node, warehouse, balance_qty, received_qty from `tabTrace Node Stock` where node in %(lots)s",
		{"lots": lots},
	):
		lot = stock.setdefault(node, {"qty": 0, "warehouses": {}})
		lot["qty"] = round(lot["qty"] + flt(received), QTY_PRECISION)
		if round(flt(balance), QTY_PRECISION):
			lot["warehouses"][warehouse] = round(flt(balance), QTY_PRECISION)
	return stock


def on_the_path(movements: list, walked: Walk, starts: set, request: TraceRequest) -> list:
	"""The movements that belong to this trace. Backward, each upstream node's history ends with its last
	use in the genealogy (a start's history is whole). Forward, everything downstream happened on the path."""
	if request.direction == "forward":
		return movements
	last_use = {}
	for edge in walked.edges.values():
		last_use[edge.from_node] = max(edge.posting_datetime, last_use.get(edge.from_node, edge.posting_datetime))
	return [
		row for row in movements
		if row.from_node in starts or row.from_node not in last_use or row.posting_datetime <= last_use[row.from_node]
	]


# What the nodes are


def node_records(keys) -> dict[str, dict]:
	names = defaultdict(list)
	for key in keys:
		doctype, name = parse_node_key(key)
		names[doctype].append(name)
	records = {}
	if names["Batch"]:
		for row in read_rows(
			lambda columns: f"select {columns} from `tabBatch` where name in %(names)s", {"names": tuple(names["Batch"])}, LotRecord
		):
			records[node_key("Batch", row.name)] = {
				"item": row.item, "item_name": row.item_name, "lot": row.batch_id or row.name, "serial_no": None,
				"udi": row.udi_element_string, "udi_di": row.udi_device_identifier, "uom": row.stock_uom,
				"manufacturing_date": row.manufacturing_date, "expiry_date": row.expiry_date,
				"supplier_lot": row.medtrace_supplier_lot, "status": None,
			}
	if names["Serial No"]:
		for row in read_rows(
			lambda columns: f"select {columns} from `tabSerial No` where name in %(names)s", {"names": tuple(names["Serial No"])},
			SerialRecord,
		):
			records[node_key("Serial No", row.name)] = {
				"item": row.item_code, "item_name": row.item_name, "lot": row.batch_no, "serial_no": row.name,
				"udi": row.udi_element_string, "udi_di": row.udi_device_identifier, "uom": None,
				"manufacturing_date": row.udi_manufacture_date, "expiry_date": row.udi_expiry_date, "supplier_lot": None,
				"status": row.status, "warehouse": row.warehouse,
			}
	if names["Work Order"]:
		WorkOrder = DocType("Work Order")
		for row in (
			frappe.qb.from_(WorkOrder)
			.select(
				WorkOrder.name, WorkOrder.production_item, WorkOrder.item_name, WorkOrder.status, WorkOrder.stock_uom,
				WorkOrder.actual_start_date, WorkOrder.qty,
			)
			.where(WorkOrder.name.isin(names["Work Order"]))
			.run(as_dict=True)
		):
			records[node_key("Work Order", row.name)] = {
				"item": row.production_item, "item_name": row.item_name, "lot": None, "serial_no": None, "udi": None,
				"udi_di": None, "uom": row.stock_uom, "manufacturing_date": as_text(row.actual_start_date),
				"expiry_date": None, "supplier_lot": None, "status": row.status, "qty": flt(row.qty),
			}
	return records


def describe_nodes(kept: set, depths: dict, records: dict, stock: dict) -> list[dict]:
	members = defaultdict(list)
	for key in kept:
		if key.startswith("Serial No::") and records.get(key, {}).get("lot"):
			members[node_key("Batch", records[key]["lot"])].append(stock[key])
	nodes = []
	for key in sorted(kept, key=lambda key: (depths[key], key)):
		doctype, name = parse_node_key(key)
		record = records.get(key, {})
		if key in stock:
			qty, in_stock = stock[key]["qty"], sum(stock[key]["warehouses"].values())
		else:
			# A batch of serial numbers moves as its serial numbers.
			qty, in_stock = len(members[key]), sum(sum(member["warehouses"].values()) for member in members[key])
		nodes.append(
			{
				"node": key,
				"doctype": doctype,
				"name": name,
				"depth": depths[key],
				"item": record.get("item"),
				"item_name": record.get("item_name"),
				"udi": record.get("udi"),
				"udi_di": record.get("udi_di"),
				"lot": record.get("lot"),
				"serial_no": record.get("serial_no"),
				"supplier_lot": record.get("supplier_lot"),
				"status": record.get("status"),
				"qty": record["qty"] if doctype == "Work Order" else round(qty, QTY_PRECISION),
				"in_stock": None if doctype == "Work Order" else round(in_stock, QTY_PRECISION),
				"uom": record.get("uom"),
				"manufacturing_date": record.get("manufacturing_date"),
				"expiry_date": record.get("expiry_date"),
			}
		)
	return nodes


def describe_edge(edge: Edge, items: dict) -> dict:
	return {
		"from": edge.from_node,
		"to": edge.to_node,
		"from_item": items.get(edge.from_node),
		"to_item": items.get(edge.to_node),
		"qty": edge.qty,
		"output_qty": edge.output_qty,
		"attributed_qty": edge.attributed_qty,
		"event": edge.event,
		"voucher_type": edge.voucher_type,
		"voucher_no": edge.voucher_no,
		"posting_datetime": as_text(edge.posting_datetime),
		"work_order": edge.work_order,
		"bom": edge.bom,
	}


def describe_movement(row: Movement) -> dict:
	return {
		"node": row.from_node,
		"event": row.event,
		"direction": row.direction,
		"qty": row.qty,
		"warehouse": row.warehouse,
		"voucher_type": row.voucher_type,
		"voucher_no": row.voucher_no,
		"posting_datetime": as_text(row.posting_datetime),
		"party_type": row.party_type,
		"party": row.party,
		"address": row.address,
		"is_return": row.is_return,
		"return_against": row.return_against,
	}


# What lies at the ends


def suppliers_of(movements: list, records: dict) -> list[dict]:
	suppliers = {}
	for row in movements:
		if row.party_type != "Supplier" or row.event not in (*RECEIVED, *RETURNED_TO_SUPPLIER):
			continue
		supplier = suppliers.setdefault(row.party, {"supplier": row.party, "received_qty": 0, "returned_qty": 0, "lots": {}, "receipts": {}})
		lot = supplier["lots"].setdefault(
			row.from_node,
			{"node": row.from_node, "item": records.get(row.from_node, {}).get("item"),
			 "supplier_lot": records.get(row.from_node, {}).get("supplier_lot"),
			 "received_qty": 0, "returned_qty": 0},
		)
		quantity = "received_qty" if row.event in RECEIVED else "returned_qty"
		supplier[quantity] += row.qty
		lot[quantity] += row.qty
		supplier["receipts"].setdefault(
			row.voucher_no,
			{"voucher_type": row.voucher_type, "voucher_no": row.voucher_no, "posting_datetime": as_text(row.posting_datetime),
			 "address": row.address, "is_return": row.is_return},
		)
	names = party_names("Supplier", "supplier_name", suppliers)
	return [
		{
			**supplier,
			"supplier_name": names.get(supplier["supplier"]),
			"lots": list(supplier["lots"].values()),
			"receipts": list(supplier["receipts"].values()),
		}
		for supplier in sorted(suppliers.values(), key=lambda s: s["supplier"])
	]


def shown_to_customer_filter(row, request: TraceRequest) -> bool:
	return row.party_type != "Customer" or not request.customers or row.party in request.customers


def customers_of(movements: list, records: dict) -> list[dict]:
	customers = {}
	for row in movements:
		if row.party_type != "Customer" or row.event not in ("Delivery", "Sales Return"):
			continue
		customer = customers.setdefault(
			row.party, {"customer": row.party, "delivered_qty": 0, "returned_qty": 0, "addresses": [], "lots": {}, "deliveries": {}}
		)
		lot = customer["lots"].setdefault(
			row.from_node,
			{"node": row.from_node, "item": records.get(row.from_node, {}).get("item"),
			 "item_name": records.get(row.from_node, {}).get("item_name"),
			 "delivered_qty": 0, "returned_qty": 0},
		)
		quantity = "delivered_qty" if row.event == "Delivery" else "returned_qty"
		customer[quantity] += row.qty
		lot[quantity] += row.qty
		if row.address and row.address not in customer["addresses"]:
			customer["addresses"].append(row.address)
		customer["deliveries"].setdefault(
			row.voucher_no,
			{"voucher_type": row.voucher_type, "voucher_no": row.voucher_no, "posting_datetime": as_text(row.posting_datetime),
			 "address": row.address, "is_return": row.is_return, "return_against": row.return_against},
		)
	names = party_names("Customer", "customer_name", customers)
	addresses = address_details({address for customer in customers.values() for address in customer["addresses"]})
	result = []
	for customer in sorted(customers.values(), key=lambda c: c["customer"]):
		lots = [
			{**lot, "net_qty": round(lot["delivered_qty"] - lot["returned_qty"], QTY_PRECISION)} for lot in customer["lots"].values()
		]
		result.append(
			{
				**customer,
				"customer_name": names.get(customer["customer"]),
				"net_qty": round(customer["delivered_qty"] - customer["returned_qty"], QTY_PRECISION),
				"addresses": [addresses.get(address, {"address": address}) for address in customer["addresses"]],
				"lots": lots,
				"deliveries": list(customer["deliveries"].values()),
			}
		)
	return result


def party_names(doctype: str, name_field: str, parties: dict) -> dict:
	if not parties:
		return {}
	return dict(frappe.get_all(doctype, filters={"name": ("in", list(parties))}, fields=["name", name_field], as_list=True))


def address_details(names: set) -> dict:
	if not names:
		return {}
	rows = frappe.get_all(
		"Address",
		filters={"name": ("in", list(names))},
		fields=["name", "address_title", "address_line1", "address_line2", "city", "state", "pincode", "country"],
	)
	return {
		row.name: {
			"address": row.name,
			"address_title": row.address_title,
			"address_display": ", ".join(
				filter(None, (row.address_line1, row.address_line2, row.city, row.state, row.pincode, row.country))
			),
		}
		for row in rows
	}


def quality_inspections_of(kept: set, records: dict, edges: list, movements: list) -> list[dict]:
	"""Inspections of a traced lot or serial, and inspections naming no lot or serial of a traced item on a
	voucher of the trace."""
	batches = {parse_node_key(key)[1] for key in kept if key.startswith("Batch::")}
	serials = {parse_node_key(key)[1] for key in kept if key.startswith("Serial No::")}
	vouchers = {(row.voucher_type, row.voucher_no) for row in (*edges, *movements)}
	items = {records[key]["item"] for key in kept if records.get(key, {}).get("item")}
	values = {"batches": tuple(batches), "serials": tuple(serials), "items": tuple(items)}
	# Inspections naming no lot or serial are few; they are matched to the trace's vouchers below, which a wide
	# trace has by the ten thousand, too many to send.
	conditions = [
		condition
		for condition, needed in (
			("batch_no in %(batches)s", batches),
			("item_serial_no in %(serials)s", serials),
			("(item_code in %(items)s and ifnull(batch_no, '') = '' and ifnull(item_serial_no, '') = '')", vouchers and items),
		)
		if needed
	]
	if not conditions:
		return []
	inspections = [
		row
		for row in frappe.db.sql(
			f"""select name, inspection_type, status, item_code, item_name, batch_no, item_serial_no, reference_type,
				reference_name, report_date, quality_inspection_template, inspected_by, creation
			from `tabQuality Inspection`
			where docstatus = 1 and ({" or ".join(conditions)})
			order by report_date, name""",
			values,
			as_dict=True,
		)
		# An inspection that names its lot or serial number is of that one only, even on a voucher of the trace.
		if row.batch_no in batches or row.item_serial_no in serials
		or (not row.batch_no and not row.item_serial_no and (row.reference_type, row.reference_name) in vouchers)
	]
	readings = defaultdict(list)
	if inspections:
		for reading in frappe.get_all(
			"Quality Inspection Reading",
			filters={"parent": ("in", [row.name for row in inspections]), "parenttype": "Quality Inspection"},
			fields=["parent", "specification", "reading_value", "reading_1", "min_value", "max_value", "numeric", "status"],
			order_by="idx",
		):
			readings[reading.parent].append(
				{
					"specification": reading.specification,
					"value": reading.reading_1 if reading.numeric else reading.reading_value,
					"min_value": flt(reading.min_value) if reading.numeric else None,
					"max_value": flt(reading.max_value) if reading.numeric else None,
					"status": reading.status,
				}
			)
	return [
		{
			"quality_inspection": row.name,
			"inspection_type": row.inspection_type,
			"status": row.status,
			"item": row.item_code,
			"item_name": row.item_name,
			"batch_no": row.batch_no,
			"serial_no": row.item_serial_no,
			"reference_type": row.reference_type,
			"reference_name": row.reference_name,
			"report_date": as_text(row.report_date),
			# An inspection has a report date only; the time it was recorded places it among the day's documents.
			"inspected_at": as_text(datetime.datetime.combine(row.report_date, row.creation.time())),
			"template": row.quality_inspection_template,
			"inspected_by": row.inspected_by,
			"readings": readings[row.name],
		}
		for row in inspections
	]


def work_orders_of(kept: set, edges: list) -> list[dict]:
	"""Work Orders whose Manufacture entries made a traced node, or that a traced node was consumed for."""
	outputs = defaultdict(set)
	for edge in edges:
		if edge.work_order:
			outputs[edge.work_order].add(edge.to_node)
	names = set(outputs) | {parse_node_key(key)[1] for key in kept if key.startswith("Work Order::")}
	if not names:
		return []
	rows = frappe.get_all(
		"Work Order",
		filters={"name": ("in", sorted(names))},
		fields=["name", "production_item", "item_name", "bom_no", "qty", "produced_qty", "status", "company",
		        "planned_start_date", "actual_start_date", "actual_end_date"],
		order_by="name",
	)
	return [
		{
			"work_order": row.name,
			"production_item": row.production_item,
			"item_name": row.item_name,
			"bom": row.bom_no,
			"qty": flt(row.qty),
			"produced_qty": flt(row.produced_qty),
			"status": row.status,
			"planned_start_date": as_text(row.planned_start_date),
			"actual_start_date": as_text(row.actual_start_date),
			"actual_end_date": as_text(row.actual_end_date),
			"outputs": sorted(node for node in outputs[row.name] if not node.startswith("Work Order::")),
		}
		for row in rows
	]


def boms_of(kept: set, edges: list) -> list[dict]:
	names = {edge.bom for edge in edges if edge.bom}
	work_orders = [parse_node_key(key)[1] for key in kept if key.startswith("Work Order::")]
	if work_orders:
		names |= set(frappe.get_all("Work Order", filters={"name": ("in", work_orders)}, pluck="bom_no"))
	names.discard(None)
	if not names:
		return []
	rows = frappe.get_all(
		"BOM",
		filters={"name": ("in", sorted(names))},
		fields=["name", "item", "item_name", "quantity", "is_active", "is_default", "docstatus"],
		order_by="name",
	)
	return [
		{
			"bom": row.name,
			"item": row.item,
			"item_name": row.item_name,
			"quantity": flt(row.quantity),
			"is_active": row.is_active,
			"is_default": row.is_default,
		}
		for row in rows
	]


def warehouses_of(stock: dict) -> list[dict]:
	"""Where the traced lots and serial numbers are now."""
	warehouses = defaultdict(list)
	for node, held in sorted(stock.items()):
		for warehouse, qty in held["warehouses"].items():
			warehouses[warehouse].append({"node": node, "qty": qty})
	return [
		{"warehouse": warehouse, "qty": round(sum(node["qty"] for node in nodes), QTY_PRECISION), "nodes": nodes}
		for warehouse, nodes in sorted(warehouses.items())
	]


def timeline_of(edges: list, movements: list, inspections: list) -> list[dict]:
	documents = {}

	def document_of(row) -> dict:
		key = (row.voucher_type, row.voucher_no)
		if key not in documents:
			documents[key] = {
				"posting_datetime": row.posting_datetime, "voucher_type": row.voucher_type, "voucher_no": row.voucher_no,
				"events": set(), "party_type": None, "party": None, "nodes": set(),
			}
		document = documents[key]
		document["events"].add(row.event)
		return document

	for row in movements:
		document = document_of(row)
		document["nodes"].add(row.from_node)
		if row.party:
			document["party_type"], document["party"] = row.party_type, row.party
	for edge in edges:
		document_of(edge)["nodes"].update((edge.from_node, edge.to_node))
	for inspection in inspections:
		documents[("Quality Inspection", inspection["quality_inspection"])] = {
			"posting_datetime": get_datetime(inspection["inspected_at"]), "voucher_type": "Quality Inspection",
			"voucher_no": inspection["quality_inspection"], "events": {inspection["inspection_type"] or _("Inspection")},
			"party_type": None, "party": None,
			"nodes": set(filter(None, (node_key("Batch", inspection["batch_no"]), node_key("Serial No", inspection["serial_no"])))),
		}
	ordered = sorted(documents.values(), key=lambda d: (d["posting_datetime"], d["voucher_type"], d["voucher_no"]))
	return [
		{**document, "posting_datetime": as_text(document["posting_datetime"]), "events": sorted(document["events"]),
		 "nodes": sorted(document["nodes"])}
		for document in ordered
	]


def as_text(value) -> str | None:
	"""Dates and datetimes as the text JSON carries."""
	return str(value) if value is not None else None
