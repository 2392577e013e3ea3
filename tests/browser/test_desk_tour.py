"""The README's tour, in Chromium, as the demo's quality team takes it."""

import csv
import io
import json
import re
import subprocess
import time
from pathlib import Path

import bench_tool
import pytest
from desk_session import DEMO_USERS, DESK_SITE, OUTPUT, PASSWORD

from medtrace.setup.demo import DEMO_CHANGE_TITLE, DEMO_DRILL_TITLE

ENGINEER, APPROVER, REGULATORY = "li.wei@lumen-medical.example", "zhang.min@lumen-medical.example", "chen.jing@lumen-medical.example"
# A refusal the test provokes: the browser logs the 403/417 answer, and Frappe logs its traceback.
REFUSED_REQUEST = r"status of 4(03|17)|\b(SignatureError|PermissionError)\b"

pytestmark = pytest.mark.browser
pytestmark = [pytestmark, pytest.mark.requirement("MT-DSK-004")]


@pytest.mark.parametrize("user", list(DEMO_USERS))
@pytest.mark.requirement("MT-INS-006")
def test_each_role_opens_its_workspace(desk, user):
	"""Every demo user's MedTrace workspace shows UDI Scan and the dashboard, charts drawn without errors."""
	session = desk(user)
	session.goto("/app/medtrace")
	shortcuts = session.page.locator(".shortcut-widget-box .widget-title")
	shortcuts.first.wait_for()
	assert "udi scan" in [text.strip().casefold() for text in shortcuts.all_inner_texts()]
	for card in ("Open Recalls (Excluding Drills)", "Open Mock Recall Drills"):
		session.page.locator(".number-widget-box .widget-title", has_text=card).wait_for()
	session.page.locator(".dashboard-widget-box .chart-container").first.wait_for()
	session.page.wait_for_timeout(1500)  # the charts' data arrives after the frame
	# Live updates: the Desk is connected to socket.io (served on its own port, as a bench serves it).
	session.page.wait_for_function("frappe.realtime.socket && frappe.realtime.socket.connected", timeout=20_000)
	session.screenshot(f"workspace-{user.split('@')[0]}")


def test_scanning_labels_in_a_row(desk):
	"""A scanner types one label after another: each is answered in order, the focus stays in the box."""
	session = desk(ENGINEER)
	lot = session.get_list("Batch", [["item", "=", "LMD-SYR-5ML"], ["udi_element_string", "is", "set"]], ["name", "udi_element_string"])[0]
	good = lot["udi_element_string"]
	di = re.search(r"\(01\)(\d{14})", good).group(1)
	incomplete = f"(01){di}(10){lot['name']}"  # no expiry date, though the DI's label carries it
	bad = f"(01){di[:-1]}{(int(di[-1]) + 1) % 10}(10){lot['name']}"  # wrong check digit
	session.goto("/app/udi-scan")
	box = session.page.locator("input[data-fieldname='scan']")
	for scan in (good, incomplete, bad, good):
		box.fill(scan)
		box.press("Enter")
	rows = session.page.locator(".udi-scan-history-row")
	session.page.wait_for_function("document.querySelectorAll('.udi-scan-history-row .indicator.gray').length === 0")
	assert rows.count() == 4
	statuses = [text.split("·")[0].strip() for text in rows.locator(".indicator").all_inner_texts()]
	assert statuses == ["Resolved", "Unreadable Scan", "Incomplete Label", "Resolved"]  # newest first
	assert session.page.evaluate("document.activeElement.dataset.fieldname") == "scan"
	assert session.page.locator(".modal.show").count() == 0
	box.fill(incomplete)
	box.press("Enter")
	message = session.page.locator(".udi-scan-result [data-scan-status='incomplete'] .scan-message")
	message.wait_for()
	assert "expiry date" in message.inner_text()
	session.screenshot("udi-scan-in-a-row")


def test_trace_forward_and_backward_with_every_export(desk):
	session = desk(ENGINEER)
	session.goto("/app/trace-explorer")
	for identifier, direction, expected in (
		("PP-2611-A", "forward", "Suzhou Municipal Hospital"),
		(None, "backward", "PP-2611-A"),
	):
		# A syringe lot moulded from the resin: the released DHR's.
		identifier = identifier or session.get_list("Device History Record", [["status", "=", "Released"]], ["batch_no"])[0]["batch_no"]
		session.page.locator("input[data-fieldname='identifier']").fill(identifier)
		session.page.locator("select[data-fieldname='direction']").select_option(direction)
		session.page.locator(".page-actions .primary-action").click()
		session.page.locator(".mt-trace-result", has_text=expected).wait_for()
		for label, extension in (("XLSX", ".xlsx"), ("CSV", ".csv"), ("PDF Evidence Report", ".pdf")):
			before = len(session.downloads)
			session.page.locator(".page-actions .inner-group-button, .page-actions .custom-actions button", has_text=label).first.click()
			deadline = time.monotonic() + 60
			while len(session.downloads) == before and time.monotonic() < deadline:
				session.page.wait_for_timeout(250)
			download = session.downloads[-1]
			path = Path(download.path())
			assert download.suggested_filename.endswith(extension) and path.stat().st_size > 0
			if extension == ".csv":
				text = path.read_text(encoding="utf-8-sig")
				assert expected in text and list(csv.reader(io.StringIO(text)))
		session.screenshot(f"trace-explorer-{direction}")


