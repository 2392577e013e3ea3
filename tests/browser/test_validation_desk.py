"""The Validation Run in the Desk: a Quality Engineer starts a run from the form and its IQ shows on it; a
Quality Approver asking to approve a run that did not pass is refused, naming why, and nothing is signed."""

import re

import pytest

from desk_session import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.requirement("MT-VAL-002", "MT-VAL-003"), pytest.mark.requirement("MT-DSK-004", direct=False)]

ENGINEER = "li.wei@lumen-medical.example"
APPROVER = "zhang.min@lumen-medical.example"
# The refusal the test provokes: the browser logs the 417 answer, and Frappe logs its traceback.
REFUSED_REQUEST = r"status of 417|\bValidationError: Validation Run VAL-\S+ cannot be approved"


def test_a_run_started_in_the_desk_shows_its_iq_and_is_refused_at_approve_until_it_passes(desk):
	engineer = desk(ENGINEER)
	engineer.goto("/app/validation-run/new")
	engineer.page.locator("input[data-fieldname='title']").fill("Desk validation run")
	engineer.page.keyboard.press("Control+s")
	engineer.page.locator(".indicator-pill", has_text=re.compile("Open")).first.wait_for()
	engineer.wait_until_idle()
	name = engineer.page.url.rstrip("/").rsplit("/", 1)[-1]
	assert name.startswith("VAL-")
	checks = engineer.page.locator("[data-fieldname='iq_checks'] .grid-body .grid-row")
	assert checks.count() > 10
	assert engineer.page.get_by_role("button", name="Import OQ Result").count() == 1
	engineer.screenshot("validation-run-iq")

	approver = desk(APPROVER)
	approver.goto(f"/app/validation-run/{name}")
	approver.page.get_by_role("button", name="Approve").click()
	approver.expect_console_error(REFUSED_REQUEST)
	approver.sign(PASSWORD)
	message = approver.message().inner_text()
	assert "cannot be approved" in message and "No OQ result has been imported." in message
	approver.close_message()
	run = approver.api("GET", f"/api/resource/Validation Run/{name}")["data"]
	# Which IQ checks fail depends on the site (backups, session expiry…); each one that does is named.
	failed_checks = [row["check"] for row in run["iq_checks"] if row["result"] == "Fail"]
	assert all(f"IQ check failed: {check} " in message for check in failed_checks)
	assert (run["status"], run.get("approval_signature")) == ("Open", None)
	approver.screenshot("validation-run-refused")
