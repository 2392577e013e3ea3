# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from collections import defaultdict

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt, getdate, now_datetime, time_diff_in_seconds, today

from medtrace.recall.drill import accuracy, expected_identifiers, found_identifiers, trace_seconds
from medtrace.recall.holds import place_holds, release_holds
from medtrace.recall.mass_balance import timed_mass_balance
from medtrace.recall.notifications import NOTIFICATION_FIELDS, notify_customers
from medtrace.recall.scope import affected_population, lots_from_supplier_notice, supplier_lot_numbers
from medtrace.traceability.trace_links import QTY_PRECISION

SCOPED, CLOSED = "Scoped", "Closed"
SUPPLIER_NOTICE = "Supplier Notice"


class Recall(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF
		from medtrace.recall.doctype.recall_affected_unit.recall_affected_unit import RecallAffectedUnit
		from medtrace.recall.doctype.recall_customer.recall_customer import RecallCustomer
		from medtrace.recall.doctype.recall_mass_balance.recall_mass_balance import RecallMassBalance
		from medtrace.recall.doctype.recall_scope.recall_scope import RecallScope
		from medtrace.recall.doctype.recall_unit_total.recall_unit_total import RecallUnitTotal
		from medtrace.recall.doctype.recall_supplied_item.recall_supplied_item import RecallSuppliedItem

		accounted_for_on: DF.Datetime | None
		accounted_for_seconds: DF.Float
		affected_units: DF.Table[RecallAffectedUnit]
		all_units_accounted_for: DF.Check
		back_trace_seconds: DF.Float
		classification: DF.Literal["Class I", "Class II", "Class III", "Field Safety Corrective Action"]
		customer_list_seconds: DF.Float
		customers: DF.Table[RecallCustomer]
		drill_accuracy: DF.Percent
		drill_missed: DF.SmallText | None
		drill_unexpected: DF.SmallText | None
		expected_population: DF.SmallText | None
		forward_trace_seconds: DF.Float
		is_drill: DF.Check
		mass_balance: DF.Table[RecallMassBalance]
		mass_balance_seconds: DF.Float
		reason: DF.SmallText
		received_from: DF.Date | None
		received_to: DF.Date | None
		scope: DF.Table[RecallScope]
		scope_seconds: DF.Float
		scoped_on: DF.Datetime | None
		status: DF.Literal["Draft", "Scoped", "Notified", "In Progress", "Effectiveness Check", "Closed"]
		supplied_items: DF.TableMultiSelect[RecallSuppliedItem]
		supplier: DF.Link | None
		supplier_lots: DF.SmallText | None
		supplier_lots_not_received: DF.SmallText | None
		title: DF.Data
		trigger: DF.Literal["Complaint", "Supplier Notice", "Internal Finding"]
		trigger_doctype: DF.Link | None
		trigger_reference: DF.DynamicLink | None
		unit_totals: DF.Table[RecallUnitTotal]
		workflow_state: DF.Link | None
	# end: auto-generated types

	def validate(self):
		self.refuse_change_when_closed()
		if self.supplier_notice_changed():
			self.scope_from_supplier_notice()
		self.validate_scope()
		if self.has_value_changed("status") and self.status == SCOPED:
			self.find_affected_population()
		self.validate_customers()
		self.update_accounting()
		if self.is_drill:
			self.update_drill_results()
		if self.has_value_changed("status") and self.status == CLOSED:
			self.validate_accounted_for()

	def on_update(self):
		if not self.has_value_changed("status"):
			return
		if self.status == SCOPED and not self.is_drill:
			place_holds(self)
		elif self.status == "Notified":
			notify_customers(self)
		elif self.status == CLOSED:
			release_holds(self.name)

	def before_signing(self, transition):
		"""Refusals before the signer is asked for a password (medtrace.signatures.esignature.apply_workflow)."""
		if transition.medtrace_signature_meaning == "Closed":
			self.validate_accounted_for()

	def refuse_change_when_closed(self):
		before = self.get_doc_before_save()
		if before and before.status == CLOSED:
			frappe.throw(_("Recall {0} is closed and can no longer be changed.").format(self.name), title=_("Recall Closed"))

	def is_supplier_notice(self) -> bool:
		return self.trigger == SUPPLIER_NOTICE and bool(self.supplier)

	def supplier_notice(self) -> tuple:
		return (
			self.trigger, self.supplier, tuple(supplier_lot_numbers(self.supplier_lots)), str(self.received_from or ""),
			str(self.received_to or ""), tuple(sorted(row.item for row in self.supplied_items)),
		)

	def supplier_notice_changed(self) -> bool:
		if not self.is_supplier_notice():
			return False
		before = self.get_doc_before_save()
		return not before or before.supplier_notice() != self.supplier_notice()

	def scope_from_supplier_notice(self):
		"""Replace the scope rows found from the supplier notice with the lots it names now (a lot received
		since, carrying one of its numbers, is in scope the next time); rows entered by hand stay."""
		if not self.is_supplier_notice():
			return
		if not self.supplier_lots and not (self.received_from or self.received_to):
			frappe.throw(
				_("Name the supplier's lot numbers or the receipt dates the supplier notice covers."), title=_("Invalid Supplier Notice")
			)
		if self.received_from and self.received_to and getdate(self.received_from) > getdate(self.received_to):
			frappe.throw(
				_("The receipt dates end on {0}, before they start on {1}.").format(self.received_to, self.received_from),
				title=_("Invalid Supplier Notice"),
			)
		found = lots_from_supplier_notice(
			self.supplier, supplier_lot_numbers(self.supplier_lots), self.received_from, self.received_to,
			[row.item for row in self.supplied_items],
		)
		if not found["rows"]:
			frappe.throw(
				_("No lot received from supplier {0} matches the supplier notice.").format(frappe.bold(self.supplier)),
				title=_("Invalid Supplier Notice"),
			)
		found_here = {(row["batch_no"], row["serial_no"]) for row in found["rows"]}
		by_hand = [row for row in self.scope if not row.from_supplier_notice and (row.batch_no, row.serial_no) not in found_here]
		self.set("scope", [])
		for row in found["rows"] + [row.as_dict() for row in by_hand]:
			self.append("scope", {field: row.get(field) for field in ("batch_no", "serial_no", "supplier_lot", "from_supplier_notice")})
		self.supplier_lots_not_received = "\n".join(found["not_received"]) or None

	def validate_scope(self):
		if not self.scope:
			frappe.throw(_("List the lots or serial numbers the recall covers."), title=_("Invalid Recall Scope"))
		seen = set()
		for row in self.scope:
			if bool(row.batch_no) == bool(row.serial_no):
				frappe.throw(
					_("Scope row {0}: enter either a lot or a serial number.").format(row.idx), title=_("Invalid Recall Scope")
				)
			identifier = ("Serial No", row.serial_no) if row.serial_no else ("Batch", row.batch_no)
			if identifier in seen:
				frappe.throw(_("Scope row {0}: {1} is listed twice.").format(row.idx, identifier[1]), title=_("Invalid Recall Scope"))
			seen.add(identifier)
			row.item = frappe.db.get_value(identifier[0], identifier[1], "item_code" if row.serial_no else "item")

	def find_affected_population(self):
		"""Fill the affected units and customers from the trace engine, keeping what customers already
		acknowledged, returned or corrected."""
		if self.is_supplier_notice():
			self.scope_from_supplier_notice()
			self.validate_scope()
		population = affected_population(self.scope, self.name)
		self.set("affected_units", population["units"])
		tracked = {(row.customer, row.stock_uom): row for row in self.customers}
		self.set("customers", [])
		for (customer, uom), units in population["customers"].items():
			row = tracked.get((customer, uom))
			self.append(
				"customers",
				{
					"customer": customer,
					"stock_uom": uom,
					"units_delivered": units,
					"acknowledged": row.acknowledged if row else 0,
					"acknowledged_on": row.acknowledged_on if row else None,
					"units_returned": row.units_returned if row else 0,
					"units_corrected": row.units_corrected if row else 0,
					**({field: row.get(field) for field in NOTIFICATION_FIELDS} if row else {}),
				},
			)
		self.scoped_on = now_datetime()
		self.scope_seconds = population["seconds"]
		self.update_mass_balance()
		if self.is_drill:
			self.back_trace_seconds = trace_seconds(self.scope, "backward")
			self.forward_trace_seconds = population["forward_trace_seconds"]
			self.customer_list_seconds = population["seconds"]

	def update_mass_balance(self):
		rows, seconds = timed_mass_balance(self.affected_units)
		self.set("mass_balance", rows)
		if self.is_drill:
			self.mass_balance_seconds = seconds

	def update_drill_results(self):
		"""How well the drill found the population expected of it, and when its units were first all
		accounted for."""
		expected = expected_identifiers(self.expected_population)
		if expected and self.scoped_on:
			found = found_identifiers(self.affected_units)
			self.drill_accuracy = accuracy(found, expected)
			self.drill_missed = "\n".join(sorted(expected - found)) or None
			self.drill_unexpected = "\n".join(sorted(found - expected)) or None
		else:
			self.drill_accuracy, self.drill_missed, self.drill_unexpected = 0, None, None
		accounted_for = self.all_units_accounted_for and all(row.acknowledged for row in self.customers)
		if self.scoped_on and not self.accounted_for_on and accounted_for:
			self.accounted_for_on = now_datetime()
			self.accounted_for_seconds = time_diff_in_seconds(self.accounted_for_on, self.scoped_on)

	def validate_customers(self):
		for row in self.customers:
			if flt(row.units_returned) < 0 or flt(row.units_corrected) < 0:
				frappe.throw(_("Customer {0}: units returned and corrected cannot be negative.").format(frappe.bold(row.customer)))
			if flt(row.units_returned) + flt(row.units_corrected) > flt(row.units_delivered):
				frappe.throw(
					_("Customer {0}: {1} returned or corrected, but only {2} were delivered.").format(
						frappe.bold(row.customer),
						as_units(flt(row.units_returned) + flt(row.units_corrected), row.stock_uom),
						as_units(row.units_delivered, row.stock_uom),
					)
				)
			if row.acknowledged and not row.acknowledged_on:
				row.acknowledged_on = today()
			row.units_unaccounted = round(flt(row.units_delivered) - flt(row.units_returned) - flt(row.units_corrected), QTY_PRECISION)

	def update_accounting(self):
		"""The recall's units per unit of measure: summed within a unit, never across units."""
		totals = defaultdict(lambda: dict.fromkeys(("qty_in_stock", "qty_delivered", "qty_returned", "qty_corrected", "qty_unaccounted"), 0.0))
		for row in self.affected_units:
			totals[row.stock_uom]["qty_in_stock"] += flt(row.qty_in_stock)
		for row in self.customers:
			for total in ("delivered", "returned", "corrected", "unaccounted"):
				totals[row.stock_uom][f"qty_{total}"] += flt(row.get(f"units_{total}"))
		self.set(
			"unit_totals",
			[
				{"stock_uom": uom, **{field: round(qty, QTY_PRECISION) for field, qty in quantities.items()}}
				for uom, quantities in sorted(totals.items(), key=lambda total: total[0] or "")
				if any(quantities.values())
			],
		)
		self.all_units_accounted_for = int(not any(flt(row.units_unaccounted) > 0 for row in self.customers))

	def validate_accounted_for(self):
		if not self.scoped_on:
			frappe.throw(_("Recall {0} was never scoped: its affected units are unknown.").format(self.name), title=_("Recall Not Accounted For"))
		unaccounted = [
			_("{0}: {1}").format(row.customer, as_units(row.units_unaccounted, row.stock_uom))
			for row in self.customers
			if flt(row.units_unaccounted) > 0
		]
		if unaccounted:
			frappe.throw(
				_("The recall cannot be closed while units are not returned or corrected: {0}").format("; ".join(unaccounted)),
				title=_("Recall Not Accounted For"),
			)
		unacknowledged = [row.customer for row in self.customers if not row.acknowledged]
		if unacknowledged:
			frappe.throw(
				_("The recall cannot be closed before these customers acknowledged it: {0}").format(", ".join(unacknowledged)),
				title=_("Recall Not Accounted For"),
			)


def as_units(qty, uom: str | None = None) -> str:
	"""A quantity as people count units, with its unit: 2 Nos, not 2.0."""
	return f"{flt(qty):g} {_(uom)}" if uom else f"{flt(qty):g}"


@frappe.whitelist(methods=["POST"])
def scope_recall(name: str) -> dict:
	"""Compute the recall's affected units and customers again, and hold what is newly in scope."""
	recall = frappe.get_doc("Recall", name)
	recall.check_permission("write")
	recall.find_affected_population()
	recall.save()
	if recall.status != "Draft" and not recall.is_drill:
		place_holds(recall)
	return {
		"scope_seconds": recall.scope_seconds,
		"affected_units": len(recall.affected_units),
		"customers": len(recall.customers),
	}


@frappe.whitelist(methods=["POST"])
def place_recall_holds(name: str) -> int:
	"""Hold every lot and serial of the recall still in stock; returns how many holds were placed."""
	recall = frappe.get_doc("Recall", name)
	recall.check_permission("write")
	if recall.is_drill:
		frappe.throw(_("Recall {0} is a drill: a drill places no holds.").format(name), title=_("Mock Recall"))
	if recall.status == CLOSED:
		frappe.throw(_("Recall {0} is closed: its holds are released.").format(name), title=_("Recall Closed"))
	if not recall.scoped_on:
		frappe.throw(_("Scope recall {0} before placing its holds.").format(name), title=_("Recall Not Scoped"))
	return len(place_holds(recall))
