"""Benchmark: UDI labels per second — the symbols of a label alone (DataMatrix, GS1-128, Digital Link QR),
a whole label's data (records read, UDI checked, symbols), and the pages per second of a 100-label PDF
(medtrace.udi.labels.download_labels: print format rendering and wkhtmltopdf).

Run with the bench's Python after the test suite has created the site:
    $MEDTRACE_BENCH/env/bin/python tests/perf/bench_labels.py
It serves the site on a free port for wkhtmltopdf's CSS. Everything it creates is rolled back at the end.
"""

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests"), str(REPO / "tests" / "perf")]

import bench_tool
from bench_scan import connect

LABELS = 100
ROUNDS = 3


def main() -> None:
	frappe = connect()
	from factories import make_device_identifier, make_item, receive_stock
	from medtrace.udi.labels import (
		carrier_symbols,
		download_labels,
		label_codes,
		make_label,
	)
	from test_production_udi import released

	bench = bench_tool.bench_path()
	port = bench_tool.free_port()
	server = subprocess.Popen(
		[str(bench / "env/bin/python"), "-m", "frappe.utils.bench_helper", "frappe", "--site", bench_tool.TEST_SITE,
		 "serve", "--port", str(port), "--noreload"],
		cwd=bench / "sites", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
	)
	try:
		bench_tool.wait_for_port(port)
		frappe.local.conf.host_name = f"http://127.0.0.1:{port}"
		item = make_item(has_batch_no=1, create_new_batch=1, has_serial_no=1, serial_no_series="BL-.#####",
		                 has_expiry_date=1, shelf_life_in_days=730)
		released(make_device_identifier(item=item.name, label_serial=1))
		entry = receive_stock(item.name, qty=LABELS)
		serials = [frappe.get_doc("Serial No", name) for name in frappe.get_all("Serial No", filters={"item_code": item.name}, pluck="name")]
		codes = [label_codes(serial)[2] for serial in serials]

		def per_second(function, items) -> float:
			rates = []
			for _ in range(ROUNDS):
				start = time.perf_counter()
				for value in items:
					function(value)
				rates.append(len(items) / (time.perf_counter() - start))
			return statistics.median(rates)

		symbols = per_second(lambda code: carrier_symbols("GS1", code), codes)
		labels = per_second(make_label, serials)
		pdf_rates = []
		for _ in range(ROUNDS):
			start = time.perf_counter()
			download_labels("Stock Entry", entry.name)
			pdf_rates.append(LABELS / (time.perf_counter() - start))
		size = len(frappe.local.response.filecontent)
		print(f"symbols (DataMatrix + GS1-128 + QR) of one label: {symbols:.0f} labels/s")
		print(f"label data (records, UDI check, symbols): {labels:.0f} labels/s")
		print(f"{LABELS}-label PDF (print format + wkhtmltopdf): {statistics.median(pdf_rates):.1f} pages/s, "
		      f"{LABELS / statistics.median(pdf_rates):.1f} s per PDF, {size / 1024:.0f} KiB")
	finally:
		frappe.db.rollback()
		server.terminate()
		server.wait(timeout=30)


if __name__ == "__main__":
	main()
