# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import re

import frappe
from frappe import _
from frappe.model.document import Document


class MedTraceSettings(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		digital_link_domain: DF.Data
		max_trace_depth: DF.Int
		signature_lockout_attempts: DF.Int
	# end: auto-generated types

	def validate(self):
		self.digital_link_domain = re.sub(r"^https?://", "", (self.digital_link_domain or "").strip()).rstrip("/")
		if not re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/[A-Za-z0-9._~/-]*)?", self.digital_link_domain):
			frappe.throw(_("{0} is not a domain name such as id.example.com.").format(frappe.bold(self.digital_link_domain)))
