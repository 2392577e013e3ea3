"""The demo company behind the README's run command: a small device maker with UDI-tracked products.

Everything is created through ERPNext's own documents (setup wizard, Item, Stock Entry), so the demo
exercises the same hooks and validations as real use. Later features add their own demo records here.
"""

import frappe
from frappe import _
from frappe.desk.page.setup_wizard.setup_wizard import setup_complete
from frappe.utils import getdate, now_datetime, nowdate

DEMO_COMPANY = "Suzhou Lumen Medical Devices Co., Ltd."
DEMO_ABBR = "LMD"

# Rates an offline site cannot fetch; dated far back so every posting date finds them.
EXCHANGE_RATES = {("USD", "CNY"): 7.10, ("EUR", "CNY"): 7.70, ("CNY", "USD"): 0.1408, ("EUR", "USD"): 1.08}

# The quality team who sign in the demo; they log in with the demo's administrator password.
DEMO_PEOPLE = (
	("li.wei@lumen-medical.example", "Li", "Wei", "MedTrace Quality Engineer"),
	("zhang.min@lumen-medical.example", "Zhang", "Min", "MedTrace Quality Approver"),
	("chen.jing@lumen-medical.example", "Chen", "Jing", "MedTrace Regulatory Affairs"),
)
DEMO_CHANGE_TITLE = "Storage conditions on the LumenJect label"

DEMO_DEVICES = (
	{
		"item_code": "LMD-SYR-5ML",
		"item_name": "Sterile Syringe 5 mL, Luer Lock",
		"has_batch_no": 1,
		"has_expiry_date": 1,
		"shelf_life_in_days": 1095,
		"udi": {
			"udi_di": "06951234500016",
			"brand_name": "LumenJect",
			"model_version": "SYR-5-LL",
			"catalogue_number": "LJ-0500",
			"is_sterile": 1,
			"sterilisation_method": "Ethylene Oxide",
			"single_use": 1,
			"mri_safety": "MR Safe",
			"risk_classes": [
				{"market": "China NMPA", "risk_class": "II"},
				{"market": "EU MDR", "risk_class": "IIa"},
			],
			"label_lot": 1,
			"label_expiry_date": 1,
			"label_manufacture_date": 1,
		},
		# The shipping case of 50 syringes carries a DI of its own (GTIN-14 with indicator digit 1).
		"case_udi": {"udi_di": "16951234500013", "quantity_per_package": 50},
	},
	{
		"item_code": "LMD-PUMP-200",
		"item_name": "Volumetric Infusion Pump IP-200",
		"has_serial_no": 1,
		"serial_no_series": "IP200-.#####",
		"udi": {
			"udi_di": "06951234500023",
			"brand_name": "LumenFlow",
			"model_version": "IP-200",
			"catalogue_number": "LF-IP200",
			"mri_safety": "MR Unsafe",
			"risk_classes": [
				{"market": "China NMPA", "risk_class": "II"},
				{"market": "US FDA", "risk_class": "II"},
			],
			"label_lot": 0,
			"label_serial": 1,
			"label_expiry_date": 0,
			"label_manufacture_date": 1,
		},
	},
	{
		"item_code": "LMD-SCREW-45",
		"item_name": "Cortical Bone Screw 4.5 mm x 40 mm, Titanium",
		"has_batch_no": 1,
		"has_serial_no": 1,
		"has_expiry_date": 1,
		"shelf_life_in_days": 1825,
		"serial_no_series": "BS45-.######",
		"udi": {
			"udi_di": "06951234500030",
			"brand_name": "LumenFix",
			"model_version": "CBS-4.5-40",
			"catalogue_number": "LX-4540",
			"is_sterile": 1,
			"sterilisation_method": "Gamma Irradiation",
			"single_use": 1,
			"implantable": 1,
			"mri_safety": "MR Conditional",
			"risk_classes": [
				{"market": "China NMPA", "risk_class": "III"},
				{"market": "EU MDR", "risk_class": "IIb"},
			],
			"label_lot": 1,
			"label_serial": 1,
			"label_expiry_date": 1,
			"label_manufacture_date": 1,
		},
	},
)


