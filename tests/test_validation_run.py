"""Validation evidence (issue 19): the register loaded into the Desk, the IQ of a Validation Run on this site,
an OQ run from the README's command imported with its traceability matrix and PDF, approval by electronic
signature, and the upgrade impact computed from the manifests."""

import functools
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import frappe
import pytest

from bench_tool import REPO, TEST_SITE, bench_path
from factories import SIGNING_PASSWORD, acting_as, can_sign
from medtrace.signatures.esignature import SignatureError
from medtrace.setup.permissions import QUALITY_APPROVER, QUALITY_ENGINEER, REGULATORY_AFFAIRS
from medtrace.validation.manifest import APP_ROOT, build_manifest, read_manifest
from medtrace.validation.register import load_register, sync_requirements
from medtrace.validation.runs import approve_validation_run, download_validation_report, import_oq_into_run, unapprovable_reasons
from test_roles import user_with_role  # noqa: F401 (fixture)

RUN = "Validation Run"
TESTS = Path(__file__).resolve().parent


# What a validated site is set up with


@pytest.fixture
def fresh_manifest() -> dict:
	"""The manifest of the files as they are now: the IQ of this checkout, whatever was last released."""
	return build_manifest()


@pytest.fixture(scope="module")
def recent_backup(bench):
	from frappe.utils.backups import get_backup_path

	backups = sorted(Path(get_backup_path()).glob("*-database.sql*"), key=lambda path: path.stat().st_mtime)
	if not backups or backups[-1].stat().st_mtime < time.time() - 12 * 3600:
		from bench_tool import site_command

		site_command(bench, TEST_SITE, "backup")


@contextmanager
def scheduler_running():
	"""A real `bench schedule` process while the block runs. Its first tick is a minute after it starts, so it
	enqueues nothing for this or any other site of the bench meanwhile."""
	from frappe.utils.scheduler import is_schduler_process_running

	bench = bench_path()
	process = subprocess.Popen(
		[str(bench / "env/bin/python"), "-m", "frappe.utils.bench_helper", "frappe", "schedule"],
		cwd=bench / "sites", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
	)
	try:
		deadline = time.monotonic() + 30
		while not is_schduler_process_running() and time.monotonic() < deadline:
			time.sleep(0.2)
		yield process
	finally:
		process.terminate()
		process.wait(timeout=30)


@pytest.fixture
def part11_site(recent_backup, user_with_role):
	"""This site as a validated one runs: password policy, idle session expiry, scheduler on, the audit chain
	verified and its checkpoint sent (all inside the test's transaction)."""
	from medtrace.audit.audit_chain import publish_checkpoint, verify_audit_chain

	frappe.db.set_single_value(
		"System Settings",
		{"enable_password_policy": 1, "minimum_password_score": 2, "session_expiry": "04:00", "enable_scheduler": 1},
	)
	user_with_role(QUALITY_APPROVER)
	verify_audit_chain(alert=False)
	publish_checkpoint()


def new_run(manifest: dict, app_root: Path = APP_ROOT, title: str = "Test run") -> "frappe.Document":
	run = frappe.new_doc(RUN)
	run.title = title
	run.flags.manifest = manifest
	run.flags.app_root = app_root
	with scheduler_running():
		return run.insert()


def failures(run) -> dict[str, tuple[str, str]]:
	return {row.check: (row.expected, row.found) for row in run.iq_checks if row.result == "Fail"}


# Register


@pytest.mark.requirement("MT-VAL-001")
def test_register_is_in_the_desk_read_only():
	sync_requirements()
	register = load_register()
	assert frappe.db.count("Validation Requirement", {"withdrawn": 0}) == len(register["requirements"])
	requirement = frappe.get_doc("Validation Requirement", "MT-SIG-001")
	assert (requirement.risk, requirement.title) == ("High", "Signing re-authenticates and records the meaning")
	assert "11.200" in requirement.regulatory_source
	requirement.title = "Edited in the Desk"
	with pytest.raises(frappe.PermissionError, match="requirements register"):
		requirement.save()
	with pytest.raises(frappe.PermissionError):
		frappe.delete_doc("Validation Requirement", "MT-SIG-001")
	with acting_as("Administrator"), pytest.raises(frappe.PermissionError):
		frappe.get_doc({"doctype": "Validation Requirement", "requirement_id": "MT-FAKE-001", "title": "x", "risk": "Low"}).insert()


