"""The requirements register (apps/medtrace/docs/requirements.yaml) and the tests agree: every requirement
has a test, every high-risk one a test that proves it directly, no test names an unknown requirement, and
every feature the README lists is in the register. The markers are read by collecting the whole suite, so
tests added later are checked too."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from medtrace.validation.register import RegisterError, coverage_problems, load_register

pytestmark = pytest.mark.requirement("MT-VAL-001")

TESTS = Path(__file__).resolve().parent
README = TESTS.parent / "README.md"


@pytest.fixture(scope="module")
def register():
	return load_register()


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> subprocess.CompletedProcess:
	path = tmp_path_factory.mktemp("requirements") / "map.json"
	collected = subprocess.run(
		[sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors",
		 f"--requirement-map={path}", str(TESTS)],
		cwd=TESTS.parent, capture_output=True, text=True,
	)
	collected.map = {test: [(rid, direct) for rid, direct in marks] for test, marks in json.loads(path.read_text()).items()}
	return collected


@pytest.fixture(scope="module")
def collected(collection) -> dict[str, list[tuple[str, bool]]]:
	"""Every test of the suite with the (requirement, direct) pairs its markers name."""
	return collection.map


def test_register_entries_are_complete(register):
	assert len(register["requirements"]) >= 80
	for entry in register["requirements"]:
		assert entry["risk"] in ("high", "medium", "low"), entry["id"]
		if entry["risk"] == "high":
			assert entry.get("source"), f"{entry['id']}: a high-risk requirement names its regulatory source"


def test_malformed_register_is_refused_with_the_entries_named(tmp_path):
	bad = tmp_path / "requirements.yaml"
	bad.write_text("requirements:\n  - id: MT-X-1\n    risk: severe\n  - id: MT-UDI-001\n    title: a\n    text: b\n    risk: low\n    paths: [x]\n  - id: MT-UDI-001\n    title: a\n    text: b\n    risk: low\n    paths: [x]\n")
	with pytest.raises(RegisterError) as refused:
		load_register(bad)
	message = str(refused.value)
	assert "MT-X-1: the id must look like" in message and "risk must be one of" in message and "MT-UDI-001: listed twice" in message


def test_every_requirement_is_tested_and_every_marker_names_a_requirement(register, collection, collected):
	assert collection.returncode == 0, "a test file that cannot be collected hides its markers:\n" + collection.stdout[-3000:]
	assert sum(1 for marks in collected.values() if marks) > 200, "the suite's tests carry requirement markers"
	assert coverage_problems(register["requirements"], collected) == []


def test_removing_the_markers_of_any_requirement_fails_the_check(register, collected):
	"""For every requirement: the suite without its markers (as if the marker lines were deleted) fails,
	naming it; a high-risk requirement left with indirect tests only fails too."""
	requirements = register["requirements"]
	baseline = set(coverage_problems(requirements, collected))
	for entry in requirements:
		rid = entry["id"]
		if f"{rid} ({entry['title']}) has no test" in baseline:
			continue
		without = {test: [mark for mark in marks if mark[0] != rid] for test, marks in collected.items()}
		assert set(coverage_problems(requirements, without)) - baseline == {f"{rid} ({entry['title']}) has no test"}
		if entry["risk"] == "high":
			indirect_only = {test: [(r, d and r != rid) for r, d in marks] for test, marks in collected.items()}
			assert set(coverage_problems(requirements, indirect_only)) - baseline == {
				f"{rid} ({entry['title']}) is high risk and has only indirect tests: one must prove it directly"
			}


def test_a_marker_naming_an_unknown_requirement_fails_the_check(register, collected):
	test = next(iter(collected))
	baseline = set(coverage_problems(register["requirements"], collected))
	problems = coverage_problems(register["requirements"], {**collected, test: [*collected[test], ("MT-NOPE-999", True)]})
	assert set(problems) - baseline == {f"{test} names MT-NOPE-999, which is not in the requirements register"}


def test_every_feature_and_section_of_the_readme_is_in_the_register(register):
	text = README.read_text()
	features_section = text.split("## What MedTrace does", 1)[1].split("\n## ", 1)[0]
	features = re.findall(r"^- \*\*([^*]+)\*\*", features_section, flags=re.M)
	sections = re.findall(r"^#{2,3} (.+)$", text, flags=re.M)
	assert len(features) >= 15
	mapped = register["readme_features"]
	missing = sorted(set(features + sections) - set(mapped))
	assert missing == [], f"README features/sections without requirements: map them under readme_features in requirements.yaml: {missing}"
	known = {entry["id"] for entry in register["requirements"]}
	assert sorted({rid for ids in mapped.values() for rid in ids} - known) == []
	assert all(mapped[feature] for feature in features), "each README feature names the requirements that state it"
