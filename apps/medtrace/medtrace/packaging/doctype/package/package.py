# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document

from medtrace.packaging.identification import assign_package_identifiers, guard_packed_fields


class Package(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from medtrace.packaging.doctype.package_content.package_content import PackageContent

		broken_open: DF.Check
		company: DF.Link
		content_expiry_date: DF.Date | None
		content_gtin: DF.Data | None
		content_item: DF.Link | None
		content_lot: DF.Link | None
		contents: DF.Table[PackageContent]
		customer: DF.Link | None
		delivery_note: DF.Link | None
		identified_by: DF.Literal["SSCC", "Package UDI", "SSCC and Package UDI"]
		package_serial: DF.Data | None
		package_udi: DF.Data | None
		packaging_level: DF.Literal["Case", "Pallet", "Inner Pack"]
		parent_package: DF.Link | None
		sscc: DF.Data | None
		status: DF.Literal["Empty", "Packed", "Shipped", "Unpacked"]
		total_units: DF.Float
		udi_device_identifier: DF.Link | None
		warehouse: DF.Link
	# end: auto-generated types

	def before_insert(self):
		assign_package_identifiers(self)

	def autoname(self):
		# The package is called what its label says: the SSCC, else its packaging UDI-DI and serial number.
		self.name = self.sscc or f"{self.udi_device_identifier}-{self.package_serial}"

	def validate(self):
		guard_packed_fields(self)
