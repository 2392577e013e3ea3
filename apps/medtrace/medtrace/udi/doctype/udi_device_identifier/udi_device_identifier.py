# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from medtrace.quality.change_control import guard_udi_device_identifier
from medtrace.udi.identifiers import validate_device_identifier
from medtrace.udi.production_udi import assign_udi_to_existing_stock

RISK_CLASSES_BY_MARKET = {
	"US FDA": {"I", "II", "III"},
	"China NMPA": {"I", "II", "III"},
	"EU MDR": {"I", "Is", "Im", "Ir", "IIa", "IIb", "III"},
	"EU IVDR": {"A", "As", "B", "C", "D"},
}


class UDIDeviceIdentifier(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF
		from medtrace.udi.doctype.udi_market_risk_class.udi_market_risk_class import UDIMarketRiskClass

		basic_udi_di: DF.Data | None
		brand_name: DF.Data
		catalogue_number: DF.Data | None
		contained_di: DF.Link | None
		contains_latex: DF.Check
		device_description: DF.SmallText | None
		gmdn_code: DF.Data | None
		implantable: DF.Check
		is_sterile: DF.Check
		issuing_agency: DF.Literal["GS1", "HIBCC", "ICCBBA", "IFA", "MA", "AHM"]
		item: DF.Link
		item_name: DF.Data | None
		label_expiry_date: DF.Check
		label_lot: DF.Check
		label_manufacture_date: DF.Check
		label_serial: DF.Check
		labeler: DF.Link
		manufacturer_name: DF.Data | None
		model_version: DF.Data | None
		mri_safety: DF.Literal["", "MR Safe", "MR Conditional", "MR Unsafe", "Labeling does not contain MRI Safety Information"]
		packaging_level: DF.Literal["Base Unit", "Inner Pack", "Case", "Pallet"]
		quantity_per_package: DF.Int
		registration_number: DF.Data | None
		requires_sterilisation_before_use: DF.Check
		risk_classes: DF.Table[UDIMarketRiskClass]
		single_use: DF.Check
		status: DF.Literal["Draft", "Pending Approval", "Released", "Obsolete"]
		sterilisation_method: DF.Literal["", "Ethylene Oxide", "Gamma Irradiation", "Electron Beam", "Steam", "Hydrogen Peroxide", "Other"]
		storage_conditions: DF.SmallText | None
		udi_di: DF.Data
	# end: auto-generated types

	def autoname(self):
		self.udi_di = validate_device_identifier(self.issuing_agency, (self.udi_di or "").strip())
		self.name = self.udi_di

	def validate(self):
		if not self.is_new() and self.has_value_changed("udi_di"):
			frappe.throw(_("A UDI-DI cannot be changed once created; create a new device identifier instead."))
		validate_device_identifier(self.issuing_agency, self.udi_di)
		guard_udi_device_identifier(self)
		self.validate_one_di_per_packaging_level()
		self.validate_label_matches_item_tracking()
		self.validate_packaging_hierarchy()
		self.validate_risk_classes()

	def on_update(self):
		if self.has_value_changed("status") and self.status == "Released" and self.packaging_level == "Base Unit":
			self.give_existing_stock_its_udi()

	def give_existing_stock_its_udi(self):
		updated = assign_udi_to_existing_stock(self.name)
		if updated:
			frappe.msgprint(_("{0} existing batches and serial numbers of {1} now carry this UDI.").format(updated, self.item), alert=True)

	def validate_one_di_per_packaging_level(self):
		duplicate = frappe.db.exists(
			"UDI Device Identifier",
			{"item": self.item, "packaging_level": self.packaging_level, "name": ("!=", self.name)},
		)
		if duplicate:
			frappe.throw(
				_("Item {0} already has UDI-DI {1} for packaging level {2}.").format(
					frappe.bold(self.item), frappe.bold(duplicate), _(self.packaging_level)
				),
				frappe.DuplicateEntryError,
			)

	def validate_label_matches_item_tracking(self):
		has_batch_no, has_serial_no = frappe.db.get_value("Item", self.item, ["has_batch_no", "has_serial_no"])
		if self.label_lot and not has_batch_no:
			frappe.throw(
				_("The label carries a lot number, but item {0} is not batch-tracked. Enable Has Batch No on the item or untick Lot / Batch Number.").format(frappe.bold(self.item)),
				title=_("Item Not Batch-Tracked"),
			)
		if self.label_serial and not has_serial_no:
			frappe.throw(
				_("The label carries a serial number, but item {0} is not serialised. Enable Has Serial No on the item or untick Serial Number.").format(frappe.bold(self.item)),
				title=_("Item Not Serialised"),
			)

	def validate_packaging_hierarchy(self):
		if self.packaging_level == "Base Unit":
			self.contained_di = None
			self.quantity_per_package = 0
			return
		if self.contained_di == self.name:
			frappe.throw(_("A package cannot contain its own DI."))
		if (self.quantity_per_package or 0) < 1:
			frappe.throw(_("Quantity of Contained Level must be at least 1 for a {0}.").format(_(self.packaging_level)))

	def validate_risk_classes(self):
		for row in self.risk_classes:
			allowed = RISK_CLASSES_BY_MARKET.get(row.market)
			if allowed and row.risk_class not in allowed:
				frappe.throw(
					_("Row {0}: risk class {1} does not exist in {2}; use one of {3}.").format(
						row.idx, frappe.bold(row.risk_class), row.market, ", ".join(sorted(allowed))
					)
				)