@pytest.mark.requirement("MT-VAL-001")
def test_a_requirement_dropped_from_the_register_is_kept_withdrawn():
	old = frappe.get_doc({"doctype": "Validation Requirement", "requirement_id": "MT-OLD-001", "title": "Old", "risk": "Low"})
	old.flags.from_register = True
	old.insert()
	sync_requirements()
	assert frappe.db.get_value("Validation Requirement", "MT-OLD-001", "withdrawn") == 1
	assert frappe.db.get_value("Validation Requirement", "MT-UDI-001", "withdrawn") == 0


# IQ


@pytest.mark.requirement("MT-VAL-002")
def test_iq_on_a_site_set_up_for_part_11_passes_every_check(part11_site, fresh_manifest):
	started = time.monotonic()
	run = new_run(fresh_manifest)
	print(f"\nIQ on {TEST_SITE}: {time.monotonic() - started:.2f} s, {len(run.iq_checks)} checks, {run.files_checked} files")
	assert failures(run) == {}
	assert run.iq_result == "Pass"
	assert (run.status, run.site, run.started_by) == ("Open", TEST_SITE, "Administrator")
	import erpnext

	import medtrace

	assert (run.frappe_version, run.erpnext_version, run.medtrace_version) == (frappe.__version__, erpnext.__version__, medtrace.__version__)
	assert run.mariadb_version and run.redis_version and run.python_version.startswith("3.")
	checks = {row.check for row in run.iq_checks}
	for expected in (
		"Frappe", "ERPNext", "MedTrace", "Python", "MariaDB", "Redis", "MedTrace files match the release manifest",
		"Track Changes: Batch", "Track Changes: Serial No", "Track Changes: Device History Record", "Track Changes: Validation Run",
		"Password policy", "Session expiry (idle)", "Developer mode", "Audit chain: last verification",
		"Audit chain: last checkpoint sent", "Electronic signature lockout", "Database backups",
	):
		assert expected in checks, expected
	assert any(check.startswith("Scheduler") for check in checks)
	assert run.files_checked == len([name for name in fresh_manifest["files"] if name.startswith("apps/medtrace/")])


