"""Device History Records: created as production happens, assembled live from ERPNext and MedTrace
records, checked against the item's Device Master Record, released by e-signature, then frozen.

A DHR exists for every lot (and every serial, linked to its lot's DHR) of an item whose Device Master
Record is enabled. Until release its tables are re-assembled whenever a bound record changes; after
release nothing it binds may change.
"""

import frappe
from frappe import _
from frappe.query_builder import DocType
from frappe.utils import flt

from medtrace.medtrace_integrations.events import on_dhr_released
from medtrace.signatures.esignature import authenticate_signer, lock_document, record_signature, refuse_stale
from medtrace.setup.permissions import QUALITY_APPROVER
from medtrace.utils.bundles import bundle_entries

RELEASED = "Released"


def device_master_record(item_code: str):
	name = frappe.db.get_value("Device Master Record", {"item": item_code, "enabled": 1})
	return frappe.get_cached_doc("Device Master Record", name) if name else None


def produced_lots_and_serials(stock_entry) -> list[frappe._dict]:
	"""Finished lots/serials a Manufacture entry made, from its inward Serial and Batch Bundles."""
	query, Bundle, BundleEntry = bundle_entries()
	return (
		query
		.select(Bundle.item_code, BundleEntry.batch_no, BundleEntry.serial_no, BundleEntry.qty)
		.where(
			(Bundle.voucher_type == "Stock Entry")
			& (Bundle.voucher_no == stock_entry.name)
			& (Bundle.type_of_transaction == "Inward")
		)
		.run(as_dict=True)
	)


def create_dhrs_for_stock_entry(stock_entry, method=None) -> None:
	"""Stock Entry on_submit: transferring material to a Work Order starts production and opens its DHR;
	a Manufacture entry gives one DHR per produced lot and per produced serial of DMR-controlled items."""
	if stock_entry.purpose == "Material Transfer for Manufacture" and stock_entry.work_order:
		open_dhr_for_work_order(stock_entry.work_order)
	if stock_entry.purpose not in ("Manufacture", "Repack"):
		return
	outputs = produced_lots_and_serials(stock_entry)
	dmrs = {item_code: device_master_record(item_code) for item_code in {o.item_code for o in outputs}}
	outputs = [output for output in outputs if dmrs[output.item_code]]
	lot_dhrs = {
		(item_code, batch_no): ensure_dhr(item_code, batch_no=batch_no, stock_entry=stock_entry)
		for item_code, batch_no in dict.fromkeys((o.item_code, o.batch_no) for o in outputs if o.batch_no)
	}
	create_serial_dhrs([o for o in outputs if o.serial_no], lot_dhrs, dmrs, stock_entry)


def create_serial_dhrs(outputs: list, lot_dhrs: dict, dmrs: dict, stock_entry) -> None:
	"""Serial DHRs in one bulk insert: a serial made this instant has no bound records yet, so its
	content is known without assembly — its lot's DHR holds the components and the lot-level records,
	and only the DMR's per-serial requirements are open."""
	from frappe.model.naming import make_autoname

	existing = set(
		frappe.get_all("Device History Record", filters={"serial_no": ("in", [o.serial_no for o in outputs] or [""])}, pluck="serial_no")
	)
	udis = dict(
		frappe.get_all("Serial No", filters={"name": ("in", [o.serial_no for o in outputs] or [""])}, fields=["name", "udi_element_string"], as_list=True)
	)
	now = frappe.utils.now()
	user = frappe.session.user
	rows = []
	for output in outputs:
		if output.serial_no in existing:
			continue
		dmr = dmrs[output.item_code]
		missing = "\n".join(describe_requirement(r) for r in dmr.requirements if r.per_serial)
		rows.append(
			(
				make_autoname("DHR-.YYYY.-.#####", "Device History Record"), now, now, user, user,
				output.item_code, frappe.db.get_value("Item", output.item_code, "item_name", cache=True),
				output.batch_no, output.serial_no, lot_dhrs.get((output.item_code, output.batch_no)),
				"Open" if missing else "Complete", missing or None, udis.get(output.serial_no), dmr.name, dmr.revision,
				stock_entry.work_order, stock_entry.bom_no, stock_entry.posting_date, 1,
			)
		)
	frappe.db.bulk_insert(
		"Device History Record",
		fields=["name", "creation", "modified", "owner", "modified_by", "item", "item_name", "batch_no", "serial_no", "lot_dhr",
		        "status", "missing", "udi", "device_master_record", "dmr_revision", "work_order", "bom", "manufactured_on",
		        "produced_qty"],
		values=rows,
	)


