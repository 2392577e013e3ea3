import frappe

from medtrace.setup.fixtures import load_shipped_records

WORKFLOW = "UDI Device Identifier Release"


def execute():
	"""Releasing a UDI-DI became an electronic signature. Sites installed before keep their workflow (it
	belongs to them), so the shipped Approve transitions get the meaning only where none is set."""
	if not frappe.db.exists("Workflow", WORKFLOW):
		return
	load_shipped_records()  # the transition's meaning field is a shipped custom field, added after patches
	frappe.db.set_value(
		"Workflow Transition",
		{"parent": WORKFLOW, "action": "Approve", "medtrace_signature_meaning": ("is", "not set")},
		"medtrace_signature_meaning",
		"Approved",
	)