@pytest.mark.requirement("MT-VAL-002")
def test_iq_names_a_tampered_an_added_and_a_missing_file(fresh_manifest, tmp_path):
	copy = tmp_path / "medtrace"
	shutil.copytree(APP_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
	tampered = copy / "medtrace" / "udi" / "scan.py"
	tampered.write_text(tampered.read_text() + "\n# a change nobody released\n")
	(copy / "medtrace" / "udi" / "backdoor.py").write_text("print('hello')\n")
	(copy / "medtrace" / "recall" / "drill.py").unlink()

	run = new_run(fresh_manifest, app_root=copy)
	assert run.iq_result == "Fail"
	failed = failures(run)
	assert failed["apps/medtrace/medtrace/udi/scan.py"] == (
		fresh_manifest["files"]["apps/medtrace/medtrace/udi/scan.py"],
		build_manifest(copy, tests_root=tmp_path / "no-tests")["files"]["apps/medtrace/medtrace/udi/scan.py"],
	)
	assert failed["apps/medtrace/medtrace/udi/backdoor.py"][0] == "not in the release"
	assert failed["apps/medtrace/medtrace/recall/drill.py"][1] == "missing"
	assert failed["MedTrace files match the release manifest"][1].endswith("3 differ")


@pytest.mark.requirement("MT-VAL-002", "MT-AUD-003")
def test_iq_names_an_audited_doctype_whose_track_changes_was_switched_off(fresh_manifest):
	# Not through Customize Form (refused there): straight in the database, as a careless admin or an
	# attacker would.
	frappe.db.set_value("DocType", "Recall", "track_changes", 0)
	try:
		run = new_run(fresh_manifest)
	finally:
		frappe.db.set_value("DocType", "Recall", "track_changes", 1)
		frappe.clear_cache(doctype="Recall")
	assert run.iq_result == "Fail"
	assert failures(run)["Track Changes: Recall"] == ("On", "Off")


@pytest.mark.requirement("MT-VAL-002")
def test_iq_names_each_part_11_setting_that_is_not_as_validated(fresh_manifest):
	frappe.db.set_single_value("System Settings", {"enable_password_policy": 0, "session_expiry": "170:00", "enable_scheduler": 0})
	frappe.db.set_single_value("MedTrace Settings", "signature_lockout_attempts", 10)
	frappe.db.set_single_value("Audit Chain", {"last_verified_on": "2020-01-01 00:00:00", "checkpoint_on": None})
	failed = failures(new_run(fresh_manifest))
	assert failed["Password policy"][1] == "Off"
	assert failed["Session expiry (idle)"][1] == "170:00"
	assert failed["Electronic signature lockout"][1] == "After 10 failed attempts"
	assert "2020" in failed["Audit chain: last verification"][1]
	assert failed["Audit chain: last checkpoint sent"][1] == "never taken"
	assert any(check.startswith("Scheduler") and "disabled for this site" in found for check, (_expected, found) in failed.items())


@pytest.mark.requirement("MT-VAL-002")
def test_a_run_is_started_with_the_shipped_manifest_and_its_evidence_cannot_be_written(user_with_role):
	from medtrace.validation.runs import start_validation_run

	shipped = read_manifest()
	assert shipped, "the release manifest ships with the app"
	run = frappe.get_doc(RUN, start_validation_run("Started as bench execute starts it"))
	assert run.title == "Started as bench execute starts it" and run.iq_checks
	# A run given results or an approval when created holds only what the site shows.
	forged = frappe.get_doc({"doctype": RUN, "iq_result": "Pass", "oq_result": "Pass", "status": "Approved", "approved_by": "Administrator",
	                         "iq_checks": [{"category": "File", "check": "all good", "expected": "x", "found": "x", "result": "Pass"}]})
	forged.flags.manifest = shipped
	forged.insert()
	assert (forged.status, forged.oq_result, forged.approved_by) == ("Open", "Not Run", None)
	assert "all good" not in {row.check for row in forged.iq_checks}
	for field, value in (("iq_result", "Pass"), ("status", "Approved"), ("approved_by", "Administrator"), ("oq_result", "Pass")):
		with pytest.raises(frappe.PermissionError, match="found by the run itself|written only by an electronic signature"):
			frappe.client.set_value(RUN, run.name, field, value)
	frappe.client.set_value(RUN, run.name, "title", "Renamed")
	engineer = user_with_role(QUALITY_ENGINEER)
	with acting_as(user_with_role(REGULATORY_AFFAIRS)), pytest.raises(frappe.PermissionError):
		start_validation_run()
	with acting_as(engineer):
		assert frappe.get_doc(RUN, start_validation_run()).started_by == engineer


@pytest.mark.requirement("MT-VAL-002")
def test_the_shipped_manifest_is_current():
	"""The release step: `python3 apps/medtrace/medtrace/validation/manifest.py` after the last change."""
	shipped, current = read_manifest(), build_manifest()
	changed = sorted(
		name for name in shipped["files"].keys() | current["files"].keys() if shipped["files"].get(name) != current["files"].get(name)
	)
	assert changed == [], f"manifest.json is out of date for {changed[:20]}: run python3 apps/medtrace/medtrace/validation/manifest.py"
	assert shipped == current


# OQ


@functools.cache
def suite_requirement_map() -> dict:
	# Absolute: the collecting run below starts in the repository, not in the bench's sites folder.
	path = Path(frappe.get_site_path("private", f"map-{frappe.generate_hash(length=6)}.json")).resolve()
	# A test file another change left unimportable is no reason to refuse the approval logic these tests check.
	subprocess.run(
		[sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors",
		 f"--requirement-map={path}", str(TESTS)],
		cwd=REPO, capture_output=True,
	)
	collected = json.loads(path.read_text())
	path.unlink()
	return collected


def oq_result_for(run, outcomes: dict[str, str] | None = None) -> dict:
	"""An OQ result as the pytest plugin writes it for the whole suite, every test passed unless told
	otherwise: the tests and markers are the suite's own (collected), the outcomes are given."""
	collected = suite_requirement_map()
	outcomes = outcomes or {}
	return {
		"format": "medtrace-oq/1", "site": "medtrace-oq.localhost", "started_on": "2026-12-07T10:00:00", "duration": 600.0,
		"versions": {"frappe": run.frappe_version, "erpnext": run.erpnext_version, "medtrace": run.medtrace_version},
		"files_digest": run.files_digest,
		"tests": [
			{"nodeid": nodeid, "requirements": marks, "outcome": outcomes.get(nodeid, "passed"), "duration": 0.5,
			 "log": "AssertionError: assert 1 == 2" if outcomes.get(nodeid) == "failed" else ""}
			for nodeid, marks in collected.items()
		],
	}


@pytest.fixture(scope="module")
def readme_oq_result(tmp_path_factory) -> dict:
	"""The README's OQ command, on a subset of the requirements (the whole suite is the lead's CI run), on
	this test site: the nested run connects to it like any other test session."""
	result = tmp_path_factory.mktemp("oq") / "oq-result.json"
	environment = {**os.environ, "MEDTRACE_TEST_SITE": TEST_SITE}
	started = time.monotonic()
	files = [str(TESTS / "test_coding_rules.py"), str(TESTS / "test_data_dictionary.py")]
	command = [str(REPO / "scripts" / "run-tests"), *files, "--oq-result", str(result), "--requirements", "MT-COD-003,MT-UDI-007", "-q", "-p", "no:cacheprovider"]
	ran = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True)
	print(f"\nOQ of MT-COD-003 and MT-UDI-007: {time.monotonic() - started:.1f} s")
	assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
	return json.loads(result.read_text())


