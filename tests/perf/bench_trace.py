"""Benchmark: the trace engine over about 1,600,000 Trace Links, against walks over ERPNext's own tables.

Run with the bench's Python after the test suite has created the site (a site of its own, e.g.
MEDTRACE_TEST_SITE=trace-perf.localhost):
    $MEDTRACE_BENCH/env/bin/python tests/perf/bench_trace.py [--traces 200]
A plant is written straight into the tables (documents would take hours at this size): 2,000 supplier
lots → 5,000 compound lots → 20,000 sub-assembly lots → 200,000 serialised devices → 20,000 cases, each
case delivered to one of 1,000 customers. Raw-material lot 0 is in compound lot 0, which is in
sub-assembly lot 0, which went into 10,000 devices. Every production step is a voucher, written twice: as
the Trace Links MedTrace keeps of it (every input → every output, and a movement per lot or serial in and
out) and as what ERPNext keeps of it (Stock Entry or Delivery Note, its Serial and Batch Bundles and their
entries), so the same questions can be answered from ERPNext's tables as a baseline:
(a) backward traces from cases (depth 4: case → device → sub-assembly → compound → raw material);
(b) forward traces from raw-material lot 0 (more than 10,000 devices, 1,000 customers);
(c) both by a per-level walk over the bundles of manufacture and repack entries (and, forward, of
    deliveries for the customers): naive, one query per node of each level; and set-based, one query per
    level. Each baseline is checked to reach the same lots, serials and customers as the engine, and is
    compared with the engine's whole trace and with its genealogy walk alone (what the baselines answer);
(d) forward from a needle supplier that delivered 100 lots, each fitted to 100 devices (not the hot ones);
(e) backward from the customer holding the first 60 cases (600 devices);
    (d) and (e) are checked to reach exactly the union of the traces from each of their lots and serials,
    and compared with those traces run one after another.
Prints p50/p95 of each and the ratios. --scale 0.25 builds a plant a quarter the size (same shape, 25 needle
devices per needle lot, 15 cases for the big customer). The plant is committed before measuring — what a trace reads in
production — and deleted at the end.
"""

import argparse
import datetime
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests"), str(REPO / "tests" / "perf")]

from bench_scan import connect

BASE_LOTS, COMPOUND_LOTS, SUB_LOTS, SERIALS, CASES, CUSTOMERS = 2_000, 5_000, 20_000, 200_000, 20_000, 1_000
HOT_SERIALS = 10_000  # devices made from sub-assembly lot 0
SERIALS_PER_CASE = SERIALS // CASES
# The needle supplier's lots, each fitted to DEVICES_PER_NEEDLE_LOT devices from the middle of the range.
NEEDLE_LOTS, DEVICES_PER_NEEDLE_LOT, FIRST_NEEDLED = 100, 100, 100_000
NEEDLE_SUPPLIER, BIG_CUSTOMER, BIG_CUSTOMER_CASES = "PERF Needle Supplier", "PERF Hospital Main", 60
PROCESS_PURPOSES = ("Manufacture", "Repack", "Disassemble")
COMPANY, STORES = "PERF", "PERF Stores"
FIRST_LINK = "perf000000000001"


def lot(level: str, index: int) -> str:
	return f"PERF-{level}-{index:06d}"


def batch(level: str, index: int) -> str:
	return f"Batch::{lot(level, index)}"


def serial(level: str, index: int) -> str:
	return f"Serial No::{lot(level, index)}"


def customer(case: int) -> str:
	return BIG_CUSTOMER if case < BIG_CUSTOMER_CASES else f"PERF Hospital {case % CUSTOMERS:04d}"


def needle_lot(device: int) -> int | None:
	offset = device - FIRST_NEEDLED
	return offset // DEVICES_PER_NEEDLE_LOT if 0 <= offset < NEEDLE_LOTS * DEVICES_PER_NEEDLE_LOT else None


