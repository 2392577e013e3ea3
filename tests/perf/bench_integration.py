"""Load and fault runs of the inbound integration API on the test site.

    $MEDTRACE_BENCH/env/bin/python tests/perf/bench_integration.py [--messages 10000] [--concurrency 8]

Starts gunicorn (4 workers) and two RQ workers against the site, then:
  load run  — a separate client process posts N MES readings with the given concurrency; prints
              throughput and p50/p95 latency, waits until the workers processed everything and checks
              that counts reconcile (every message logged once, one Process Parameter Record each);
  fault run — posts 1,000 more, kills one RQ worker (SIGKILL, its whole process group) mid-batch,
              starts a new one, runs the sweep, and checks every message ended Processed exactly once.
"""

import argparse
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests"), str(REPO / "tests" / "perf")]

import bench_tool  # noqa: E402
from bench_scan import connect  # noqa: E402


def start(command: list[str], bench: Path) -> subprocess.Popen:
	return subprocess.Popen(command, cwd=bench / "sites", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def start_worker(bench: Path) -> subprocess.Popen:
	return start([str(bench / "env/bin/python"), "-m", "frappe.utils.bench_helper", "frappe", "worker", "--queue", "default"], bench)


def post_all(url: str, token: str, host: str, message_ids: list[str], batch_no: str, concurrency: int, results) -> None:
	"""Runs in a separate process: the client side of the load run."""

	def post(message_id: str) -> tuple[int, float]:
		body = json.dumps({"message_type": "mes.process_parameter.v1", "message_id": message_id, "payload": {
			"parameter": "Sealing Temperature", "value": 180 + hash(message_id) % 10, "unit": "°C",
			"lower_limit": 170, "upper_limit": 190, "batch_no": batch_no, "recorded_at": "2026-11-20T08:30:00"}}).encode()
		request = urllib.request.Request(url, data=body, method="POST", headers={
			"Authorization": token, "Content-Type": "application/json", "Host": host})
		begin = time.perf_counter()
		try:
			with urllib.request.urlopen(request, timeout=120) as response:
				status = response.status
		except urllib.error.HTTPError as error:
			status = error.code
		return status, time.perf_counter() - begin

	start_time = time.perf_counter()
	with ThreadPoolExecutor(concurrency) as pool:
		outcomes = list(pool.map(post, message_ids))
	results.put((outcomes, time.perf_counter() - start_time))


def wait_until_processed(frappe, system: str, prefix: str, expected: int, timeout: float) -> float:
	start_time = time.perf_counter()
	while time.perf_counter() - start_time < timeout:
		frappe.db.rollback()
		pending = frappe.db.count("Integration Message", {"name": ("like", f"{system}:{prefix}%"), "status": ("in", ["Queued", "Retrying"])})
		if not pending:
			break
		time.sleep(1)
	return time.perf_counter() - start_time


def processing_figures(frappe, system: str, prefix: str) -> str:
	"""Worker throughput over the run, and each message's time from arrival to processed."""
	rows = frappe.db.sql(
		"""select received_at, processed_at from `tabIntegration Message`
		where name like %s and status = 'Processed'""",
		f"{system}:{prefix}%",
	)
	if not rows:
		return "nothing processed"
	delays = sorted((processed - received).total_seconds() for received, processed in rows)
	span = (max(processed for _received, processed in rows) - min(received for received, _processed in rows)).total_seconds()
	return (f"processed {len(rows)} at {len(rows) / max(span, 1):.1f} msg/s (first arrival to last processed); "
	        f"arrival → processed p50 {statistics.median(delays):.1f} s, p95 {delays[int(len(delays) * 0.95)]:.1f} s")


def reconcile(frappe, system: str, prefix: str, expected: int) -> str:
	frappe.db.rollback()
	logged = frappe.db.count("Integration Message", {"name": ("like", f"{system}:{prefix}%")})
	processed = frappe.db.count("Integration Message", {"name": ("like", f"{system}:{prefix}%"), "status": "Processed"})
	records = frappe.db.count("Process Parameter Record", {"external_id": ("like", f"{system}:{prefix}%")})
	verdict = "OK" if logged == processed == records == expected else "MISMATCH"
	return f"sent {expected}, logged {logged}, processed {processed}, records {records}: {verdict}"


def run_load(url, token, host, prefix, count, batch_no, concurrency):
	ids = [f"{prefix}{index:06d}" for index in range(count)]
	queue = multiprocessing.Queue()
	client = multiprocessing.Process(target=post_all, args=(url, token, host, ids, batch_no, concurrency, queue))
	client.start()
	outcomes, seconds = queue.get()
	client.join()
	return outcomes, seconds


def main() -> None:
	parser = argparse.ArgumentParser()
	parser.add_argument("--messages", type=int, default=10000)
	parser.add_argument("--concurrency", type=int, default=8)
	parser.add_argument("--drain-timeout", type=int, default=3600, help="seconds to wait for the workers to finish")
	args = parser.parse_args()

	frappe = connect()
	bench = bench_tool.bench_path()
	from factories import make_integration_system, make_item, receive_stock

	mes = make_integration_system("MES", ["MedTrace Production Operator"])
	system, token = mes.name, mes.token
	item = make_item(has_batch_no=1, create_new_batch=1)
	receive_stock(item.name, qty=1)
	batch_no = frappe.get_all("Batch", filters={"item": item.name}, pluck="name")[0]
	frappe.db.commit()

	port = bench_tool.free_port()
	server = start([str(bench / "env/bin/gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "4", "-t", "120", "frappe.app:application", "--preload"], bench)
	workers = [start_worker(bench), start_worker(bench)]
	bench_tool.wait_for_port(port)
	url = f"http://127.0.0.1:{port}/api/method/medtrace.medtrace_integrations.api_v1.post_message"
	try:
		outcomes, seconds = run_load(url, token, bench_tool.TEST_SITE, "load-", args.messages, batch_no, args.concurrency)
		latencies = sorted(latency for _status, latency in outcomes)
		accepted = sum(1 for status, _ in outcomes if status == 202)
		print(f"load run: {args.messages} messages, concurrency {args.concurrency}: {accepted} accepted (202) in {seconds:.1f} s "
		      f"= {args.messages / seconds:.1f} msg/s; post latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
		      f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.0f} ms", flush=True)
		drained = wait_until_processed(frappe, system, "load-", args.messages, timeout=args.drain_timeout)
		print(f"worker backlog drained {drained:.1f} s after the last post; {processing_figures(frappe, system, 'load-')}")
		print("load run reconciliation:", reconcile(frappe, system, "load-", args.messages), flush=True)

		fault_count = 1000
		queue = multiprocessing.Queue()
		ids = [f"fault-{index:06d}" for index in range(fault_count)]
		client = multiprocessing.Process(target=post_all, args=(url, token, bench_tool.TEST_SITE, ids, batch_no, args.concurrency, queue))
		client.start()
		time.sleep(3)
		os.killpg(workers[0].pid, signal.SIGKILL)
		workers[0] = start_worker(bench)
		queue.get()
		client.join()
		from medtrace.medtrace_integrations.inbound import requeue_due_messages

		time.sleep(5)
		requeue_due_messages(stalled_after_minutes=0)
		frappe.db.commit()
		wait_until_processed(frappe, system, "fault-", fault_count, timeout=600)
		print("fault run (one worker SIGKILLed mid-batch, restarted, sweep run):", reconcile(frappe, system, "fault-", fault_count))
	finally:
		for process in (server, *workers):
			try:
				os.killpg(process.pid, signal.SIGTERM)
			except ProcessLookupError:
				pass


if __name__ == "__main__":
	main()