def open_dhr_for_work_order(work_order: str) -> None:
	"""The lot's DHR opens when production starts; the Manufacture entry later gives it its lot."""
	production_item, bom_no = frappe.db.get_value("Work Order", work_order, ["production_item", "bom_no"])
	if not device_master_record(production_item) or frappe.db.exists("Device History Record", {"work_order": work_order}):
		return
	dhr = frappe.new_doc("Device History Record")
	dhr.update({"item": production_item, "work_order": work_order, "bom": bom_no})
	dhr.flags.ignore_permissions = True
	dhr.insert()


def ensure_dhr(item_code: str, batch_no=None, serial_no=None, lot_dhr=None, stock_entry=None) -> str:
	filters = {"item": item_code, "batch_no": batch_no, "serial_no": serial_no}
	existing = frappe.db.get_value("Device History Record", filters)
	if not existing and not serial_no and stock_entry and stock_entry.work_order:
		# The DHR opened when the Work Order started now learns its lot.
		existing = frappe.db.get_value(
			"Device History Record", {"work_order": stock_entry.work_order, "batch_no": ("is", "not set"), "serial_no": ("is", "not set")}
		)
		if existing:
			frappe.db.set_value("Device History Record", existing, "batch_no", batch_no)
	if existing:
		refresh_dhr(existing)
		return existing
	dhr = frappe.new_doc("Device History Record")
	dhr.update({**filters, "lot_dhr": lot_dhr})
	if stock_entry:
		dhr.work_order = stock_entry.work_order
		dhr.bom = stock_entry.bom_no
		dhr.manufactured_on = stock_entry.posting_date
	dhr.flags.ignore_permissions = True
	dhr.insert()
	return dhr.name


def refresh_dhr(name: str) -> None:
	"""Re-assemble an unreleased DHR in place. Its tables are rewritten in bulk: a lot's DHR can bind
	thousands of readings, and saving them row by row would make every new reading cost seconds. The DHR
	is derived data; the records it binds keep their own audit trail."""
	dhr = frappe.get_doc("Device History Record", name)
	if dhr.status == RELEASED:
		return
	assemble(dhr)
	write_assembly(dhr)


def write_assembly(dhr) -> None:
	meta = frappe.get_meta("Device History Record")
	values = {df.fieldname: dhr.get(df.fieldname) for df in meta.fields if df.fieldtype not in ("Table", "Section Break", "Column Break")}
	frappe.db.set_value("Device History Record", dhr.name, values, update_modified=True)
	for table in ("components", "inspections", "parameters", "nonconformances"):
		child_doctype = meta.get_field(table).options
		frappe.db.delete(child_doctype, {"parent": dhr.name, "parenttype": dhr.doctype, "parentfield": table})
		rows = dhr.get(table)
		if not rows:
			continue
		fields = [df.fieldname for df in frappe.get_meta(child_doctype).fields if df.fieldtype not in ("Section Break", "Column Break")]
		frappe.db.bulk_insert(
			child_doctype,
			fields=["name", "parent", "parenttype", "parentfield", "idx", "creation", "modified", "owner", "modified_by", *fields],
			values=[
				(frappe.generate_hash(length=10), dhr.name, dhr.doctype, table, index, dhr.modified, dhr.modified,
				 dhr.owner, frappe.session.user, *(row.get(field) for field in fields))
				for index, row in enumerate(rows, start=1)
			],
		)


