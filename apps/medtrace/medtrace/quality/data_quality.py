"""Data-quality rules: conditions business users configure in the Desk (Data Quality Rule) that flag
records needing attention. Evaluating a rule opens one Data Quality Exception per rule and record,
assigns it (ToDo and notification) to the least loaded user holding the rule's responsible role, and
closes it once the record no longer meets the condition (fixed or deleted).

A rule's condition combines, all optional but at least one required:

- Frappe filters on the doctype and its child tables, edited with the Desk's filter editor; run as one
  query, so they scale to any number of records;
- a Python expression on ``doc`` (the record's fields), evaluated with ``frappe.safe_eval`` on each
  record the other parts let through — narrow it with filters on large doctypes;
- a Python check registered under the ``medtrace_data_quality_checks`` hook, for conditions filters
  cannot express (joins with other doctypes, the absence of rows). A check is a function
  ``check(rule) -> dict[record name, message]`` decorated with ``@data_quality_check(doctype)``;

and a grace period: only records created more than that many days ago are flagged.

Rules run hourly (scheduler) and from the rule's Run Now button.
"""

import hashlib
import json
from collections.abc import Callable

import frappe
from frappe import _
from frappe.desk.form import assign_to
from frappe.model import default_fields
from frappe.utils import add_days, cint, escape_html, now, now_datetime

from medtrace.setup.permissions import users_with_roles

RULE = "Data Quality Rule"
EXCEPTION = "Data Quality Exception"
CHECKS_HOOK = "medtrace_data_quality_checks"
EXPRESSION_CHUNK = 500
COMMIT_EVERY = 100


def data_quality_check(doctype: str) -> Callable:
	"""Declares a function a check rules on ``doctype`` may name (once listed in the hook)."""

	def declare(check: Callable) -> Callable:
		check.checks_doctype = doctype
		return check

	return declare


def registered_checks() -> dict[str, Callable]:
	return {path: frappe.get_attr(path) for path in frappe.get_hooks(CHECKS_HOOK)}


@frappe.whitelist()
def get_registered_checks() -> list[dict]:
	"""The Python checks a rule may name, for the rule form."""
	frappe.has_permission(RULE, "read", throw=True)
	return [
		{"value": path, "doctype": check.checks_doctype, "description": (check.__doc__ or "").strip().split("\n")[0]}
		for path, check in registered_checks().items()
	]


# Validation, used by the Data Quality Rule controller


def validate_rule(rule) -> None:
	validate_document_type(rule.document_type)
	if not (rule.filters_json or rule.condition or rule.check_function):
		frappe.throw(
			_("Give the rule a condition: filters, an expression or a Python check. Without one every {0} would be flagged.").format(
				_(rule.document_type)
			),
			title=_("Condition Missing"),
		)
	if cint(rule.grace_period_days) < 0:
		frappe.throw(_("The grace period cannot be negative."))
	rule.filters_json = normalised_filters_json(rule)
	validate_check_function(rule)
	validate_expression(rule)


def validate_document_type(doctype: str) -> None:
	meta = frappe.get_meta(doctype)
	if meta.istable or meta.issingle or meta.is_virtual:
		frappe.throw(
			_("{0} cannot be checked by a rule: choose a doctype whose records are listed on their own (not a child table, single or virtual doctype).").format(
				frappe.bold(_(doctype))
			),
			title=_("Invalid Document Type"),
		)


def parse_filters(filters_json: str | None) -> list:
	if not filters_json:
		return []
	try:
		filters = json.loads(filters_json)
	except ValueError:
		frappe.throw(_("The filters are not valid JSON: {0}").format(frappe.bold(escape_html(filters_json))), title=_("Invalid Filters"))
	if isinstance(filters, dict):
		filters = [[key, *(value if isinstance(value, list | tuple) else ["=", value])] for key, value in filters.items()]
	if not isinstance(filters, list) or not all(isinstance(f, list) and 3 <= len(f) <= 4 for f in filters):
		frappe.throw(
			_('The filters must be a list of conditions such as [["Batch", "expiry_date", "is", "not set"]].'),
			title=_("Invalid Filters"),
		)
	return filters