def ensure_company(company_name: str, abbr: str, currency: str, country: str, timezone: str) -> None:
	"""Runs ERPNext's setup wizard once: it creates the company, its accounts, warehouses and fiscal year."""
	if frappe.db.exists("Company", company_name):
		return
	year = getdate().year
	setup_complete(
		{
			"currency": currency,
			"full_name": "MedTrace Administrator",
			"company_name": company_name,
			"timezone": timezone,
			"company_abbr": abbr,
			"industry": "Manufacturing",
			"country": country,
			"fy_start_date": f"{year}-01-01",
			"fy_end_date": f"{year}-12-31",
			"language": "english",
			"company_tagline": "Medical devices",
			"email": f"admin@{abbr.lower()}.example",
			"password": frappe.generate_hash(length=16),
			"chart_of_accounts": "Standard",
		}
	)


def ensure_fiscal_year(company: str) -> None:
	"""A site that outlives its first year still needs a fiscal year for today's postings."""
	year = getdate().year
	if frappe.db.exists("Fiscal Year", str(year)):
		return
	fiscal_year = frappe.new_doc("Fiscal Year")
	fiscal_year.update({"year": str(year), "year_start_date": f"{year}-01-01", "year_end_date": f"{year}-12-31"})
	fiscal_year.append("companies", {"company": company})
	fiscal_year.insert(ignore_permissions=True)


def ensure_exchange_rates() -> None:
	for (from_currency, to_currency), rate in EXCHANGE_RATES.items():
		filters = {"from_currency": from_currency, "to_currency": to_currency, "date": "2000-01-01"}
		if not frappe.db.exists("Currency Exchange", filters):
			frappe.get_doc(
				{"doctype": "Currency Exchange", **filters, "exchange_rate": rate, "for_buying": 1, "for_selling": 1}
			).insert(ignore_permissions=True)


def ensure_device(device: dict, company: str, signing_password: str) -> str:
	item_code = device["item_code"]
	if not frappe.db.exists("Item", item_code):
		item = frappe.new_doc("Item")
		item.update({key: value for key, value in device.items() if key != "udi"})
		item.update({"item_group": "Products", "stock_uom": "Nos", "is_stock_item": 1, "create_new_batch": 1})
		item.insert(ignore_permissions=True)
	udi = device["udi"]
	if not frappe.db.exists("UDI Device Identifier", udi["udi_di"]):
		di = frappe.new_doc("UDI Device Identifier")
		di.update({**udi, "item": item_code, "issuing_agency": "GS1", "labeler": company, "manufacturer_name": company})
		insert_as_regulatory_affairs(di)
		release_device_identifier(di, signing_password)
	case = device.get("case_udi")
	if case and not frappe.db.exists("UDI Device Identifier", case["udi_di"]):
		di = frappe.new_doc("UDI Device Identifier")
		di.update(
			{**udi, **case, "item": item_code, "issuing_agency": "GS1", "labeler": company, "manufacturer_name": company,
			 "packaging_level": "Case", "contained_di": udi["udi_di"], "label_serial": 0}
		)
		insert_as_regulatory_affairs(di)
		release_device_identifier(di, signing_password)
	return item_code


def insert_as_regulatory_affairs(di) -> None:
	"""UDI-DIs are entered by regulatory affairs: the record shows its author."""
	frappe.set_user(DEMO_PEOPLE[2][0])
	di.insert()
	frappe.set_user("Administrator")


def release_device_identifier(di, signing_password: str) -> None:
	"""Regulatory affairs, who entered the DI, submits it; the quality approver approves it by signature (the
	author may not: Separation of Duties Rule)."""
	from medtrace.signatures.esignature import apply_workflow

	approver, regulatory = DEMO_PEOPLE[1][0], DEMO_PEOPLE[2][0]
	frappe.set_user(regulatory)
	di = apply_workflow(di, "Submit for Approval")
	frappe.set_user(approver)
	apply_workflow(di, "Approve", password=signing_password, reason="UDI data checked against the label artwork")
	frappe.set_user("Administrator")