def assemble(dhr) -> None:
	"""Fill every table of the DHR from the records that bind to it."""
	dmr = device_master_record(dhr.item)
	dhr.device_master_record = dmr and dmr.name
	dhr.dmr_revision = dmr and dmr.revision
	dhr.udi = frappe.db.get_value(
		"Serial No" if dhr.serial_no else "Batch", dhr.serial_no or dhr.batch_no, "udi_element_string"
	)
	manufacture_entries = manufacture_entries_of(dhr)
	if manufacture_entries:
		first = frappe.db.get_value(
			"Stock Entry", manufacture_entries[0], ["work_order", "bom_no", "posting_date"], as_dict=True
		)
		dhr.work_order = dhr.work_order or first.work_order
		dhr.bom = dhr.bom or first.bom_no
		dhr.manufactured_on = dhr.manufactured_on or first.posting_date
	dhr.routing = dhr.bom and frappe.db.get_value("BOM", dhr.bom, "routing")
	dhr.job_cards = ", ".join(frappe.get_all("Job Card", filters={"work_order": dhr.work_order, "docstatus": 1}, pluck="name")) if dhr.work_order else None
	# A serial's components are those of its lot, recorded once on the lot's DHR.
	dhr.set("components", [] if dhr.serial_no else consumed_components(manufacture_entries))
	dhr.produced_qty = produced_quantity(dhr, manufacture_entries)
	dhr.set("inspections", bound_inspections(dhr))
	dhr.set("parameters", bound_parameters(dhr))
	dhr.set("nonconformances", bound_nonconformances(dhr))
	dhr.deviations = "\n".join(
		_("{0} = {1} {2} outside {3}").format(row.parameter, row.value, row.unit or "", row.limits)
		for row in dhr.parameters
		if not row.in_specification
	) or None
	dhr.labels_printed = labels_printed(dhr)
	missing = missing_for_release(dhr, dmr)
	dhr.missing = "\n".join(missing) or None
	dhr.status = "Complete" if not missing else "Open"


def manufacture_entries_of(dhr) -> list[str]:
	query, Bundle, BundleEntry = bundle_entries()
	StockEntry = DocType("Stock Entry")
	identifier = (BundleEntry.serial_no == dhr.serial_no) if dhr.serial_no else (BundleEntry.batch_no == dhr.batch_no)
	return (
		query
		.join(StockEntry)
		.on(StockEntry.name == Bundle.voucher_no)
		.select(StockEntry.name)
		.distinct()
		.where(
			identifier
			& (Bundle.voucher_type == "Stock Entry")
			& (Bundle.type_of_transaction == "Inward")
			& (StockEntry.purpose.isin(["Manufacture", "Repack"]))
			& (StockEntry.docstatus == 1)
		)
		.orderby(StockEntry.name)
		.run(pluck=True)
	)


def consumed_components(manufacture_entries: list[str]) -> list[dict]:
	query, Bundle, BundleEntry = bundle_entries()
	if not manufacture_entries:
		return []
	rows = (
		query
		.select(Bundle.item_code, BundleEntry.batch_no, BundleEntry.serial_no, BundleEntry.qty, Bundle.voucher_no)
		.where(
			(Bundle.voucher_type == "Stock Entry")
			& (Bundle.voucher_no.isin(manufacture_entries))
			& (Bundle.type_of_transaction == "Outward")
		)
		.orderby(Bundle.voucher_no, Bundle.item_code, BundleEntry.batch_no, BundleEntry.serial_no)
		.run(as_dict=True)
	)
	components = [
		{"item_code": r.item_code, "batch_no": r.batch_no, "serial_no": r.serial_no, "qty": abs(flt(r.qty)), "stock_entry": r.voucher_no}
		for r in rows
	]
	# Components without batch or serial tracking are still part of the record.
	StockEntryDetail = DocType("Stock Entry Detail")
	untracked = (
		frappe.qb.from_(StockEntryDetail)
		.select(StockEntryDetail.item_code, StockEntryDetail.transfer_qty, StockEntryDetail.parent)
		.where(
			StockEntryDetail.parent.isin(manufacture_entries)
			& StockEntryDetail.s_warehouse.isnotnull()
			& StockEntryDetail.serial_and_batch_bundle.isnull()
		)
		.run(as_dict=True)
	)
	components += [{"item_code": r.item_code, "qty": r.transfer_qty, "stock_entry": r.parent} for r in untracked]
	return components


def produced_quantity(dhr, manufacture_entries: list[str]) -> float:
	if dhr.serial_no:
		return 1
	return sum(
		abs(flt(output.qty))
		for entry in manufacture_entries
		for output in produced_lots_and_serials(frappe._dict(name=entry))
		if output.batch_no == dhr.batch_no
	)


def record_filter(doctype_table, dhr, batch_field: str, serial_field: str):
	"""Records bind to a serial's DHR by serial, to a lot's DHR by lot or by its Work Order."""
	if dhr.serial_no:
		return doctype_table[serial_field] == dhr.serial_no
	return doctype_table[batch_field] == dhr.batch_no


