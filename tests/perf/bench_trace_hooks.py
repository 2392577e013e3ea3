"""Benchmark: what MedTrace's hooks add to submitting a Manufacture Stock Entry.

Run with the bench's Python after the test suite has created the site (use a site of its own: the
entries it submits are committed and stay):
    MEDTRACE_TEST_SITE=trace-perf.localhost $MEDTRACE_BENCH/env/bin/python tests/perf/bench_trace_hooks.py [--entries 6000]
Each entry is a Manufacture through ERPNext's document API: two component lots consumed, one product lot
made; a component lot lasts a hundred entries (ERPNext's batch checks read every earlier use of a lot). Each is submitted and committed, as a request would be, in one of three modes, interleaved so all
three meet the same table sizes and caches: with every hook (most entries: the hook path), without
MedTrace's doc_events (ERPNext alone), and without the trace-link hooks only. Prints each mode's median,
mean and p95 submit time, what MedTrace and the trace links add, and the wall time.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests"), str(REPO / "tests" / "perf")]

from bench_scan import connect
from bench_trace import percentile

# Per cycle of twelve entries: ten with every hook, one without MedTrace's, one without the trace links.
CYCLE = ("all", "all", "all", "none", "all", "all", "all", "all", "trace links off", "all", "all", "all")
WARM_UP = 20
ENTRIES_PER_LOT = 100


def hooks_without(all_hooks: dict, prefix: str) -> dict:
	return {
		doctype: {event: [handler for handler in handlers if not handler.startswith(prefix)] for event, handlers in events.items()}
		for doctype, events in all_hooks.items()
	}


def main() -> None:
	parser = argparse.ArgumentParser()
	parser.add_argument("--entries", type=int, default=6000)
	arguments = parser.parse_args()
	wall = time.perf_counter()
	frappe = connect()
	from factories import default_warehouse, make_item, receive_stock

	stores = default_warehouse()
	company = frappe.db.get_value("Warehouse", stores, "company")
	resin = make_item(item_name="PERF Hook Resin", has_batch_no=1, create_new_batch=1).name
	tubing = make_item(item_name="PERF Hook Tubing", has_batch_no=1, create_new_batch=1).name
	product = make_item(item_name="PERF Hook Sub-assembly", has_batch_no=1, create_new_batch=1).name
	for _lot in range((WARM_UP + arguments.entries) // ENTRIES_PER_LOT + 1):
		receive_stock(resin, ENTRIES_PER_LOT * 2)
		receive_stock(tubing, ENTRIES_PER_LOT)
	lots = {
		item: frappe.get_all("Batch", filters={"item": item}, pluck="name", order_by="creation, name") for item in (resin, tubing)
	}
	frappe.db.commit()
	entries = 0

	all_hooks = frappe.get_doc_hooks()
	modes = {
		"all": all_hooks,
		"none": hooks_without(all_hooks, "medtrace."),
		"trace links off": hooks_without(all_hooks, "medtrace.traceability.trace_links."),
	}

	def manufacture(mode: str) -> float:
		nonlocal entries
		entry = frappe.new_doc("Stock Entry")
		entry.update({"stock_entry_type": "Manufacture", "company": company})
		for item, qty in ((resin, 2), (tubing, 1)):
			entry.append("items", {"item_code": item, "qty": qty, "s_warehouse": stores, "batch_no": lots[item][entries // ENTRIES_PER_LOT],
			                       "use_serial_batch_fields": 1, "basic_rate": 5})
		entries += 1
		entry.append("items", {"item_code": product, "qty": 10, "t_warehouse": stores, "is_finished_item": 1})
		entry.insert()
		frappe.db.commit()
		frappe.local.doc_events_hooks = modes[mode]
		try:
			start = time.perf_counter()
			entry.submit()
			frappe.db.commit()
			return time.perf_counter() - start
		finally:
			frappe.local.doc_events_hooks = all_hooks

	for _warm_up in range(WARM_UP):
		manufacture("all")
	times = {mode: [] for mode in modes}
	for number in range(arguments.entries):
		mode = CYCLE[number % len(CYCLE)]
		times[mode].append(manufacture(mode))
		if (number + 1) % 1000 == 0:
			print(f"{number + 1:,} entries submitted, {time.perf_counter() - wall:.0f} s", flush=True)

	links = frappe.db.count("Trace Link", {"from_item": ("in", [resin, tubing])})
	print(f"\n{arguments.entries:,} Manufacture entries submitted ({len(times['all']):,} with every hook), "
	      f"{links:,} trace links from their component lots")
	for mode, seconds in times.items():
		print(f"{mode:>16}: median {statistics.median(seconds) * 1000:.1f} ms, mean {statistics.mean(seconds) * 1000:.1f} ms, "
		      f"p95 {percentile(seconds, 0.95) * 1000:.1f} ms ({len(seconds):,} entries)")
	bare = statistics.median(times["none"])
	print(f"MedTrace's hooks add {(statistics.median(times['all']) / bare - 1) * 100:.1f} % to the median submit "
	      f"({(statistics.mean(times['all']) / statistics.mean(times['none']) - 1) * 100:.1f} % to the mean)")
	print(f"of which the trace links {(statistics.median(times['all']) - statistics.median(times['trace links off'])) / bare * 100:.1f} % "
	      f"({(statistics.mean(times['all']) - statistics.mean(times['trace links off'])) / statistics.mean(times['none']) * 100:.1f} % of the mean)")
	print(f"wall time {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
	main()
