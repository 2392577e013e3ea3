from medtrace.setup.permissions import grant_role_permissions


def execute():
	"""Sites installed before this release lack the grants it adds on ERPNext doctypes (Custom DocPerm rows
	are written on install only); the missing ones are added once, so a grant an administrator removes
	later stays removed."""
	grant_role_permissions()
