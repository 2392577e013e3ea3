"""Benchmark: a recall on the trace benchmark's plant — from the lot entered to the affected customers listed
with their quantities, for a lot whose forward trace reaches more than 10,000 units (goal: under 5 s).

Run with the bench's Python on a site of its own after the test suite has created or migrated it, e.g.:
    MEDTRACE_TEST_SITE=recall-perf.localhost $MEDTRACE_BENCH/env/bin/python tests/perf/bench_recall.py \
        [--runs 5] [--recall-runs N] [--in-stock 5000] [--only population|drill|recall] \
        [--profile drill|recall [--only-profile]] [--notify-every-insert] [--keep]
The plant is bench_trace.py's (about 1,600,000 Trace Links): one already on the site is reused and left as it
is; otherwise it is written with bench_trace's builder, committed (what a recall reads in production), and
deleted at the end unless --keep. The recall is on raw-material lot 0 (--lot), whose forward trace reaches
more than 10,000 devices in about 1,000 cases delivered to about 1,000 customers.

Everything else the benchmark writes is rolled back at the end: the Item and Warehouse the plant's rows name
(so that the recall's rows pass Frappe's link validation), --in-stock of the lot's devices put into the
plant's warehouse (so that the recall has stock to hold: the plant delivers everything), the recalls, their
holds, signatures and Versions. Each recall runs in a transaction of its own, rolled back after it, so that
every run does the same work from the same state.

Measures, cold (first run after frappe.clear_cache() — the database's buffer pool stays as it is) and warm
(median of --runs):
(a) affected_population: the lot entered → affected units and customers with quantities (the trace engine);
(b) a Recall inserted with the lot, then its "Scope Recall" workflow action as the Desk applies it
    (medtrace.signatures.esignature.apply_workflow; this transition asks for no signature), split into the
    population, holds, mass balance and the rest (validation, saving the document with its unit rows,
    Version, hooks);
(c) place_holds, which (b) runs in the Recall's on_update;
(d) (b) as a drill, which places no holds.
Prints the figures, the counts (units, customers, holds) and the ratio to the 5 s goal. --profile runs one
more drill or recall under cProfile and prints the hot spots. --notify-every-insert measures the baseline of
place_holds before its holds and their creation Versions were inserted without realtime notifications.
"""

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests"), str(REPO / "tests" / "perf")]

from bench_scan import connect  # noqa: E402
from bench_trace import FIRST_LINK, HOT_SERIALS, STORES, delete_plant, lot, timed, write_plant  # noqa: E402

GOAL_SECONDS = 5.0
PERF_ITEM = "PERF-ITEM"


def prepare(frappe, in_stock: int) -> None:
	"""What the plant lacks for a recall document (rolled back with the rest): its Item and Warehouse, and
	some of the lot's devices in stock."""
	if not frappe.db.exists("Item", PERF_ITEM):
		frappe.db.sql(
			"""insert into `tabItem` (name, item_code, item_name, item_group, stock_uom, is_stock_item, has_batch_no,
				has_serial_no, creation, modified, owner, modified_by)
			values (%s, %s, %s, 'All Item Groups', 'Nos', 1, 1, 0, now(), now(), 'Administrator', 'Administrator')""",
			(PERF_ITEM, PERF_ITEM, "PERF device"),
		)
	if not frappe.db.exists("Warehouse", STORES):
		frappe.db.sql(
			"""insert into `tabWarehouse` (name, warehouse_name, company, creation, modified, owner, modified_by)
			values (%s, %s, 'PERF', now(), now(), 'Administrator', 'Administrator')""",
			(STORES, STORES),
		)
	# The last devices of sub-assembly lot 0 are still in finished-goods stock.
	names = [lot("SN", index) for index in range(HOT_SERIALS - in_stock, HOT_SERIALS)]
	for start in range(0, len(names), 5_000):
		frappe.db.sql(
			"update `tabSerial No` set warehouse = %(warehouse)s, status = 'Active' where name in %(names)s",
			{"warehouse": STORES, "names": tuple(names[start : start + 5_000])},
		)


class Stopwatch:
	"""Wraps functions the Recall controller calls, adding up the seconds spent in each."""

	def __init__(self, module, *names):
		# Names the module does not have (yet) are left out.
		self.module, self.seconds = module, {}
		self.originals = {name: getattr(module, name) for name in names if hasattr(module, name)}
		for name, original in self.originals.items():
			setattr(module, name, self.wrap(name, original))

	def wrap(self, name, original):
		def timed_call(*args, **kwargs):
			start = time.perf_counter()
			try:
				return original(*args, **kwargs)
			finally:
				self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

		return timed_call

	def reset(self) -> None:
		self.seconds = dict.fromkeys(self.originals, 0.0)

	def restore(self) -> None:
		for name, original in self.originals.items():
			setattr(self.module, name, original)


