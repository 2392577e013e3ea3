"""Benchmark: data-quality rule evaluation over 100,000 batches.

Run with the bench's Python after the test suite has created the site:
    $MEDTRACE_BENCH/env/bin/python tests/perf/bench_data_quality.py [--batches 100000]

Bulk-inserts the batches of a device whose released UDI-DI prints the expiry date (1 % lack it, 1 % lack
their manufacturing date), adds a filters rule and an expression rule as a user would in the Desk, then
times what the hourly job does: the first run (opening and assigning exceptions), a run with nothing
changed, and a run after half the flagged lots were fixed. The job's intermediate commits do what a
commit does in Python (seal the audit chain, hand realtime updates over) without the SQL COMMIT, so
everything is rolled back at the end.
"""

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests"), str(REPO / "tests" / "perf")]

from bench_scan import connect  # noqa: E402

PERF_ITEM = "PERF-DQ-DEVICE"
CHUNK = 10_000


def timed(function, *args):
	started = time.perf_counter()
	result = function(*args)
	return result, time.perf_counter() - started


def setup_device(frappe) -> str:
	from factories import make_device_identifier, make_item, released

	make_item(item_code=PERF_ITEM, has_batch_no=1)
	di = make_device_identifier(item=PERF_ITEM)
	released(di)
	for number in range(3):
		email = f"perf.dq.engineer{number}@example.com"
		user = frappe.get_doc({"doctype": "User", "email": email, "first_name": f"Engineer {number}", "send_welcome_email": 0})
		user.insert(ignore_permissions=True)
		user.add_roles("MedTrace Quality Engineer")
	return di.name


def insert_batches(frappe, total: int, di: str) -> list[str]:
	"""Batches as ERPNext and MedTrace store them; every 100th lacks its expiry date, every 100th (other)
	its manufacturing date. Returns the lots without expiry date."""
	from frappe.utils import now

	stamp = now()
	fields = ["name", "batch_id", "item", "item_name", "manufacturing_date", "expiry_date", "udi_device_identifier",
	          "udi_element_string", "creation", "modified", "owner", "modified_by"]
	rows, missing_expiry = [], []
	for number in range(total):
		lot = f"PDQ{number:07d}"
		expiry = None if number % 100 == 7 else "2028-06-30"
		manufactured = None if number % 100 == 42 else "2026-06-30"
		if not expiry:
			missing_expiry.append(lot)
		element_string = f"(01){di}(17)280630(10){lot}" if expiry else None
		rows.append((lot, lot, PERF_ITEM, PERF_ITEM, manufactured, expiry, di if expiry else None, element_string,
		             stamp, stamp, "Administrator", "Administrator"))
	frappe.db.bulk_insert("Batch", fields, rows, chunk_size=CHUNK)
	return missing_expiry


def make_desk_rules(frappe) -> None:
	rules = [
		{"rule_name": "PERF Lot Without Manufacturing Date", "document_type": "Batch",
		 "filters_json": json.dumps([["Batch", "manufacturing_date", "is", "not set"], ["Batch", "disabled", "=", 0]]),
		 "message": "The lot has no manufacturing date."},
		{"rule_name": "PERF Expiry Before Manufacture", "document_type": "Batch",
		 "filters_json": json.dumps([["Batch", "item", "=", PERF_ITEM]]),
		 "condition": "doc.expiry_date and doc.manufacturing_date and doc.expiry_date <= doc.manufacturing_date"},
	]
	for rule in rules:
		frappe.get_doc({"doctype": "Data Quality Rule", "severity": "Major", "responsible_role": "MedTrace Quality Engineer", **rule}).insert()


def commit_in_python_only(frappe) -> None:
	db = frappe.db
	db.before_rollback.reset()
	db.after_rollback.reset()
	db.before_commit.run()
	db.after_commit.run()


def open_count(frappe) -> int:
	return frappe.db.count("Data Quality Exception", {"status": "Open"})


def main() -> None:
	parser = argparse.ArgumentParser()
	parser.add_argument("--batches", type=int, default=100_000)
	args = parser.parse_args()
	frappe = connect()
	from medtrace.quality.data_quality import evaluate_all_rules, find_violations

	frappe.db.commit = lambda: commit_in_python_only(frappe)
	# Assignment notifications are background jobs; queued for documents about to be rolled back they
	# would only keep the bench's workers busy.
	background_jobs = []
	frappe.enqueue = lambda method, **kwargs: background_jobs.append(method)

	di = setup_device(frappe)
	missing_expiry, seconds = timed(insert_batches, frappe, args.batches, di)
	print(f"Bulk-inserted {args.batches:,} batches in {seconds:.1f} s (setup, not part of the figures)")
	make_desk_rules(frappe)
	rules = frappe.get_all("Data Quality Rule", filters={"enabled": 1}, pluck="name", order_by="name")
	print(f"{len(rules)} enabled rules ({', '.join(rules)}) over {frappe.db.count('Batch'):,} batches\n")

	before = open_count(frappe)
	_none, seconds = timed(evaluate_all_rules)
	print(f"Run 1, opening and assigning exceptions: {seconds:.1f} s — {open_count(frappe) - before:,} opened, "
	      f"{frappe.db.count('ToDo', {'reference_type': 'Data Quality Exception', 'status': 'Open'}):,} ToDos, "
	      f"{len(background_jobs):,} notification jobs (not queued)")

	_none, seconds = timed(evaluate_all_rules)
	print(f"Run 2, nothing changed (the hourly steady state): {seconds:.2f} s")

	Batch = frappe.qb.DocType("Batch")
	fixed = missing_expiry[: len(missing_expiry) // 2]
	frappe.qb.update(Batch).set(Batch.expiry_date, "2028-06-30").where(Batch.name.isin(fixed)).run()
	open_before = open_count(frappe)
	_none, seconds = timed(evaluate_all_rules)
	print(f"Run 3, after fixing {len(fixed):,} lots: {seconds:.1f} s — {open_before - open_count(frappe):,} closed\n")

	print("Finding the violations of each rule (the part that grows with the data):")
	for name in rules:
		rule = frappe.get_doc("Data Quality Rule", name)
		found, seconds = timed(find_violations, rule)
		kind = "Python check" if rule.check_function else "expression" if rule.condition else "filters"
		print(f"  {name} ({kind}): {seconds:.2f} s, {len(found):,} flagged")

	frappe.db.rollback()
	frappe.destroy()


if __name__ == "__main__":
	main()
