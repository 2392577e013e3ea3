"""Scan and resolve through the whitelisted method, with real GS1, Digital Link and HIBC strings."""

import frappe
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import make_device_identifier, make_item, receive_stock
from medtrace.udi.scan import SCAN_STATUSES, resolve_scan
from test_production_udi import make_batch, released

pytestmark = pytest.mark.requirement("MT-SCN-001")

GS = "\x1d"


@pytest.fixture
def serialised_device():
	"""A released GS1 DI whose serials belong to a batch: a full UDI with (17), (10) and (21)."""
	item = make_item(has_batch_no=1, has_serial_no=1, create_new_batch=1, has_expiry_date=1,
	                 shelf_life_in_days=365, serial_no_series="SC-.######")
	di = released(make_device_identifier(item=item.name, label_serial=1))
	receive_stock(item.name, qty=2)
	serial = frappe.get_all("Serial No", filters={"item_code": item.name}, fields=["*"], limit=1)[0]
	return frappe._dict(item=item.name, di=di.name, serial=serial, batch=frappe.get_doc("Batch", serial.batch_no))


def as_raw(hri_udi: str) -> str:
	from biip.gs1_messages import GS1Message

	return GS1Message.parse_hri(hri_udi).value


@pytest.mark.parametrize("carrier", ["hri", "raw", "raw_symbology", "raw_leading_gs", "digital_link", "placeholder_gs"])
def test_label_udi_round_trips_to_the_same_serial(serialised_device, carrier):
	"""Generate label data → scan it in every form a scanner delivers → the same batch and serial."""
	serial = serialised_device.serial
	raw = as_raw(serial.udi_element_string)
	scans = {
		"hri": serial.udi_element_string,
		"raw": raw,
		"raw_symbology": "]d2" + raw,
		"raw_leading_gs": GS + raw,
		"digital_link": serial.udi_digital_link,
		"placeholder_gs": raw.replace(GS, "<GS>"),
	}
	result = resolve_scan(scans[carrier])
	assert result["status"] == "resolved", result
	assert (result["udi_device_identifier"], result["batch"], result["serial_no"], result["item"]) == (
		serialised_device.di, serialised_device.batch.name, serial.name, serialised_device.item
	)
	assert result["warnings"] == []


def test_batch_udi_resolves_to_batch():
	item = make_item(has_batch_no=1)
	released(make_device_identifier(item=item.name))
	batch = make_batch(item.name, expiry_date="2027-06-30")
	result = resolve_scan(batch.udi_element_string)
	assert (result["status"], result["batch"], result["serial_no"]) == ("resolved", batch.name, None)


@pytest.fixture
def lot_with_dates():
	"""A released DI whose label carries lot, expiry and manufacturing date, and a lot of it."""
	item = make_item(has_batch_no=1)
	di = released(make_device_identifier(item=item.name, label_manufacture_date=1))
	batch = make_batch(item.name, expiry_date="2027-06-30", manufacturing_date="2026-06-01")
	return frappe._dict(di=di.name, batch=batch)


@pytest.mark.parametrize(
	("label", "lacking"),
	[
		("(01){di}(10)", ["a lot / batch number (AI 10)", "an expiry date (AI 17)", "a manufacturing date (AI 11)"]),
		("(01){di}", ["a lot / batch number (AI 10)", "an expiry date (AI 17)", "a manufacturing date (AI 11)"]),
		("(01){di}(11)260601(10){lot}", ["an expiry date (AI 17)"]),
		("(01){di}(17)270630(10){lot}", ["a manufacturing date (AI 11)"]),
	],
)
@pytest.mark.requirement("MT-SCN-003")
def test_label_lacking_what_its_di_requires_is_incomplete(lot_with_dates, label, lacking):
	"""A scan is Resolved only when the label carries every production identifier its DI's label must carry."""
	result = resolve_scan(label.format(di=lot_with_dates.di, lot=lot_with_dates.batch.name))
	assert result["status"] == "incomplete", result
	assert result["message"] == f"The label lacks {', '.join(lacking)}, which UDI-DI {lot_with_dates.di} requires on its label."


