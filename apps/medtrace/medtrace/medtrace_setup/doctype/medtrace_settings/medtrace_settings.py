# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import re

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint


class MedTraceSettings(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		digital_link_domain: DF.Data
		epcis_identifier_format: DF.Literal["GS1 Digital Link", "EPC URN"]
		gs1_company_prefix: DF.Data | None
		max_trace_depth: DF.Int
		signature_lockout_attempts: DF.Int
		sscc_extension_digit: DF.Int
	# end: auto-generated types

	def validate(self):
		self.digital_link_domain = re.sub(r"^https?://", "", (self.digital_link_domain or "").strip()).rstrip("/")
		if not re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/[A-Za-z0-9._~/-]*)?", self.digital_link_domain):
			frappe.throw(_("{0} is not a domain name such as id.example.com.").format(frappe.bold(self.digital_link_domain)))
		self.gs1_company_prefix = (self.gs1_company_prefix or "").strip()
		# GS1 assigns prefixes of 6 to 12 digits; the SSCC's serial reference takes the rest of its 16 digits.
		if self.gs1_company_prefix and not re.fullmatch(r"\d{6,12}", self.gs1_company_prefix):
			frappe.throw(
				_("GS1 Company Prefix {0} must be 6 to 12 digits.").format(frappe.bold(self.gs1_company_prefix)),
				title=_("Invalid GS1 Company Prefix"),
			)
		if not 0 <= cint(self.sscc_extension_digit) <= 9:
			frappe.throw(_("The SSCC extension digit must be 0 to 9."), title=_("Invalid SSCC Extension Digit"))
