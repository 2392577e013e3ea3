"""Packages in traces and recalls: which cases and pallets hold the traced or recalled lots and serial numbers,
their path (case → pallet), where they are or which customer they went to, and whether they are still as
packed (intact) or were broken open — what a recall team pulls, and whether it can pull it whole."""

from collections import defaultdict

import frappe
from frappe import _
from frappe.utils import flt

from medtrace.packaging.packing import package_path
from medtrace.utils.filters import checked_names


def packages_of_units(serial_nos, batch_nos) -> list[dict]:
	"""The packages that directly hold these serial numbers or lots now (packed or shipped), each with its path
	(innermost first), its outermost package's whereabouts, and the quantity of them it holds."""
	serial_nos, batch_nos = list(set(filter(None, serial_nos))), list(set(filter(None, batch_nos)))
	if not serial_nos and not batch_nos:
		return []
	Content, Package = frappe.qb.DocType("Package Content"), frappe.qb.DocType("Package")
	# A lot is held as a lot quantity or as serial numbers of it.
	condition = Content.serial_no.isin(serial_nos or [""]) | Content.batch_no.isin(batch_nos or [""])
	rows = (
		frappe.qb.from_(Content).join(Package).on(Package.name == Content.parent)
		.select(Content.parent, Content.qty, Content.serial_no, Content.batch_no)
		.where((Content.parenttype == "Package") & Package.status.isin(("Packed", "Shipped")) & condition)
		.run(as_dict=True)
	)
	held, units = defaultdict(float), defaultdict(list)
	for row in rows:
		held[row.parent] += flt(row.qty)
		units[row.parent].append(row.serial_no or row.batch_no)
	packages = []
	for name, qty in sorted(held.items()):
		path = package_path(name)
		outer = frappe.db.get_value(
			"Package", path[-1], ["name", "sscc", "packaging_level", "status", "warehouse", "customer", "delivery_note", "broken_open"],
			as_dict=True,
		)
		broken = bool(frappe.get_all("Package", filters={"name": ("in", path), "broken_open": 1}, limit=1))
		packages.append(
			{
				"package": name,
				"path": path,
				"outer_package": outer.name,
				"sscc": outer.sscc,
				"packaging_level": outer.packaging_level,
				"status": outer.status,
				"warehouse": outer.warehouse if outer.status == "Packed" else None,
				"customer": outer.customer,
				"delivery_note": outer.delivery_note,
				"intact": not broken,
				"qty": qty,
				"units": sorted(units[name]),
			}
		)
	return packages


@frappe.whitelist(methods=["POST"])
def packages_holding(nodes: str | list) -> dict:
	"""The packages holding the lots and serial numbers of a trace (its node keys, as get_trace gives them; the
	Trace Explorer shows them below the trace): every package you may read that holds one, with its path
	(case → pallet), the paths of each unit, and per customer the packages shipped to them."""
	if not frappe.has_permission("Package", "read"):
		frappe.throw(_("You need permission to read {0} to see the packages of a trace.").format(_("Package")), frappe.PermissionError)
	nodes = checked_names(nodes, _("Nodes"))
	packages = [
		package
		for package in packages_of_units(
			[key.split("::", 1)[1] for key in nodes if key.startswith("Serial No::")],
			[key.split("::", 1)[1] for key in nodes if key.startswith("Batch::")],
		)
		if frappe.has_permission("Package", "read", doc=package["package"])
	]
	paths, customers = defaultdict(list), defaultdict(dict)
	for package in packages:
		for unit in package["units"]:
			paths[unit].append(package["path"])
		if package["customer"]:
			customers[package["customer"]][package["outer_package"]] = {
				key: package[key] for key in ("outer_package", "sscc", "packaging_level", "delivery_note", "intact")
			}
	return {
		"packages": packages,
		"paths": dict(sorted(paths.items())),
		"customers": {customer: list(shipped.values()) for customer, shipped in sorted(customers.items())},
	}


@frappe.whitelist()
def packages_to_pull(recall: str) -> dict:
	"""Per warehouse and per customer, the outermost packages holding the recall's affected units, each intact
	(pull it whole) or broken open (open it and pull the units)."""
	if not isinstance(recall, str) or not frappe.db.exists("Recall", recall):
		frappe.throw(_("Recall {0} does not exist.").format(frappe.bold(recall)), frappe.DoesNotExistError)
	frappe.has_permission("Recall", "read", doc=recall, throw=True)
	units = frappe.get_all(
		"Recall Affected Unit", filters={"parent": recall, "parenttype": "Recall"}, fields=["batch_no", "serial_no"]
	)
	found = packages_of_units([unit.serial_no for unit in units], [unit.batch_no for unit in units if not unit.serial_no])
	by_warehouse, by_customer = defaultdict(dict), defaultdict(dict)
	for package in found:
		where = by_warehouse[package["warehouse"]] if package["warehouse"] else by_customer[package["customer"]]
		entry = where.setdefault(package["outer_package"], {**package, "qty": 0, "packages": []})
		entry["qty"] += package["qty"]
		entry["packages"].append(package["package"])
		entry["intact"] = entry["intact"] and package["intact"]
	return {
		"warehouses": {warehouse: list(packages.values()) for warehouse, packages in sorted(by_warehouse.items())},
		"customers": {customer: list(packages.values()) for customer, packages in sorted(by_customer.items())},
	}
