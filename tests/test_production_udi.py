"""UDI on Batch and Serial No: computed on save from the DI and the production identifiers, and
consistent with the DI's label configuration."""

import frappe
import pytest
from frappe.utils import add_days, getdate

from factories import make_device_identifier, make_item, receive_stock, released

pytestmark = pytest.mark.requirement("MT-UDI-004")


def make_batch(item_code, batch_id=None, **values):
	batch = frappe.new_doc("Batch")
	batch.update({"item": item_code, "batch_id": batch_id or frappe.generate_hash(length=10).upper(), **values})
	return batch.insert()


def test_batch_gets_item_released_di_and_full_udi():
	item = make_item(has_batch_no=1, has_expiry_date=1, shelf_life_in_days=730)
	di = released(make_device_identifier(item=item.name, label_manufacture_date=1))
	batch = make_batch(item.name, "L2611-001", manufacturing_date="2026-11-01")

	assert batch.udi_device_identifier == di.name
	assert batch.expiry_date and getdate(batch.expiry_date) == getdate("2028-10-31")
	assert batch.udi_pi == "(11)261101(17)281031(10)L2611-001"
	assert batch.udi_element_string == f"(01){di.name}(11)261101(17)281031(10)L2611-001"
	assert batch.udi_digital_link == f"https://id.gs1.org/01/{di.name}/10/L2611-001?11=261101&17=281031"


@pytest.mark.requirement("MT-UDI-003")
def test_draft_di_is_not_applied_by_default():
	item = make_item(has_batch_no=1)
	make_device_identifier(item=item.name)
	batch = make_batch(item.name)
	assert not batch.udi_device_identifier
	assert not batch.udi_element_string


@pytest.mark.parametrize(
	("values", "message"),
	[
		({"manufacturing_date": "2026-11-01", "expiry_date": "2026-10-01"}, "must be after manufacturing date"),
		({"manufacturing_date": "2026-11-01"}, "requires an expiry date"),
	],
)
@pytest.mark.requirement("MT-UDI-005")
def test_batch_date_rules(values, message):
	item = make_item(has_batch_no=1)
	released(make_device_identifier(item=item.name))
	with pytest.raises(frappe.ValidationError, match=message):
		make_batch(item.name, **values)
	assert not frappe.db.exists("Batch", {"item": item.name})


@pytest.mark.parametrize(
	("batch_id", "message"),
	[("L" * 21, "at most 20"), ("LOT 7", "outside the GS1 character set"), ("LOT-É", "outside the GS1 character set")],
)
@pytest.mark.requirement("MT-UDI-005")
def test_lot_must_fit_gs1_ai_10(batch_id, message):
	item = make_item(has_batch_no=1)
	released(make_device_identifier(item=item.name))
	with pytest.raises(frappe.ValidationError, match=message):
		make_batch(item.name, batch_id, manufacturing_date="2026-01-01", expiry_date="2027-01-01")


@pytest.mark.requirement("MT-UDI-005")
def test_di_of_another_item_is_refused():
	item, other = make_item(has_batch_no=1), make_item(has_batch_no=1)
	di = released(make_device_identifier(item=other.name))
	with pytest.raises(frappe.ValidationError, match="belongs to item"):
		make_batch(item.name, udi_device_identifier=di.name, expiry_date="2030-01-01")


def test_serials_created_by_stock_entry_get_their_udi():
	"""ERPNext bulk-inserts new serial numbers on submit; MedTrace still gives each its UDI."""
	item = make_item(has_serial_no=1, serial_no_series="UT-.#####")
	di = released(make_device_identifier(item=item.name, label_lot=0, label_serial=1, label_expiry_date=0))
	entry = receive_stock(item.name, qty=3)
	serials = frappe.get_all(
		"Serial No", filters={"item_code": item.name}, fields=["name", "udi_device_identifier", "udi_element_string"]
	)
	assert len(serials) == 3, entry.name
	for serial in serials:
		assert serial.udi_device_identifier == di.name
		assert serial.udi_element_string == f"(01){di.name}(21){serial.name}"


def test_serial_of_batch_carries_lot_and_batch_dates():
	item = make_item(has_batch_no=1, has_serial_no=1, create_new_batch=1, has_expiry_date=1, shelf_life_in_days=365,
	                 serial_no_series="UB-.#####")
	di = released(make_device_identifier(item=item.name, label_serial=1))
	receive_stock(item.name, qty=2)
	serial = frappe.get_all("Serial No", filters={"item_code": item.name}, fields=["*"])[0]
	batch = frappe.get_doc("Batch", serial.batch_no)
	expiry = getdate(batch.expiry_date).strftime("%y%m%d")
	assert serial.udi_element_string == f"(01){di.name}(17){expiry}(10){batch.name}(21){serial.name}"


@pytest.mark.requirement("MT-UDI-001")
def test_hibc_device_identifier_gives_hibc_udi():
	item = make_item(has_batch_no=1)
	di = released(make_device_identifier(item=item.name, issuing_agency="HIBCC", udi_di="A123PRODX1"))
	batch = make_batch(item.name, "LOT42", expiry_date=add_days("2026-01-01", 400))
	assert batch.udi_device_identifier == di.name
	assert batch.udi_element_string.startswith("*+A123PRODX1/$$3270205LOT42")
	assert batch.udi_pi == "$$3270205LOT42"
	assert batch.udi_digital_link is None


@pytest.mark.requirement("MT-UDI-006")
def test_releasing_a_di_gives_existing_stock_its_udi():
	"""Stock received before the DI was released (e.g. before MedTrace was installed) gets its UDI on release."""
	item = make_item(has_serial_no=1, serial_no_series="BF-.#####")
	receive_stock(item.name, qty=2)
	di = make_device_identifier(item=item.name, label_lot=0, label_serial=1, label_expiry_date=0)
	assert not frappe.get_all("Serial No", filters={"item_code": item.name, "udi_element_string": ("is", "set")})
	released(di)
	serials = frappe.get_all("Serial No", filters={"item_code": item.name}, fields=["name", "udi_element_string"])
	assert [s.udi_element_string for s in serials] == [f"(01){di.name}(21){s.name}" for s in serials]


@pytest.mark.requirement("MT-UDI-006")
def test_release_reports_legacy_batches_that_cannot_form_a_udi():
	item = make_item(has_batch_no=1)
	legacy = make_batch(item.name, "LEGACY-1")  # no expiry date, which the DI's label will require
	frappe.local.message_log = []
	released(make_device_identifier(item=item.name))
	assert not frappe.db.get_value("Batch", legacy.name, "udi_element_string")
	assert any("LEGACY-1" in str(message) for message in frappe.local.message_log)


def test_serials_made_in_house_take_the_posting_date_as_manufacturing_date():
	item = make_item(has_serial_no=1, serial_no_series="MD-.#####")
	di = released(make_device_identifier(item=item.name, label_lot=0, label_serial=1, label_expiry_date=0,
	                                     label_manufacture_date=1))
	entry = receive_stock(item.name, qty=1)
	serial = frappe.get_all("Serial No", filters={"item_code": item.name}, fields=["name", "udi_element_string"])[0]
	assert serial.udi_element_string == f"(01){di.name}(11){getdate(entry.posting_date).strftime('%y%m%d')}(21){serial.name}"
