"""The browser tests' demo site and a user's session on its Desk (tests/browser/conftest.py explains both)."""

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import bench_tool

OUTPUT = Path(__file__).resolve().parents[1] / "output"
DESK_SITE = os.environ.get("MEDTRACE_DESK_SITE") or f"{bench_tool.TEST_SITE.split('.')[0]}-desk.localhost"
PASSWORD = "admin"  # the demo's users sign and log in with it (medtrace.setup.demo.load_demo)
DEMO_USERS = {
	"Administrator": "System Manager",
	"li.wei@lumen-medical.example": "MedTrace Quality Engineer",
	"zhang.min@lumen-medical.example": "MedTrace Quality Approver",
	"chen.jing@lumen-medical.example": "MedTrace Regulatory Affairs",
}


# The site


def database_command(bench: Path, program: str) -> list[str]:
	config = bench_tool.site_config(bench, DESK_SITE)
	common = bench_tool.common_site_config(bench)
	return [
		program, "-h", common.get("db_host") or "127.0.0.1", "-P", str(common.get("db_port") or 3306),
		"-u", config.get("db_user") or config["db_name"], f"-p{config['db_password']}", config["db_name"],
	]


def snapshot_path(bench: Path) -> Path:
	return bench / "sites" / DESK_SITE / "private" / "medtrace-demo-snapshot.sql"


def prepare_desk_site(bench: Path) -> None:
	"""The demo on its own site, as it was just after loading: restored from the dump made then, and migrated
	(and dumped again) when the app changed since; created and loaded afresh when the demo loader changed, or
	with MEDTRACE_DESK_SITE_RECREATE=1."""
	fingerprint = bench_tool.app_source_fingerprint()
	snapshot = snapshot_path(bench)
	config = bench_tool.site_config(bench, DESK_SITE)
	if os.environ.get("MEDTRACE_DESK_SITE_RECREATE") or not snapshot.exists() or config.get("medtrace_desk_demo") != demo_fingerprint():
		bench_tool.create_site(bench, DESK_SITE)
		bench_tool.say(f"loading the demo company into {DESK_SITE}…")
		bench_tool.site_command(
			bench, DESK_SITE, "execute", "medtrace.setup.demo.load_demo", "--kwargs", json.dumps({"signing_password": PASSWORD})
		)
		bench_tool.site_command(bench, DESK_SITE, "set-config", "medtrace_desk_demo", demo_fingerprint())
		dump(bench, snapshot, fingerprint)
		return
	with snapshot.open("rb") as saved:
		subprocess.run(database_command(bench, "mariadb"), stdin=saved, check=True)
	if bench_tool.site_config(bench, DESK_SITE).get("medtrace_desk_fingerprint") == fingerprint:
		bench_tool.site_command(bench, DESK_SITE, "clear-cache")
		return
	bench_tool.say(f"migrating {DESK_SITE} to this checkout's app…")
	bench_tool.site_command(bench, DESK_SITE, "migrate")
	dump(bench, snapshot, fingerprint)


def demo_fingerprint() -> str:
	"""The demo loader's source: a demo that changed is loaded afresh (a migrate would keep the old data)."""
	return hashlib.sha256((bench_tool.APP_SOURCE / "medtrace" / "setup" / "demo.py").read_bytes()).hexdigest()


def dump(bench: Path, snapshot: Path, fingerprint: str) -> None:
	snapshot.parent.mkdir(parents=True, exist_ok=True)
	with snapshot.open("wb") as saved:
		subprocess.run([*database_command(bench, "mariadb-dump"), "--single-transaction", "--quick"], stdout=saved, check=True)
	bench_tool.site_command(bench, DESK_SITE, "set-config", "medtrace_desk_fingerprint", fingerprint)


class Desk:
	"""One user's browser session on the Desk, recording what goes wrong in the browser."""

	def __init__(self, browser, url: str, user: str, name: str):
		self.url = url
		self.user = user
		self.name = name
		self.context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True, locale="en-US")
		self.context.set_default_timeout(20_000)
		self.errors = []
		self.expected_errors = []
		self.downloads = []
		# Playwright keeps attributes on its handlers: plain functions, not bound or built-in methods.
		self.context.on("page", lambda page: self.watch(page))
		login = self.context.request.post(f"{url}/api/method/login", form={"usr": user, "pwd": PASSWORD})
		assert login.ok, f"{user} could not log in: {login.status} {login.text()[:200]}"
		self.page = self.context.new_page()

	def watch(self, page) -> None:
		# A page without an icon link (Frappe's /printview) makes Chromium ask for /favicon.ico on its own; its
		# 404 says nothing about the app.
		page.on(
			"console",
			lambda message: message.type == "error"
			and not message.location.get("url", "").endswith("/favicon.ico")
			and self.errors.append(f"console: {message.text} ({message.location.get('url', '')}, on {page.url})"),
		)
		page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
		page.on("download", lambda download: self.downloads.append(download))

	def expect_console_error(self, pattern: str) -> None:
		"""An error the test provokes on purpose (a refused signature answers 417, and the browser logs it)."""
		self.expected_errors.append(re.compile(pattern))

	def unexpected_errors(self) -> list[str]:
		return [error for error in self.errors if not any(pattern.search(error) for pattern in self.expected_errors)]

	def goto(self, route: str) -> None:
		self.page.goto(f"{self.url}{route}")
		self.wait_until_idle()

	def wait_until_idle(self) -> None:
		"""Frappe marks the body while a request is under way."""
		self.page.wait_for_load_state("networkidle")
		self.page.wait_for_function("document.body.getAttribute('data-ajax-state') !== 'triggered'")

	def api(self, method: str, path: str, **kwargs):
		response = self.context.request.fetch(f"{self.url}{path}", method=method, **kwargs)
		assert response.ok, f"{method} {path}: {response.status} {response.text()[:300]}"
		return response.json()

	def get_list(self, doctype: str, filters: list, fields: list[str]) -> list[dict]:
		return self.api(
			"GET", f"/api/resource/{doctype}", params={"filters": json.dumps(filters), "fields": json.dumps(fields), "limit_page_length": "100"}
		)["data"]

	def screenshot(self, name: str) -> Path:
		path = OUTPUT / "screens" / f"{name}.png"
		path.parent.mkdir(parents=True, exist_ok=True)
		self.page.screenshot(path=str(path), full_page=True)
		return path

	def click_action(self, label: str) -> None:
		"""A workflow action in the form's Actions menu."""
		self.page.locator(".page-actions .actions-btn-group > button").click()
		self.page.locator(".page-actions .actions-btn-group .dropdown-menu a", has_text=re.compile(f"^\\s*{re.escape(label)}\\s*$")).click()

	def sign(self, password: str, reason: str | None = None) -> None:
		dialog = self.page.locator(".modal.show", has=self.page.locator("input[data-fieldname='password']"))
		dialog.locator("input[data-fieldname='password']").fill(password)
		if reason:
			dialog.locator("textarea[data-fieldname='reason']").fill(reason)
		dialog.locator(".btn-primary", has_text=re.compile("Sign|签名")).click()

	def message(self):
		"""Frappe's message dialog (msgprint) once it is shown."""
		dialog = self.page.locator(".modal.show .msgprint").first
		dialog.wait_for()
		return dialog

	def close_message(self) -> None:
		"""Close the message dialog (not the signature dialog under it)."""
		dialog = self.page.locator(".modal.show", has=self.page.locator(".msgprint")).last
		dialog.locator(".btn-modal-close").click()
		dialog.wait_for(state="hidden")
