"""Validation Runs: started from the Desk (a new Validation Run) or `bench execute`; the IQ runs when the run
is created, the OQ result is imported into it, and a Quality Approver approves it by electronic signature.
Its evidence is one numbered PDF."""

import time

import frappe
from frappe import _
from frappe.utils import format_datetime, get_fullname, now_datetime
from frappe.utils.pdf import get_pdf

from medtrace.signatures.esignature import sign, signature_manifest
from medtrace.setup.permissions import QUALITY_APPROVER
from medtrace.utils.evidence_pdf import number_pages
from medtrace.validation.impact import fill_impact
from medtrace.validation.iq import run_installation_qualification
from medtrace.validation.manifest import APP_ROOT, read_manifest
from medtrace.validation.oq import fill_oq, parse_result, summary

RUN = "Validation Run"
APPROVED = "Approved"
# The one field people write; everything else is found by the run itself.
USER_FIELDS = frozenset({"title"})
REASONS_SHOWN = 10


def start_validation_run(title: str | None = None) -> str:
	"""bench --site <site> execute medtrace.validation.runs.start_validation_run [--kwargs '{"title": "…"}']"""
	frappe.has_permission(RUN, "create", throw=True)
	return frappe.get_doc({"doctype": RUN, "title": title}).insert().name


def prepare_run(run) -> None:
	"""before_insert: whatever a new run was given, it holds only what this site shows now."""
	manifest = run.flags.manifest or read_manifest()
	if not manifest:
		frappe.throw(
			_("This MedTrace installation has no release manifest (medtrace/validation/manifest.json), so its files cannot be checked: install a released MedTrace."),
			title=_("No Release Manifest"),
		)
	for df in run.meta.fields:
		if df.fieldname not in USER_FIELDS and df.fieldtype not in frappe.model.no_value_fields:
			run.set(df.fieldname, [] if df.fieldtype in frappe.model.table_fields else df.default)
	started = time.monotonic()
	run.status = "Open"
	run.site = frappe.local.site
	run.started_by = frappe.session.user
	run.started_on = now_datetime()
	run_installation_qualification(run, manifest, run.flags.app_root or APP_ROOT)
	fill_impact(run)
	run.iq_duration = round(time.monotonic() - started, 2)
	run.title = run.title or _("MedTrace {0} on {1}").format(run.medtrace_version, run.site)


def refuse_changes(run) -> None:
	"""validate: only the title is written by people; results, approval and status by this module."""
	if run.is_new():
		return
	before = run.get_doc_before_save()
	if before and before.status == APPROVED:
		frappe.throw(_("Validation Run {0} is approved: it cannot be changed.").format(run.name), frappe.PermissionError, title=_("Approved Run"))
	if run.flags.medtrace_validation_update or not before:
		return
	changed = [
		df.label or df.fieldname
		for df in run.meta.fields
		if df.fieldname not in USER_FIELDS and df.fieldtype not in frappe.model.no_value_fields and field_value(run, df) != field_value(before, df)
	]
	if changed:
		frappe.throw(
			_("These fields of a Validation Run are found by the run itself and cannot be written: {0}").format(", ".join(_(label) for label in changed)),
			frappe.PermissionError,
			title=_("Read-Only Evidence"),
		)


def field_value(doc, df):
	if df.fieldtype in frappe.model.table_fields:
		meta = frappe.get_meta(df.options)
		return [[str(row.get(child.fieldname) or "") for child in meta.fields] for row in doc.get(df.fieldname)]
	return str(doc.get(df.fieldname) or "")


def refuse_deleting_approved(run) -> None:
	if run.status == APPROVED:
		frappe.throw(_("Validation Run {0} is approved: it cannot be deleted.").format(run.name), frappe.PermissionError, title=_("Approved Run"))


# OQ


@frappe.whitelist(methods=["POST"])
def import_oq_result(name: str, file_url: str | None = None, result: str | None = None) -> dict:
	"""The OQ result file (uploaded to the Desk, or its content) into the run."""
	frappe.has_permission(RUN, "write", doc=name, throw=True)
	if file_url:
		file = frappe.get_doc("File", {"file_url": file_url})
		file.check_permission("read")
		result = file.get_content()
	if not result:
		frappe.throw(_("Attach the OQ result file written by the test run."))
	return import_oq_into_run(name, result)