def receive_demo_stock(company: str) -> None:
	"""A first receipt of each device so batches and serial numbers exist to trace and label."""
	if frappe.db.exists("Stock Entry", {"company": company, "remarks": "MedTrace demo opening stock"}):
		return
	warehouse = frappe.db.get_value("Warehouse", {"company": company, "warehouse_name": "Finished Goods"})
	entry = frappe.new_doc("Stock Entry")
	entry.update(
		{
			"stock_entry_type": "Material Receipt",
			"company": company,
			"posting_date": nowdate(),
			"remarks": "MedTrace demo opening stock",
		}
	)
	for device, qty in zip(DEMO_DEVICES, (500, 5, 20), strict=True):
		entry.append(
			"items",
			{"item_code": device["item_code"], "qty": qty, "t_warehouse": warehouse, "basic_rate": 10},
		)
	entry.insert(ignore_permissions=True)
	entry.submit()


DEMO_SUPPLIER = "Jiangsu Polymer Materials Co., Ltd."
# Customer → the address recall notices go to.
DEMO_CUSTOMERS = {
	"Suzhou Municipal Hospital": "equipment@szmh.example",
	"Shanghai Ruijin Hospital": "device-safety@ruijin.example",
	"East China Medical Distribution Co.": "quality@ecmd.example",
}
RAW_MATERIALS = (
	{"item_code": "LMD-RM-PP", "item_name": "Medical-grade Polypropylene Resin", "lot": "PP-2611-A", "supplier_lot": "23A117",
	 "qty": 50, "uom": "Kg"},
	{"item_code": "LMD-RM-NDL", "item_name": "Hypodermic Needle 23G", "lot": "ND-2611-07", "supplier_lot": "N-88-0412", "qty": 600,
	 "uom": "Nos"},
)


def ensure_raw_materials(company: str) -> None:
	"""Supplier lots received on a real Purchase Receipt, so their genealogy starts at the supplier."""
	if not frappe.db.exists("Supplier", DEMO_SUPPLIER):
		frappe.get_doc({"doctype": "Supplier", "supplier_name": DEMO_SUPPLIER, "supplier_group": "Raw Material"}).insert()
	if frappe.db.exists("Purchase Receipt", {"supplier": DEMO_SUPPLIER, "docstatus": 1}):
		return
	receipt = frappe.new_doc("Purchase Receipt")
	receipt.update({"supplier": DEMO_SUPPLIER, "company": company, "supplier_delivery_note": "JP-DN-88121"})
	stores = frappe.db.get_value("Warehouse", {"company": company, "warehouse_name": "Stores"})
	for material in RAW_MATERIALS:
		if not frappe.db.exists("Item", material["item_code"]):
			frappe.get_doc(
				{"doctype": "Item", "item_code": material["item_code"], "item_name": material["item_name"], "item_group": "Raw Material",
				 "stock_uom": material["uom"], "is_stock_item": 1, "has_batch_no": 1}
			).insert()
		frappe.get_doc(
			{"doctype": "Batch", "batch_id": material["lot"], "item": material["item_code"], "supplier": DEMO_SUPPLIER,
			 "medtrace_supplier_lot": material["supplier_lot"]}
		).insert()
		receipt.append(
			"items",
			{"item_code": material["item_code"], "qty": material["qty"], "rate": 2, "warehouse": stores,
			 "batch_no": material["lot"], "use_serial_batch_fields": 1},
		)
	receipt.insert()
	receipt.submit()


def ensure_inspection_template(name: str, parameter: str, low: float, high: float) -> str:
	if not frappe.db.exists("Quality Inspection Parameter", parameter):
		frappe.get_doc({"doctype": "Quality Inspection Parameter", "parameter": parameter}).insert()
	if not frappe.db.exists("Quality Inspection Template", name):
		frappe.get_doc(
			{"doctype": "Quality Inspection Template", "quality_inspection_template_name": name,
			 "item_quality_inspection_parameter": [{"specification": parameter, "numeric": 1, "min_value": low, "max_value": high}]}
		).insert()
	return name


