"""UDI Coding Rules: the lot and serial numbers ERPNext creates, made from a pattern configured in the Desk.

Where the numbers are made, and why there:
- Lots. Every new Batch, whoever creates it (ERPNext's SerialBatchCreation.create_batch while a receipt or
  manufacture entry is submitted, Work Order batches, the Desk, the API), goes through Frappe's
  `before_naming` document event just before ERPNext's Batch.autoname, which keeps a batch_id that is already
  set and only otherwise falls back to the item's Batch Number Series. A batch_id the user or the supplier
  gave is kept.
- Serial numbers. ERPNext makes them from the item's Serial No Series (SerialBatchCreation
  .get_auto_created_serial_nos, serial_no.get_new_serial_number), a Frappe naming series whose parts see
  neither the item nor the number built so far, so no naming hook can apply a rule or a check character;
  they are then bulk-inserted without document events. MedTrace therefore writes the numbers into the
  voucher row's Serial No field in `before_submit` (ERPNext's "Use Serial No / Batch Fields"), and ERPNext
  creates exactly those when it builds the row's Serial and Batch Bundle in on_submit.
"""

import frappe
from frappe import _
from frappe.model.naming import determine_consecutive_week_number
from frappe.query_builder import DocType
from frappe.utils import cint, flt, getdate, strip_html
from stdnum import ean
from stdnum.iso7064 import mod_37_2, mod_37_36

from medtrace.udi.identifiers import GS1_PI_MAX_LENGTH, validate_gs1_production_identifier
from medtrace.udi.production_udi import validate_hibc_production_identifier
from medtrace.utils.filters import checked_object

RULE = "UDI Coding Rule"
LOT, SERIAL = "Lot", "Serial No"
HIBC_PI_MAX_LENGTH = 18
SEQUENCE_KEY_PREFIX = "MEDTRACE-CODING-"
MAX_SEQUENCE_DIGITS = 10

DATE_FORMATS = {
	"Year (YY)": "%y",
	"Year (YYYY)": "%Y",
	"Month (MM)": "%m",
	"Day (DD)": "%d",
	"Julian Date (YYDDD)": "%y%j",
}
WEEK = "Week (WW)"
PART_LENGTHS = {**{part: len(getdate("2026-01-01").strftime(fmt)) for part, fmt in DATE_FORMATS.items()}, WEEK: 2}

# The date parts that tell one period from the next: without one of these sets the restarted sequence repeats
# the numbers of the previous period.
PERIOD_FORMATS = {"Yearly": "%Y", "Monthly": "%Y%m", "Daily": "%Y%m%d", "Never": ""}
PERIOD_PARTS = {
	"Yearly": [{"Year (YY)"}, {"Year (YYYY)"}, {"Julian Date (YYDDD)"}],
	"Monthly": [{"Year (YY)", "Month (MM)"}, {"Year (YYYY)", "Month (MM)"}, {"Julian Date (YYDDD)"}],
	"Daily": [{"Year (YY)", "Month (MM)", "Day (DD)"}, {"Year (YYYY)", "Month (MM)", "Day (DD)"}, {"Julian Date (YYDDD)"}],
	"Never": [set()],
}

DIGITS = "0123456789"
ALPHANUMERIC = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# check character: (characters it can cover, function giving the character)
CHECK_CHARACTERS = {
	"GS1 Mod 10": (DIGITS, ean.calc_check_digit),
	"ISO 7064 Mod 37-2": (ALPHANUMERIC, mod_37_2.calc_check_digit),
	"ISO 7064 Mod 37-36": (ALPHANUMERIC, mod_37_36.calc_check_digit),
}


# Rules


def coding_rule_for(item_code: str, number_type: str) -> str | None:
	"""The enabled rule of the item, else of its item group or the nearest ancestor group that has one."""
	filters = {"enabled": 1, "number_type": number_type}
	rule = frappe.db.get_value(RULE, {**filters, "applies_to": "Item", "item": item_code})
	if rule:
		return rule
	groups = item_group_ancestors(frappe.get_cached_value("Item", item_code, "item_group"))
	if not groups:
		return None
	rules = dict(
		frappe.get_all(
			RULE,
			filters={**filters, "applies_to": "Item Group", "item_group": ("in", groups)},
			fields=["item_group", "name"],
			as_list=True,
		)
	)
	return next((rules[group] for group in groups if group in rules), None)


