"""The published message schemas (v1). Each message type is a pydantic model: it validates what a
system sends and is the source of the OpenAPI document (docs/openapi.json, served by the site)."""

import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Name = Field(min_length=1, max_length=140)


class Message(BaseModel):
	model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProcessParameterV1(Message):
	"""MES: one process reading against a Work Order, a lot or a serial number."""

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

	supplier: str = Name
	supplier_delivery_note: str | None = Field(default=None, max_length=140)
	lines: list[ReceiptLine] = Field(min_length=1)


MESSAGE_TYPES: dict[str, type[Message]] = {
	"mes.process_parameter.v1": ProcessParameterV1,
	"lims.test_result.v1": TestResultV1,
	"wms.receipt.v1": ReceiptV1,
}
