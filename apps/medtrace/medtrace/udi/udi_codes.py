"""Building a device's full UDI (DI + production identifiers) in the forms labels and records carry.

GS1: the raw element string (FNC1 as ASCII 29, what a DataMatrix / GS1-128 encodes), the human-readable
form with parentheses, and the GS1 Digital Link URI — all produced by biip from one raw string, so the
three can never disagree. HIBC: the concatenated primary/secondary string with its mod-43 check character.
"""

import datetime
from dataclasses import dataclass

from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_messages import GS1Message

from medtrace.udi.identifiers import hibc_check_character

GROUP_SEPARATOR = "\x1d"
# Fixed-length AIs first so only variable-length ones need a separator; GS1's recommended UDI order.
FIXED_LENGTH_AIS = ("01", "11", "17")
VARIABLE_LENGTH_AIS = ("10", "21")


@dataclass(frozen=True)
class ProductionIdentifiers:
	lot: str | None = None
	serial: str | None = None
	manufacture_date: datetime.date | None = None
	expiry_date: datetime.date | None = None


@dataclass(frozen=True)
class UDICodes:
	carrier: str  # the exact data a barcode encodes (GS1 raw element string or HIBC string)
	human_readable: str  # the text printed under the barcode
	production_identifier: str  # the UDI-PI alone
	digital_link: str | None  # GS1 only


def gs1_elements(gtin: str, pi: ProductionIdentifiers) -> list[tuple[str, str]]:
	elements = [("01", gtin)]
	if pi.manufacture_date:
		elements.append(("11", pi.manufacture_date.strftime("%y%m%d")))
	if pi.expiry_date:
		elements.append(("17", pi.expiry_date.strftime("%y%m%d")))
	if pi.lot:
		elements.append(("10", pi.lot))
	if pi.serial:
		elements.append(("21", pi.serial))
	return elements


def gs1_raw_element_string(elements: list[tuple[str, str]]) -> str:
	parts = []
	for index, (ai, value) in enumerate(elements):
		parts.append(ai + value)
		if ai in VARIABLE_LENGTH_AIS and index < len(elements) - 1:
			parts.append(GROUP_SEPARATOR)
	return "".join(parts)


def gs1_udi(gtin: str, pi: ProductionIdentifiers, digital_link_domain: str = "id.gs1.org") -> UDICodes:
	elements = gs1_elements(gtin, pi)
	message = GS1Message.parse(gs1_raw_element_string(elements))
	production = [element for element in message.element_strings if element.ai.ai != "01"]
	return UDICodes(
		carrier=message.value,
		human_readable=message.as_hri(),
		production_identifier="".join(f"({element.ai.ai}){element.value}" for element in production),
		digital_link=GS1DigitalLinkURI.from_element_strings(message.element_strings).as_uri(domain=digital_link_domain),
	)


def hibc_secondary(pi: ProductionIdentifiers) -> str:
	"""HIBC secondary data: $$3 + expiry YYMMDD + lot (or $ + lot), /S + serial, /16D + manufacture YYYYMMDD."""
	parts = []
	if pi.lot:
		parts.append(f"$$3{pi.expiry_date.strftime('%y%m%d')}{pi.lot}" if pi.expiry_date else f"${pi.lot}")
	elif pi.serial:
		prefix = f"$$+3{pi.expiry_date.strftime('%y%m%d')}" if pi.expiry_date else "$+"
		parts.append(prefix + pi.serial)
	if pi.lot and pi.serial:
		parts.append(f"S{pi.serial}")
	if pi.manufacture_date:
		parts.append(f"16D{pi.manufacture_date.strftime('%Y%m%d')}")
	return "/".join(parts)


def hibc_udi(di: str, pi: ProductionIdentifiers) -> UDICodes:
	secondary = hibc_secondary(pi)
	data = f"+{di}" + (f"/{secondary}" if secondary else "")
	carrier = data + hibc_check_character(data)
	return UDICodes(carrier=carrier, human_readable=f"*{carrier}*", production_identifier=secondary, digital_link=None)
