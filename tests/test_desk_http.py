"""The Desk answers over real HTTP: a web server process for the test site, a real client, a real login."""

import http.cookiejar
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from bench_tool import TEST_SITE


def free_port() -> int:
	with socket.socket() as probe:
		probe.bind(("127.0.0.1", 0))
		return probe.getsockname()[1]


@pytest.fixture(scope="module")
def desk_url(bench):
	port = free_port()
	server = subprocess.Popen(
		[str(bench / "env/bin/python"), "-m", "frappe.utils.bench_helper", "frappe", "--site", TEST_SITE, "serve",
		 "--port", str(port), "--noreload"],
		cwd=bench / "sites", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
	)
	deadline = time.monotonic() + 60
	while time.monotonic() < deadline:
		try:
			socket.create_connection(("127.0.0.1", port), timeout=1).close()
			break
		except OSError:
			time.sleep(0.5)
	yield f"http://127.0.0.1:{port}"
	server.terminate()
	server.wait(timeout=30)


def logged_in_opener(desk_url: str):
	opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
	body = urllib.parse.urlencode({"usr": "Administrator", "pwd": "admin"}).encode()
	with opener.open(f"{desk_url}/api/method/login", data=body, timeout=30) as response:
		assert response.status == 200
	return opener


@pytest.mark.parametrize("path", ["/app/medtrace", "/app/udi-scan", "/app/udi-device-identifier"])
def test_desk_pages_answer_200_after_login(desk_url, path):
	with logged_in_opener(desk_url).open(desk_url + path, timeout=30) as response:
		assert response.status == 200
		assert "frappe.boot" in response.read().decode()


def test_desk_requires_login(desk_url):
	request = urllib.request.Request(desk_url + "/api/method/medtrace.udi.scan.resolve_scan?scan=X")
	with pytest.raises(urllib.error.HTTPError) as error:
		urllib.request.urlopen(request, timeout=30)
	assert error.value.code == 403