def scale_plant(scale: float) -> None:
	"""The plant's sizes times scale: the same shape, smaller."""
	global BASE_LOTS, COMPOUND_LOTS, SUB_LOTS, SERIALS, CASES, CUSTOMERS, HOT_SERIALS, DEVICES_PER_NEEDLE_LOT, FIRST_NEEDLED
	global BIG_CUSTOMER_CASES
	BASE_LOTS, COMPOUND_LOTS, SUB_LOTS, SERIALS, CASES, CUSTOMERS, HOT_SERIALS, FIRST_NEEDLED = (
		int(value * scale) for value in (BASE_LOTS, COMPOUND_LOTS, SUB_LOTS, SERIALS, CASES, CUSTOMERS, HOT_SERIALS, FIRST_NEEDLED)
	)
	DEVICES_PER_NEEDLE_LOT, BIG_CUSTOMER_CASES = int(DEVICES_PER_NEEDLE_LOT * scale), int(BIG_CUSTOMER_CASES * scale)


def production(rng: random.Random):
	"""(voucher, purpose, input nodes, output nodes) of every production step, in order."""
	for index in range(COMPOUND_LOTS):
		bases = rng.sample(range(BASE_LOTS), 2) if index else [0, 1]
		yield f"PERF-L1-{index}", "Manufacture", [batch("L0", base) for base in bases], [batch("L1", index)]
	for index in range(SUB_LOTS):
		compounds = rng.sample(range(COMPOUND_LOTS), 3) if index else [0, 1, 2]
		yield f"PERF-L2-{index}", "Manufacture", [batch("L1", compound) for compound in compounds], [batch("L2", index)]
	for index in range(SERIALS):
		subs = (0, 1 + index % (SUB_LOTS - 1)) if index < HOT_SERIALS else rng.sample(range(1, SUB_LOTS), 2)
		needle = needle_lot(index)
		needles = [batch("ND", needle)] if needle is not None else []
		yield f"PERF-SN-{index}", "Manufacture", [batch("L2", sub) for sub in subs] + needles, [serial("SN", index)]
	for case in range(CASES):
		devices = range(case * SERIALS_PER_CASE, (case + 1) * SERIALS_PER_CASE)
		yield f"PERF-CS-{case}", "Repack", [serial("SN", device) for device in devices], [serial("CS", case)]


def trace_links(rng: random.Random):
	"""The Trace Links MedTrace keeps of the plant's vouchers: (link type, event, direction, from, to,
	voucher, voucher type, party type, party)."""
	for index in range(BASE_LOTS):
		yield "Movement", "Receipt", "In", batch("L0", index), "Supplier::PERF Supplier", f"PERF-PR-{index // 10}", "Purchase Receipt"
	for index in range(NEEDLE_LOTS):
		yield "Movement", "Receipt", "In", batch("ND", index), f"Supplier::{NEEDLE_SUPPLIER}", f"PERF-PRN-{index // 10}", "Purchase Receipt"
	for voucher, purpose, inputs, outputs in production(rng):
		for source in inputs:
			for output in outputs:
				yield "Consumption", purpose, None, source, output, voucher, "Stock Entry"
		for source in inputs:
			yield "Movement", "Consumption", "Out", source, None, voucher, "Stock Entry"
		for output in outputs:
			yield "Movement", "Production", "In", output, None, voucher, "Stock Entry"
	for case in range(CASES):
		yield "Movement", "Delivery", "Out", serial("CS", case), f"Customer::{customer(case)}", f"PERF-DN-{case}", "Delivery Note"


def insert_rows(frappe, doctype: str, fields: list[str], rows, chunk: int = 5_000) -> int:
	"""Multi-row INSERTs: the query builder would spend more time than the database at this size."""
	columns = ", ".join(f"`{field}`" for field in fields)
	placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
	written, batch_rows = 0, []

	def flush():
		frappe.db.sql(
			f"insert into `tab{doctype}` ({columns}) values {', '.join([placeholder] * len(batch_rows))}",
			[value for row in batch_rows for value in row],
		)

	for row in rows:
		batch_rows.append(row)
		if len(batch_rows) == chunk:
			flush()
			written += len(batch_rows)
			batch_rows = []
	if batch_rows:
		flush()
		written += len(batch_rows)
	return written


