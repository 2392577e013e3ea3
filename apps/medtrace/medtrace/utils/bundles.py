"""ERPNext v15 records which batches and serial numbers a stock document moved in Serial and Batch
Bundles (one per document row, one Serial and Batch Entry per batch or serial)."""

import frappe
from frappe.query_builder import DocType


def bundle_entries():
	"""Serial and Batch Entry rows joined to their bundle, cancelled bundles left out. Returns the query
	and both tables, for callers to add the columns and conditions they need."""
	bundle, entry = DocType("Serial and Batch Bundle"), DocType("Serial and Batch Entry")
	query = frappe.qb.from_(entry).join(bundle).on(bundle.name == entry.parent).where(bundle.is_cancelled == 0)
	return query, bundle, entry