DEMO_MES = "Moulding MES"
DEMO_MES_USER = "mes@lumen-medical.example"


def make_syringe_lots(company: str, signing_password: str) -> None:
	"""Two Work Orders for syringes: BOM, DMR, transfer, moulding readings, manufacture, two inspections —
	each lot's DHR assembles itself along the way. The first lot is made in the Desk, released by the quality
	approver's signature and shipped to hospitals and a distributor; the moulding MES runs the second through
	the integration API, and it waits for its release."""
	if frappe.db.exists("Work Order", {"production_item": "LMD-SYR-5ML", "docstatus": 1}):
		return
	bom = ensure_syringe_bom_and_dmr(company)
	shipped = make_syringe_lot(company, bom, 300, through_mes=False)
	release_dhr_of_lot(shipped, signing_password)
	ship_demo_orders(company, shipped)
	pack_and_ship_demo_pallet(company, shipped)
	make_syringe_lot(company, bom, 200, through_mes=True)


def ensure_syringe_lot_numbering() -> None:
	"""Syringe lots numbered LJ + year, month + a monthly sequence, e.g. LJ26110001, by a UDI Coding Rule."""
	if frappe.db.exists("UDI Coding Rule", {"item": "LMD-SYR-5ML"}):
		return
	frappe.get_doc(
		{"doctype": "UDI Coding Rule", "number_type": "Lot", "applies_to": "Item", "item": "LMD-SYR-5ML", "sequence_digits": 4,
		 "sequence_reset": "Monthly",
		 "parts": [{"part": "Text", "text": "LJ"}, {"part": "Year (YY)"}, {"part": "Month (MM)"}, {"part": "Sequence"}]}
	).insert()


# Kilograms of polypropylene moulded into one syringe (its BOM).
RESIN_PER_SYRINGE = 0.012


def ensure_syringe_bom_and_dmr(company: str) -> str:
	bom = frappe.get_doc(
		{"doctype": "BOM", "item": "LMD-SYR-5ML", "quantity": 1, "company": company,
		 "items": [{"item_code": "LMD-RM-PP", "qty": RESIN_PER_SYRINGE, "rate": 2}, {"item_code": "LMD-RM-NDL", "qty": 1, "rate": 2}]}
	).insert()
	bom.submit()
	frappe.get_doc(
		{"doctype": "Device Master Record", "item": "LMD-SYR-5ML", "bom": bom.name, "revision": "C",
		 "requirements": [
			 {"requirement_type": "Quality Inspection", "quality_inspection_template": template}
			 for template in syringe_inspection_templates()
		 ] + [{"requirement_type": "Process Parameter", "parameter": "Moulding Temperature"}]}
	).insert()
	return bom.name


def syringe_inspection_templates() -> dict[str, float]:
	"""Template → the reading the demo's inspectors record."""
	return {
		ensure_inspection_template("Syringe Leak Test", "Leak Rate (mbar/min)", 0, 0.5): 0.2,
		ensure_inspection_template("Syringe Visual Inspection", "Visual Defects", 0, 0): 0,
	}


def make_syringe_lot(company: str, bom: str, qty: int, through_mes: bool) -> str:
	warehouse = {w: frappe.db.get_value("Warehouse", {"company": company, "warehouse_name": w}) for w in ("Stores", "Work In Progress", "Finished Goods")}
	work_order = frappe.get_doc(
		{"doctype": "Work Order", "production_item": "LMD-SYR-5ML", "bom_no": bom, "qty": qty, "company": company,
		 "source_warehouse": warehouse["Stores"], "wip_warehouse": warehouse["Work In Progress"], "fg_warehouse": warehouse["Finished Goods"]}
	).insert()
	work_order.submit()
	if through_mes:
		run_work_order_through_mes(work_order.name, qty)
	else:
		run_work_order_in_the_desk(work_order.name, qty)
	entry = frappe.db.get_value("Stock Entry", {"work_order": work_order.name, "purpose": "Manufacture", "docstatus": 1})
	lot = frappe.db.get_value("Device History Record", {"work_order": work_order.name, "serial_no": ("is", "not set")}, "batch_no")
	for template, reading in syringe_inspection_templates().items():
		inspection = frappe.get_doc(
			{"doctype": "Quality Inspection", "inspection_type": "In Process", "reference_type": "Stock Entry",
			 "reference_name": entry, "item_code": "LMD-SYR-5ML", "batch_no": lot, "sample_size": 5,
			 "inspected_by": "Administrator", "quality_inspection_template": template}
		)
		inspection.get_item_specification_details()
		inspection.readings[0].reading_1 = str(reading)
		inspection.insert()
		inspection.submit()
	return lot