def normalised_filters_json(rule) -> str | None:
	"""The rule's filters as [doctype, field, operator, value] lists, checked against the doctype."""
	filters = [f if len(f) == 4 else [rule.document_type, *f] for f in parse_filters(rule.filters_json)]
	meta = frappe.get_meta(rule.document_type)
	tables = {df.options for df in meta.get_table_fields()}
	for doctype, fieldname, _operator, _value in filters:
		if doctype != rule.document_type and doctype not in tables:
			frappe.throw(
				_("Filter on {0}: {1} is neither {2} nor one of its tables.").format(
					escape_html(str(fieldname)), frappe.bold(escape_html(str(doctype))), _(rule.document_type)
				),
				title=_("Invalid Filters"),
			)
		if not frappe.get_meta(doctype).has_field(fieldname) and fieldname not in default_fields:
			frappe.throw(
				_("{0} has no field {1} to filter on.").format(_(doctype), frappe.bold(escape_html(str(fieldname)))),
				title=_("Invalid Filters"),
			)
	if filters:
		try_filters(rule.document_type, filters)
	return json.dumps(filters) if filters else None


def try_filters(doctype: str, filters: list) -> None:
	frappe.db.savepoint("medtrace_dq_filters")
	try:
		frappe.get_all(doctype, filters=filters, limit=1)
	except Exception as error:
		frappe.db.rollback(save_point="medtrace_dq_filters")
		frappe.clear_last_message()
		frappe.throw(
			_("These filters cannot be applied to {0}: {1}").format(_(doctype), escape_html(str(error))), title=_("Invalid Filters")
		)


def validate_check_function(rule) -> None:
	if not rule.check_function:
		return
	check = registered_checks().get(rule.check_function)
	if not check:
		frappe.throw(
			_("{0} is not a registered data-quality check. Choose one of: {1}").format(
				frappe.bold(escape_html(rule.check_function)), ", ".join(registered_checks()) or _("none")
			),
			title=_("Unknown Check"),
		)
	if check.checks_doctype != rule.document_type:
		frappe.throw(
			_("Check {0} looks at {1}, not {2}.").format(escape_html(rule.check_function), _(check.checks_doctype), _(rule.document_type)),
			title=_("Wrong Document Type"),
		)


def validate_expression(rule) -> None:
	if not rule.condition:
		return
	sample = frappe.new_doc(rule.document_type).as_dict()
	try:
		frappe.safe_eval(rule.condition, None, {"doc": sample})
	except (SyntaxError, NameError, AttributeError) as error:
		frappe.throw(
			_("The expression cannot be evaluated: {0}. Write a Python expression on doc, e.g. doc.qty > 10 and not doc.remarks.").format(
				escape_html(str(error))
			),
			title=_("Invalid Expression"),
		)
	except (TypeError, ValueError, ArithmeticError, LookupError):
		# An empty sample trips expressions that are fine on real records (None compared with a date).
		return


# Evaluation


def evaluate_all_rules() -> None:
	"""Hourly. A rule whose condition fails (a filter on a field since deleted, an expression that breaks on
	some record) is logged and skipped; the others still run."""
	for name in frappe.get_all(RULE, filters={"enabled": 1}, pluck="name", order_by="name"):
		rule = frappe.get_doc(RULE, name)
		try:
			found = find_violations(rule)
		except Exception:
			frappe.clear_messages()
			frappe.log_error(title=_("Data Quality Rule {0} failed").format(name), reference_doctype=RULE, reference_name=name)
			continue
		apply_findings(rule, found, commit_every=COMMIT_EVERY)


@frappe.whitelist(methods=["POST"])
def run_rule_now(rule: str) -> dict:
	"""The rule form's Run Now."""
	frappe.has_permission(RULE, "write", doc=rule, throw=True)
	return evaluate_rule(rule)


def evaluate_rule(name: str) -> dict:
	rule = frappe.get_doc(RULE, name)
	return apply_findings(rule, find_violations(rule))


def apply_findings(rule, found: dict[str, str], commit_every: int | None = None) -> dict:
	"""Open an exception for each newly flagged record and close those of records no longer flagged.

	The scheduler commits every ``commit_every`` changes: Frappe queues each realtime update of a
	transaction in a list it searches before every append, so one transaction opening thousands of
	exceptions slows to a crawl. Runs overlapping meanwhile cannot open an exception twice (open_key)."""
	open_exceptions = dict(
		frappe.get_all(EXCEPTION, filters={"rule": rule.name, "status": "Open"}, fields=["record", "name"], as_list=True)
	)
	loads = assignment_loads(rule.responsible_role)
	opened = closed = 0
	for record, message in found.items():
		if record not in open_exceptions:
			opened += open_exception(rule, record, message, loads)
			commit_batch(commit_every, opened + closed)
	for record, exception in open_exceptions.items():
		if record not in found:
			closed += close_exception(exception)
			commit_batch(commit_every, opened + closed)
	rule.db_set({"last_run_on": now(), "last_run_violations": len(found)}, update_modified=False)
	return {"violations": len(found), "opened": opened, "closed": closed}


