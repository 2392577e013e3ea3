app_name = "medtrace"
app_title = "MedTrace"
app_publisher = "MedTrace"
app_description = "Medical-device traceability (UDI, eDHR, recalls) on ERPNext"
app_email = "dev@medtrace.example"
app_license = "mit"
app_icon = "octicon octicon-link"
app_color = "#0b6e4f"

required_apps = ["erpnext"]

# Shipped records (roles, custom fields, workflows) are loaded by MedTrace's own loader rather than
# Frappe's `fixtures` hook: Frappe re-imports fixtures with force=True on every migrate, which would
# overwrite what business users configured in the Desk. See medtrace/setup/fixtures.py.
after_install = "medtrace.setup.install.after_install"
before_migrate = "medtrace.setup.install.before_migrate"
after_migrate = "medtrace.setup.install.after_migrate"
before_uninstall = "medtrace.setup.install.before_uninstall"

# Batch sets its expiry date from the item's shelf life in before_save, so the UDI is computed after it.
doc_events = {
	# Lot and serial numbers from UDI Coding Rules (medtrace/udi/coding_rules.py explains these hooks).
	# Lot, serial and supplier lot numbers with control characters are refused where they enter
	# (medtrace/udi/identifiers.py): the bundle check covers those ERPNext inserts without validating them.
	"Batch": {
		"before_naming": "medtrace.udi.coding_rules.name_batch_by_rule",
		"validate": "medtrace.udi.identifiers.check_lot_number_characters",
		"before_save": "medtrace.udi.production_udi.update_batch_udi",
	},
	"Serial No": {
		"validate": "medtrace.udi.identifiers.check_serial_number_characters",
		"before_save": "medtrace.udi.production_udi.update_serial_no_udi",
	},
	"Serial and Batch Bundle": {"validate": "medtrace.udi.identifiers.check_new_serial_and_batch_numbers"},
	# ERPNext creates the Serial and Batch Bundles of old-style serial/batch fields in on_submit, so the
	# release gate runs there too (its refusal rolls the whole submit back).
	"Stock Entry": {
		"before_submit": "medtrace.udi.coding_rules.assign_coded_serial_nos",
		# UDIs before DHRs: the DHRs record them.
		"on_submit": [
			"medtrace.recall.holds.refuse_moving_held_stock",
			"medtrace.quality.dhr.refuse_delivery_of_unreleased",
			"medtrace.udi.production_udi.assign_udi_to_new_serial_nos",
			"medtrace.quality.dhr.create_dhrs_for_stock_entry",
			"medtrace.traceability.trace_links.record_trace_links",
			# Packages (medtrace/packaging/shipping.py) move whole; units leaving alone leave their package.
			"medtrace.packaging.shipping.on_stock_voucher_submit",
		],
		"on_cancel": [
			"medtrace.traceability.trace_links.void_trace_links",
			"medtrace.packaging.shipping.on_stock_voucher_cancel",
		],
	},
	"Purchase Receipt": {
		"before_submit": "medtrace.udi.coding_rules.assign_coded_serial_nos",
		"on_submit": [
			"medtrace.udi.production_udi.assign_udi_to_new_serial_nos",
			"medtrace.traceability.trace_links.record_trace_links",
		],
		"on_cancel": "medtrace.traceability.trace_links.void_trace_links",
	},
	"Stock Reconciliation": {
		"on_submit": [
			"medtrace.udi.production_udi.assign_udi_to_new_serial_nos",
			"medtrace.traceability.trace_links.record_trace_links",
		],
		"on_cancel": "medtrace.traceability.trace_links.void_trace_links",
	},
	"Delivery Note": {
		"on_submit": [
			# Recall holds (medtrace/recall/holds.py) refuse held lots and serials leaving stock.
			"medtrace.recall.holds.refuse_moving_held_stock",
			"medtrace.quality.dhr.refuse_delivery_of_unreleased",
			"medtrace.traceability.trace_links.record_trace_links",
			# Outbound events (medtrace/medtrace_integrations/events.py) for other systems to follow.
			"medtrace.medtrace_integrations.events.on_shipment_submit",
			# Packages scanned onto the note ship whole (medtrace/packaging/shipping.py).
			"medtrace.packaging.shipping.on_stock_voucher_submit",
		],
		"on_cancel": [
			"medtrace.traceability.trace_links.void_trace_links",
			"medtrace.medtrace_integrations.events.on_shipment_cancel",
			"medtrace.packaging.shipping.on_stock_voucher_cancel",
		],
	},
	"Sales Invoice": {
		"on_submit": [
			# Recall holds (medtrace/recall/holds.py) refuse held lots and serials leaving stock.
			"medtrace.recall.holds.refuse_moving_held_stock",
			"medtrace.quality.dhr.refuse_delivery_of_unreleased",
			"medtrace.traceability.trace_links.record_trace_links",
			"medtrace.medtrace_integrations.events.on_shipment_submit",
			# An invoice that updates stock ships units loose: they leave their packages.
			"medtrace.packaging.shipping.on_stock_voucher_submit",
		],
		"on_cancel": [
			"medtrace.traceability.trace_links.void_trace_links",
			"medtrace.medtrace_integrations.events.on_shipment_cancel",
		],
	},
	# Trace links (medtrace/traceability/trace_links.py) are kept on submit and voided on cancel of these and
	# every other stock-moving voucher above.
	"Purchase Invoice": {
		"before_submit": "medtrace.udi.coding_rules.assign_coded_serial_nos",
		"on_submit": [
			"medtrace.udi.production_udi.assign_udi_to_new_serial_nos",
			"medtrace.traceability.trace_links.record_trace_links",
		],
		"on_cancel": "medtrace.traceability.trace_links.void_trace_links",
	},
	"Subcontracting Receipt": {
		"before_submit": "medtrace.udi.coding_rules.assign_coded_serial_nos",
		"on_submit": [
			"medtrace.udi.production_udi.assign_udi_to_new_serial_nos",
			"medtrace.traceability.trace_links.record_trace_links",
		],
		"on_cancel": "medtrace.traceability.trace_links.void_trace_links",
	},
	"Quality Inspection": {
		"on_submit": "medtrace.quality.dhr.on_quality_inspection_change",
		"on_cancel": "medtrace.quality.dhr.on_quality_inspection_change",
		"before_cancel": "medtrace.quality.dhr.guard_quality_inspection",
		"before_update_after_submit": "medtrace.quality.dhr.guard_quality_inspection",
	},
	"Non Conformance": {"on_update": "medtrace.quality.dhr.on_non_conformance_change"},
	# GLNs name parties and places in EPCIS events (medtrace/packaging/epcis.py).
	"Company": {"validate": "medtrace.packaging.identification.validate_gln"},
	"Supplier": {"validate": "medtrace.packaging.identification.validate_gln"},
	"Customer": {"validate": "medtrace.packaging.identification.validate_gln"},
	"Warehouse": {"validate": "medtrace.packaging.identification.validate_gln"},
	"Recall": {"on_update": "medtrace.medtrace_integrations.events.on_recall_update"},
	# Audit trail (medtrace/audit/audit_trail.py, audit_chain.py): creations of audited records get a
	# Version, deletions and renames an audit chain event; rows of chained doctypes (Versions, …) are
	# sealed into the hash chain when their transaction commits.
	"*": {
		"after_insert": [
			"medtrace.audit.audit_trail.record_creation",
			"medtrace.audit.audit_chain.queue_for_sealing",
		],
		"after_delete": "medtrace.audit.audit_trail.record_deletion",
		# Markup quoted as a JSON string, which Frappe's sanitiser skips, sanitised like other markup (medtrace/utils/html.py).
		"validate": "medtrace.utils.html.sanitise_quoted_markup",
		"before_validate": [
			# Lists, objects and non-dates refused in any field before a controller or the database meets them
			# (medtrace/utils/field_values.py).
			"medtrace.utils.field_values.refuse_unusable_values",
			# The signature gate (medtrace/signatures/signature_gate.py): signed workflow states and signature
			# evidence are written by signing alone, along every write path (its docstring lists which hook sees
			# which).
			"medtrace.signatures.signature_gate.refuse_unsigned_write",
		],
		"before_update_after_submit": "medtrace.signatures.signature_gate.refuse_unsigned_write",
		"before_cancel": "medtrace.signatures.signature_gate.refuse_unsigned_write",
		"on_update": "medtrace.signatures.signature_gate.refuse_unsigned_state_change",
		"on_update_after_submit": "medtrace.signatures.signature_gate.refuse_unsigned_state_change",
		"before_rename": "medtrace.signatures.signature_gate.refuse_renaming_signed",
		"after_rename": "medtrace.audit.audit_trail.record_rename",
	},
	"Version": {"before_insert": "medtrace.audit.audit_trail.stamp_version"},
	"Property Setter": {"validate": "medtrace.audit.audit_trail.keep_audit_trail_on"},
}

