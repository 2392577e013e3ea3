# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document

from medtrace.validation.runs import prepare_run, refuse_changes, refuse_deleting_approved


class ValidationRun(Document):
	def before_insert(self):
		prepare_run(self)

	def validate(self):
		refuse_changes(self)

	def on_trash(self):
		refuse_deleting_approved(self)