def write_plant(frappe) -> dict:
	from medtrace.traceability.trace_links import LINK_FIELDS, NUMERIC_DEFAULTS, rebuild_node_stock

	start = datetime.datetime.now().replace(microsecond=0) - datetime.timedelta(days=400)
	meta = ["name", "creation", "modified", "owner", "modified_by"]

	def link_rows():
		for number, (link_type, event, direction, source, target, voucher, voucher_type) in enumerate(trace_links(random.Random(7)), 1):
			when = start + datetime.timedelta(seconds=number)
			party_type, _separator, party = (target or "").partition("::") if link_type == "Movement" else ("", "", "")
			values = {
				**NUMERIC_DEFAULTS, "link_type": link_type, "event": event, "direction": direction, "from_node": source,
				"to_node": target, "voucher_type": voucher_type, "voucher_no": voucher, "posting_datetime": when,
				"company": COMPANY, "qty": 1, "party_type": party_type or None, "party": party or None,
			}
			if link_type == "Consumption":
				values.update(output_qty=1, attributed_qty=1)
			elif direction == "In":
				values["to_warehouse"] = STORES
			else:
				values["from_warehouse"] = STORES
			yield (f"perf{number:012d}", when, when, "Administrator", "Administrator", *(values.get(field) for field in LINK_FIELDS))

	counts = {"Trace Link": insert_rows(frappe, "Trace Link", [*meta, *LINK_FIELDS], link_rows())}
	# What the hooks keep with each voucher's links, kept here once for all of them.
	rebuild_node_stock()
	counts["Trace Node Stock"] = frappe.db.count("Trace Node Stock", {"node": ("like", "Batch::PERF-%")})

	# What ERPNext keeps of the same vouchers: a bundle per voucher and direction, an entry per lot or serial.
	def vouchers():
		for number, (voucher, purpose, inputs, outputs) in enumerate(production(random.Random(7))):
			yield voucher, purpose, inputs, outputs, start + datetime.timedelta(minutes=number)

	def deliveries():
		for case in range(CASES):
			yield case, f"PERF-DN-{case}", start + datetime.timedelta(days=300, minutes=case)

	stock_entries = ((voucher, 1, purpose, purpose, COMPANY, when.date(), when.time()) for voucher, purpose, _i, _o, when in vouchers())
	delivery_notes = ((voucher, 1, customer(case), COMPANY, when.date(), when.time()) for case, voucher, when in deliveries())

	def bundles():
		for voucher, _purpose, _inputs, _outputs, when in vouchers():
			for direction in ("Outward", "Inward"):
				yield (f"PERF-SABB-{voucher}-{direction[0]}", 1, COMPANY, "PERF-ITEM", STORES, direction, "Stock Entry", voucher,
				       when.date(), when.time(), 0)
		for _case, voucher, when in deliveries():
			yield (f"PERF-SABB-{voucher}", 1, COMPANY, "PERF-ITEM", STORES, "Outward", "Delivery Note", voucher, when.date(),
			       when.time(), 0)

	def entries():
		for voucher, _purpose, inputs, outputs, _when in vouchers():
			for direction, nodes in (("Outward", inputs), ("Inward", outputs)):
				for idx, node in enumerate(nodes, 1):
					yield bundle_entry(f"PERF-SABB-{voucher}-{direction[0]}", idx, node, direction)
		for case, voucher, _when in deliveries():
			yield bundle_entry(f"PERF-SABB-{voucher}", 1, serial("CS", case), "Outward")

	counts["Stock Entry"] = insert_rows(
		frappe, "Stock Entry", ["name", "docstatus", "purpose", "stock_entry_type", "company", "posting_date", "posting_time"],
		stock_entries,
	)
	counts["Delivery Note"] = insert_rows(
		frappe, "Delivery Note", ["name", "docstatus", "customer", "company", "posting_date", "posting_time"], delivery_notes
	)
	counts["Serial and Batch Bundle"] = insert_rows(
		frappe, "Serial and Batch Bundle",
		["name", "docstatus", "company", "item_code", "warehouse", "type_of_transaction", "voucher_type", "voucher_no",
		 "posting_date", "posting_time", "is_cancelled"],
		bundles(),
	)
	counts["Serial and Batch Entry"] = insert_rows(
		frappe, "Serial and Batch Entry",
		["name", "docstatus", "parent", "parenttype", "parentfield", "idx", "serial_no", "batch_no", "qty", "warehouse"],
		entries(),
	)
	# The records the nodes are: traces describe them from Batch and Serial No.
	counts["Batch"] = insert_rows(
		frappe, "Batch", ["name", "batch_id", "item"],
		((lot(level, i), lot(level, i), "PERF-ITEM")
		 for level, count in (("L0", BASE_LOTS), ("ND", NEEDLE_LOTS), ("L1", COMPOUND_LOTS), ("L2", SUB_LOTS)) for i in range(count)),
	)
	counts["Serial No"] = insert_rows(
		frappe, "Serial No", ["name", "serial_no", "item_code"],
		((lot(level, i), lot(level, i), "PERF-ITEM") for level, count in (("SN", SERIALS), ("CS", CASES)) for i in range(count)),
	)
	counts["Customer"] = insert_rows(
		frappe, "Customer", ["name", "customer_name"], ((name, name) for name in sorted({customer(case) for case in range(CASES)}))
	)
	counts["Supplier"] = insert_rows(
		frappe, "Supplier", ["name", "supplier_name"], ((name, name) for name in ("PERF Supplier", NEEDLE_SUPPLIER))
	)
	return counts


