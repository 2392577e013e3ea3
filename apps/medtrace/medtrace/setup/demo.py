"""The demo company behind the README's run command: a small device maker with UDI-tracked products.

Everything is created through ERPNext's own documents (setup wizard, Item, Stock Entry), so the demo
exercises the same hooks and validations as real use. Later features add their own demo records here.
"""

import frappe
from frappe.desk.page.setup_wizard.setup_wizard import setup_complete
from frappe.utils import getdate, nowdate

DEMO_COMPANY = "Suzhou Lumen Medical Devices Co., Ltd."
DEMO_ABBR = "LMD"

# Rates an offline site cannot fetch; dated far back so every posting date finds them.
EXCHANGE_RATES = {("USD", "CNY"): 7.10, ("EUR", "CNY"): 7.70, ("CNY", "USD"): 0.1408, ("EUR", "USD"): 1.08}

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


def ensure_device(device: dict, company: str) -> str:
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
		di.insert(ignore_permissions=True)
		release_device_identifier(di)
	return item_code


def release_device_identifier(di) -> None:
	from frappe.model.workflow import apply_workflow

	for action in ("Submit for Approval", "Approve"):
		di = apply_workflow(di, action)


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


def load_demo() -> None:
	ensure_company(DEMO_COMPANY, DEMO_ABBR, "CNY", "China", "Asia/Shanghai")
	ensure_fiscal_year(DEMO_COMPANY)
	ensure_exchange_rates()
	for device in DEMO_DEVICES:
		ensure_device(device, DEMO_COMPANY)
	receive_demo_stock(DEMO_COMPANY)
	frappe.db.commit()