def item_group_ancestors(item_group: str | None) -> list[str]:
	"""The group and its ancestors, nearest first."""
	if not item_group:
		return []
	ItemGroup = DocType("Item Group")
	lft, rgt = frappe.db.get_value("Item Group", item_group, ["lft", "rgt"])
	return (
		frappe.qb.from_(ItemGroup)
		.select(ItemGroup.name)
		.where((ItemGroup.lft <= lft) & (ItemGroup.rgt >= rgt))
		.orderby(ItemGroup.lft, order=frappe.qb.desc)
		.run(pluck=True)
	)


def validate_rule(rule) -> None:
	"""UDI Coding Rule validate."""
	if rule.applies_to == "Item":
		rule.item_group = None
	else:
		rule.item = None
	validate_target(rule)
	validate_pattern(rule)


def validate_target(rule) -> None:
	if rule.item:
		tracked_field, what = ("has_batch_no", _("batch-tracked")) if rule.number_type == LOT else ("has_serial_no", _("serialised"))
		if not frappe.db.get_value("Item", rule.item, tracked_field):
			frappe.throw(
				_("Item {0} is not {1}, so this rule would never make a number.").format(frappe.bold(rule.item), what),
				title=_("Invalid Coding Rule"),
			)
	if not rule.enabled:
		return
	target = rule.item or rule.item_group
	duplicate = frappe.db.exists(
		RULE,
		{
			"enabled": 1,
			"number_type": rule.number_type,
			"applies_to": rule.applies_to,
			"item" if rule.item else "item_group": target,
			"name": ("!=", rule.name),
		},
	)
	if duplicate:
		frappe.throw(
			_("{0} already has {1} rule {2}; disable it first.").format(
				frappe.bold(target), _(rule.number_type), frappe.bold(duplicate)
			),
			frappe.DuplicateEntryError,
			title=_("Invalid Coding Rule"),
		)


def validate_pattern(rule) -> None:
	"""The numbers the rule makes must be unique per period and fit GS1 AI 10 / 21, and the HIBC rules when
	an item it applies to has an HIBC device identifier."""
	title = _("Invalid Coding Rule")
	if sum(part.part == "Sequence" for part in rule.parts) != 1:
		frappe.throw(_("The pattern needs exactly one Sequence part: it is what makes each number different."), title=title)
	if not 1 <= cint(rule.sequence_digits) <= MAX_SEQUENCE_DIGITS:
		frappe.throw(_("Sequence Digits must be between 1 and {0}.").format(MAX_SEQUENCE_DIGITS), title=title)
	for part in rule.parts:
		if part.part == "Text" and not part.text:
			frappe.throw(_("Row {0}: enter the text of the Text part.").format(part.idx), title=title)
	validate_period_parts(rule)
	validate_check_character_alphabet(rule)

	label = _("Lot") if rule.number_type == LOT else _("Serial number")
	longest = format_number(rule, getdate("2026-12-31"), 10 ** cint(rule.sequence_digits) - 1)
	if len(longest) > GS1_PI_MAX_LENGTH:
		frappe.throw(
			_("Numbers of this rule are {0} characters long (e.g. {1}); GS1 AI 10 and AI 21 allow at most {2}.").format(
				len(longest), frappe.bold(longest), GS1_PI_MAX_LENGTH
			),
			title=title,
		)
	validate_gs1_production_identifier(longest, label)
	validate_hibc_compatibility(rule, longest, label)


def validate_period_parts(rule) -> None:
	kinds = {part.part for part in rule.parts}
	if any(needed <= kinds for needed in PERIOD_PARTS[rule.sequence_reset]):
		return
	period, needs = {
		"Yearly": (_("every year"), _("a Year (YY), Year (YYYY) or Julian Date (YYDDD) part")),
		"Monthly": (_("every month"), _("Year and Month (MM) parts, or a Julian Date (YYDDD) part")),
		"Daily": (_("every day"), _("Year, Month (MM) and Day (DD) parts, or a Julian Date (YYDDD) part")),
	}[rule.sequence_reset]
	frappe.throw(
		_("The sequence restarts {0}, so the numbers of one period would repeat in the next: the pattern needs {1}.").format(
			period, needs
		),
		title=_("Invalid Coding Rule"),
	)