@pytest.mark.requirement("MT-VAL-003")
def test_an_oq_run_from_the_readme_command_gives_the_matrix_and_the_pdf(readme_oq_result, fresh_manifest, user_with_role, web_server):
	assert readme_oq_result["site"] == TEST_SITE
	tests = readme_oq_result["tests"]
	assert tests and all(test["outcome"] == "passed" for test in tests)
	assert all({"MT-COD-003", "MT-UDI-007"} & {rid for rid, _direct in test["requirements"]} for test in tests)

	run = new_run(fresh_manifest)
	summary = import_oq_into_run(run.name, json.dumps(readme_oq_result))
	run.reload()
	assert summary["tests_passed"] == len(tests) and run.tests_failed == 0
	matrix = {row.requirement: row for row in run.matrix}
	assert len(matrix) == len(load_register()["requirements"])
	for rid in ("MT-COD-003", "MT-UDI-007"):
		assert matrix[rid].result == "Pass" and matrix[rid].tests == matrix[rid].passed > 0
		assert set(matrix[rid].test_names.split("\n")) == {test["nodeid"] for test in tests if rid in {r for r, _d in test["requirements"]}}
	assert matrix["MT-DHR-002"].result == "Not Tested"
	# Only part of the register was tested: the run is not approvable.
	assert run.oq_result == "Fail"
	approver = can_sign(user_with_role(QUALITY_APPROVER))
	assert "Requirement MT-DHR-002: Not Tested" in unapprovable_reasons(run)
	with acting_as(approver), pytest.raises(frappe.ValidationError, match="cannot be approved"):
		approve_validation_run(run.name, password=SIGNING_PASSWORD)

	download_validation_report(run.name)
	pdf = frappe.local.response.filecontent
	text = pdf_text(pdf)
	for expected in (f"Validation Report: {run.name}", "Traceability Matrix", "MT-COD-003", "Installation Qualification (IQ)", "Not approved", f"{run.name} - 1 /"):
		assert expected in text, expected
	pages = pdf_pages(pdf, Path(frappe.get_site_path("private", "files")) / f"validation-{run.name}")
	assert len(pages) >= 3


def pdf_text(pdf: bytes) -> str:
	text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
	return " ".join(text.split())


def pdf_pages(pdf: bytes, stem: Path) -> list[Path]:
	"""The PDF's pages as PNG (kept beside the site's files, to be looked at)."""
	source = stem.with_suffix(".pdf")
	source.write_bytes(pdf)
	subprocess.run(["pdftoppm", "-png", "-r", "60", str(source), str(stem)], check=True)
	return sorted(stem.parent.glob(f"{stem.name}-*.png"))