def bound_inspections(dhr) -> list[dict]:
	QI = DocType("Quality Inspection")
	inspections = (
		frappe.qb.from_(QI)
		.select(QI.name, QI.quality_inspection_template, QI.inspection_type, QI.status, QI.inspected_by, QI.report_date)
		.where(record_filter(QI, dhr, "batch_no", "item_serial_no") & (QI.docstatus == 1))
		.orderby(QI.report_date, QI.name)
		.run(as_dict=True)
	)
	rows = []
	for inspection in inspections:
		readings = frappe.get_all(
			"Quality Inspection Reading",
			filters={"parent": inspection.name, "parenttype": "Quality Inspection"},
			fields=["specification", "reading_1", "reading_value", "status"],
			order_by="idx",
		)
		rows.append(
			{
				"quality_inspection": inspection.name,
				"template": inspection.quality_inspection_template,
				"inspection_type": inspection.inspection_type,
				"status": inspection.status,
				"inspected_by": inspection.inspected_by,
				"report_date": inspection.report_date,
				"readings": "; ".join(
					f"{r.specification}: {r.reading_value or r.reading_1 or ''} ({_(r.status or '')})" for r in readings
				),
			}
		)
	return rows


def bound_parameters(dhr) -> list[dict]:
	PPR = DocType("Process Parameter Record")
	condition = record_filter(PPR, dhr, "batch_no", "serial_no")
	if not dhr.serial_no and dhr.work_order:
		condition = condition | ((PPR.work_order == dhr.work_order) & PPR.batch_no.isnull() & PPR.serial_no.isnull())
	records = (
		frappe.qb.from_(PPR)
		.select("*")
		.where(condition)
		.orderby(PPR.recorded_at)
		.run(as_dict=True)
	)
	return [
		{
			"process_parameter_record": r.name,
			"parameter": r.parameter,
			"value": r.value,
			"unit": r.unit,
			"limits": specification_limits(r),
			"in_specification": r.in_specification,
			"recorded_at": r.recorded_at,
		}
		for r in records
	]


def specification_limits(record) -> str:
	if not (record.lower_limit or record.upper_limit):
		return ""
	return f"{record.lower_limit or ''} … {record.upper_limit or ''}"


def bound_nonconformances(dhr) -> list[dict]:
	NC = DocType("Non Conformance")
	condition = record_filter(NC, dhr, "medtrace_batch_no", "medtrace_serial_no")
	if dhr.work_order:
		condition = condition | (NC.medtrace_work_order == dhr.work_order)
	return [
		{"non_conformance": r.name, "subject": r.subject, "status": r.status}
		for r in frappe.qb.from_(NC).select(NC.name, NC.subject, NC.status).where(condition).run(as_dict=True)
	]


def labels_printed(dhr) -> str | None:
	if not frappe.db.exists("DocType", "UDI Label Log"):
		return None
	filters = {"reference_doctype": "Serial No" if dhr.serial_no else "Batch", "reference_name": dhr.serial_no or dhr.batch_no}
	logs = frappe.get_all("UDI Label Log", filters=filters, fields=["name", "owner", "creation", "copies"], order_by="creation")
	return "\n".join(f"{log.name}: {log.copies} × {log.owner} {log.creation}" for log in logs) or None


def missing_for_release(dhr, dmr) -> list[str]:
	missing = []
	if not dhr.serial_no and not dhr.components and dhr.batch_no and manufacture_entries_of(dhr):
		missing.append(_("No consumed components recorded."))
	for requirement in dmr.requirements if dmr else []:
		if dhr.serial_no and not requirement.per_serial:
			continue  # satisfied on the lot's DHR
		if dhr.serial_no is None and requirement.per_serial:
			continue
		if not requirement_met(dhr, requirement):
			missing.append(describe_requirement(requirement))
	for row in dhr.nonconformances:
		if row.status == "Open":
			missing.append(_("Nonconformance {0} is open.").format(row.non_conformance))
	resolved = any(row.status == "Resolved" for row in dhr.nonconformances)
	for row in dhr.parameters:
		if not row.in_specification and not resolved:
			missing.append(
				_("{0} is out of specification and no resolved nonconformance covers it.").format(row.parameter)
			)
	return missing


