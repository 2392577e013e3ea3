"""Benchmark: UDI scans resolved per second through medtrace.udi.scan.resolve_scan on the test site.

Run with the bench's Python after the test suite has created the site:
    $MEDTRACE_BENCH/env/bin/python tests/perf/bench_scan.py [--scans 2000]
Prints figures for the method called in-process (what a server worker spends) and over HTTP through
Frappe's full request stack (session, routing, JSON), and the ratio between them.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests")]

import bench_tool  # noqa: E402

PERF_ITEM = "PERF-SCAN-DEVICE"
PERF_SERIALS = 200


def connect():
	import frappe

	bench = bench_tool.bench_path()
	os.chdir(bench / "sites")
	frappe.init(site=bench_tool.TEST_SITE, sites_path=str(bench / "sites"))
	frappe.connect()
	frappe.set_user("Administrator")
	return frappe


def ensure_perf_device(frappe) -> list[str]:
	"""A released DI with a batch of serials, kept between runs so the figures compare like with like."""
	from factories import make_device_identifier, make_item, receive_stock, released

	if not frappe.db.exists("Item", PERF_ITEM):
		make_item(item_code=PERF_ITEM, has_batch_no=1, has_serial_no=1, create_new_batch=1, has_expiry_date=1,
		          shelf_life_in_days=730, serial_no_series="PERF-.######")
		di = make_device_identifier(item=PERF_ITEM, label_serial=1)
		released(di)
		receive_stock(PERF_ITEM, qty=PERF_SERIALS)
		frappe.db.commit()
	serials = frappe.get_all("Serial No", filters={"item_code": PERF_ITEM}, fields=["udi_element_string", "udi_digital_link"])
	return [s.udi_element_string for s in serials] + [s.udi_digital_link for s in serials]


def rate(count: int, seconds: float) -> float:
	return count / seconds if seconds else float("inf")


def bench_in_process(frappe, scans: list[str], total: int) -> tuple[float, list[float]]:
	from medtrace.udi.scan import resolve_scan

	latencies = []
	start = time.perf_counter()
	for index in range(total):
		begin = time.perf_counter()
		result = resolve_scan(scans[index % len(scans)])
		latencies.append(time.perf_counter() - begin)
		assert result["status"] == "resolved", result
	return rate(total, time.perf_counter() - start), latencies


def bench_http(frappe, scans: list[str], total: int) -> float:
	from frappe.app import application
	from werkzeug.test import Client

	client = Client(application)
	headers = {"Host": bench_tool.TEST_SITE}
	client.post("/api/method/login", data={"usr": "Administrator", "pwd": "admin"}, headers=headers)
	start = time.perf_counter()
	for index in range(total):
		response = client.post("/api/method/medtrace.udi.scan.resolve_scan", data={"scan": scans[index % len(scans)]}, headers=headers)
		assert response.status_code == 200, response.get_data(as_text=True)[:200]
	return rate(total, time.perf_counter() - start)


def main() -> None:
	parser = argparse.ArgumentParser()
	parser.add_argument("--scans", type=int, default=2000)
	args = parser.parse_args()
	frappe = connect()
	scans = ensure_perf_device(frappe)
	in_process, latencies = bench_in_process(frappe, scans, args.scans)
	over_http = bench_http(frappe, scans, args.scans // 4)
	latencies.sort()
	print(f"scan corpus: {len(scans)} distinct UDIs (element strings and Digital Links of {len(scans) // 2} serials)")
	print(f"in-process resolve_scan: {in_process:,.0f} scans/s "
	      f"(median {statistics.median(latencies) * 1000:.2f} ms, p95 {latencies[int(len(latencies) * 0.95)] * 1000:.2f} ms)")
	print(f"HTTP /api/method/medtrace.udi.scan.resolve_scan: {over_http:,.0f} scans/s")
	print(f"ratio in-process / HTTP: {in_process / over_http:.1f}x")


if __name__ == "__main__":
	main()