def commit_batch(commit_every: int | None, changes: int) -> None:
	if commit_every and changes and changes % commit_every == 0:
		frappe.db.commit()


def find_violations(rule) -> dict[str, str]:
	"""The records the rule flags, with what is wrong with each."""
	found = registered_checks()[rule.check_function](rule) if rule.check_function else None
	filters = json.loads(rule.filters_json) if rule.filters_json else []
	if cint(rule.grace_period_days):
		filters.append([rule.document_type, "creation", "<", add_days(now_datetime(), -cint(rule.grace_period_days))])
	if filters or found is None:
		matching = frappe.get_all(rule.document_type, filters=filters, pluck="name")
		found = dict.fromkeys(matching, "") if found is None else {name: found[name] for name in matching if name in found}
	if rule.condition:
		meeting = set(records_meeting_expression(rule, list(found)))
		found = {name: message for name, message in found.items() if name in meeting}
	return {name: message or rule.message or _("{0} breaks data-quality rule {1}.").format(name, rule.name) for name, message in found.items()}


def records_meeting_expression(rule, names: list[str]):
	for start in range(0, len(names), EXPRESSION_CHUNK):
		rows = frappe.get_all(rule.document_type, filters={"name": ("in", names[start : start + EXPRESSION_CHUNK])}, fields=["*"])
		for row in rows:
			try:
				met = frappe.safe_eval(rule.condition, None, {"doc": row})
			except Exception as error:
				frappe.throw(
					_("The expression of rule {0} fails on {1} {2}: {3}").format(
						rule.name, _(rule.document_type), row.name, escape_html(str(error))
					),
					title=_("Invalid Expression"),
				)
			if met:
				yield row.name


def open_exception(rule, record: str, message: str, loads: dict[str, int]) -> int:
	exception = frappe.get_doc(
		{
			"doctype": EXCEPTION,
			"rule": rule.name,
			"document_type": rule.document_type,
			"record": record,
			"severity": rule.severity,
			"responsible_role": rule.responsible_role,
			"message": message,
			"status": "Open",
			"opened_on": now(),
			"open_key": open_key(rule.name, record),
		}
	)
	try:
		exception.insert(ignore_permissions=True)
	except frappe.UniqueValidationError:
		# An overlapping run (Run Now during the hourly job) opened it a moment ago.
		frappe.clear_last_message()
		return 0
	assignee = next_assignee(loads)
	if assignee:
		assign_to.add(
			{"assign_to": [assignee], "doctype": EXCEPTION, "name": exception.name, "description": message, "priority": priority(rule.severity)},
			ignore_permissions=True,
		)
	return 1


def open_key(rule: str, record: str) -> str:
	return hashlib.sha1(f"{rule}\n{record}".encode()).hexdigest()


def assignment_loads(role: str) -> dict[str, int]:
	"""Open exception assignments per user holding the role: each new exception goes to the least loaded."""
	users = users_with_roles([role])
	if not users:
		return {}
	open_todos = frappe.get_all(
		"ToDo",
		filters={"reference_type": EXCEPTION, "status": "Open", "allocated_to": ("in", users)},
		fields=["allocated_to", "count(name) as open"],
		group_by="allocated_to",
		as_list=True,
	)
	return {**dict.fromkeys(users, 0), **dict(open_todos)}


def next_assignee(loads: dict[str, int]) -> str | None:
	if not loads:
		return None
	user = min(loads, key=lambda name: (loads[name], name))
	loads[user] += 1
	return user


def close_exception(name: str) -> int:
	exception = frappe.get_doc(EXCEPTION, name, for_update=True)
	if exception.status != "Open":
		return 0
	resolved = frappe.db.exists(exception.document_type, exception.record)
	exception.update(
		{
			"status": "Closed",
			"closed_on": now(),
			"open_key": None,
			"resolution": _("The record now meets the rule.") if resolved else _("The record was deleted."),
		}
	)
	exception.save(ignore_permissions=True)
	assign_to.close_all_assignments(EXCEPTION, name, ignore_permissions=True)
	return 1


def priority(severity: str) -> str:
	return {"Critical": "High", "Major": "Medium"}.get(severity, "Low")