MOULDING_TEMPERATURES = (231.5, 232.0, 230.8)


def moulding_readings(work_order: str) -> list[dict]:
	return [{"parameter": "Moulding Temperature", "value": value, "unit": "°C", "lower_limit": 225, "upper_limit": 240,
	         "work_order": work_order, "equipment": "Moulding press MP-3"} for value in MOULDING_TEMPERATURES]


def run_work_order_in_the_desk(work_order: str, qty: int) -> None:
	"""Transfer and manufacture entries as a planner makes them (ERPNext picks the lots), readings typed in."""
	from erpnext.manufacturing.doctype.work_order.work_order import make_stock_entry

	for purpose in ("Material Transfer for Manufacture", "Manufacture"):
		entry = frappe.get_doc(make_stock_entry(work_order, purpose, qty))
		entry.insert()
		entry.submit()
		if purpose == "Material Transfer for Manufacture":
			for reading in moulding_readings(work_order):
				frappe.get_doc(
					{"doctype": "Process Parameter Record", **reading, "lower_limit": "225", "upper_limit": "240", "source": "MES"}
				).insert()


def run_work_order_through_mes(work_order: str, qty: int) -> None:
	"""As the moulding MES reports it through the integration API: the resin and needle lots scanned into
	the press, the moulding temperatures, and the quantity finished (its lot numbered by the coding rule)."""
	resin, needles = (material["lot"] for material in RAW_MATERIALS)
	send_from_demo_mes(
		"mes.consumption.v1", f"{work_order}-C1",
		{"work_order": work_order, "lines": [{"batch_no": resin, "qty": round(qty * RESIN_PER_SYRINGE, 3)}, {"batch_no": needles, "qty": qty}]},
	)
	for index, reading in enumerate(moulding_readings(work_order), start=1):
		send_from_demo_mes("mes.process_parameter.v1", f"{work_order}-T{index}", {**reading, "recorded_at": now_datetime().isoformat()})
	send_from_demo_mes("mes.production.v1", f"{work_order}-P1", {"work_order": work_order, "qty": qty, "completed_at": now_datetime().isoformat()})


def send_from_demo_mes(message_type: str, message_id: str, payload: dict) -> None:
	"""A message as the MES sends it: logged and validated on arrival, then turned into documents by the code
	the background worker runs."""
	from medtrace.medtrace_integrations.inbound import process_message, receive_message

	ensure_demo_mes()
	frappe.set_user(DEMO_MES_USER)
	try:
		name = receive_message(message_type, message_id, payload)["message"]
	finally:
		frappe.set_user("Administrator")
	process_message(name)
	status, error = frappe.db.get_value("Integration Message", name, ["status", "error"])
	if status != "Processed":
		frappe.throw(_("The demo's message {0} was not processed: {1}").format(name, error))


def ensure_demo_mes() -> None:
	if not frappe.db.exists("User", DEMO_MES_USER):
		user = frappe.get_doc(
			{"doctype": "User", "email": DEMO_MES_USER, "first_name": "Moulding MES", "user_type": "System User", "send_welcome_email": 0}
		).insert(ignore_permissions=True)
		# What the MES does: move material to Work Orders, report production, number lots.
		user.add_roles("MedTrace Production Operator", "Manufacturing User", "Stock User", "Item Manager")
	if not frappe.db.exists("Integration System", DEMO_MES):
		frappe.get_doc(
			{"doctype": "Integration System", "system_name": DEMO_MES, "system_type": "MES", "api_user": DEMO_MES_USER,
			 "company": DEMO_COMPANY}
		).insert()


