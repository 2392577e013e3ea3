"""Benchmark: Device History Record assembly for a lot of 500 serials with 2,000 bound records.

Run with the bench's Python after the test suite has created the site:
    $MEDTRACE_BENCH/env/bin/python tests/perf/bench_dhr.py
Everything it creates is rolled back at the end.
"""

import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests"), str(REPO / "tests" / "perf")]

from bench_scan import connect  # noqa: E402

SERIALS = 500
BOUND_RECORDS = 2000


def timed(function, *args) -> float:
	start = time.perf_counter()
	function(*args)
	return time.perf_counter() - start


def main() -> None:
	frappe = connect()
	from factories import default_warehouse, make_item, receive_stock
	from frappe.utils import now_datetime

	from medtrace.quality.dhr import refresh_dhr

	raw = make_item(has_batch_no=1, create_new_batch=1)
	receive_stock(raw.name, qty=SERIALS * 4)
	device = make_item(has_batch_no=1, has_serial_no=1, create_new_batch=1, serial_no_series="BD-.######")
	frappe.get_doc({"doctype": "Device Master Record", "item": device.name, "revision": "A", "requirements": [
		{"requirement_type": "Process Parameter", "parameter": "Sealing Temperature"}]}).insert()

	company = frappe.db.get_value("Warehouse", default_warehouse(), "company")

	def manufacture():
		entry = frappe.new_doc("Stock Entry")
		entry.update({"stock_entry_type": "Manufacture", "company": company})
		entry.append("items", {"item_code": raw.name, "qty": SERIALS, "s_warehouse": default_warehouse(), "basic_rate": 5})
		entry.append("items", {"item_code": device.name, "qty": SERIALS, "t_warehouse": default_warehouse(), "is_finished_item": 1})
		entry.insert()
		return timed(entry.submit)

	# The same manufacture with MedTrace's doc_events removed (ERPNext alone) and with them, after a
	# warm-up so neither pays for cold caches.
	manufacture()
	all_hooks = frappe.get_doc_hooks()
	frappe.local.doc_events_hooks = {
		doctype: {event: [h for h in handlers if not h.startswith("medtrace.")] for event, handlers in events.items()}
		for doctype, events in all_hooks.items()
	}
	without_medtrace = manufacture()
	frappe.local.doc_events_hooks = all_hooks
	with_medtrace = manufacture()
	submit_seconds = with_medtrace

	lot_dhr = frappe.get_all("Device History Record", filters={"item": device.name, "serial_no": ("is", "not set")}, order_by="creation desc", pluck="name")[0]
	batch_no = frappe.db.get_value("Device History Record", lot_dhr, "batch_no")
	serials = frappe.get_all("Serial No", filters={"item_code": device.name, "batch_no": batch_no}, pluck="name")
	now = now_datetime()
	# 2,000 records bound to the lot: one reading per serial, the rest against the lot itself.
	rows = []
	for index in range(BOUND_RECORDS):
		serial = serials[index] if index < len(serials) else None
		rows.append((f"bench-ppr-{index}", "Sealing Temperature", 180 + index % 15, "°C", "170", "190",
		             1 if index % 15 <= 10 else 0, now, "Administrator", batch_no if not serial else None, serial,
		             device.name, now, now, "Administrator", "Administrator"))
	frappe.db.bulk_insert(
		"Process Parameter Record",
		fields=["name", "parameter", "value", "unit", "lower_limit", "upper_limit", "in_specification", "recorded_at",
		        "operator", "batch_no", "serial_no", "item", "creation", "modified", "owner", "modified_by"],
		values=rows,
	)
	lot_times = [timed(refresh_dhr, lot_dhr) for _ in range(5)]
	serial_dhrs = frappe.get_all("Device History Record", filters={"lot_dhr": lot_dhr}, pluck="name")
	serial_times = [timed(refresh_dhr, serial_dhrs[0]) for _ in range(5)]
	# What release does: the lot's DHR and every serial's, assembled again.
	whole_lot = timed(lambda: [refresh_dhr(name) for name in (lot_dhr, *serial_dhrs)])
	dhr = frappe.get_doc("Device History Record", lot_dhr)
	print(f"manufacture entry of {SERIALS} serials: submit without MedTrace hooks {without_medtrace:.2f} s, "
	      f"with (UDIs + lot DHR + {SERIALS} serial DHRs) {submit_seconds:.2f} s, "
	      f"added {100 * (submit_seconds / without_medtrace - 1):.0f} %")
	print(f"lot DHR with {len(serial_dhrs)} serials and {BOUND_RECORDS} bound records ({len(dhr.parameters)} on the lot, "
	      f"{len(dhr.components)} component): lot assembly median {statistics.median(lot_times) * 1000:.0f} ms "
	      f"(min {min(lot_times) * 1000:.0f} ms); serial DHR median {statistics.median(serial_times) * 1000:.0f} ms; "
	      f"lot + all serial DHRs {whole_lot:.2f} s")
	frappe.db.rollback()


if __name__ == "__main__":
	main()