def test_release_a_dhr_through_the_signature_dialog(desk):
	session = desk(APPROVER)
	dhr = session.get_list("Device History Record", [["status", "=", "Complete"], ["serial_no", "is", "not set"]], ["name"])[0]["name"]
	session.goto(f"/app/device-history-record/{dhr}")
	session.page.get_by_role("button", name="Release").click()
	session.expect_console_error(REFUSED_REQUEST)
	session.sign("not-my-password")
	assert "Wrong password" in session.message().inner_text()
	session.close_message()
	session.sign(PASSWORD, reason="Batch record reviewed")
	session.page.locator(".indicator-pill", has_text="Released").first.wait_for()
	session.wait_until_idle()
	# A released DHR is read-only: its tables offer no Add Row.
	assert session.page.locator(".grid-add-row:visible").count() == 0
	assert session.page.locator(".form-dashboard", has_text="Batch record reviewed").count() == 1
	session.screenshot("dhr-released")


def apply_action(session, doctype: str, name: str, action: str, password: str | None = PASSWORD) -> None:
	session.goto(f"/app/{doctype.lower().replace(' ', '-')}/{name}")
	session.click_action(action)
	if password:
		session.sign(password)
	session.wait_until_idle()


def workflow_state(session, name: str) -> str:
	return session.api("GET", f"/api/resource/Change Request/{name}")["data"]["workflow_state"]


def action_labels(session) -> list[str]:
	"""The workflow actions the form offers the user (no Actions menu when there are none)."""
	menu = session.page.locator(".page-actions .actions-btn-group > button")
	if not menu.is_visible():
		return []
	menu.click()
	labels = [text.strip() for text in session.page.locator(".page-actions .actions-btn-group .dropdown-menu a").all_inner_texts()]
	session.page.keyboard.press("Escape")
	return labels


def test_change_request_through_its_signed_transitions(desk):
	"""Raised by regulatory affairs, approved by the quality approver, implemented by the engineer, verified and
	closed by the approver, each by signature; the requester is refused the approval of their own request."""
	regulatory, approver, engineer = desk(REGULATORY), desk(APPROVER), desk(ENGINEER)
	pump_di = regulatory.get_list("UDI Device Identifier", [["item", "=", "LMD-PUMP-200"], ["packaging_level", "=", "Base Unit"]], ["name"])[0]["name"]
	name = regulatory.api("POST", "/api/resource/Change Request", data={
		"title": "Browser test: pump storage conditions", "change_type": "Labeling", "risk_level": "Low",
		"description": "Storage conditions from the new stability study.",
		"affected_records": [{"reference_doctype": "UDI Device Identifier", "reference_name": pump_di}],
		"proposed_changes": [{"reference_doctype": "UDI Device Identifier", "reference_name": pump_di, "fieldname": "storage_conditions",
		                      "new_value": "Store between 0 °C and 40 °C."}],
		"approval_requirements": [{"role": "MedTrace Quality Approver", "approvals_needed": 1}],
		"tasks": [{"task": "Update the label artwork", "done": 1}],
	})["data"]["name"]
	apply_action(regulatory, "Change Request", name, "Submit for Review", password=None)
	assert workflow_state(regulatory, name) == "Impact Review"

	# The requester may approve requests (Regulatory Affairs approves), but not their own.
	regulatory.goto(f"/app/change-request/{name}")
	regulatory.page.get_by_text("Separation of duties").first.wait_for()
	assert "Approve" not in action_labels(regulatory)
	regulatory.expect_console_error(REFUSED_REQUEST)
	refusal = regulatory.page.evaluate(
		"""name => frappe.xcall("frappe.model.workflow.apply_workflow", {doc: cur_frm.doc, action: "Approve", password: "admin"})
			.then(() => "approved", (error) => (frappe.msg_dialog && frappe.msg_dialog.$wrapper.text()) || String(error))""",
		name,
	)
	assert "another person must Approve it" in refusal, refusal
	regulatory.screenshot("change-request-separation-of-duties")
	assert workflow_state(regulatory, name) == "Impact Review"

	apply_action(approver, "Change Request", name, "Approve")
	assert workflow_state(approver, name) == "Approved"
	apply_action(engineer, "Change Request", name, "Mark Implemented")
	assert workflow_state(engineer, name) == "Implemented"
	apply_action(approver, "Change Request", name, "Verify")
	apply_action(approver, "Change Request", name, "Close")
	assert workflow_state(approver, name) == "Closed"
	approver.goto(f"/app/change-request/{name}")
	changes = approver.page.locator("[data-fieldname='proposed_changes'] .grid-body")
	assert "Storage and Handling Conditions" in changes.inner_text() and "0 °C and 40 °C" in changes.inner_text()
	approver.screenshot("change-request-closed")