def validate_check_character_alphabet(rule) -> None:
	if not rule.check_character:
		return
	alphabet = CHECK_CHARACTERS[rule.check_character][0]
	outside = sorted({char for part in rule.parts if part.part == "Text" for char in part.text} - set(alphabet))
	if outside:
		covers = _("digits") if alphabet == DIGITS else _("digits and upper-case letters")
		frappe.throw(
			_("Check character {0} covers only {1}; the pattern's text contains {2}.").format(
				rule.check_character, covers, " ".join(frappe.bold(char) for char in outside)
			),
			title=_("Invalid Coding Rule"),
		)


def validate_hibc_compatibility(rule, longest: str, label: str) -> None:
	hibc = hibc_device_identifier(rule)
	if not hibc:
		return
	title = _("Invalid Coding Rule")
	if len(longest) > HIBC_PI_MAX_LENGTH:
		frappe.throw(
			_("Item {0} has HIBC device identifier {1}: HIBC allows at most {2} characters, numbers of this rule have {3}.").format(
				frappe.bold(hibc.item), frappe.bold(hibc.name), HIBC_PI_MAX_LENGTH, len(longest)
			),
			title=title,
		)
	if rule.check_character == "ISO 7064 Mod 37-2":
		frappe.throw(
			_("Item {0} has HIBC device identifier {1}: ISO 7064 Mod 37-2 may give the check character '*', which HIBC does not allow. Choose ISO 7064 Mod 37-36.").format(
				frappe.bold(hibc.item), frappe.bold(hibc.name)
			),
			title=title,
		)
	validate_hibc_production_identifier(longest, label)


def hibc_device_identifier(rule):
	"""An HIBC device identifier of an item the rule applies to, if there is one."""
	DI, Item = DocType("UDI Device Identifier"), DocType("Item")
	query = frappe.qb.from_(DI).select(DI.name, DI.item).where(DI.issuing_agency == "HIBCC").limit(1)
	if rule.item:
		query = query.where(DI.item == rule.item)
	elif rule.item_group:
		ItemGroup = DocType("Item Group")
		lft, rgt = frappe.db.get_value("Item Group", rule.item_group, ["lft", "rgt"]) or (0, 0)
		query = (
			query.join(Item)
			.on(Item.name == DI.item)
			.join(ItemGroup)
			.on(ItemGroup.name == Item.item_group)
			.where((ItemGroup.lft >= lft) & (ItemGroup.rgt <= rgt))
		)
	else:
		return None
	found = query.run(as_dict=True)
	return found[0] if found else None


# Numbers


def format_number(rule, on_date, sequence: int) -> str:
	body = "".join(part_value(part, rule, on_date, sequence) for part in rule.parts)
	if rule.check_character:
		body += CHECK_CHARACTERS[rule.check_character][1](body)
	return body


def part_value(part, rule, on_date, sequence: int) -> str:
	if part.part == "Text":
		return part.text or ""
	if part.part == "Sequence":
		return str(sequence).zfill(cint(rule.sequence_digits))
	if part.part == WEEK:
		return determine_consecutive_week_number(on_date)
	return on_date.strftime(DATE_FORMATS[part.part])


def sequence_key(rule, on_date) -> str:
	"""The rule's counter in tabSeries, one per period of its reset."""
	return f"{SEQUENCE_KEY_PREFIX}{rule.name}-{on_date.strftime(PERIOD_FORMATS[rule.sequence_reset])}"


def advance_sequence(key: str, count: int) -> int:
	"""Reserves `count` numbers of the counter and returns the last.

	Not frappe.model.naming.getseries: on a period's first number it selects FOR UPDATE a row that does not
	exist yet, which locks only a gap, so two transactions starting the period together both insert it and
	one fails. The upsert locks the row in one statement; concurrent callers wait for it until commit."""
	Series = DocType("Series")
	(
		frappe.qb.into(Series)
		.columns(Series.name, Series.current)
		.insert(key, count)
		.on_duplicate_key_update(Series.current, Series.current + count)
	).run()
	return cint(frappe.qb.from_(Series).select(Series.current).where(Series.name == key).for_update().run()[0][0])


def current_sequence(key: str) -> int:
	Series = DocType("Series")
	found = frappe.qb.from_(Series).select(Series.current).where(Series.name == key).run()
	return cint(found[0][0]) if found else 0


def make_numbers(rule_name: str, count: int, on_date) -> list[str]:
	rule = frappe.get_cached_doc(RULE, rule_name)
	on_date = getdate(on_date)
	last = advance_sequence(sequence_key(rule, on_date), count)
	if last >= 10 ** cint(rule.sequence_digits):
		frappe.throw(
			_("Coding rule {0} has used all {1}-digit sequence numbers of this period. Add digits to its sequence.").format(
				frappe.bold(rule.name), rule.sequence_digits
			),
			title=_("Sequence Exhausted"),
		)
	return [format_number(rule, on_date, sequence) for sequence in range(last - count + 1, last + 1)]


