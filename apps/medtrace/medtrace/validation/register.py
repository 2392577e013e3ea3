"""The requirements register (apps/medtrace/docs/requirements.yaml): reading it, checking the tests against
it, mapping files to requirements, and loading it into the read-only Validation Requirement doctype."""

import fnmatch
import re
from pathlib import Path

from medtrace.validation.manifest import APP_PREFIX, APP_ROOT

REGISTER_PATH = APP_ROOT / "docs" / "requirements.yaml"
ID_PATTERN = re.compile(r"^MT-[A-Z]+-\d{3}$")
RISKS = ("high", "medium", "low")
REPO_ROOT_PREFIXES = ("apps/", "tests/", "scripts/", ".ci/")
PACKAGE_PREFIX = APP_PREFIX + "medtrace/"
DOCTYPE = "Validation Requirement"


class RegisterError(ValueError):
	"""The register file is malformed."""


def load_register(path: Path = REGISTER_PATH) -> dict:
	import yaml

	data = yaml.safe_load(Path(path).read_text()) or {}
	requirements = data.get("requirements") or []
	problems, seen = [], set()
	for entry in requirements:
		rid = str(entry.get("id") or "")
		if not ID_PATTERN.match(rid):
			problems.append(f"{rid or entry}: the id must look like MT-AREA-001")
		if rid in seen:
			problems.append(f"{rid}: listed twice")
		seen.add(rid)
		if entry.get("risk") not in RISKS:
			problems.append(f"{rid}: risk must be one of {', '.join(RISKS)}")
		for key in ("title", "text"):
			if not str(entry.get(key) or "").strip():
				problems.append(f"{rid}: {key} is missing")
		if not entry.get("paths"):
			problems.append(f"{rid}: paths is missing (the files that implement it)")
	if problems:
		raise RegisterError("; ".join(problems))
	return {
		"shared_paths": list(data.get("shared_paths") or []),
		"readme_features": dict(data.get("readme_features") or {}),
		"requirements": requirements,
	}


def repo_pattern(pattern: str) -> str:
	"""A register glob as a path from the repository root."""
	return pattern if pattern.startswith(REPO_ROOT_PREFIXES) else PACKAGE_PREFIX + pattern


def matches(path: str, patterns) -> bool:
	return any(fnmatch.fnmatchcase(path, repo_pattern(pattern)) for pattern in patterns)


def requirements_of_file(path: str, register: dict) -> list[str]:
	return [entry["id"] for entry in register["requirements"] if matches(path, entry["paths"])]


def is_shared(path: str, register: dict) -> bool:
	return matches(path, register["shared_paths"])


# Tests against the register


def coverage_problems(requirements: list[dict], tests: dict[str, list[tuple[str, bool]]]) -> list[str]:
	"""What is wrong between the register and the tests' markers: `tests` maps each test to the
	(requirement id, direct) pairs it names. A requirement without a test, a high-risk requirement with
	indirect tests only, and a test naming an id the register does not hold are each one problem."""
	known = {entry["id"]: entry for entry in requirements}
	named: dict[str, list[bool]] = {}
	problems = []
	for test, marks in sorted(tests.items()):
		for rid, direct in marks:
			if rid not in known:
				problems.append(f"{test} names {rid}, which is not in the requirements register")
				continue
			named.setdefault(rid, []).append(direct)
	for rid, entry in known.items():
		if rid not in named:
			problems.append(f"{rid} ({entry['title']}) has no test")
		elif entry["risk"] == "high" and not any(named[rid]):
			problems.append(f"{rid} ({entry['title']}) is high risk and has only indirect tests: one must prove it directly")
	return problems


# The doctype


def sync_requirements() -> None:
	"""The register into Validation Requirement (after install and migrate). Requirements no longer in the
	register are kept, withdrawn: past Validation Runs name them."""
	import frappe

	register = load_register()
	listed = set()
	for entry in register["requirements"]:
		listed.add(entry["id"])
		values = {
			"title": entry["title"],
			"requirement": entry["text"],
			"regulatory_source": entry.get("source") or "",
			"risk": entry["risk"].capitalize(),
			"paths": "\n".join(entry["paths"]),
			"issue": str(entry.get("issue") or ""),
			"withdrawn": 0,
		}
		if frappe.db.exists(DOCTYPE, entry["id"]):
			doc = frappe.get_doc(DOCTYPE, entry["id"])
			if all(str(doc.get(key) or "") == str(value) for key, value in values.items()):
				continue
			doc.update(values)
		else:
			doc = frappe.get_doc({"doctype": DOCTYPE, "requirement_id": entry["id"], **values})
		doc.flags.from_register = True
		doc.save(ignore_permissions=True)
	for name in frappe.get_all(DOCTYPE, filters={"withdrawn": 0, "name": ("not in", list(listed) or [""])}, pluck="name"):
		doc = frappe.get_doc(DOCTYPE, name)
		doc.withdrawn = 1
		doc.flags.from_register = True
		doc.save(ignore_permissions=True)
