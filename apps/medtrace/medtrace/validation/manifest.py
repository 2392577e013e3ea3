"""The release manifest: the SHA-256 of every MedTrace file (the app and its tests), written before a release
and committed with it, so that an installation qualification can prove the site runs exactly the released
files, and an upgrade can tell which files changed.

Write it after the last change of a release, from the repository (no site needed):

	python3 apps/medtrace/medtrace/validation/manifest.py

(or `bench --site <site> execute medtrace.validation.manifest.write_manifest`). tests/test_validation_run.py
fails while the committed manifest differs from the files. This module imports no Frappe: the pytest
plugin and the command above use it outside a site.
"""

import fnmatch
import hashlib
import json
import re
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
APP_ROOT = PACKAGE.parent
REPO_ROOT = APP_ROOT.parents[1]
MANIFEST_PATH = Path(__file__).resolve().with_name("manifest.json")
APP_PREFIX = "apps/medtrace/"
TESTS_PREFIX = "tests/"
# Byproducts of running and installing the code, not part of what was released (as in .gitignore).
IGNORED = (
	"*/__pycache__/*", "*.pyc", "*.egg-info/*", "*/.pytest_cache/*", "*/.hypothesis/*", "*/node_modules/*", "*/.ruff_cache/*",
	"/tests/output/*", "/tests/perf/output/*", "*.swp", "*/.DS_Store",
)
REQUIREMENT_ID = re.compile(r"MT-[A-Z]+-\d{3}")
MARKER = re.compile(r"mark\.requirement\(([^)]*)\)")


def sha256_of(path: Path) -> str:
	return hashlib.sha256(path.read_bytes()).hexdigest()


def relative_files(root: Path, prefix: str) -> dict[str, Path]:
	"""Every file under root, by its path from the repository root (prefix + path under root)."""
	files = {}
	for path in sorted(root.rglob("*")):
		if not path.is_file():
			continue
		relative = prefix + path.relative_to(root).as_posix()
		if any(fnmatch.fnmatchcase("/" + relative, pattern) for pattern in IGNORED):
			continue
		files[relative] = path
	files.pop(manifest_relative_path(), None)
	return files


def manifest_relative_path() -> str:
	return APP_PREFIX + MANIFEST_PATH.relative_to(APP_ROOT).as_posix()


def app_checksums(app_root: Path = APP_ROOT) -> dict[str, str]:
	return {name: sha256_of(path) for name, path in relative_files(app_root, APP_PREFIX).items()}


def files_digest(checksums: dict[str, str]) -> str:
	"""One hash for a set of app files: equal digests, equal files."""
	app_files = {name: digest for name, digest in checksums.items() if name.startswith(APP_PREFIX)}
	return hashlib.sha256(json.dumps(app_files, sort_keys=True).encode()).hexdigest()


def requirements_named_in(path: Path) -> list[str]:
	"""The requirement ids a test file's markers name."""
	text = path.read_text(errors="replace")
	return sorted({found for marker in MARKER.findall(text) for found in REQUIREMENT_ID.findall(marker)})


def app_version(app_root: Path) -> str:
	match = re.search(r'__version__\s*=\s*"([^"]+)"', (app_root / "medtrace" / "__init__.py").read_text())
	return match.group(1) if match else ""


def build_manifest(app_root: Path = APP_ROOT, tests_root: Path | None = None) -> dict:
	"""The manifest of the files on disk. Deterministic (no timestamp), so a current manifest compares equal."""
	tests_root = tests_root if tests_root is not None else app_root.parents[1] / "tests"
	files = app_checksums(app_root)
	test_files = relative_files(tests_root, TESTS_PREFIX) if tests_root.is_dir() else {}
	files.update({name: sha256_of(path) for name, path in test_files.items()})
	return {
		"medtrace_version": app_version(app_root),
		"files": dict(sorted(files.items())),
		"test_requirements": {
			name: found for name, path in sorted(test_files.items()) if name.endswith(".py") and (found := requirements_named_in(path))
		},
	}


def read_manifest(path: Path = MANIFEST_PATH) -> dict | None:
	return json.loads(path.read_text()) if path.exists() else None


def write_manifest(path: str | None = None) -> str:
	target = Path(path) if path else MANIFEST_PATH
	target.write_text(json.dumps(build_manifest(), indent=1, sort_keys=True) + "\n")
	return str(target)


def compare_files(expected: dict[str, str], found: dict[str, str]) -> dict[str, list[str]]:
	"""Files changed, missing and added between two {path: sha256} maps."""
	return {
		"changed": sorted(name for name in expected.keys() & found.keys() if expected[name] != found[name]),
		"missing": sorted(expected.keys() - found.keys()),
		"added": sorted(found.keys() - expected.keys()),
	}


if __name__ == "__main__":
	print(write_manifest(sys.argv[1] if len(sys.argv) > 1 else None))
