import frappe
from frappe.installer import add_module_defs

from medtrace.audit.audit_chain import ensure_chain_head, ensure_chain_key
from medtrace.setup.fixtures import delete_shipped_workflows, load_shipped_records
from medtrace.setup.permissions import grant_role_permissions
from medtrace.validation.register import sync_requirements


def after_install() -> None:
	# Before anything is sealed: entries are keyed from the first.
	ensure_chain_key()
	load_shipped_records()
	grant_role_permissions()
	ensure_chain_head()
	sync_requirements()


def before_migrate() -> None:
	# Frappe creates Module Defs only on install; a module a release adds (Audit, Validation, Signatures…)
	# needs its Module Def before its doctypes sync.
	add_module_defs("medtrace", ignore_if_duplicate=True)


def after_migrate() -> None:
	ensure_chain_head()
	# A chain with entries got its key on install or from the patch keying it; a new key would only make
	# its entries unverifiable, so a lost key stops the seals (chain_key) until it is restored instead.
	if not frappe.db.get_single_value("Audit Chain", "head_sequence"):
		ensure_chain_key()
	# Only what the site lacks is added: records users changed in the Desk are left as they are.
	load_shipped_records()
	# The requirements register as this release states it.
	sync_requirements()


def before_uninstall() -> None:
	# Workflows point at MedTrace doctypes that uninstall drops; custom fields and Module Def-linked
	# records are removed by Frappe itself through their module.
	delete_shipped_workflows()
	frappe.db.commit()
