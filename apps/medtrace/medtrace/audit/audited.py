"""Which records the audit trail covers: every MedTrace doctype and every ERPNext doctype MedTrace adds
fields to (Batch, Serial No, …). The trail (audit_trail) and the chain (audit_chain) both ask."""

from functools import cache

import frappe

# The chain's own records: sealing their changes would only repeat what verification already proves.
CHAIN_DOCTYPES = frozenset({"Audit Chain", "Audit Chain Entry"})


@cache
def medtrace_modules() -> frozenset[str]:
	return frozenset(frappe.get_module_list("medtrace"))


def is_audited(doctype: str | None) -> bool:
	"""MedTrace's own doctypes, and ERPNext doctypes carrying fields of a MedTrace module."""
	if not doctype or doctype in CHAIN_DOCTYPES:
		return False
	meta = frappe.get_meta(doctype)
	modules = medtrace_modules()
	# A field MedTrace adds to another app's table (Workflow Transition) is versioned with its parent.
	return meta.module in modules or (not meta.istable and any(df.get("module") in modules for df in meta.get_custom_fields()))
