"""MedTrace roles' first permissions on the ERPNext documents traceability runs through.

Permissions on MedTrace's own doctypes live in their DocType JSON. On ERPNext doctypes the rules are
seeded once, at install, and only where the role has none yet: afterwards they belong to the site's
administrator (Role Permissions Manager), so a migrate never touches them.
"""

import frappe
from frappe.permissions import add_permission, update_permission_property
from frappe.query_builder import DocType

QUALITY_APPROVER = "MedTrace Quality Approver"
QUALITY_ENGINEER = "MedTrace Quality Engineer"
PRODUCTION_OPERATOR = "MedTrace Production Operator"
WAREHOUSE_OPERATOR = "MedTrace Warehouse Operator"
REGULATORY_AFFAIRS = "MedTrace Regulatory Affairs"

MEDTRACE_ROLES = (QUALITY_APPROVER, QUALITY_ENGINEER, PRODUCTION_OPERATOR, WAREHOUSE_OPERATOR, REGULATORY_AFFAIRS)
QUALITY_ROLES = (QUALITY_APPROVER, QUALITY_ENGINEER, REGULATORY_AFFAIRS)

READ = ("read", "report", "export", "print")
EDIT = (*READ, "write", "create")
SUBMIT = (*EDIT, "submit")

ERPNEXT_ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
	"Item": dict.fromkeys(MEDTRACE_ROLES, READ),
	"Batch": {**dict.fromkeys(MEDTRACE_ROLES, READ), QUALITY_ENGINEER: (*READ, "write")},
	"Serial No": {**dict.fromkeys(MEDTRACE_ROLES, READ), QUALITY_ENGINEER: (*READ, "write")},
	"Serial and Batch Bundle": dict.fromkeys(MEDTRACE_ROLES, READ),
	"Stock Entry": dict.fromkeys((*QUALITY_ROLES, PRODUCTION_OPERATOR, WAREHOUSE_OPERATOR), READ),
	"Work Order": dict.fromkeys((*QUALITY_ROLES, PRODUCTION_OPERATOR), READ),
	"Purchase Receipt": dict.fromkeys((*QUALITY_ROLES, WAREHOUSE_OPERATOR), READ),
	"Delivery Note": dict.fromkeys((*QUALITY_ROLES, WAREHOUSE_OPERATOR), READ),
	"Quality Inspection": {
		**dict.fromkeys((QUALITY_APPROVER, REGULATORY_AFFAIRS, PRODUCTION_OPERATOR), READ),
		QUALITY_ENGINEER: SUBMIT,
	},
	"Customer": dict.fromkeys(QUALITY_ROLES, READ),
	"Supplier": dict.fromkeys(QUALITY_ROLES, READ),
}


def grant_role_permissions() -> None:
	for doctype, grants in ERPNEXT_ROLE_PERMISSIONS.items():
		for role, rights in grants.items():
			if frappe.db.exists("Custom DocPerm", {"parent": doctype, "role": role, "permlevel": 0, "if_owner": 0}):
				continue
			add_permission(doctype, role, 0, rights[0])
			for right in rights[1:]:
				update_permission_property(doctype, role, 0, right, 1, validate=False)


def users_with_roles(roles: tuple[str, ...] | list[str]) -> list[str]:
	"""Enabled Desk users holding any of the roles: who is alerted or assigned work for them."""
	User, HasRole = DocType("User"), DocType("Has Role")
	return (
		frappe.qb.from_(HasRole)
		.join(User)
		.on(User.name == HasRole.parent)
		.select(User.name)
		.distinct()
		.where(
			(HasRole.parenttype == "User")
			& HasRole.role.isin(list(roles))
			& (User.enabled == 1)
			& (User.user_type == "System User")
		)
		.orderby(User.name)
		.run(pluck=True)
	)
