"""The published message schemas (v1). Each message type is a pydantic model: it validates what a
system sends and is the source of the OpenAPI document (docs/openapi.json, served by the site)."""

import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Name = Field(min_length=1, max_length=140)
SerialNo = Annotated[str, Field(min_length=1, max_length=140)]


class Message(BaseModel):
	model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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
	value: float | str


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
	udi: str = Field(min_length=1, max_length=512, description=UDI_DESCRIPTION)
	qty: float = Field(default=1, gt=0, description="In the item's stock unit; 1 for a serial number")


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


MESSAGE_TYPES: dict[str, type[Message]] = {
	"mes.process_parameter.v1": ProcessParameterV1,
	"mes.consumption.v1": ConsumptionV1,
	"mes.production.v1": ProductionV1,
	"lims.test_result.v1": TestResultV1,
	"wms.receipt.v1": ReceiptV1,
	"wms.transfer.v1": TransferV1,
	"wms.pick.v1": PickV1,
}
