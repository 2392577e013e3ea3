import frappe

from medtrace.quality.audit_chain import ensure_chain_head
from medtrace.setup.fixtures import delete_shipped_workflows, load_shipped_records
from medtrace.setup.permissions import grant_role_permissions


def after_install() -> None:
	load_shipped_records()
	grant_role_permissions()
	ensure_chain_head()


def after_migrate() -> None:
	# Only what the site lacks is added: records users changed in the Desk are left as they are.
	load_shipped_records()
	ensure_chain_head()


def before_uninstall() -> None:
	# Workflows point at MedTrace doctypes that uninstall drops; custom fields and Module Def-linked
	# records are removed by Frappe itself through their module.
	delete_shipped_workflows()
	frappe.db.commit()
