"""The published message schemas (v1). Each message type is a pydantic model: it validates what a
system sends and is the source of the OpenAPI document (docs/openapi.json, served by the site).

Every value of every message must be one MedTrace can store and show (Message checks them all, whatever
fields a message type has): text without control characters (a scanned label keeps the GS between its
fields), finite numbers within the 10^12 a quantity column holds, dates within what the database stores
whatever the time zone. The OpenAPI document says so (openapi.py), so a sender learns it from the document
rather than from a worker's failure after the message was accepted."""

import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from medtrace.udi.identifiers import control_characters
from medtrace.utils.filters import EARLIEST_DAY, LATEST_DAY

# Float columns are decimal(21,9).
NUMBER_LIMIT = 10**12
# Labels as scanned: raw GS1 element strings separate variable-length fields with GS (FNC1).
SCANNED_FIELDS = frozenset({"udi", "package"})
GROUP_SEPARATOR = "U+001D"

Name = Field(min_length=1, max_length=140)
SerialNo = Annotated[str, Field(min_length=1, max_length=140)]


class Message(BaseModel):
	model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

	@field_validator("*", mode="before")
	@classmethod
	def no_control_characters(cls, value, info: ValidationInfo):
		# Before the surrounding whitespace is stripped, which would take trailing control characters with it.
		for text in value if isinstance(value, list) else [value]:
			found = control_characters(text) if isinstance(text, str) else []
			if info.field_name in SCANNED_FIELDS:
				found = [code for code in found if code != GROUP_SEPARATOR]
			if found:
				raise ValueError(f"control characters are not allowed ({', '.join(found)})")
		return value

	@field_validator("*")
	@classmethod
	def storable(cls, value):
		if isinstance(value, float) and not -NUMBER_LIMIT < value < NUMBER_LIMIT:
			raise ValueError(f"must lie between -10^12 and 10^12, not {value:g}")
		if isinstance(value, datetime.date):
			day = value.date() if isinstance(value, datetime.datetime) else value
			if not EARLIEST_DAY <= day <= LATEST_DAY:
				raise ValueError(f"must lie between {EARLIEST_DAY} and {LATEST_DAY}")
		return value


def example(payload: dict) -> ConfigDict:
	"""A payload shown in the OpenAPI document."""
	return ConfigDict(json_schema_extra={"examples": [payload]})


class ProcessParameterV1(Message):
	"""MES: one process reading against a Work Order, a lot or a serial number."""

	model_config = example(
		{"parameter": "Moulding Temperature", "value": 231.5, "unit": "°C", "lower_limit": 225, "upper_limit": 240,
		 "work_order": "MFG-WO-2026-00012", "equipment": "Moulding press MP-3", "recorded_at": "2026-11-20T08:30:00+08:00"}
	)

	parameter: str = Name
	value: float
	unit: str | None = Field(default=None, max_length=40)
	lower_limit: float | None = None
	upper_limit: float | None = None
	work_order: str | None = Field(default=None, max_length=140)
	batch_no: str | None = Field(default=None, max_length=140)
	serial_no: str | None = Field(default=None, max_length=140)
	equipment: str | None = Field(default=None, max_length=140)
	recorded_at: datetime.datetime

	@model_validator(mode="after")
	def names_what_was_measured(self):
		if not (self.work_order or self.batch_no or self.serial_no):
			raise ValueError("one of work_order, batch_no or serial_no is required")
		return self


class Reading(Message):
	parameter: str = Name
	value: float | Annotated[str, Field(max_length=140)]


class TestResultV1(Message):
	"""LIMS: the result of testing a lot or serial against a Quality Inspection Template."""

	model_config = example(
		{"batch_no": "LJ26110002", "udi": "(01)06951234500016(17)281031(10)LJ26110002",
		 "quality_inspection_template": "Syringe Leak Test", "inspection_type": "In Process",
		 "readings": [{"parameter": "Leak Rate (mbar/min)", "value": 0.2}], "tested_at": "2026-11-21T10:00:00+08:00"}
	)

	batch_no: str | None = Field(default=None, max_length=140)
	serial_no: str | None = Field(default=None, max_length=140)
	udi: str | None = Field(default=None, max_length=512, description="The sample's label as scanned, checked against the lot/serial")
	quality_inspection_template: str = Name
	inspection_type: Literal["Incoming", "In Process", "Outgoing"] = "In Process"
	readings: list[Reading] = Field(min_length=1)
	tested_at: datetime.datetime

	@model_validator(mode="after")
	def names_what_was_tested(self):
		if not (self.batch_no or self.serial_no):
			raise ValueError("one of batch_no or serial_no is required")
		return self


class ReceiptLine(Message):
	item_code: str = Name
	qty: float = Field(gt=0)
	rate: float = Field(default=0, ge=0)
	supplier_lot: str | None = Field(default=None, max_length=140)
	manufacture_date: datetime.date | None = None
	expiry_date: datetime.date | None = None
	warehouse: str | None = Field(default=None, max_length=140)