@pytest.mark.requirement("MT-VAL-003", "MT-SIG-001", "MT-SIG-005")
def test_a_passed_run_is_approved_by_signature_and_then_frozen(part11_site, fresh_manifest, user_with_role, web_server):
	run = new_run(fresh_manifest)
	import_oq_into_run(run.name, json.dumps(oq_result_for(run)))
	run.reload()
	assert (run.iq_result, run.oq_result) == ("Pass", "Pass") and all(row.result == "Pass" for row in run.matrix)

	approver = can_sign(user_with_role(QUALITY_APPROVER))
	engineer = user_with_role(QUALITY_ENGINEER)
	with acting_as(engineer), pytest.raises(frappe.PermissionError, match="Only a MedTrace Quality Approver"):
		approve_validation_run(run.name, password=SIGNING_PASSWORD)
	with acting_as(approver), pytest.raises(SignatureError, match="Wrong password"):
		approve_validation_run(run.name, password="not-the-password")
	assert frappe.db.get_value(RUN, run.name, "status") == "Open"

	with acting_as(approver):
		signature = frappe.get_doc("Electronic Signature", approve_validation_run(run.name, password=SIGNING_PASSWORD, reason="IQ and OQ reviewed"))
	assert (signature.meaning, signature.signer, signature.reference_doctype, signature.reference_name) == ("Approved", approver, RUN, run.name)
	run.reload()
	assert (run.status, run.approved_by, run.approval_signature, run.approved_on) == ("Approved", approver, signature.name, signature.signed_on)

	with acting_as(approver), pytest.raises(frappe.ValidationError, match="already approved"):
		approve_validation_run(run.name, password=SIGNING_PASSWORD)
	run.title = "Changed after approval"
	with pytest.raises(frappe.PermissionError, match="is approved"):
		run.save()
	with pytest.raises(frappe.PermissionError, match="is approved"):
		frappe.delete_doc(RUN, run.name)
	with pytest.raises(frappe.ValidationError, match="approved"):
		import_oq_into_run(run.name, json.dumps(oq_result_for(run)))

	download_validation_report(run.name)
	pdf = frappe.local.response.filecontent
	text = pdf_text(pdf)
	for expected in ("Approved by", signature.signer_name, "reviewed", signature.content_hash[:12]):
		assert expected in text, expected
	pdf_pages(pdf, Path(frappe.get_site_path("private", "files")) / f"approved-{run.name}")


@pytest.mark.requirement("MT-VAL-003")
def test_a_run_with_a_failed_test_cannot_be_approved(fresh_manifest, user_with_role):
	run = new_run(fresh_manifest)
	result = oq_result_for(run)
	failing = next(test["nodeid"] for test in result["tests"] if ["MT-TRC-004", True] in test["requirements"])
	result = oq_result_for(run, {failing: "failed"})
	import_oq_into_run(run.name, json.dumps(result))
	run.reload()
	assert (run.oq_result, run.tests_failed) == ("Fail", 1)
	assert {row.requirement: row.result for row in run.matrix}["MT-TRC-004"] == "Fail"
	failed_row = next(row for row in run.oq_results if row.test == failing)
	assert (failed_row.outcome, failed_row.log_excerpt) == ("Failed", "AssertionError: assert 1 == 2")

	approver = can_sign(user_with_role(QUALITY_APPROVER))
	attempts = frappe.db.count("Electronic Signature Attempt", {"user": approver})
	assert {f"Test {failing}: Failed", "Requirement MT-TRC-004: Fail"} <= set(unapprovable_reasons(run))
	with acting_as(approver), pytest.raises(frappe.ValidationError, match="cannot be approved"):
		approve_validation_run(run.name, password=SIGNING_PASSWORD)
	# Refused before the password is checked: no signature, no attempt.
	assert frappe.db.count("Electronic Signature Attempt", {"user": approver}) == attempts
	assert not frappe.db.exists("Electronic Signature", {"reference_doctype": RUN, "reference_name": run.name})


@pytest.mark.requirement("MT-VAL-003")
def test_the_run_starter_cannot_approve_it(part11_site, fresh_manifest, user_with_role):
	approver = can_sign(user_with_role(QUALITY_APPROVER))
	frappe.get_doc("User", approver).add_roles(QUALITY_ENGINEER)
	with acting_as(approver):
		run = new_run(fresh_manifest)
		import_oq_into_run(run.name, json.dumps(oq_result_for(run)))
	assert frappe.db.get_value(RUN, run.name, ["iq_result", "oq_result"]) == ("Pass", "Pass")
	with acting_as(approver), pytest.raises(frappe.PermissionError, match="another Quality Approver"):
		approve_validation_run(run.name, password=SIGNING_PASSWORD)


@pytest.mark.requirement("MT-VAL-003")
def test_an_oq_result_of_other_files_or_a_bad_file_is_refused(fresh_manifest):
	run = new_run(fresh_manifest)
	result = oq_result_for(run)
	with pytest.raises(frappe.ValidationError, match="other MedTrace files"):
		import_oq_into_run(run.name, json.dumps({**result, "files_digest": "0" * 64}))
	with pytest.raises(frappe.ValidationError, match="runs"):
		import_oq_into_run(run.name, json.dumps({**result, "versions": {**result["versions"], "frappe": "14.0.0"}}))
	for bad in ("not json", json.dumps({"tests": []}), json.dumps({**result, "tests": [{"nodeid": "x", "outcome": "maybe"}]})):
		with pytest.raises(frappe.ValidationError, match="OQ result"):
			import_oq_into_run(run.name, bad)
	assert frappe.db.get_value(RUN, run.name, "oq_result") == "Not Run"