def test_scope_a_recall_and_print_it(desk):
	session = desk(ENGINEER)
	recall = session.get_list("Recall", [["title", "=", DEMO_DRILL_TITLE]], ["name"])[0]["name"]
	session.goto(f"/app/recall/{recall}")
	session.page.get_by_role("button", name="Scope Again").click()
	session.page.locator(".alert-message, .desk-alert", has_text="affected units").first.wait_for()
	session.wait_until_idle()
	units = session.page.locator("[data-fieldname='affected_units'] .grid-heading-row")
	assert {"Customer", "Qty Delivered", "Warehouse", "Lot"} <= set(units.inner_text().split("\n"))
	totals = session.page.locator("[data-fieldname='unit_totals'] .grid-body .grid-row")
	uoms = {text.split("\n")[1] for text in totals.all_inner_texts()}
	assert {"Kg", "Nos"} <= uoms
	session.screenshot("recall-scoped")
	session.goto(f"/printview?doctype=Recall&name={recall}&format=Recall%20Report&no_letterhead=1")
	body = session.page.locator(".print-format")
	body.wait_for()
	assert "Units per Unit of Measure" in body.inner_text()
	session.screenshot("recall-report-print")


@pytest.mark.requirement("MT-PKG-002", "MT-PKG-003", "MT-RCL-008", "MT-EVT-002", direct=False)
def test_the_shipped_pallet_its_label_a_scan_of_it_and_the_trace_as_epcis(desk, tmp_path):
	"""Tour step 10: the syringe pallet shipped by its SSCC — its label, a scan of it (its cases and the
	syringes inside), the packages in the syringe lot's trace and in the resin drill, and the trace as EPCIS."""
	session = desk(ENGINEER)
	pallet = session.get_list("Package", [["packaging_level", "=", "Pallet"], ["status", "=", "Shipped"]], ["name", "sscc", "customer"])[0]
	session.goto(f"/app/package/{pallet['name']}")
	session.page.get_by_role("button", name="Print Label").wait_for()
	session.screenshot("package-pallet")
	# What Print Label posts (with the page's CSRF token), fetched here to look at the PDF.
	label = session.context.request.post(
		f"{session.url}/api/method/medtrace.packaging.labels.download_package_labels",
		form={"name": pallet["name"], "copies": "1", "nested": "0"},
		headers={"X-Frappe-CSRF-Token": session.page.evaluate("frappe.csrf_token")},
	)
	assert label.ok and label.body().startswith(b"%PDF")
	(tmp_path / "label.pdf").write_bytes(label.body())
	(OUTPUT / "screens").mkdir(parents=True, exist_ok=True)
	subprocess.run(["pdftoppm", "-png", "-r", "110", "-singlefile", str(tmp_path / "label.pdf"), str(OUTPUT / "screens" / "pallet-label")], check=True)

	session.goto("/app/udi-scan")
	box = session.page.locator("input[data-fieldname='scan']")
	box.fill(f"(00){pallet['sscc']}")
	box.press("Enter")
	result = session.page.locator(".udi-scan-result [data-scan-status='resolved']")
	result.wait_for()
	assert pallet["name"] in result.inner_text() and "Case" in result.locator(".udi-scan-contents").inner_text()
	session.screenshot("udi-scan-pallet")

	lot = session.get_list("Device History Record", [["status", "=", "Released"], ["serial_no", "is", "not set"]], ["batch_no"])[0]["batch_no"]
	session.goto("/app/trace-explorer")
	session.page.locator("input[data-fieldname='identifier']").fill(lot)
	session.page.locator("select[data-fieldname='direction']").select_option("forward")
	session.page.locator(".page-actions .primary-action").click()
	packages = session.page.locator(".mt-trace-section", has=session.page.locator(".mt-trace-section-head", has_text="Packages"))
	packages.locator("a", has_text=pallet["name"]).first.wait_for()
	before = len(session.downloads)
	session.page.locator(".page-actions .inner-group-button, .page-actions .custom-actions button", has_text="EPCIS 2.0").first.click()
	deadline = time.monotonic() + 60
	while len(session.downloads) == before and time.monotonic() < deadline:
		session.page.wait_for_timeout(250)
	download = session.downloads[-1]
	assert download.suggested_filename.endswith(".jsonld")
	events = json.loads(Path(download.path()).read_text())["epcisBody"]["eventList"]
	# The syringes' cases, and the pallet the cases were packed onto.
	assert any(event["type"] == "AggregationEvent" and event["parentID"].endswith(pallet["sscc"]) for event in events)
	packages.scroll_into_view_if_needed()
	session.screenshot("trace-explorer-packages")

	recall = session.get_list("Recall", [["title", "=", DEMO_DRILL_TITLE]], ["name"])[0]["name"]
	session.goto(f"/app/recall/{recall}")
	session.page.get_by_role("button", name="Packages to Pull").click()
	to_pull = session.page.locator(".modal.show", has=session.page.locator(".mt-packages-to-pull"))
	to_pull.locator("a", has_text=pallet["name"]).wait_for()
	assert pallet["customer"] in to_pull.inner_text() and "Pull whole" in to_pull.inner_text()
	to_pull.locator(".modal-content").screenshot(path=str(OUTPUT / "screens" / "recall-packages-to-pull.png"))


