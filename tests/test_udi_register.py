"""The UDI-DI register: identifiers validated by their issuing agency's rules, and the regulatory attributes
and per-market risk classes GUDID, EUDAMED and NMPA ask for."""

import frappe
import pytest

from factories import make_device_identifier, make_item, unique_gtin


@pytest.mark.requirement("MT-UDI-001")
@pytest.mark.parametrize(
	("di", "message"),
	[
		("06951234500017", "has check digit 7; it should be 6"),
		("0695123450002", "has check digit 2; it should be 1"),
		("69512345", "has check digit 5; it should be"),
		("0695123450001X", "must have 8, 12, 13 or 14 digits"),
		("069512345000161", "must have 8, 12, 13 or 14 digits"),
	],
)
def test_a_gtin_with_a_wrong_check_digit_or_length_is_refused(di, message):
	with pytest.raises(frappe.ValidationError, match=message):
		make_device_identifier(udi_di=di)
	assert not frappe.db.exists("UDI Device Identifier", di)


@pytest.mark.requirement("MT-UDI-001")
def test_short_gtins_are_kept_as_gtin_14():
	gtin13 = unique_gtin()[1:]
	assert make_device_identifier(udi_di=gtin13).name == "0" + gtin13


@pytest.mark.requirement("MT-UDI-001")
@pytest.mark.parametrize("di", ["1A23PROD1", "A12", "ABCD" + "P" * 19 + "1", "ABCDPROD"])
def test_an_hibc_di_breaking_the_hibcc_format_is_refused(di):
	with pytest.raises(frappe.ValidationError, match="4-character labeler code starting with a letter"):
		make_device_identifier(udi_di=di, issuing_agency="HIBCC")


@pytest.mark.requirement("MT-UDI-001")
def test_a_valid_hibc_di_is_registered_in_capitals_and_one_di_per_packaging_level():
	item = make_item(has_batch_no=1).name
	di = make_device_identifier(udi_di=f"a{frappe.generate_hash(length=3)}p{frappe.generate_hash(length=4)}1".lower(), issuing_agency="HIBCC", item=item)
	assert di.name == di.name.upper() and di.issuing_agency == "HIBCC"
	with pytest.raises(frappe.DuplicateEntryError, match="already has UDI-DI"):
		make_device_identifier(item=item)


@pytest.mark.requirement("MT-UDI-002")
def test_regulatory_attributes_and_risk_class_per_market_are_kept():
	di = make_device_identifier(
		model_version="5 ml Luer", catalogue_number="LJ-5", gmdn_code="47017", registration_number="国械注准20263140001",
		is_sterile=1, sterilisation_method="Ethylene Oxide", single_use=1, contains_latex=0, mri_safety="MR Safe",
		storage_conditions="Store below 30 °C", label_lot=1, label_expiry_date=1,
		risk_classes=[{"market": "US FDA", "risk_class": "II"}, {"market": "EU MDR", "risk_class": "IIa"}, {"market": "China NMPA", "risk_class": "II"}],
	)
	stored = frappe.get_doc("UDI Device Identifier", di.name)
	assert (stored.gmdn_code, stored.registration_number, stored.mri_safety, stored.sterilisation_method) == (
		"47017", "国械注准20263140001", "MR Safe", "Ethylene Oxide"
	)
	assert {(row.market, row.risk_class) for row in stored.risk_classes} == {("US FDA", "II"), ("EU MDR", "IIa"), ("China NMPA", "II")}


@pytest.mark.requirement("MT-UDI-002")
@pytest.mark.parametrize(("market", "risk_class"), [("EU MDR", "II"), ("US FDA", "IIa"), ("EU IVDR", "III")])
def test_a_risk_class_the_market_does_not_have_is_refused(market, risk_class):
	with pytest.raises(frappe.ValidationError, match=f"risk class <strong>{risk_class}</strong> does not exist in {market}"):
		make_device_identifier(risk_classes=[{"market": market, "risk_class": risk_class}])