def bundle_entry(bundle: str, idx: int, node: str, direction: str) -> tuple:
	doctype, _separator, name = node.partition("::")
	return (
		f"{bundle}-{idx}", 1, bundle, "Serial and Batch Bundle", "entries", idx,
		name if doctype == "Serial No" else None, name if doctype == "Batch" else None,
		1 if direction == "Inward" else -1, STORES,
	)


# The baselines: the same walk over ERPNext's Serial and Batch Bundles.

NEAR_ENTRIES = """select e.serial_no, e.batch_no, b.voucher_no
	from `tabSerial and Batch Entry` e
	join `tabSerial and Batch Bundle` b on b.name = e.parent
	join `tabStock Entry` se on se.name = b.voucher_no
	where e.{column} in %(names)s and b.type_of_transaction = %(near)s and b.voucher_type = 'Stock Entry'
		and b.docstatus = 1 and b.is_cancelled = 0 and se.docstatus = 1 and se.purpose in %(purposes)s"""
FAR_ENTRIES = """select e.serial_no, e.batch_no
	from `tabSerial and Batch Bundle` b
	join `tabSerial and Batch Entry` e on e.parent = b.name
	where b.voucher_no in %(vouchers)s and b.voucher_type = 'Stock Entry' and b.type_of_transaction = %(far)s
		and b.docstatus = 1 and b.is_cancelled = 0"""
DELIVERED = """select dn.customer, b.type_of_transaction, e.qty
	from `tabSerial and Batch Entry` e
	join `tabSerial and Batch Bundle` b on b.name = e.parent
	join `tabDelivery Note` dn on dn.name = b.voucher_no
	where e.{column} in %(names)s and b.voucher_type = 'Delivery Note' and b.docstatus = 1 and b.is_cancelled = 0"""


def entry_node(serial_no, batch_no) -> str:
	return f"Serial No::{serial_no}" if serial_no else f"Batch::{batch_no}"


def baseline_step(frappe, nodes: list[str], near: str, far: str) -> set[str]:
	"""The nodes at the other end of the manufacture and repack entries the nodes went into or came out of."""
	names = defaultdict(list)
	for key in nodes:
		doctype, _separator, name = key.partition("::")
		names["serial_no" if doctype == "Serial No" else "batch_no"].append(name)
	vouchers = set()
	for column, values in names.items():
		vouchers.update(
			row[2]
			for row in frappe.db.sql(
				NEAR_ENTRIES.format(column=column), {"names": tuple(values), "near": near, "purposes": PROCESS_PURPOSES}
			)
		)
	if not vouchers:
		return set()
	return {entry_node(*row) for row in frappe.db.sql(FAR_ENTRIES, {"vouchers": tuple(vouchers), "far": far})}