class ReceiptV1(Message):
	"""WMS: goods received from a supplier, with the supplier's lot numbers."""

	model_config = example(
		{"supplier": "Ningbo Polymer Co.", "supplier_delivery_note": "NP-DN-88121",
		 "lines": [{"item_code": "LMD-RM-PP", "qty": 250, "rate": 2.1, "supplier_lot": "PP-2611-A",
		            "manufacture_date": "2026-10-30", "expiry_date": "2028-10-29"}]}
	)

	supplier: str = Name
	supplier_delivery_note: str | None = Field(default=None, max_length=140)
	lines: list[ReceiptLine] = Field(min_length=1)


UDI_DESCRIPTION = "A label as scanned: GS1 element string, GS1 Digital Link or HIBC, naming a lot or serial number"


class ConsumedLine(Message):
	"""A lot or serial number used in production, named by its number or by its scanned label."""

	batch_no: str | None = Field(default=None, max_length=140)
	serial_no: str | None = Field(default=None, max_length=140)
	udi: str | None = Field(default=None, max_length=512, description=UDI_DESCRIPTION)
	item_code: str | None = Field(default=None, max_length=140, description="Checked against the item of the lot, serial or label")
	qty: float = Field(gt=0, description="In the item's stock unit; 1 for a serial number")

	@model_validator(mode="after")
	def names_one_lot_or_serial(self):
		if len([value for value in (self.batch_no, self.serial_no, self.udi) if value]) != 1:
			raise ValueError("exactly one of batch_no, serial_no or udi is required")
		return self


class ConsumptionV1(Message):
	"""MES: lots and serial numbers moved to a Work Order's work in progress. The first one starts the Work Order."""

	model_config = example(
		{"work_order": "MFG-WO-2026-00012", "from_warehouse": "Stores - LMD",
		 "lines": [{"udi": "(01)06951234500108(10)PP-2611-A", "item_code": "LMD-RM-PP", "qty": 2.4},
		           {"batch_no": "ND-2610-07", "qty": 200}]}
	)

	work_order: str = Name
	lines: list[ConsumedLine] = Field(min_length=1)
	from_warehouse: str | None = Field(
		default=None, max_length=140, description="Default: the Work Order's source warehouse, else the system's default warehouse"
	)


class ProductionV1(Message):
	"""MES: a quantity a Work Order finished, with the lot and serial numbers made. Partial quantities are progress;
	the Work Order completes with its last."""

	model_config = example(
		{"work_order": "MFG-WO-2026-00031", "qty": 2, "batch_no": "IP26110004", "serial_nos": ["IP2611000417", "IP2611000418"],
		 "consumed": [{"udi": "(01)06951234500207(21)MB-00391", "qty": 1}, {"udi": "(01)06951234500207(21)MB-00392", "qty": 1}],
		 "completed_at": "2026-11-24T16:05:00+08:00"}
	)

	work_order: str = Name
	qty: float = Field(gt=0)
	batch_no: str | None = Field(
		default=None, max_length=140,
		description="The finished lot, new or made earlier by the Work Order; omitted, a new lot is numbered as the item's lots are",
	)
	serial_nos: list[SerialNo] = Field(default_factory=list, description="One new serial number per unit, for items with serial numbers")
	consumed: list[ConsumedLine] | None = Field(
		default=None, min_length=1, description="Exactly what was used; omitted, a share of what was moved to work in progress"
	)
	completed_at: datetime.datetime


class ScannedLine(Message):
	udi: str = Field(
		min_length=1, max_length=512, description=UDI_DESCRIPTION + ", or a package's SSCC or package UDI: everything packed inside"
	)
	qty: float = Field(default=1, gt=0, description="In the item's stock unit; 1 for a serial number; ignored for a package")


class TransferV1(Message):
	"""WMS: lots and serial numbers moved from one warehouse to another, by their scanned labels."""

	model_config = example(
		{"from_warehouse": "Quarantine - LMD", "to_warehouse": "Finished Goods - LMD",
		 "lines": [{"udi": "(01)06951234500016(17)281031(10)LJ26110002", "qty": 120},
		           {"udi": "https://id.gs1.org/01/06951234500306/21/IP2611000417"}]}
	)

	to_warehouse: str = Name
	from_warehouse: str | None = Field(default=None, max_length=140, description="Default: the system's default warehouse")
	lines: list[ScannedLine] = Field(min_length=1)