@pytest.mark.requirement("MT-VAL-003")
def test_the_suite_refuses_to_run_on_a_site_holding_an_approved_run(fresh_manifest):
	"""OQ runs on a disposable site: a validated site (or a copy of it) is refused before any test runs."""
	from requirement_markers import validated_site_refusal

	assert validated_site_refusal(TEST_SITE) is None
	run = new_run(fresh_manifest)
	# As an approval leaves it (the approval itself is tested above).
	frappe.db.set_value(RUN, run.name, "status", "Approved")
	assert "holds an approved Validation Run" in validated_site_refusal(TEST_SITE)


# Upgrade impact


def approved_run(manifest: dict, app_root: Path, approver: str) -> str:
	run = new_run(manifest, app_root=app_root, title="Before the upgrade")
	import_oq_into_run(run.name, json.dumps(oq_result_for(run)))
	with acting_as(approver):
		approve_validation_run(run.name, password=SIGNING_PASSWORD)
	return run.name


@pytest.fixture
def release_copy(tmp_path):
	copy = tmp_path / "repo"
	shutil.copytree(APP_ROOT, copy / "apps" / "medtrace", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
	shutil.copytree(TESTS, copy / "tests", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"))
	return copy


@pytest.mark.requirement("MT-VAL-004")
def test_upgrade_impact_names_exactly_the_changed_modules_requirements(part11_site, release_copy, user_with_role):
	approver = can_sign(user_with_role(QUALITY_APPROVER))
	app = release_copy / "apps" / "medtrace"
	before = approved_run(build_manifest(app), app, approver)

	coding_rules = app / "medtrace" / "udi" / "coding_rules.py"
	coding_rules.write_text(coding_rules.read_text() + "\n# the upgrade's change\n")
	after = new_run(build_manifest(app), app_root=app, title="After the upgrade")
	assert after.compared_with == before
	impacted = {row.requirement: row.changed_files for row in after.impacted_requirements}
	assert impacted == dict.fromkeys(("MT-COD-001", "MT-COD-002", "MT-COD-003", "MT-COD-004"), "apps/medtrace/medtrace/udi/coding_rules.py")
	assert "4 of" in after.impact_summary and before in after.impact_summary

	# Only the changed requirements' tests need to run: the rest keeps the approved run's evidence.
	from medtrace.validation.impact import regression_scope

	assert regression_scope(after.name) == "MT-COD-001,MT-COD-002,MT-COD-003,MT-COD-004"
	result = oq_result_for(after)
	result["tests"] = [test for test in result["tests"] if {r for r, _d in test["requirements"]} & set(impacted)]
	import_oq_into_run(after.name, json.dumps(result))
	after.reload()
	matrix = {row.requirement: row for row in after.matrix}
	assert after.oq_result == "Pass"
	assert matrix["MT-COD-001"].tests > 0 and not matrix["MT-COD-001"].carried_from
	assert (matrix["MT-SCN-001"].result, matrix["MT-SCN-001"].carried_from) == ("Pass", before)


@pytest.mark.requirement("MT-VAL-004")
def test_upgrade_impact_of_a_test_file_and_of_a_shared_file(part11_site, release_copy, user_with_role):
	approver = can_sign(user_with_role(QUALITY_APPROVER))
	app = release_copy / "apps" / "medtrace"
	approved_run(build_manifest(app), app, approver)

	scan_tests = release_copy / "tests" / "test_scan.py"
	scan_tests.write_text(scan_tests.read_text() + "\n# a test changed\n")
	manifest = build_manifest(app)
	assert manifest["files"]["tests/test_scan.py"] != build_manifest(APP_ROOT)["files"]["tests/test_scan.py"]
	impacted = {row.requirement for row in new_run(manifest, app_root=app).impacted_requirements}
	assert impacted == set(manifest["test_requirements"]["tests/test_scan.py"]) and "MT-SCN-001" in impacted

	hooks = app / "medtrace" / "hooks.py"
	hooks.write_text(hooks.read_text() + "\n# hooks change everything\n")
	impacted = {row.requirement for row in new_run(build_manifest(app), app_root=app).impacted_requirements}
	assert impacted == {entry["id"] for entry in load_register()["requirements"]}


@pytest.mark.requirement("MT-VAL-004")
def test_the_first_run_of_a_site_puts_everything_in_scope(fresh_manifest):
	run = new_run(fresh_manifest)
	assert run.compared_with is None and not run.impacted_requirements
	assert "every requirement is in scope" in run.impact_summary