def baseline_trace(frappe, start: str, direction: str, depth: int, per_node: bool) -> tuple[dict, dict]:
	"""Nodes reached with their depth and, forward, the customers with the quantity delivered to them."""
	near, far = ("Inward", "Outward") if direction == "backward" else ("Outward", "Inward")
	depths, frontier, level = {start: 0}, [start], 0
	while frontier and level < depth:
		level += 1
		reached = set()
		for group in ([[node] for node in frontier] if per_node else [frontier]):
			reached |= baseline_step(frappe, group, near, far)
		frontier = [node for node in reached if node not in depths]
		depths.update(dict.fromkeys(frontier, level))
	customers = defaultdict(float)
	if direction == "forward":
		serials = [key.partition("::")[2] for key in depths if key.startswith("Serial No::")]
		for group in ([[name] for name in serials] if per_node else [serials]):
			for party, transaction, qty in frappe.db.sql(DELIVERED.format(column="serial_no"), {"names": tuple(group)}):
				customers[party] += -qty if transaction == "Outward" else qty
	return depths, dict(customers)


# Measuring


def timed(function, *args, **kwargs) -> tuple[float, object]:
	start = time.perf_counter()
	result = function(*args, **kwargs)
	return time.perf_counter() - start, result


def percentile(values: list[float], share: float) -> float:
	ordered = sorted(values)
	return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def figures(seconds: list[float]) -> str:
	return f"p50 {statistics.median(seconds) * 1000:,.1f} ms, p95 {percentile(seconds, 0.95) * 1000:,.1f} ms"


def ratio(baseline: list[float], engine: list[float]) -> str:
	return (f"{statistics.median(baseline) / statistics.median(engine):.1f}× at p50, "
	        f"{percentile(baseline, 0.95) / percentile(engine, 0.95):.1f}× at p95")


def measure(frappe, label: str, starts: list[tuple[str, str]], direction: str, naive_runs: int) -> None:
	from medtrace.traceability.engine import trace_record, trace_request, walk

	engine, engine_walk, level_walk, node_walk = [], [], [], []
	for number, (doctype, name) in enumerate(starts):
		seconds, result = timed(trace_record, doctype, name, direction, 10)
		engine.append(seconds)
		# The genealogy alone, as the baselines answer it: the engine's walk over the Trace Links.
		engine_walk.append(timed(walk, {f"{doctype}::{name}"}, trace_request(direction, 10))[0])
		seconds, (depths, customers) = timed(baseline_trace, frappe, f"{doctype}::{name}", direction, 10, per_node=False)
		level_walk.append(seconds)
		# Same answer: the lots and serials reached, and the customers with their net quantities.
		assert set(depths) == {node["node"] for node in result["nodes"]}, name
		if direction == "forward":
			assert customers == {row["customer"]: row["net_qty"] for row in result["customers"]}, name
		if number < naive_runs:
			seconds, (depths, _customers) = timed(baseline_trace, frappe, f"{doctype}::{name}", direction, 10, per_node=True)
			node_walk.append(seconds)
			assert set(depths) == {node["node"] for node in result["nodes"]}, name
	devices = sum(1 for node in result["nodes"] if node["name"].startswith("PERF-SN-"))
	print(f"\n{label}: depth reached {result['query']['depth_reached']}, {len(result['nodes']):,} nodes "
	      f"({devices:,} devices), {len(result['customers']):,} customers")
	print(f"  engine, whole trace:               {figures(engine)}  [{len(engine)} traces]")
	print(f"  engine, genealogy walk only:       {figures(engine_walk)}")
	print(f"  baseline, one query per level:     {figures(level_walk)}  → whole trace {ratio(level_walk, engine)}, "
	      f"walk {ratio(level_walk, engine_walk)}")
	print(f"  baseline, one query per node:      {figures(node_walk)}  → whole trace {ratio(node_walk, engine[:len(node_walk)])}, "
	      f"walk {ratio(node_walk, engine_walk[:len(node_walk)])}  [{len(node_walk)} traces]")