# The Desk's workflow buttons call this method; MedTrace's version asks for an electronic signature where
# the transition requires one, and otherwise calls Frappe's.
override_whitelisted_methods = {"frappe.model.workflow.apply_workflow": "medtrace.signatures.esignature.apply_workflow"}

# The signature dialog, the signature prompt of workflow actions on every form, and the separation-of-duties notes.
app_include_js = ["/assets/medtrace/js/esignature.js", "/assets/medtrace/js/separation_of_duties.js"]

doctype_js = {
	# Unlocking a user's electronic signing (System Managers).
	"User": "public/js/user.js",
	# "Print UDI Labels" (medtrace.udi.labels.download_labels).
	"Batch": "public/js/udi_labels.js",
	"Stock Entry": ["public/js/udi_labels.js", "public/js/packaging.js"],
	# "Add Packages" (medtrace.packaging.shipping.add_packages_to_delivery_note).
	"Delivery Note": "public/js/packaging.js",
}

# For print formats: {% for s in signature_manifest(doc.doctype, doc.name) %}…
jinja = {
	"methods": [
		"medtrace.signatures.esignature.signature_manifest",
		# The UDI label print formats' data: {% set label = udi_label(doc) %}
		"medtrace.udi.labels.udi_label",
		# The package label print format's data: {% set label = package_label(doc) %}
		"medtrace.packaging.labels.package_label",
		# The audit chain checkpoint printed on evidence: {% set checkpoint = audit_checkpoint() %}
		"medtrace.audit.audit_chain.audit_checkpoint",
	],
	# Print formats are autoescaped; a Text Editor field prints through {{ doc.description|rich_text }}.
	"filters": ["medtrace.utils.html.rich_text"],
}