def unused_numbers(rule_name: str, doctype: str, count: int, on_date) -> list[str]:
	"""Numbers of the rule that no record of the doctype has yet: someone may have typed one by hand."""
	numbers = []
	while len(numbers) < count:
		made = make_numbers(rule_name, count - len(numbers), on_date)
		taken = {name.casefold() for name in frappe.get_all(doctype, filters={"name": ("in", made)}, pluck="name")}
		numbers += [number for number in made if number.casefold() not in taken]
	return numbers


@frappe.whitelist()
def preview_next_number(rule: str | dict) -> dict:
	"""The rule form's live preview: the number the rule would make next today, without taking it, or why
	the pattern is refused."""
	frappe.has_permission(RULE, "read", throw=True)
	values = {**checked_object(rule, _(RULE)), "doctype": RULE}
	doc = frappe.get_doc(values)
	try:
		validate_pattern(doc)
	except frappe.ValidationError as error:
		frappe.clear_last_message()
		return {"error": strip_html(str(error))}
	today = getdate()
	number = format_number(doc, today, current_sequence(sequence_key(doc, today)) + 1)
	return {"number": number, "length": len(number)}


# Where ERPNext creates numbers


def name_batch_by_rule(batch, method=None) -> None:
	"""Batch before_naming."""
	if batch.batch_id:
		return
	rule = coding_rule_for(batch.item, LOT)
	if rule:
		batch.batch_id = unused_numbers(rule, "Batch", 1, batch_date(batch))[0]


def batch_date(batch):
	"""The posting date of the receipt or manufacture entry making the batch, else its manufacturing date."""
	if batch.reference_doctype and batch.reference_name and frappe.get_meta(batch.reference_doctype).has_field("posting_date"):
		posting_date = frappe.db.get_value(batch.reference_doctype, batch.reference_name, "posting_date")
		if posting_date:
			return getdate(posting_date)
	return getdate(batch.manufacturing_date)


def assign_coded_serial_nos(doc, method=None) -> None:
	"""before_submit of receipts and manufacture entries: rows of items with a Serial No rule that bring no
	serial numbers of their own get them from the rule (and, for batch-tracked items, a batch, so that
	ERPNext does not make serials of its own for an auto-created batch)."""
	from erpnext.stock.doctype.batch.batch import make_batch

	rules = {}
	for row, serial_field, bundle_field, qty in inward_rows(doc):
		if row.get(serial_field) or row.get(bundle_field) or qty <= 0 or not flt(qty).is_integer():
			continue
		if row.item_code not in rules:
			has_serial_no = frappe.get_cached_value("Item", row.item_code, "has_serial_no")
			rules[row.item_code] = coding_rule_for(row.item_code, SERIAL) if has_serial_no else None
		if not rules[row.item_code]:
			continue
		if not row.batch_no and frappe.get_cached_value("Item", row.item_code, "has_batch_no"):
			row.batch_no = make_batch(
				frappe._dict(item=row.item_code, reference_doctype=doc.doctype, reference_name=doc.name)
			)
		row.set(serial_field, "\n".join(unused_numbers(rules[row.item_code], "Serial No", cint(qty), doc.posting_date)))
		row.use_serial_batch_fields = 1


def inward_rows(doc):
	"""(row, serial field, bundle field, quantity in stock UOM) of the rows bringing new units into stock."""
	if doc.doctype == "Stock Entry":
		for row in doc.items:
			if row.t_warehouse and not row.s_warehouse:
				yield row, "serial_no", "serial_and_batch_bundle", flt(row.transfer_qty)
		return
	# Returns send serials back; internal transfers receive the serials the sending company shipped.
	if doc.get("is_return") or doc.is_internal_transfer() or (doc.doctype == "Purchase Invoice" and not doc.update_stock):
		return
	for row in doc.items:
		conversion_factor = flt(row.get("conversion_factor")) or 1
		yield row, "serial_no", "serial_and_batch_bundle", flt(row.qty) * conversion_factor
		yield row, "rejected_serial_no", "rejected_serial_and_batch_bundle", flt(row.get("rejected_qty")) * conversion_factor