def test_verify_now_shows_its_result_without_a_reload(desk, bench):
	session = desk("Administrator")
	session.goto("/app/audit-chain")
	before = session.page.evaluate("cur_frm.doc.last_verified_on || null")
	session.page.evaluate("window.__medtrace_not_reloaded = true")
	session.page.get_by_role("button", name="Verify Now").click()
	session.page.get_by_text("Verification started").first.wait_for()
	# The job waits its turn in the bench's queue, shared with every site's scheduled jobs: the verification is
	# also run here, as the daily job runs it; whichever finishes first, the open form shows it by socket.io.
	bench_tool.site_command(bench, DESK_SITE, "execute", "medtrace.audit.audit_chain.verify_audit_chain")
	session.page.wait_for_function(
		"before => cur_frm.doc.last_verified_on && cur_frm.doc.last_verified_on !== before", arg=before, timeout=60_000
	)
	assert session.page.evaluate("window.__medtrace_not_reloaded") is True
	session.page.locator(".page-head .indicator-pill", has_text=re.compile("Intact|Broken")).first.wait_for()
	session.screenshot("audit-chain-verified")


def medtrace_sources() -> dict[str, str]:
	"""MedTrace's own translated strings: English source → Chinese."""
	path = Path(__file__).resolve().parents[2] / "apps/medtrace/medtrace/translations/zh.csv"
	with path.open(encoding="utf-8") as handle:
		return {row[0]: row[1] for row in csv.reader(handle) if len(row) >= 2 and row[0] != row[1]}


def test_a_chinese_user_sees_no_untranslated_medtrace_string(desk):
	administrator = desk("Administrator")
	administrator.api("PUT", f"/api/resource/User/{REGULATORY}", data={"language": "zh"})
	session = desk(REGULATORY)
	sources = {source.casefold(): source for source in medtrace_sources()}
	dhr = session.get_list("Device History Record", [["status", "=", "Released"]], ["name"])[0]["name"]
	recall = session.get_list("Recall", [["title", "=", DEMO_DRILL_TITLE]], ["name"])[0]["name"]
	change = session.get_list("Change Request", [["title", "=", DEMO_CHANGE_TITLE]], ["name"])[0]["name"]
	untranslated = {}
	for route in ("/app/medtrace", "/app/udi-scan", "/app/trace-explorer", f"/app/device-history-record/{dhr}",
	              f"/app/recall/{recall}", f"/app/change-request/{change}"):
		session.goto(route)
		if route == "/app/medtrace":
			session.page.locator(".number-widget-box .widget-title").first.wait_for()
			session.page.locator(".dashboard-widget-box .chart-container").first.wait_for()
		session.page.wait_for_timeout(1500)
		# Labels, headings, buttons and messages; not the data (field values, table rows, the activity log of values).
		texts = session.page.evaluate(
			"""() => {
				const data = ".control-value, .like-disabled-input, .grid-body, .new-timeline, .timeline-content, input, textarea, select, code, .dropdown-menu";
				const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
				const texts = [];
				while (walker.nextNode()) {
					const node = walker.currentNode, element = node.parentElement;
					if (!node.textContent.trim() || !element || element.closest(data)) continue;
					const box = element.getBoundingClientRect();
					if (!element.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) || !box.width || !box.height) continue;
					texts.push(node.textContent.trim());
				}
				return texts;
			}"""
		)
		found = sorted({sources[text.casefold()] for text in texts if text.casefold() in sources})
		if found:
			untranslated[route] = found
		session.screenshot(f"zh{route.replace('/', '-')}")
	assert untranslated == {}
