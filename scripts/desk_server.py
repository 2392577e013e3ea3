"""Serve a site's Desk as a bench does: the web server, socket.io (realtime), a background worker and the
scheduler — the processes of the repository's Procfile — on one interface (127.0.0.1 unless told otherwise).

Used by `scripts/serve-demo` and by the browser tests' fixture (tests/browser/conftest.py):

	with desk_server.serve_site(bench, site, port=8000) as server:
		...  # server.url

or from the shell, serving until Ctrl+C:

	python3 scripts/desk_server.py --site medtrace-demo.localhost --port 8000 [--bind 0.0.0.0]

The web server is Werkzeug, as `bench serve`, but without its interactive debugger or reloader and bound to
the given interface. It runs as Frappe's development server (DEV_SERVER=1): that is what makes the Desk
connect to socket.io on its own port (frappe.boot.socketio_port), since no nginx proxies /socket.io here.
The socket.io port is written to the site's config for that reason. The orchestration needs only the
standard library; the web process runs in the bench's Python (`desk_server.py web …`).
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

DEFAULT_BIND = "127.0.0.1"
# Frappe's socket.io server listens on every interface (server.listen(port)); this makes it listen on one.
SOCKETIO_ON_ONE_INTERFACE = """
const http = require("node:http");
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (port, ...rest) {
	return typeof port === "number" || /^[0-9]+$/.test(String(port))
		? listen.call(this, Number(port), process.env.MEDTRACE_BIND, ...rest.filter((arg) => typeof arg === "function"))
		: listen.call(this, port, ...rest);
};
require(process.env.FRAPPE_SOCKETIO_SCRIPT);
"""


class DeskServer:
	def __init__(self, url: str, socketio_port: int, processes: dict[str, subprocess.Popen]):
		self.url = url
		self.socketio_port = socketio_port
		self.processes = processes

	def stop(self) -> None:
		"""Stop every process (each leads its own process group, so its children stop too)."""
		for process in self.processes.values():
			if process.poll() is None:
				os.killpg(process.pid, signal.SIGTERM)
		deadline = time.monotonic() + 20
		for process in self.processes.values():
			try:
				process.wait(timeout=max(0.1, deadline - time.monotonic()))
			except subprocess.TimeoutExpired:
				os.killpg(process.pid, signal.SIGKILL)
				process.wait()

	def exited(self) -> str | None:
		"""The name of a process that stopped on its own, if any. A scheduler that finds another one serving the
		bench (Frappe allows one per bench, by a file lock) stops at once without error: the bench is served."""
		return next(
			(
				name
				for name, process in self.processes.items()
				if process.poll() is not None and not (name == "schedule" and process.returncode == 0)
			),
			None,
		)


def free_port(bind: str = DEFAULT_BIND) -> int:
	with socket.socket() as probe:
		probe.bind((bind, 0))
		return probe.getsockname()[1]


def wait_for_port(host: str, port: int, seconds: float, server: DeskServer, name: str) -> None:
	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline:
		try:
			with socket.create_connection((host, port), timeout=2):
				return
		except OSError:
			if server.exited():
				break
			time.sleep(0.3)
	server.stop()
	raise RuntimeError(f"The {name} of the Desk did not start on {host}:{port}; see the bench's logs/desk-*.log.")


def set_site_socketio_port(bench: Path, site: str, port: int) -> None:
	"""The Desk connects to frappe.boot.socketio_port, read from the site's config over the bench's."""
	path = bench / "sites" / site / "site_config.json"
	config = json.loads(path.read_text())
	if config.get("socketio_port") != port:
		config["socketio_port"] = port
		path.write_text(json.dumps(config, indent=1, sort_keys=True))


def start_desk(bench: Path, site: str, port: int, bind: str = DEFAULT_BIND, socketio_port: int | None = None,
		scheduler: bool = True) -> DeskServer:
	bench = Path(bench).resolve()
	socketio_port = socketio_port or free_port(bind)
	set_site_socketio_port(bench, site, socketio_port)
	python = str(bench / "env" / "bin" / "python")
	bench_helper = [python, "-m", "frappe.utils.bench_helper", "frappe"]
	commands = {
		"web": ([python, str(Path(__file__).resolve()), "web", "--site", site, "--port", str(port), "--bind", bind], bench / "sites"),
		"socketio": (["node", "-e", SOCKETIO_ON_ONE_INTERFACE], bench),
		# Jobs a user waits for (short, then long such as Verify Now) before the scheduler's (default).
		"worker": ([*bench_helper, "worker", "--queue", "short,long,default"], bench / "sites"),
	}
	if scheduler:
		commands["schedule"] = ([*bench_helper, "schedule"], bench / "sites")
	env = {
		**os.environ,
		"MEDTRACE_BIND": bind,
		"FRAPPE_SITE": site,
		"FRAPPE_SOCKETIO_PORT": str(socketio_port),
		"FRAPPE_SOCKETIO_SCRIPT": str(bench / "apps" / "frappe" / "socketio.js"),
		"FRAPPE_BENCH_ROOT": str(bench),
		"PYTHONUNBUFFERED": "1",
	}
	(bench / "logs").mkdir(exist_ok=True)
	processes = {}
	for name, (command, cwd) in commands.items():
		log = (bench / "logs" / f"desk-{site}-{name}.log").open("ab")
		process_env = {**env, "DEV_SERVER": "1"} if name == "web" else env
		processes[name] = subprocess.Popen(command, cwd=cwd, env=process_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
	host = "127.0.0.1" if bind in ("0.0.0.0", "") else bind
	server = DeskServer(f"http://{host}:{port}", socketio_port, processes)
	wait_for_port(host, port, 90, server, "web server")
	wait_for_port(host, socketio_port, 60, server, "socket.io server")
	return server


@contextmanager
def serve_site(bench: Path, site: str, port: int, bind: str = DEFAULT_BIND, scheduler: bool = True):
	server = start_desk(bench, site, port, bind, scheduler=scheduler)
	try:
		yield server
	finally:
		server.stop()


def run_web(site: str, port: int, bind: str) -> None:
	"""The web process (bench's Python, in sites/): Frappe's WSGI application with its static files."""
	from werkzeug.serving import run_simple

	import frappe.app

	frappe.app._site = site
	frappe.app._sites_path = "."
	run_simple(bind, port, frappe.app.application_with_statics(), threaded=True, use_reloader=False, use_debugger=False, use_evalex=False)


def main() -> int:
	parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
	parser.add_argument("process", nargs="?", choices=["web"], help=argparse.SUPPRESS)
	parser.add_argument("--site", required=True)
	parser.add_argument("--port", type=int, default=8000)
	parser.add_argument(
		"--bind", default=os.environ.get("MEDTRACE_BIND") or DEFAULT_BIND,
		help="interface to listen on (default 127.0.0.1, or $MEDTRACE_BIND; 0.0.0.0 for every interface)",
	)
	parser.add_argument("--bench", default=os.environ.get("MEDTRACE_BENCH"))
	args = parser.parse_args()
	if args.process == "web":
		run_web(args.site, args.port, args.bind)
		return 0

	server = start_desk(Path(args.bench), args.site, args.port, args.bind)
	print(f"Serving {args.site} on {server.url} (socket.io on port {server.socketio_port}); Ctrl+C stops it.", flush=True)
	stopping = []
	signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
	try:
		while not stopping and not server.exited():
			time.sleep(0.5)
	except KeyboardInterrupt:
		pass
	stopped = server.exited()
	# A second Ctrl+C while the processes finish must not leave any of them behind.
	signal.signal(signal.SIGINT, signal.SIG_IGN)
	print("Stopping the web server, socket.io, the worker and the scheduler…", flush=True)
	server.stop()
	if stopped:
		print(f"The {stopped} process stopped; see the bench's logs/desk-{args.site}-{stopped}.log.", file=sys.stderr)
		return 1
	return 0


if __name__ == "__main__":
	sys.exit(main())
