"""The Desk answers over real HTTP: a web server process for the test site, a real client, a real login."""

import http.cookiejar
import urllib.parse
import urllib.request

import pytest

pytestmark = pytest.mark.requirement("MT-DSK-002")


@pytest.fixture
def desk_url(web_server):
	return web_server


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