class PickV1(Message):
	"""WMS: lots and serial numbers picked and shipped to a customer, by their scanned labels."""

	model_config = example(
		{"customer": "Suzhou Municipal Hospital", "warehouse": "Finished Goods - LMD",
		 "shipping_address": "Suzhou Municipal Hospital-Shipping",
		 "lines": [{"udi": "(01)06951234500016(17)281031(10)LJ26110002", "qty": 60},
		           {"udi": "(01)06951234500306(21)IP2611000417"}]}
	)

	customer: str = Name
	lines: list[ScannedLine] = Field(min_length=1)
	warehouse: str | None = Field(default=None, max_length=140, description="Default: the system's default warehouse")
	shipping_address: str | None = Field(default=None, max_length=140, description="An Address of the customer")


class PackedLine(Message):
	udi: str = Field(min_length=1, max_length=512, description=UDI_DESCRIPTION + ", or a package's SSCC or package UDI")
	qty: float = Field(default=1, gt=0, description="For a lot's label, how many of the lot; 1 for a serial number or a package")


class PackV1(Message):
	"""WMS: units and packages packed into a case or pallet, identified by SSCC (AI 00). A new SSCC — or none, and
	MedTrace assigns one from its GS1 Company Prefix — creates the package; a known SSCC is packed into."""

	model_config = example(
		{"packaging_level": "Pallet", "warehouse": "Finished Goods - LMD",
		 "lines": [{"udi": "(00)069512340000000011"}, {"udi": "(00)069512340000000028"}]}
	)

	sscc: str | None = Field(default=None, pattern=r"^\d{18}$", description="18 digits with the GS1 check digit")
	packaging_level: Literal["Case", "Pallet", "Inner Pack"] = "Case"
	udi_device_identifier: str | None = Field(
		default=None, max_length=140, description="A packaging-level UDI-DI: the package also gets a package UDI (AI 01 + 21)"
	)
	warehouse: str | None = Field(default=None, max_length=140, description="Default: the system's default warehouse")
	lines: list[PackedLine] = Field(min_length=1)


class UnpackV1(Message):
	"""WMS: a package opened, the lines taken out of it, or everything when no lines are sent. Its history is kept."""

	model_config = example({"package": "(00)069512340000000011", "lines": [{"udi": "(01)06951234500016(17)281031(10)LJ26110002", "qty": 10}]})

	package: str = Field(min_length=1, max_length=512, description="The package's label as scanned: SSCC or package UDI")
	lines: list[PackedLine] | None = Field(default=None, min_length=1)


class EpcisReceiptV1(Message):
	"""WMS: what a supplier or contract manufacturer ships, as their GS1 EPCIS 2.0 document (JSON-LD, as exported).
	Each ObjectEvent with bizStep shipping whose destination (owning party, else possessing party) is the
	system's company, by the GLN recorded on it, becomes a Purchase Receipt as wms.receipt.v1 makes one: the
	source party's GLN names the Supplier; each quantityList entry is a lot (LGTIN, as EPC URN or GS1 Digital
	Link) of the item whose UDI-DI or Item Barcode is the GTIN, counted in the item's stock unit (uom as a
	UN/CEFACT code, none for a count); a lot's expiry date is the itemExpirationDate of an event's ilmd; a
	desadv in bizTransactionList is the supplier's delivery note. The document's other events (the sender's
	commissioning, production, packing) are not recorded; serial numbers (epcList) are refused."""

	model_config = example(
		{"document": {
			"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
			"schemaVersion": "2.0", "creationDate": "2026-11-30T08:05:00.000Z",
			"epcisBody": {"eventList": [{
				"type": "ObjectEvent", "eventTime": "2026-11-30T08:00:00.000Z", "eventTimeZoneOffset": "+08:00",
				"action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
				"readPoint": {"id": "https://id.gs1.org/414/6901234000019"},
				"quantityList": [{"epcClass": "urn:epc:class:lgtin:6901234.000017.PP-2611-A", "quantity": 250, "uom": "KGM"}],
				"bizTransactionList": [{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:6901234000019:NP-DN-88121"}],
				"sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:6901234.00001"}],
				"destinationList": [{"type": "owning_party", "destination": "https://id.gs1.org/417/6951234000003"}],
				"ilmd": {"cbvmda:itemExpirationDate": "2028-10-29"},
			}]},
		}}
	)

	document: dict = Field(description="The EPCIS 2.0 document (type EPCISDocument, events in epcisBody.eventList)")
	warehouse: str | None = Field(default=None, max_length=140, description="Default: the system's default warehouse")


MESSAGE_TYPES: dict[str, type[Message]] = {
	"mes.process_parameter.v1": ProcessParameterV1,
	"mes.consumption.v1": ConsumptionV1,
	"mes.production.v1": ProductionV1,
	"lims.test_result.v1": TestResultV1,
	"wms.receipt.v1": ReceiptV1,
	"wms.epcis_receipt.v1": EpcisReceiptV1,
	"wms.transfer.v1": TransferV1,
	"wms.pick.v1": PickV1,
	"wms.pack.v1": PackV1,
	"wms.unpack.v1": UnpackV1,
}