def release_dhr_of_lot(lot: str, signing_password: str) -> None:
	from medtrace.quality.dhr import release_device_history_record

	approver = DEMO_PEOPLE[1][0]
	dhr = frappe.db.get_value("Device History Record", {"batch_no": lot, "serial_no": ("is", "not set")})
	frappe.set_user(approver)
	release_device_history_record(dhr, password=signing_password, reason="Lot record reviewed")
	frappe.set_user("Administrator")


# Customer → (syringes of the released lot, infusion pumps).
DEMO_SHIPMENTS = {
	"Suzhou Municipal Hospital": (120, 2),
	"Shanghai Ruijin Hospital": (80, 1),
	"East China Medical Distribution Co.": (60, 0),
}


def ship_demo_orders(company: str, lot: str) -> None:
	finished = frappe.db.get_value("Warehouse", {"company": company, "warehouse_name": "Finished Goods"})
	pumps = iter(frappe.get_all("Serial No", filters={"item_code": "LMD-PUMP-200", "warehouse": finished}, pluck="name", order_by="name"))
	for customer, (syringes, pump_count) in DEMO_SHIPMENTS.items():
		note = frappe.new_doc("Delivery Note")
		note.update({"customer": customer, "company": company, "posting_date": nowdate()})
		note.append("items", {"item_code": "LMD-SYR-5ML", "qty": syringes, "rate": 3.5, "warehouse": finished, "batch_no": lot,
		                      "use_serial_batch_fields": 1})
		if pump_count:
			note.append("items", {"item_code": "LMD-PUMP-200", "qty": pump_count, "rate": 9800, "warehouse": finished,
			                      "serial_no": "\n".join(next(pumps) for _pump in range(pump_count)), "use_serial_batch_fields": 1})
		note.insert()
		note.submit()


# GS1 keys of the demo company (its GTINs start with its prefix) and the GLNs EPCIS events name places and
# parties by.
DEMO_GS1_COMPANY_PREFIX = "6951234"
DEMO_GLNS = {
	("Company", DEMO_COMPANY): "6951234000004",
	("Warehouse", f"Finished Goods - {DEMO_ABBR}"): "6951234000011",
	("Warehouse", f"Stores - {DEMO_ABBR}"): "6951234000028",
	("Customer", "Suzhou Municipal Hospital"): "6900001000013",
	("Customer", "Shanghai Ruijin Hospital"): "6900001000020",
	("Customer", "East China Medical Distribution Co."): "6900001000037",
}
DEMO_PALLET_CUSTOMER = "Shanghai Ruijin Hospital"
SYRINGE_CASE_DI = "16951234500013"


def ensure_gs1_keys() -> None:
	settings = frappe.get_single("MedTrace Settings")
	if not settings.gs1_company_prefix:
		settings.gs1_company_prefix = DEMO_GS1_COMPANY_PREFIX
		settings.save()
	for (doctype, name), gln in DEMO_GLNS.items():
		if frappe.db.exists(doctype, name) and not frappe.db.get_value(doctype, name, "medtrace_gln"):
			frappe.db.set_value(doctype, name, "medtrace_gln", gln)


def pack_and_ship_demo_pallet(company: str, lot: str) -> None:
	"""What is left of the released syringe lot goes into cases of 20 (the case UDI-DI) on a pallet, as the
	packing line does from the Manufacture entry, and the pallet is shipped by scanning its SSCC onto a
	Delivery Note: every syringe inside is delivered."""
	from medtrace.packaging.production import pack_stock_entry
	from medtrace.packaging.shipping import add_packages_to_delivery_note

	work_order = frappe.db.get_value("Device History Record", {"batch_no": lot, "serial_no": ("is", "not set")}, "work_order")
	entry = frappe.db.get_value("Stock Entry", {"work_order": work_order, "purpose": "Manufacture", "docstatus": 1})
	packed = pack_stock_entry(entry, units_per_case=20, udi_device_identifier=SYRINGE_CASE_DI, cases_per_pallet=10)
	note = frappe.new_doc("Delivery Note")
	note.update({"customer": DEMO_PALLET_CUSTOMER, "company": company, "posting_date": nowdate()})
	sscc = frappe.db.get_value("Package", packed["pallets"][0], "sscc")
	note = frappe.get_doc(add_packages_to_delivery_note(note.as_dict(), [f"(00){sscc}"]))
	for row in note.items:
		row.rate = 3.5
	note.insert()
	note.submit()