def new_recall(frappe, batch: str, drill: bool):
	return frappe.get_doc(
		{"doctype": "Recall", "title": f"Benchmark recall of {batch}", "classification": "Class II", "trigger": "Internal Finding",
		 "reason": "Raw material lot out of specification", "is_drill": int(drill), "scope": [{"batch_no": batch}]}
	).insert()


def recall_run(frappe, batch: str, drill: bool, in_stock: int, watch: Stopwatch) -> dict:
	"""Insert and scope one recall (workflow action, as the Desk applies it), in a transaction of its own rolled back afterwards — as a
	request's would be committed: what Frappe and MedTrace keep until the request or transaction ends
	(documents being saved, realtime notifications, rows waiting to be sealed into the audit chain) starts
	empty every time."""
	from factories import signed_workflow_action

	prepare(frappe, in_stock)
	# A request starts with Frappe's flags afresh; this process runs many (documents inserted pile up here).
	frappe.flags.currently_saving = []
	watch.reset()
	try:
		started = time.perf_counter()
		insert_seconds, recall = timed(new_recall, frappe, batch, drill)
		scope_seconds, recall = timed(signed_workflow_action, recall, "Scope Recall")
		total = time.perf_counter() - started
		assert recall.status == "Scoped", recall.status
		holds = frappe.db.count("Recall Hold", {"recall": recall.name})
		return {
			"total": total,
			"insert": insert_seconds,
			"action": scope_seconds,
			"population": watch.seconds["affected_population"],
			"holds_seconds": watch.seconds["place_holds"],
			"others": {name: seconds for name, seconds in watch.seconds.items() if name not in ("affected_population", "place_holds")},
			"rest": scope_seconds - sum(watch.seconds.values()),
			"units": len(recall.affected_units),
			"serial_units": sum(1 for row in recall.affected_units if row.serial_no),
			"customers": len(recall.customers),
			# Per unit of measure: quantities in different units are never added.
			"unit_totals": {row.stock_uom: (row.qty_delivered, row.qty_in_stock) for row in recall.unit_totals},
			"holds": holds,
		}
	finally:
		frappe.db.rollback()


def ms(seconds: float) -> str:
	return f"{seconds * 1000:,.0f} ms"


def goal(seconds: float) -> str:
	return f"{seconds / GOAL_SECONDS:.2f}× the 5 s goal"


def report_population(frappe, batch: str, runs: int) -> None:
	from medtrace.recall.scope import affected_population

	scope = [frappe._dict(batch_no=batch, serial_no=None)]
	frappe.clear_cache()
	cold, population = timed(affected_population, scope)
	warm = [timed(affected_population, scope)[0] for _ in range(runs)]
	units = population["units"]
	print(f"\n(a) affected_population(Batch {batch}): {len(units):,} unit rows "
	      f"({sum(1 for u in units if u['serial_no']):,} serials; {sum(1 for u in units if u.get('customer')):,} delivered, "
	      f"{sum(1 for u in units if u.get('warehouse')):,} in stock), {len(population['customers']):,} customers, "
	      f"{sum(population['customers'].values()):,.0f} units delivered")
	print(f"    cold {ms(cold)}, warm median {ms(statistics.median(warm))} (min {ms(min(warm))}, max {ms(max(warm))}, "
	      f"{runs} runs) → {goal(statistics.median(warm))}", flush=True)
	assert len(units) >= 10_000, "the lot must reach at least 10,000 units"


def report_recalls(frappe, label: str, batch: str, drill: bool, in_stock: int, runs: int, watch: Stopwatch) -> list[dict]:
	def show(name: str, run: dict) -> None:
		print(f"    {name}: lot entered → customers listed (insert + Scope Recall) {ms(run['total'])} → {goal(run['total'])}; "
		      f"insert {ms(run['insert'])}, Scope Recall {ms(run['action'])} = population {ms(run['population'])} + holds "
		      f"{ms(run['holds_seconds'])} + " + "".join(f"{name} {ms(seconds)} + " for name, seconds in run["others"].items())
		      + f"signature, validation, saving the rows, Version, hooks {ms(run['rest'])}", flush=True)

	frappe.clear_cache()
	cold = recall_run(frappe, batch, drill, in_stock, watch)
	print(f"\n{label}: {cold['units']:,} affected unit rows ({cold['serial_units']:,} serials), {cold['customers']:,} customers, "
	      + "".join(f"{delivered:,.0f} {uom} delivered, {in_stock:,.0f} {uom} in stock, " for uom, (delivered, in_stock) in cold["unit_totals"].items())
	      + f"{cold['holds']:,} holds")
	show("cold", cold)
	warm = []
	for number in range(runs):
		warm.append(recall_run(frappe, batch, drill, in_stock, watch))
		show(f"warm {number + 1}", warm[-1])
	if warm:
		print(f"    warm median ({runs} runs): total {ms(statistics.median(run['total'] for run in warm))} → "
		      f"{goal(statistics.median(run['total'] for run in warm))}; " + ", ".join(
			f"{key} {ms(statistics.median(run[key] for run in warm))}"
			for key in ("insert", "action", "population", "holds_seconds", "rest")
		), flush=True)
	return [cold, *warm]


