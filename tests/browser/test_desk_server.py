"""The Desk as scripts/serve-demo serves it (scripts/desk_server.py): what a bench runs, on localhost only,
without Werkzeug's interactive debugger, with socket.io answering for the site."""

import socket
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.browser
pytestmark = [pytestmark, pytest.mark.requirement("MT-SEC-002")]


def listening_addresses(port: int) -> set[str]:
	"""The IPv4 and IPv6 addresses a local TCP port listens on (from /proc/net/tcp*)."""
	addresses = set()
	for table in ("/proc/net/tcp", "/proc/net/tcp6"):
		with open(table) as rows:
			for row in list(rows)[1:]:
				local, state = row.split()[1], row.split()[3]
				address, hex_port = local.split(":")
				if state == "0A" and int(hex_port, 16) == port:
					addresses.add(address)
	return addresses


def get(url: str) -> tuple[int, str]:
	try:
		with urllib.request.urlopen(url, timeout=30) as response:
			return response.status, response.read().decode(errors="replace")
	except urllib.error.HTTPError as error:
		return error.code, error.read().decode(errors="replace")


@pytest.mark.requirement("MT-INS-006")
def test_every_process_of_the_procfile_runs(desk_server_process):
	assert set(desk_server_process.processes) == {"web", "socketio", "worker", "schedule"}
	assert desk_server_process.exited() is None


def test_web_and_socketio_listen_on_localhost_only(desk_server_process):
	web_port = int(desk_server_process.url.rsplit(":", 1)[1])
	for port in (web_port, desk_server_process.socketio_port):
		assert listening_addresses(port) == {"0100007F"}, port  # 127.0.0.1, and not 0.0.0.0 or ::


def test_no_interactive_debugger(desk_server_process):
	"""Werkzeug's debugger serves its console's resources under ?__debugger__=yes when it is on."""
	_status, script = get(f"{desk_server_process.url}/?__debugger__=yes&cmd=resource&f=debugger.js")
	_status, style = get(f"{desk_server_process.url}/?__debugger__=yes&cmd=resource&f=style.css")
	for body in (script, style):
		assert "EVALEX" not in body and "Werkzeug" not in body and "traceback-wrapper" not in body


def test_socketio_answers_for_the_site(desk_server_process):
	"""The Desk connects to socket.io on its own port (frappe.boot.socketio_port) under the site's namespace."""
	status, body = get(f"http://127.0.0.1:{desk_server_process.socketio_port}/socket.io/?EIO=4&transport=polling")
	assert status == 200 and body.startswith("0{") and '"sid"' in body
	with socket.create_connection(("127.0.0.1", desk_server_process.socketio_port), timeout=5):
		pass