def ensure_customers() -> None:
	for customer, email in DEMO_CUSTOMERS.items():
		if not frappe.db.exists("Customer", customer):
			frappe.get_doc({"doctype": "Customer", "customer_name": customer, "customer_type": "Company", "email_id": email}).insert()


def load_demo(signing_password: str) -> None:
	ensure_company(DEMO_COMPANY, DEMO_ABBR, "CNY", "China", "Asia/Shanghai")
	ensure_fiscal_year(DEMO_COMPANY)
	ensure_exchange_rates()
	ensure_demo_people(signing_password)
	for device in DEMO_DEVICES:
		ensure_device(device, DEMO_COMPANY, signing_password)
	ensure_syringe_lot_numbering()
	receive_demo_stock(DEMO_COMPANY)
	ensure_raw_materials(DEMO_COMPANY)
	ensure_customers()
	ensure_gs1_keys()
	make_syringe_lots(DEMO_COMPANY, signing_password)
	make_change_request(signing_password)
	make_complaint_and_drill(signing_password)
	fill_the_dashboard()
	frappe.db.commit()


DEMO_EMAIL_ACCOUNT = "Lumen Medical Notifications"
DEMO_DRILL_TITLE = "Q4 mock recall: supplier notice on resin lots 23A117, 23A118"


def make_complaint_and_drill(signing_password: str) -> None:
	"""A hospital's complaint about a syringe of the shipped lot, and a mock recall drill from the resin
	supplier's notice naming its lots 23A117 (our PP-2611-A, which both syringe lots were moulded from) and
	23A118 (never received), scoped and notified (a drill sends nothing)."""
	from medtrace.signatures.esignature import apply_workflow

	if frappe.db.exists("Recall", {"title": DEMO_DRILL_TITLE}):
		return
	ensure_outgoing_email_account(DEMO_EMAIL_ACCOUNT, "quality@lumen-medical.example", "smtp.lumen-medical.example")
	shipped_lot = frappe.db.get_value("Traceability Event", {"event": "Lot Released"}, "batch_no")
	frappe.set_user(DEMO_PEOPLE[0][0])
	frappe.get_doc(
		{"doctype": "Customer Complaint", "reporter_name": "Wang Fang, head nurse", "reporter_contact": "+86 512 6522 0000",
		 "customer": "Suzhou Municipal Hospital", "received_on": nowdate(), "event_date": nowdate(),
		 "scanned_udi": frappe.db.get_value("Batch", shipped_lot, "udi_element_string"), "patient_involvement": "None",
		 "event_description": "Plunger stiff on three syringes of one box; no patient use.", "status": "Under Investigation"}
	).insert()
	# What the quality engineer works out before the drill: the lots moulded from the resin, per their DHRs.
	syringe_lots = frappe.get_all(
		"Device History Record", filters={"item": "LMD-SYR-5ML", "serial_no": ("is", "not set")}, pluck="batch_no", order_by="batch_no"
	)
	drill = frappe.get_doc(
		{"doctype": "Recall", "title": DEMO_DRILL_TITLE, "is_drill": 1, "classification": "Class II", "trigger": "Supplier Notice",
		 "reason": "Rehearsal: the resin supplier reports a possible additive contamination of its lots 23A117 and 23A118.",
		 "supplier": DEMO_SUPPLIER, "supplier_lots": "23A117, 23A118",
		 "expected_population": "\n".join([RAW_MATERIALS[0]["lot"], *syringe_lots])}
	).insert()
	apply_workflow(drill, "Scope Recall")
	apply_workflow(frappe.get_doc("Recall", drill.name), "Mark Notified")
	frappe.set_user("Administrator")


