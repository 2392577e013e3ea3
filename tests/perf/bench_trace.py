"""Benchmark: the trace engine over about 1,100,000 Trace Links.

Run with the bench's Python after the test suite has created the site:
    $MEDTRACE_BENCH/env/bin/python tests/perf/bench_trace.py [--traces 200]
A plant's genealogy is written straight into the tables (documents would take hours at this size):
2,000 supplier lots → 5,000 compound lots → 20,000 sub-assembly lots → 200,000 serialised devices →
20,000 cases, with a receipt or production, consumptions and deliveries as movements. One sub-assembly
lot went into 10,000 devices. Prints p50/p95 of backward traces from cases (depth 4) and of forward traces
from that lot (10,000 devices, 1,000 cases). The plant is committed before measuring — what a trace reads in
production — and deleted at the end.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests"), str(REPO / "tests" / "perf")]

from bench_scan import connect  # noqa: E402

BASE_LOTS, COMPOUND_LOTS, SUB_LOTS, SERIALS, CASES = 2_000, 5_000, 20_000, 200_000, 20_000
HOT_SERIALS = 10_000  # devices made from sub-assembly lot 0
SERIALS_PER_CASE = SERIALS // CASES


def lot(level: str, index: int) -> str:
	return f"PERF-{level}-{index:06d}"


def genealogy(rng: random.Random):
	"""(input node, output node, voucher) of every consumption, level by level."""
	for index in range(COMPOUND_LOTS):
		for base in rng.sample(range(BASE_LOTS), 2):
			yield f"Batch::{lot('L0', base)}", f"Batch::{lot('L1', index)}", f"PERF-L1-{index}"
	for index in range(SUB_LOTS):
		for compound in rng.sample(range(COMPOUND_LOTS), 3):
			yield f"Batch::{lot('L1', compound)}", f"Batch::{lot('L2', index)}", f"PERF-L2-{index}"
	for index in range(SERIALS):
		subs = (0, 1 + index % (SUB_LOTS - 1)) if index < HOT_SERIALS else rng.sample(range(1, SUB_LOTS), 2)
		for sub in subs:
			yield f"Batch::{lot('L2', sub)}", f"Serial No::{lot('SN', index)}", f"PERF-SN-{index // 4}"
	for index in range(SERIALS):
		case = index // SERIALS_PER_CASE
		yield f"Serial No::{lot('SN', index)}", f"Serial No::{lot('CS', case)}", f"PERF-CS-{case}"


def movements():
	"""(node, event, direction, party, voucher) for the life of every node."""
	for index in range(BASE_LOTS):
		yield f"Batch::{lot('L0', index)}", "Receipt", "In", "Supplier::PERF Supplier", f"PERF-PR-{index // 10}"
	for level, count in (("L1", COMPOUND_LOTS), ("L2", SUB_LOTS)):
		for index in range(count):
			yield f"Batch::{lot(level, index)}", "Production", "In", None, f"PERF-{level}-{index}"
	for index in range(SERIALS):
		yield f"Serial No::{lot('SN', index)}", "Production", "In", None, f"PERF-SN-{index // 4}"
		yield f"Serial No::{lot('SN', index)}", "Consumption", "Out", None, f"PERF-CS-{index // SERIALS_PER_CASE}"
	for index in range(CASES):
		yield f"Serial No::{lot('CS', index)}", "Production", "In", None, f"PERF-CS-{index}"
		yield f"Serial No::{lot('CS', index)}", "Delivery", "Out", f"Customer::PERF Hospital {index % 50}", f"PERF-DN-{index // 20}"


def write_plant(frappe) -> int:
	from frappe.utils import add_to_date, now_datetime

	from medtrace.traceability.trace_links import LINK_FIELDS, NUMERIC_DEFAULTS

	start = add_to_date(now_datetime(), days=-400)
	common = {"company": "PERF", "voided": 0, "voucher_type": "Stock Entry", "is_return": 0}
	fields = ["name", "creation", "modified", "owner", "modified_by", *LINK_FIELDS]

	def row(number: int, link: dict) -> tuple:
		when = add_to_date(start, seconds=number)
		values = {**NUMERIC_DEFAULTS, **common, **link, "posting_datetime": when}
		return (f"perf{number:012d}", when, when, "Administrator", "Administrator", *(values.get(field) for field in LINK_FIELDS))

	def rows():
		number = 0
		for source, output, voucher in genealogy(random.Random(7)):
			number += 1
			yield row(number, {"link_type": "Consumption", "event": "Manufacture", "from_node": source, "to_node": output,
			                   "voucher_no": voucher, "qty": 1, "output_qty": 1, "attributed_qty": 1})
		for node, event, direction, party, voucher in movements():
			number += 1
			yield row(number, {"link_type": "Movement", "event": event, "direction": direction, "from_node": node,
			                   "to_node": party, "voucher_no": voucher, "qty": 1,
			                   "party_type": party and party.partition("::")[0], "party": party and party.partition("::")[2],
			                   "to_warehouse" if direction == "In" else "from_warehouse": "PERF Stores"})

	frappe.db.bulk_insert("Trace Link", fields=fields, values=rows())
	# The records the nodes are: traces describe them from Batch and Serial No.
	batches = [(lot(level, i), lot(level, i), "PERF-ITEM") for level, count in (("L0", BASE_LOTS), ("L1", COMPOUND_LOTS), ("L2", SUB_LOTS)) for i in range(count)]
	frappe.db.bulk_insert("Batch", fields=["name", "batch_id", "item"], values=batches)
	serials = [(lot(level, i), lot(level, i), "PERF-ITEM") for level, count in (("SN", SERIALS), ("CS", CASES)) for i in range(count)]
	frappe.db.bulk_insert("Serial No", fields=["name", "serial_no", "item_code"], values=serials)
	return frappe.db.count("Trace Link")


def timed(function, *args, **kwargs) -> tuple[float, dict]:
	start = time.perf_counter()
	result = function(*args, **kwargs)
	return time.perf_counter() - start, result


def percentile(values: list[float], share: float) -> float:
	ordered = sorted(values)
	return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
	parser = argparse.ArgumentParser()
	parser.add_argument("--traces", type=int, default=200)
	arguments = parser.parse_args()
	frappe = connect()
	from medtrace.traceability.engine import trace_record

	try:
		seconds, links = timed(write_plant, frappe)
		frappe.db.commit()
		print(f"{links:,} trace links written in {seconds:.0f} s")
		rng = random.Random(11)
		backward, depths = [], set()
		for case in rng.sample(range(HOT_SERIALS // SERIALS_PER_CASE, CASES), arguments.traces):
			seconds, result = timed(trace_record, "Serial No", lot("CS", case), "backward", 10)
			backward.append(seconds)
			depths.add(result["query"]["depth_reached"])
		print(f"backward from a case (depth reached {sorted(depths)}, ~{len(result['nodes'])} nodes): "
		      f"p50 {statistics.median(backward) * 1000:.1f} ms, p95 {percentile(backward, 0.95) * 1000:.1f} ms")
		forward = []
		for _ in range(max(5, arguments.traces // 10)):
			seconds, result = timed(trace_record, "Batch", lot("L2", 0), "forward", 10)
			forward.append(seconds)
		devices = sum(1 for node in result["nodes"] if node["name"].startswith("PERF-SN-"))
		print(f"forward from the lot in {devices:,} devices ({len(result['nodes']):,} nodes): "
		      f"p50 {statistics.median(forward) * 1000:.0f} ms, p95 {percentile(forward, 0.95) * 1000:.0f} ms")
	finally:
		frappe.db.rollback()
		frappe.db.delete("Trace Link", {"name": ("like", "perf%")})
		frappe.db.delete("Batch", {"name": ("like", "PERF-%")})
		frappe.db.delete("Serial No", {"name": ("like", "PERF-%")})
		frappe.db.commit()


if __name__ == "__main__":
	main()