def requirement_met(dhr, requirement) -> bool:
	if requirement.requirement_type == "Quality Inspection":
		return any(
			row.template == requirement.quality_inspection_template
			and row.status == "Accepted"
			and (not requirement.inspection_type or row.inspection_type == requirement.inspection_type)
			for row in dhr.inspections
		)
	if requirement.requirement_type == "Process Parameter":
		return any(row.parameter == requirement.parameter for row in dhr.parameters)
	return any(row.document_title == requirement.document_title and row.attachment for row in dhr.documents)


def describe_requirement(requirement) -> str:
	if requirement.requirement_type == "Quality Inspection":
		return _("Accepted Quality Inspection {0} is missing.").format(requirement.quality_inspection_template)
	if requirement.requirement_type == "Process Parameter":
		return _("Process parameter {0} has no reading.").format(requirement.parameter)
	return _("Document {0} is not attached.").format(requirement.document_title)


def dhrs_binding(batch_no=None, serial_no=None, work_order=None) -> list[str]:
	"""DHRs a record binds to: the lot's, the serial's, and those of the work order."""
	conditions = []
	if serial_no:
		conditions.append({"serial_no": serial_no})
	if batch_no:
		conditions.append({"batch_no": batch_no, "serial_no": ("is", "not set")})
	if work_order:
		conditions.append({"work_order": work_order})
	names = []
	for filters in conditions:
		names += frappe.get_all("Device History Record", filters=filters, pluck="name")
	return list(dict.fromkeys(names))


def refuse_change_to_released_record(batch_no=None, serial_no=None, work_order=None, what=None) -> None:
	released = [
		name for name in dhrs_binding(batch_no, serial_no, work_order)
		if frappe.db.get_value("Device History Record", name, "status") == RELEASED
	]
	if released:
		frappe.throw(
			_("{0} is bound to released Device History Record {1} and cannot be changed; raise a Change Request.").format(
				what, ", ".join(released)
			),
			title=_("Released Record"),
		)


def refresh_bound_dhrs(batch_no=None, serial_no=None, work_order=None) -> None:
	for name in dhrs_binding(batch_no, serial_no, work_order):
		refresh_dhr(name)


def on_quality_inspection_change(inspection, method=None) -> None:
	refresh_bound_dhrs(inspection.batch_no, inspection.item_serial_no)


def guard_quality_inspection(inspection, method=None) -> None:
	"""before_cancel / before_update_after_submit of a Quality Inspection."""
	refuse_change_to_released_record(
		inspection.batch_no, inspection.item_serial_no, what=_("Quality Inspection {0}").format(inspection.name)
	)


def on_non_conformance_change(non_conformance, method=None) -> None:
	refresh_bound_dhrs(
		non_conformance.get("medtrace_batch_no"), non_conformance.get("medtrace_serial_no"), non_conformance.get("medtrace_work_order")
	)


def unreleased_lots_and_serials(doc) -> list[str]:
	"""Lots/serials leaving in a delivery whose item requires a DHR that is not released."""
	query, Bundle, BundleEntry = bundle_entries()
	bundles = [row.serial_and_batch_bundle for row in doc.items if row.get("serial_and_batch_bundle")]
	outgoing = []
	if bundles:
		outgoing = (
			query
			.select(Bundle.item_code, BundleEntry.batch_no, BundleEntry.serial_no)
			.where(Bundle.name.isin(bundles))
			.run(as_dict=True)
		)
	blocked = []
	for row in outgoing:
		if not device_master_record(row.item_code):
			continue
		dhr = frappe.db.get_value(
			"Device History Record",
			{"item": row.item_code, "batch_no": row.batch_no, "serial_no": row.serial_no} if row.serial_no
			else {"item": row.item_code, "batch_no": row.batch_no, "serial_no": ("is", "not set")},
			["name", "status"],
			as_dict=True,
		)
		if not dhr or dhr.status != RELEASED:
			identifier = row.serial_no or row.batch_no
			blocked.append(
				_("{0} (DHR {1}: {2})").format(identifier, dhr.name, _(dhr.status)) if dhr else _("{0} (no DHR)").format(identifier)
			)
	return blocked