def ensure_outgoing_email_account(account: str, email_id: str, smtp_server: str) -> None:
	"""The default outgoing account recall notices are queued through. It has no password, and its server
	is not localhost, so Frappe does not connect to the server when it is saved; nothing is sent until an
	administrator completes it."""
	if not frappe.db.exists("Email Account", account):
		frappe.get_doc(
			{"doctype": "Email Account", "email_account_name": account, "email_id": email_id, "enable_outgoing": 1,
			 "default_outgoing": 1, "smtp_server": smtp_server, "no_smtp_authentication": 1}
		).insert(ignore_permissions=True)


def fill_the_dashboard() -> None:
	"""What the hourly data-quality run and a quality engineer's first traces would leave, so the dashboard
	shows real figures from the start."""
	from medtrace.quality.data_quality import evaluate_all_rules
	from medtrace.traceability.api import get_trace

	evaluate_all_rules()
	for material in RAW_MATERIALS:
		get_trace(material["lot"], direction="forward")
	for lot in frappe.get_all("Batch", filters={"item": "LMD-SYR-5ML", "name": ("like", "LJ%")}, pluck="name"):
		get_trace(lot, direction="backward")


def ensure_demo_people(password: str) -> None:
	from frappe.utils.password import update_password

	for email, first_name, last_name, role in DEMO_PEOPLE:
		if not frappe.db.exists("User", email):
			user = frappe.get_doc(
				{"doctype": "User", "email": email, "first_name": first_name, "last_name": last_name, "send_welcome_email": 0}
			).insert(ignore_permissions=True)
			user.add_roles(role)
		update_password(email, password)


def make_change_request(password: str) -> None:
	"""A label change approved by the quality approver and regulatory affairs, implemented by the engineer
	and waiting for its verification."""
	from medtrace.signatures.esignature import apply_workflow

	if frappe.db.exists("Change Request", {"title": DEMO_CHANGE_TITLE}):
		return
	engineer, approver, regulatory = (person[0] for person in DEMO_PEOPLE)
	syringe_di = DEMO_DEVICES[0]["udi"]["udi_di"]
	frappe.set_user(engineer)
	change_request = frappe.get_doc(
		{
			"doctype": "Change Request",
			"title": DEMO_CHANGE_TITLE,
			"change_type": "Labeling",
			"description": "Stability study SR-2026-07 supports storage up to 30 °C; the label and the UDI database entry must say so.",
			"risk_level": "Low",
			"risk_assessment": "No change to the device; labeling text only.",
			"regulatory_impact": "Update the NMPA UDI database and EUDAMED entries of the DI.",
			"verification_plan": "Check the printed label against the approved artwork.",
			"affected_records": [{"reference_doctype": "UDI Device Identifier", "reference_name": syringe_di}],
			"proposed_changes": [
				{"reference_doctype": "UDI Device Identifier", "reference_name": syringe_di, "fieldname": "storage_conditions",
				 "new_value": "Store between 5 °C and 30 °C, dry, away from sunlight."}
			],
			"approval_requirements": [
				{"role": "MedTrace Quality Approver", "approvals_needed": 1},
				{"role": "MedTrace Regulatory Affairs", "approvals_needed": 1},
			],
			"tasks": [{"task": "Release new label artwork", "assigned_to": engineer, "done": 1, "completed_on": nowdate()}],
		}
	).insert()
	apply_workflow(change_request, "Submit for Review")
	for signer, reason in ((approver, "Stability data reviewed"), (regulatory, "Registration not affected")):
		frappe.set_user(signer)
		apply_workflow(frappe.get_doc("Change Request", change_request.name), "Approve", password=password, reason=reason)
	frappe.set_user(engineer)
	apply_workflow(frappe.get_doc("Change Request", change_request.name), "Mark Implemented", password=password)
	frappe.set_user("Administrator")