def profile_recall(frappe, batch: str, drill: bool, in_stock: int, watch: Stopwatch, lines: int) -> None:
	profiler = cProfile.Profile()
	profiler.enable()
	run = recall_run(frappe, batch, drill, in_stock, watch)
	profiler.disable()
	print(f"\nprofile of one {'drill' if drill else 'recall'} ({ms(run['total'])} under cProfile; population "
	      f"{ms(run['population'])}, holds {ms(run['holds_seconds'])}, rest {ms(run['rest'])}):")
	for order in ("cumulative", "tottime"):
		out = io.StringIO()
		pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(lines)
		print(f"--- by {order}\n" + "\n".join(out.getvalue().splitlines()[6:]))


def notify_every_insert() -> None:
	"""Every document inserted notifies the Desk again, whatever its flags say: what place_holds cost before
	holds and their creation Versions stopped notifying (medtrace.recall.holds.quietly)."""
	from frappe.model.document import Document

	insert = Document.insert

	def notifying_insert(self, *args, **kwargs):
		self.flags.pop("notify_update", None)
		return insert(self, *args, **kwargs)

	Document.insert = notifying_insert
	print("baseline: every insert notifies (as before medtrace.recall.holds.quietly)")


def main() -> None:
	parser = argparse.ArgumentParser()
	parser.add_argument("--runs", type=int, default=5, help="warm runs of each measure")
	parser.add_argument("--lot", default=lot("L0", 0), help="the recalled Batch")
	parser.add_argument("--recall-runs", type=int, help="warm runs of the recall that holds (default: --runs)")
	parser.add_argument("--in-stock", type=int, default=HOT_SERIALS // 2, help="devices of the lot put in stock (held)")
	parser.add_argument("--profile", choices=("drill", "recall"), help="profile one more drill or recall with cProfile")
	parser.add_argument("--only-profile", action="store_true", help="skip the measures, profile only")
	parser.add_argument("--profile-lines", type=int, default=30)
	parser.add_argument("--keep", action="store_true", help="leave a plant this run writes")
	parser.add_argument("--only", choices=("population", "drill", "recall"), help="run this measure only")
	parser.add_argument(
		"--notify-every-insert", action="store_true",
		help="as before holds and creation Versions were inserted without realtime notifications (a baseline)",
	)
	arguments = parser.parse_args()
	frappe = connect()
	import medtrace.recall.doctype.recall.recall as recall_module

	wall = time.perf_counter()
	written = False
	# What the Recall controller calls while scoping, timed on their own (the last two: mass balance, and the
	# drill's back and forward traces, where the controller has them).
	watch = Stopwatch(recall_module, "affected_population", "place_holds", "timed_mass_balance", "trace_seconds")
	try:
		if not frappe.db.exists("Trace Link", FIRST_LINK):
			seconds, counts = timed(write_plant, frappe)
			frappe.db.commit()
			written = True
			print(f"plant written in {seconds:.0f} s: " + ", ".join(f"{count:,} {doctype}" for doctype, count in counts.items()))
		links = frappe.db.sql("select count(*) from `tabTrace Link`")[0][0]
		print(f"site {frappe.local.site}: {links:,} Trace Links; recall of Batch {arguments.lot} with {arguments.in_stock:,} "
		      f"of its devices in stock")
		if arguments.notify_every_insert:
			notify_every_insert()
		if not arguments.only_profile:
			if arguments.only in (None, "population"):
				prepare(frappe, arguments.in_stock)
				report_population(frappe, arguments.lot, arguments.runs)
				frappe.db.rollback()
			if arguments.only in (None, "drill"):
				report_recalls(frappe, "(d) drill", arguments.lot, True, arguments.in_stock, arguments.runs, watch)
			if arguments.only in (None, "recall"):
				recall_runs = arguments.runs if arguments.recall_runs is None else arguments.recall_runs
				report_recalls(frappe, "(b)+(c) recall", arguments.lot, False, arguments.in_stock, recall_runs, watch)
		if arguments.profile:
			profile_recall(frappe, arguments.lot, arguments.profile == "drill", arguments.in_stock, watch, arguments.profile_lines)
	finally:
		watch.restore()
		frappe.db.rollback()
		if written and not arguments.keep:
			delete_plant(frappe)
	print(f"\nwall time {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
	main()
