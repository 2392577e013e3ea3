"""Benchmark: EPCIS 2.0 export and query over the trace benchmark's plant (tests/perf/bench_trace.py).

Run with the bench's Python after the test suite has created the site (a site of its own):
    $MEDTRACE_BENCH/env/bin/python tests/perf/bench_epcis.py [--scale 0.1] [--queries 50]
The plant (1.6 million Trace Links at --scale 1) is written as bench_trace writes it. Then:
(a) the first export of the whole history as EPCIS events, eventIDs computed by the CBV 2.0 event hash
    (epcis-event-hash-generator), and a second export that finds them cached: events per second of each,
    and that both gave the same eventIDs;
(b) query_events by lot (a compound lot: its production, its use in sub-assemblies, its movements), p50/p95.
The plant is deleted at the end unless --keep. On the full plant (--scale 1 --keep after bench_trace.py --keep)
--queries-only measures (b) alone: (a) would export every event of 1.6 million links.
"""

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests"), str(REPO / "tests" / "perf")]

import bench_trace
from bench_scan import connect
from bench_trace import FIRST_LINK, delete_plant, figures, lot, scale_plant, timed, write_plant


def export_everything(frappe, links: int) -> None:
	"""(a): every event of the site's history, first hashing each, then with the ids cached."""
	from medtrace.packaging.epcis import EVENT_ID_CACHE, all_events

	frappe.cache.delete_value(EVENT_ID_CACHE)
	cpu = time.process_time()
	cold, events = timed(all_events)
	cold_cpu, cpu = time.process_time() - cpu, time.process_time()
	warm, again = timed(all_events)
	warm_cpu = time.process_time() - cpu
	assert [event["eventID"] for event in events] == [event["eventID"] for event in again]
	# On a shared machine the process's CPU time says more than the wall clock.
	print(f"(a) export of {len(events):,} events from {links:,} Trace Links: first {cold:.1f} s, {cold_cpu:.1f} s CPU "
	      f"({len(events) / cold:,.0f} events/s; {len(events) / cold_cpu:,.0f} per CPU second; hashing every event), "
	      f"again {warm:.1f} s, {warm_cpu:.1f} s CPU ({len(events) / warm:,.0f} events/s; {len(events) / warm_cpu:,.0f} per CPU second; ids cached)")


def main() -> None:
	parser = argparse.ArgumentParser()
	parser.add_argument("--scale", type=float, default=0.1, help="the plant's size (1: 1.6 million links)")
	parser.add_argument("--queries", type=int, default=50)
	parser.add_argument("--keep", action="store_true", help="reuse a plant left by an earlier run, and leave it")
	parser.add_argument("--queries-only", action="store_true", help="skip (a): on the full plant it exports every event")
	arguments = parser.parse_args()
	if arguments.scale != 1:
		scale_plant(arguments.scale)
	frappe = connect()
	from medtrace.packaging.epcis import query_events

	try:
		if frappe.db.exists("Trace Link", FIRST_LINK) and not arguments.keep:
			delete_plant(frappe)
		if not frappe.db.exists("Trace Link", FIRST_LINK):
			seconds, counts = timed(write_plant, frappe)
			frappe.db.commit()
			print(f"plant written in {seconds:.0f} s: " + ", ".join(f"{count:,} {doctype}" for doctype, count in counts.items()))
		links = frappe.db.count("Trace Link")
		if not arguments.queries_only:
			export_everything(frappe, links)
		rng = random.Random(5)
		lots = [lot("L1", index) for index in rng.sample(range(bench_trace.COMPOUND_LOTS), min(arguments.queries, bench_trace.COMPOUND_LOTS))]
		seconds = []
		for name in lots:
			took, document = timed(query_events, lot=name, per_page=100)
			assert document["epcisBody"]["queryResults"]["resultsBody"]["eventList"], name
			seconds.append(took)
		print(f"(b) query by lot, first page of 100 ({len(lots)} lots): {figures(seconds)}")
	finally:
		frappe.db.rollback()
		if not arguments.keep:
			delete_plant(frappe)


if __name__ == "__main__":
	main()