def import_oq_into_run(name: str, content) -> dict:
	run = frappe.get_doc(RUN, name)
	run.check_permission("write")
	if run.status == APPROVED:
		frappe.throw(_("Validation Run {0} is approved: start a new run to import another OQ result.").format(name))
	fill_oq(run, parse_result(content))
	run.flags.medtrace_validation_update = True
	run.save()
	return summary(run)


# Approval


def unapprovable_reasons(run) -> list[str]:
	reasons = [_("Test {0}: {1}").format(row.test, _(row.outcome)) for row in run.oq_results if row.outcome in ("Failed", "Error")]
	# The files' first row sums them up; the rows naming each file stay on the run and its report.
	file_rows = [row for row in run.iq_checks if row.category == "File"]
	reasons += [
		_("IQ check failed: {0} (expected {1}, found {2})").format(row.check, row.expected, row.found)
		for row in run.iq_checks
		if row.result == "Fail" and (row.category != "File" or row is file_rows[0])
	]
	if run.oq_result == "Not Run":
		reasons.append(_("No OQ result has been imported."))
	reasons += [_("Requirement {0}: {1}").format(row.requirement, _(row.result)) for row in run.matrix if row.result != "Pass"]
	return reasons


@frappe.whitelist(methods=["POST"])
def approve_validation_run(name: str, password: str | None = None, reason: str | None = None, otp: str | None = None) -> str:
	"""Approve a passed run by a Quality Approver's electronic signature (meaning Approved). Returns the
	signature's name. Refusals that need no password come before it is checked."""
	run = frappe.get_doc(RUN, name)
	run.check_permission("read")
	if QUALITY_APPROVER not in frappe.get_roles():
		frappe.throw(_("Only a MedTrace Quality Approver can approve a Validation Run."), frappe.PermissionError)
	if run.status == APPROVED:
		frappe.throw(_("Validation Run {0} is already approved.").format(name))
	reasons = unapprovable_reasons(run)
	if reasons:
		more = len(reasons) - REASONS_SHOWN
		frappe.throw(
			_("Validation Run {0} cannot be approved:").format(name)
			+ "<br>"
			+ "<br>".join(frappe.utils.escape_html(reason) for reason in reasons[:REASONS_SHOWN])
			+ ("<br>" + _("and {0} more").format(more) if more > 0 else ""),
			title=_("Not Approvable"),
		)
	if run.started_by == frappe.session.user:
		frappe.throw(
			_("You started Validation Run {0}: another Quality Approver must approve it.").format(name),
			frappe.PermissionError,
			title=_("Self-Approval Not Allowed"),
		)
	signature = sign(RUN, name, APPROVED, password, reason=reason, otp=otp)
	run.db_set(
		{
			"status": APPROVED,
			"approved_by": signature.signer,
			"approved_by_name": signature.signer_name,
			"approved_on": signature.signed_on,
			"approval_signature": signature.name,
		}
	)
	return signature.name


# Evidence PDF


@frappe.whitelist()
def download_validation_report(name: str) -> None:
	frappe.has_permission(RUN, "print", doc=name, throw=True)
	frappe.local.response.filename = f"{name}.pdf"
	frappe.local.response.filecontent = validation_report_pdf(frappe.get_doc(RUN, name))
	frappe.local.response.type = "pdf"


def validation_report_pdf(run) -> bytes:
	requirements = {
		row.name: row
		for row in frappe.get_all("Validation Requirement", fields=["name", "title", "regulatory_source", "risk"])
	}
	html = frappe.render_template(
		"medtrace/templates/validation_report.html",
		{
			"run": run,
			"requirements": requirements,
			"signatures": signature_manifest(RUN, run.name),
			"failed_checks": [row for row in run.iq_checks if row.result == "Fail"],
			"printed_by": get_fullname(frappe.session.user),
			"printed_on": format_datetime(now_datetime()),
			"format_datetime": format_datetime,
		},
	)
	return number_pages(get_pdf(html), run.name)