# A record a data-quality rule once flagged may still be deleted; its exception then closes.
ignore_links_on_delete = ["Data Quality Exception"]

scheduler_events = {
	"cron": {
		# Retries that are due, and messages whose worker died, go back to the queue.
		"* * * * *": ["medtrace.medtrace_integrations.inbound.requeue_due_messages"],
	},
	# Long queue: both walk whole tables (the audit chain, every record a rule checks).
	"hourly_long": ["medtrace.quality.data_quality.evaluate_all_rules"],
	"daily_long": [
		"medtrace.audit.audit_chain.verify_audit_chain",
		# The chain's head leaves the database: e-mailed to the Quality Approvers.
		"medtrace.audit.audit_chain.publish_checkpoint",
	],
}

# Evidence of electronic signatures, written only by the signing code (medtrace/signatures/signature_gate.py):
# the whole record ("*"), or the fields of a record that signing fills in.
medtrace_signature_evidence = {
	"Electronic Signature": "*",
	"Electronic Signature Attempt": "*",
	"Device History Record": ["released_by", "released_by_name", "released_on", "release_signature"],
	"Change Request": ["approvals"],
	"Validation Run": ["approved_by", "approved_by_name", "approved_on", "approval_signature"],
}

# Python checks Data Quality Rules may name (medtrace/quality/data_quality.py), for conditions Frappe
# filters cannot express.
medtrace_data_quality_checks = [
	"medtrace.quality.data_quality_checks.batch_missing_required_expiry_date",
	"medtrace.quality.data_quality_checks.serial_no_without_udi_di",
	"medtrace.quality.data_quality_checks.received_batch_without_supplier_lot",
	"medtrace.quality.data_quality_checks.quality_inspection_without_readings",
	"medtrace.quality.data_quality_checks.delivered_lot_with_inconsistent_udi",
]