def refuse_delivery_of_unreleased(doc, method=None) -> None:
	"""on_submit of Delivery Note / Sales Invoice, and of Stock Entries into a sellable warehouse."""
	if doc.doctype == "Stock Entry" and not moves_into_sellable_warehouse(doc):
		return
	if doc.get("is_return"):
		return
	blocked = unreleased_lots_and_serials(doc)
	if blocked:
		frappe.throw(
			_("These lots / serial numbers cannot be shipped because their Device History Record is not released: {0}").format(
				", ".join(blocked[:20])
			),
			title=_("DHR Not Released"),
		)


def moves_into_sellable_warehouse(stock_entry) -> bool:
	targets = {row.t_warehouse for row in stock_entry.items if row.t_warehouse and row.s_warehouse}
	return bool(targets) and bool(
		frappe.get_all("Warehouse", filters={"name": ("in", list(targets)), "medtrace_sellable": 1}, limit=1)
	)


@frappe.whitelist()
def download_dhr_pdf(name: str) -> None:
	"""The DHR as a numbered evidence PDF (the Desk's own PDF cannot number pages on this wkhtmltopdf)."""
	from medtrace.utils.evidence_pdf import number_pages

	if not name or not frappe.db.exists("Device History Record", name):
		frappe.throw(_("Device History Record {0} does not exist.").format(frappe.bold(name)), frappe.DoesNotExistError)
	frappe.has_permission("Device History Record", "print", doc=name, throw=True)
	pdf = frappe.get_print("Device History Record", name, print_format="Device History Record", as_pdf=True)
	frappe.local.response.filename = f"{name}.pdf"
	frappe.local.response.filecontent = number_pages(pdf, name)
	frappe.local.response.type = "pdf"


@frappe.whitelist(methods=["POST"])
def refresh_device_history_record(name: str) -> None:
	frappe.has_permission("Device History Record", "write", doc=name, throw=True)
	refresh_dhr(name)



@frappe.whitelist(methods=["POST"])
def release_device_history_record(name: str, password: str | None = None, reason: str | None = None, otp: str | None = None) -> str:
	"""Release a complete lot DHR, with its serials' DHRs, by a Quality Approver's electronic signature
	meaning "Released" (21 CFR 11.50, 11.200: the password re-entered). Returns the signature's name."""
	dhr = frappe.get_doc("Device History Record", name)
	dhr.check_permission("write")
	if QUALITY_APPROVER not in frappe.get_roles():
		frappe.throw(_("Only a MedTrace Quality Approver can release a Device History Record."), frappe.PermissionError)
	# Two approvers releasing at once: the second waits here, then finds the DHR released.
	locked = lock_document("Device History Record", name, ("status",))
	if locked.status == RELEASED:
		frappe.throw(_("Device History Record {0} is already released.").format(name), title=_("Already Released"))
	refuse_stale(dhr, locked.modified)
	serial_dhrs = frappe.get_all("Device History Record", filters={"lot_dhr": name, "status": ("!=", RELEASED)}, pluck="name")
	# Assembled but not yet written: a refused signature leaves the DHRs as they were.
	assemblies = refuse_release_of_incomplete([name, *serial_dhrs])
	authenticate_signer("Device History Record", name, RELEASED, password, otp)
	for assembly in assemblies:
		write_assembly(assembly)
	signature = record_signature("Device History Record", name, RELEASED, reason=reason)
	for record in (name, *serial_dhrs):
		frappe.db.set_value(
			"Device History Record",
			record,
			{
				"status": RELEASED,
				"released_by": signature.signer,
				"released_by_name": signature.signer_name,
				"released_on": signature.signed_on,
				"release_signature": signature.name,
			},
		)
	dhr.reload()
	on_dhr_released(dhr, frappe.get_all("Device History Record", filters={"name": ("in", serial_dhrs)}, pluck="serial_no"))
	return signature.name


def refuse_release_of_incomplete(names: list[str]) -> list:
	"""The DHRs assembled afresh, if every one is complete."""
	assemblies = []
	for record in names:
		dhr = frappe.get_doc("Device History Record", record)
		assemble(dhr)
		assemblies.append(dhr)
	incomplete = [dhr for dhr in assemblies if dhr.status != "Complete"]
	if incomplete:
		frappe.throw(
			_("Not complete, so it cannot be released: {0}").format(
				"; ".join(f"{dhr.name}: {(dhr.missing or '').replace(chr(10), ' ')}" for dhr in incomplete[:10])
			),
			title=_("DHR Incomplete"),
		)
	return assemblies
