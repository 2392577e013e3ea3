"""Benchmark: audit-chain verification rate over a chain of 1,000,000 entries.

Run with the bench's Python after the test suite has created the site:
    $MEDTRACE_BENCH/env/bin/python tests/perf/bench_audit_chain.py [--entries 1000000]

Appends the entries to the site's real chain — each sealing a generated Version of a Batch, hashed and
linked as MedTrace seals them — in one transaction holding the chain head, verifies the whole chain with
verify_audit_chain() and rolls everything back: the real chain is left exactly as it was.
"""

import argparse
import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests"), str(REPO / "tests" / "perf")]

from bench_scan import connect  # noqa: E402

CHUNK = 10_000
VERSION_FIELDS = ("name", "ref_doctype", "docname", "data", "owner", "creation", "modified", "modified_by")


def generated_versions(start: int, count: int, first_creation: datetime) -> list[dict]:
	"""Versions like those a day of lot maintenance leaves: an expiry date and the UDI it changes."""
	versions = []
	for number in range(start, start + count):
		lot = f"PERF-AUDIT-{number // 4:07d}"
		data = {
			"changed": [
				["expiry_date", "31-12-2027", "31-01-2028"],
				["udi_element_string", f"(01)06959990000012(17)271231(10){lot}", f"(01)06959990000012(17)280131(10){lot}"],
			],
			"medtrace_channel": "Desk",
			"medtrace_request": "POST /api/method/frappe.desk.form.save.savedocs",
			"medtrace_ip": "10.0.0.7",
		}
		creation = (first_creation + timedelta(microseconds=37 * number)).strftime("%Y-%m-%d %H:%M:%S.%f")
		versions.append(
			{"name": f"perf-audit-{number:08d}", "ref_doctype": "Batch", "docname": lot,
			 "data": json.dumps(data, separators=(",", ":")), "owner": "quality.engineer@example.com",
			 "creation": creation, "modified": creation, "modified_by": "quality.engineer@example.com"}
		)
	return versions


def insert_rows(frappe, doctype: str, columns, rows: list[tuple]) -> None:
	"""One parameterised INSERT executed for all rows (PyMySQL's executemany sends them as multi-row
	statements): twice as fast as frappe.db.bulk_insert, which renders every value into the query."""
	from frappe.query_builder import DocType, Parameter

	statement = frappe.qb.into(DocType(doctype)).columns(*columns).insert(*[Parameter("%s")] * len(columns)).get_sql()
	frappe.db._cursor.executemany(statement, rows)


def append_generated_chain(frappe, total: int) -> float:
	from medtrace.audit import audit_chain

	head = audit_chain.lock_head()
	sequence = int(head.get("head_sequence") or 0)
	previous_hash = head.get("head_hash") or audit_chain.GENESIS_HASH
	first_creation = datetime.now()
	entry_columns = ["name", "creation", "modified", "owner", "modified_by", *audit_chain.ENTRY_FIELDS]
	seal = audit_chain.keyed_seal()
	started = time.perf_counter()
	for start in range(0, total, CHUNK):
		versions = generated_versions(start, min(CHUNK, total - start), first_creation)
		entries = []
		for version in versions:
			sequence += 1
			entry = audit_chain.entry_for_row("Version", version)
			entry.update(sequence=sequence, previous_hash=previous_hash)
			previous_hash = entry["entry_hash"] = seal(entry)
			entries.append((audit_chain.entry_name(sequence), version["creation"], version["creation"], "Administrator",
			                "Administrator", *(entry[field] for field in audit_chain.ENTRY_FIELDS)))
		insert_rows(frappe, "Version", VERSION_FIELDS, [tuple(v[f] for f in VERSION_FIELDS) for v in versions])
		insert_rows(frappe, "Audit Chain Entry", entry_columns, entries)
		if (start // CHUNK) % 10 == 9:
			print(f"  generated {start + CHUNK:,} entries ({time.perf_counter() - started:.0f} s)", flush=True)
	audit_chain.move_head(head, sequence, previous_hash)
	return time.perf_counter() - started


def main() -> None:
	parser = argparse.ArgumentParser()
	parser.add_argument("--entries", type=int, default=1_000_000)
	args = parser.parse_args()
	frappe = connect()
	from medtrace.audit.audit_chain import verify_audit_chain

	existing = frappe.db.count("Audit Chain Entry")
	print(f"Generating {args.entries:,} chain entries and the Versions they seal (site chain holds {existing:,})…", flush=True)
	generation = append_generated_chain(frappe, args.entries)
	print(f"Generation: {generation:.1f} s ({args.entries / generation:,.0f} entries/s, not part of the figure)", flush=True)

	started = time.perf_counter()
	result = verify_audit_chain(alert=False)
	elapsed = time.perf_counter() - started
	assert result["intact"], result
	verified = result["entries_verified"]
	print(f"Verification of {verified:,} entries (each re-hashed and checked against the Version it seals): "
	      f"{elapsed:.1f} s = {verified / elapsed:,.0f} entries/s")

	started = time.perf_counter()
	frappe.db.rollback()
	print(f"Rolled back the generated entries and Versions in {time.perf_counter() - started:.1f} s; "
	      f"the site's chain holds {frappe.db.count('Audit Chain Entry'):,} entries again.")
	frappe.destroy()


if __name__ == "__main__":
	main()
