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
after_migrate = "medtrace.setup.install.after_migrate"
before_uninstall = "medtrace.setup.install.before_uninstall"

# Batch sets its expiry date from the item's shelf life in before_save, so the UDI is computed after it.
doc_events = {
	"Batch": {"before_save": "medtrace.udi.production_udi.update_batch_udi"},
	"Serial No": {"before_save": "medtrace.udi.production_udi.update_serial_no_udi"},
	"Stock Entry": {"on_submit": "medtrace.udi.production_udi.assign_udi_to_new_serial_nos"},
	"Purchase Receipt": {"on_submit": "medtrace.udi.production_udi.assign_udi_to_new_serial_nos"},
	"Stock Reconciliation": {"on_submit": "medtrace.udi.production_udi.assign_udi_to_new_serial_nos"},
}
