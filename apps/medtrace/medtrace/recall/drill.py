"""Mock recall drills: the timings auditors ask for, and how well the drill found what the quality engineer
expected it to find.

The timings are those of a drill's steps as the trace engine runs them: the back trace (the scope's lots and
serial numbers traced backward together to their origins), the forward trace (forward to everything made
from them),
the customer list (the recall's affected population with the customers' quantities, as scoping computes
it), the mass balance, and the time from scoping until every unit was accounted for."""

import re
import time

from frappe.utils import flt

from medtrace.recall.scope import scope_trace


def trace_seconds(scope_rows, direction: str) -> float:
	"""Seconds to trace every lot or serial number of the scope in one direction, over the whole genealogy."""
	started = time.perf_counter()
	scope_trace(scope_rows, direction)
	return time.perf_counter() - started


def expected_identifiers(text: str | None) -> set[str]:
	"""Lots and serial numbers as the quality engineer listed them: one per line, or separated by commas."""
	return {identifier.strip() for identifier in re.split(r"[\n,;]", text or "") if identifier.strip()}


def found_identifiers(units) -> set[str]:
	"""The serial numbers of the affected population, and its lots that are not serial numbers."""
	return {unit.serial_no or unit.batch_no for unit in units if unit.serial_no or unit.batch_no}


def accuracy(found: set[str], expected: set[str]) -> float:
	"""Found ∩ expected over found ∪ expected, in percent: 100 when the drill found exactly what was expected."""
	union = found | expected
	return flt(100 * len(found & expected) / len(union), 2) if union else 100.0