def measure_start(frappe, label: str, start_type: str, value: str, direction: str, runs: int) -> None:
	"""A trace from what a supplier or customer stands for, against the traces of each of its lots and serial
	numbers run one after another (how a recall scoped a supplier's lots before): same nodes, and the time."""
	from medtrace.traceability.engine import record_start, start_of, trace_from, trace_request

	request = trace_request(direction, 10)
	engine, one_by_one = [], []
	# Taken in turns, so that the load of the machine weighs on both alike.
	for _run in range(runs):
		seconds, result = timed(trace_from, start_of(start_type, value), request)
		engine.append(seconds)
		started, reached = time.perf_counter(), set()
		for node in result["query"]["start"]["nodes"]:
			reached |= {row["node"] for row in trace_from(record_start(*node.split("::")), request)["nodes"]}
		one_by_one.append(time.perf_counter() - started)
		assert reached == {node["node"] for node in result["nodes"]}, label
	start = result["query"]["start"]
	devices = sum(1 for node in result["nodes"] if node["name"].startswith("PERF-SN-"))
	print(f"\n{label}: {len(start['nodes']):,} starting lots and serials, depth reached {result['query']['depth_reached']}, "
	      f"{len(result['nodes']):,} nodes ({devices:,} devices), {len(result['customers']):,} customers, {len(result['suppliers']):,} suppliers")
	print(f"  engine, one trace from all:        {figures(engine)}  [{len(engine)} traces]")
	print(f"  a trace per lot, one after another: {figures(one_by_one)}  → {ratio(one_by_one, engine)}")


def delete_plant(frappe) -> None:
	for doctype, pattern in (
		("Trace Link", "perf%"), ("Serial and Batch Entry", "PERF-%"), ("Serial and Batch Bundle", "PERF-%"),
		("Stock Entry", "PERF-%"), ("Delivery Note", "PERF-%"), ("Batch", "PERF-%"), ("Serial No", "PERF-%"),
		("Customer", "PERF %"), ("Supplier", "PERF %"),
	):
		frappe.db.sql(f"delete from `tab{doctype}` where name like %s", pattern)
	frappe.db.sql("delete from `tabTrace Node Stock` where node like 'Batch::PERF-%%'")
	frappe.db.commit()


def main() -> None:
	parser = argparse.ArgumentParser()
	parser.add_argument("--traces", type=int, default=200)
	parser.add_argument("--keep", action="store_true", help="reuse a plant left by an earlier run, and leave it")
	parser.add_argument("--scale", type=float, default=1.0, help="the plant's size (1: 1.6 million links)")
	arguments = parser.parse_args()
	if arguments.scale != 1:
		scale_plant(arguments.scale)
	frappe = connect()
	wall = time.perf_counter()
	try:
		if frappe.db.exists("Trace Link", FIRST_LINK) and not arguments.keep:
			delete_plant(frappe)  # left by a run with --keep
		if not frappe.db.exists("Trace Link", FIRST_LINK):
			seconds, counts = timed(write_plant, frappe)
			frappe.db.commit()
			print(f"plant written in {seconds:.0f} s: " + ", ".join(f"{count:,} {doctype}" for doctype, count in counts.items()))
		rng = random.Random(11)
		cases = [("Serial No", lot("CS", case)) for case in rng.sample(range(CASES), arguments.traces)]
		measure(frappe, "(a) backward from a case", cases, "backward", naive_runs=arguments.traces)
		forward_runs = max(5, arguments.traces // 10)
		measure(frappe, "(b) forward from raw-material lot 0", [("Batch", lot("L0", 0))] * forward_runs, "forward", naive_runs=5)
		measure_start(frappe, "(d) forward from a supplier that delivered 100 lots", "supplier", NEEDLE_SUPPLIER, "forward", forward_runs)
		measure_start(frappe, f"(e) backward from a customer holding {BIG_CUSTOMER_CASES * SERIALS_PER_CASE:,} devices", "customer",
		              BIG_CUSTOMER, "backward", forward_runs)
	finally:
		frappe.db.rollback()
		if not arguments.keep:
			delete_plant(frappe)
	print(f"\nwall time {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
	main()