@pytest.mark.requirement("MT-SCN-003")
def test_label_carrying_everything_its_di_requires_is_resolved(lot_with_dates):
	result = resolve_scan(f"(01){lot_with_dates.di}(11)260601(17)270630(10){lot_with_dates.batch.name}")
	assert (result["status"], result["batch"], result["warnings"]) == ("resolved", lot_with_dates.batch.name, [])


@pytest.mark.parametrize(("dates", "differs"), [("(11)260602(17)270630", "manufacturing date"), ("(11)260601(17)991231", "expiry date")])
@pytest.mark.requirement("MT-SCN-003")
def test_label_whose_dates_differ_from_the_record_is_a_mismatch(lot_with_dates, dates, differs):
	result = resolve_scan(f"(01){lot_with_dates.di}{dates}(10){lot_with_dates.batch.name}")
	assert result["status"] == "mismatch"
	assert f"The label's {differs}" in result["message"] and "differs from" in result["message"]


@pytest.mark.requirement("MT-SCN-003")
def test_bare_lot_number_shows_the_lots_di(lot_with_dates):
	result = resolve_scan(lot_with_dates.batch.name)
	assert (result["status"], result["udi_device_identifier"], result["batch"]) == ("resolved", lot_with_dates.di, lot_with_dates.batch.name)


@pytest.mark.requirement("MT-SCN-002")
def test_scan_station_answers_an_unreadable_scan_as_a_result():
	"""UDI Scan's call answers a bad scan with a status and the reason, leaving no message for a dialog."""
	from medtrace.udi.scan import scan_label

	result = scan_label("(01)06951234500017(10)LOT1")
	assert result["status"] == "unreadable"
	assert "check digit 7; it should be 6" in result["message"] and "<" not in result["message"]
	assert frappe.local.message_log == []


def test_hibc_round_trip():
	item = make_item(has_batch_no=1)
	di = released(make_device_identifier(item=item.name, issuing_agency="HIBCC", udi_di="H123CATH7F1"))
	batch = make_batch(item.name, "L77", expiry_date="2027-03-31")
	carrier = batch.udi_element_string.strip("*")
	result = resolve_scan(carrier)
	assert (result["status"], result["udi_device_identifier"], result["batch"]) == ("resolved", di.name, "L77")
	assert {f["key"]: f["value"] for f in result["fields"]}["expiry"] == "2027-03-31"


@pytest.mark.requirement("MT-UDI-001")
def test_hibc_reference_check_character():
	"""HIBC's published mod-43 example: +A123BJC5D6E71 has check character G."""
	from medtrace.udi.identifiers import hibc_check_character

	assert hibc_check_character("+A123BJC5D6E71") == "G"


@pytest.mark.parametrize(
	("scan", "message"),
	[
		("(01)06951234500017(10)LOT1", "check digit 7; it should be 6"),
		("0106951234500017" + "10LOT1", "check digit 7; it should be 6"),
		("https://id.example.com/01/06951234500017/10/LOT1", "check digit 7; it should be 6"),
		("010695123450001617280132", r"Expiry date \(AI 17\) .*280132.* is not a valid YYMMDD date"),
		("(01)06951234500016(17)280132", r"Expiry date \(AI 17\) .*280132.* is not a valid YYMMDD date"),
		("(01)06951234500016(10)" + "L" * 21, r"Lot \(AI 10\) .* must be 1 to 20 characters"),
		("010695123450001610" + "L" * 21, "longer than 20 characters"),
		("01069512" + GS + "34500016", "FNC1 separator may be misplaced"),
		("+A123BJC5D6E71X", "check character is X; it should be G"),
		("+a123", "characters HIBC does not allow"),
		("NO-SUCH-THING-42", "matches no serial number, batch or UDI-DI"),
		("", "Nothing was scanned"),
		("]V0" + "0106951234500016", "not a GS1 code MedTrace can read"),
		("01" + "1" * 600, "at most 512"),
	],
)
@pytest.mark.requirement("MT-SCN-002")
def test_bad_scans_get_specific_messages(scan, message):
	with pytest.raises(frappe.ValidationError, match=message):
		resolve_scan(scan)


@pytest.mark.requirement("MT-SCN-002")
def test_unknown_di_is_reported_not_raised():
	result = resolve_scan("(01)06951234500993(10)X1")
	assert result["status"] == "unknown"
	assert "06951234500993 is not registered" in result["message"]


@pytest.mark.requirement("MT-SCN-003")
def test_label_of_another_item_is_inconsistent(serialised_device):
	other = released(make_device_identifier(item=make_item(has_batch_no=1).name))
	result = resolve_scan(f"(01){other.name}(10){serialised_device.batch.name}")
	assert result["status"] == "inconsistent"


@pytest.mark.requirement("MT-SCN-003")
def test_expiry_on_label_differing_from_record_is_a_mismatch(serialised_device):
	batch = serialised_device.batch
	result = resolve_scan(f"(01){serialised_device.di}(17)991231(10){batch.name}(21){serialised_device.serial.name}")
	assert result["status"] == "mismatch"
	assert "differs from" in result["message"]


@pytest.mark.requirement("MT-SCN-002")
def test_bare_value_matching_serial_and_batch_is_ambiguous(serialised_device):
	item = make_item(has_batch_no=1)
	make_batch(item.name, serialised_device.serial.name)
	result = resolve_scan(serialised_device.serial.name)
	assert result["status"] == "ambiguous"
	assert {c["doctype"] for c in result["candidates"]} == {"Serial No", "Batch"}


@pytest.mark.requirement("MT-PRM-001")
def test_user_without_read_access_is_refused():
	frappe.set_user("Guest")
	with pytest.raises(frappe.PermissionError):
		resolve_scan("(01)06951234500016")


@pytest.mark.requirement("MT-SCN-002")
def test_rest_endpoint_answers_bad_input_with_417_not_500(test_site):
	"""The Desk scan box calls the method over HTTP: malformed input must come back as a validation error."""
	from frappe.app import application
	from werkzeug.test import Client

	frappe.db.commit()
	client = Client(application)
	login = client.post("/api/method/login", data={"usr": "Administrator", "pwd": "admin"}, headers={"Host": test_site})
	assert login.status_code == 200
	response = client.post(
		"/api/method/medtrace.udi.scan.resolve_scan", data={"scan": "010695123450001617280132"}, headers={"Host": test_site}
	)
	assert response.status_code == 417
	assert "not a valid YYMMDD date" in response.get_data(as_text=True)


GS1_ALPHABET = "0123456789()+$/%-.:<>?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz \x1d]"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
	st.one_of(
		st.text(max_size=80),
		st.text(alphabet=GS1_ALPHABET, max_size=80),
		st.builds(lambda tail: "01" + tail, st.text(alphabet=GS1_ALPHABET, max_size=60)),
		st.builds(lambda tail: "(01)" + tail, st.text(alphabet=GS1_ALPHABET, max_size=60)),
		st.builds(lambda tail: "+" + tail, st.text(alphabet=GS1_ALPHABET.upper(), max_size=40)),
		st.builds(lambda tail: "https://id.example.com/01/" + tail, st.text(alphabet=GS1_ALPHABET, max_size=60)),
	)
)
@pytest.mark.requirement("MT-SCN-002")
def test_any_input_gives_a_result_or_a_validation_error(scan):
	try:
		result = resolve_scan(scan)
	except frappe.ValidationError:
		return
	assert result["status"] in SCAN_STATUSES
	assert result["message"]
