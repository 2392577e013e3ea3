"""Installation qualification: what is installed on this site, checked against what was released and what
21 CFR Part 11 relies on. Each check is a row with expected value, found value and Pass or Fail."""

import platform
import re
from datetime import datetime, timezone
from pathlib import Path

import frappe
from frappe import _
from frappe.utils import add_to_date, cint, convert_utc_to_system_timezone, format_datetime, get_datetime, now_datetime

from medtrace.validation.manifest import APP_PREFIX, APP_ROOT, app_checksums, compare_files, files_digest
from medtrace.validation.register import load_register

SUPPORTED = {
	# The ranges pyproject.toml ([tool.bench.frappe-dependencies], requires-python) and the README state;
	# MariaDB 10.6 and Redis 6 are Frappe v15's own minimums.
	"frappe": ("15", "16"),
	"erpnext": ("15", "16"),
	"python": ("3.10", None),
	"mariadb": ("10.6", None),
	"redis": ("6.0", None),
}
# Part 11 leaves the numbers to the company; these are the values MedTrace is validated with.
MAX_SESSION_HOURS = 8
MIN_PASSWORD_SCORE = 2
MAX_SIGNATURE_ATTEMPTS = 5
MAX_EVIDENCE_AGE_HOURS = 48
FILE_ROWS_SHOWN = 100


def check(category: str, name: str, expected: str, found: str, passed: bool) -> dict:
	return {"category": category, "check": name, "expected": expected, "found": found, "result": "Pass" if passed else "Fail"}


def version_tuple(text: str) -> tuple[int, ...]:
	match = re.match(r"\d+(\.\d+)*", str(text or ""))
	return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def in_range(found: str, low: str, high: str | None) -> bool:
	version = version_tuple(found)
	return bool(version) and version >= version_tuple(low) and (high is None or version < version_tuple(high))


def range_text(low: str, high: str | None) -> str:
	return f">= {low}, < {high}" if high else f">= {low}"


# Versions


def installed_versions() -> dict[str, str]:
	import erpnext

	import medtrace

	return {
		"frappe": frappe.__version__,
		"erpnext": erpnext.__version__,
		"medtrace": medtrace.__version__,
		"python": platform.python_version(),
		"mariadb": frappe.db.sql("select version()")[0][0],
		"redis": frappe.cache.info("server").get("redis_version", ""),
	}


def version_checks(versions: dict, manifest: dict) -> list[dict]:
	labels = {"frappe": "Frappe", "erpnext": "ERPNext", "python": "Python", "mariadb": "MariaDB", "redis": "Redis"}
	rows = [
		check("Version", labels[key], range_text(*SUPPORTED[key]), versions[key], in_range(versions[key], *SUPPORTED[key]))
		for key in labels
	]
	released = manifest.get("medtrace_version") or ""
	rows.insert(2, check("Version", "MedTrace", released, versions["medtrace"], versions["medtrace"] == released))
	return rows


# Files


def file_checks(manifest: dict, found: dict[str, str]) -> list[dict]:
	expected = {name: digest for name, digest in manifest["files"].items() if name.startswith(APP_PREFIX)}
	difference = compare_files(expected, found)
	problems = (
		[(name, expected[name], found[name]) for name in difference["changed"]]
		+ [(name, expected[name], _("missing")) for name in difference["missing"]]
		+ [(name, _("not in the release"), found[name]) for name in difference["added"]]
	)
	rows = [
		check(
			"File",
			_("MedTrace files match the release manifest"),
			_("{0} files, each with its released SHA-256").format(len(expected)),
			_("{0} files found, {1} differ").format(len(found), len(problems)),
			not problems,
		)
	]
	rows += [check("File", name, want, got, False) for name, want, got in problems[:FILE_ROWS_SHOWN]]
	if len(problems) > FILE_ROWS_SHOWN:
		rows.append(check("File", _("More files differ"), "0", str(len(problems) - FILE_ROWS_SHOWN), False))
	return rows


# Part 11 settings


def audited_doctypes() -> list[str]:
	from medtrace.audit.audited import is_audited, medtrace_modules

	own = frappe.get_all("DocType", filters={"module": ("in", list(medtrace_modules())), "istable": 0}, pluck="name")
	extended = frappe.get_all("Custom Field", filters={"module": ("in", list(medtrace_modules()))}, pluck="dt", distinct=True)
	return sorted(doctype for doctype in set(own) | set(extended) if frappe.db.exists("DocType", doctype) and is_audited(doctype))


def track_changes_checks() -> list[dict]:
	rows = []
	for doctype in audited_doctypes():
		on = bool(frappe.get_meta(doctype, cached=False).track_changes)
		rows.append(check("Setting", _("Track Changes: {0}").format(doctype), _("On"), _("On") if on else _("Off"), on))
	return rows


def system_setting_checks() -> list[dict]:
	settings = frappe.get_single("System Settings")
	policy = cint(settings.enable_password_policy)
	score = cint(settings.minimum_password_score)
	session = settings.session_expiry or ""
	hours, _sep, minutes = session.partition(":")
	session_minutes = cint(hours) * 60 + cint(minutes)
	return [
		check(
			"Setting", _("Password policy"), _("On, minimum strength {0} or more").format(MIN_PASSWORD_SCORE),
			_("On, minimum strength {0}").format(score) if policy else _("Off"), bool(policy) and score >= MIN_PASSWORD_SCORE,
		),
		check(
			"Setting", _("Session expiry (idle)"), _("At most {0}:00").format(f"{MAX_SESSION_HOURS:02d}"), session or _("not set"),
			0 < session_minutes <= MAX_SESSION_HOURS * 60,
		),
		check(
			"Setting", _("Developer mode"), _("Off"), _("On") if frappe.conf.developer_mode else _("Off"), not frappe.conf.developer_mode
		),
	]


def recent(value, now) -> bool:
	return bool(value) and get_datetime(value) >= add_to_date(now, hours=-MAX_EVIDENCE_AGE_HOURS)


def audit_chain_checks() -> list[dict]:
	from medtrace.audit import audit_chain

	chain = frappe.get_single("Audit Chain")
	now = now_datetime()
	verified = chain.last_verification == "Intact" and recent(chain.last_verified_on, now)
	found = (
		_("{0} on {1}").format(_(chain.last_verification), format_datetime(chain.last_verified_on))
		if chain.last_verified_on
		else _("never verified")
	)
	rows = [
		check(
			"Setting", _("Audit chain: last verification"), _("Intact, within the last {0} hours").format(MAX_EVIDENCE_AGE_HOURS),
			found, verified,
		)
	]
	checkpoint_on = chain.get("checkpoint_on")
	rows.append(
		check(
			"Setting", _("Audit chain: last checkpoint sent"), _("Within the last {0} hours, to at least one person").format(MAX_EVIDENCE_AGE_HOURS),
			_("Entry {0} on {1}, sent to {2}").format(chain.get("checkpoint_sequence"), format_datetime(checkpoint_on), chain.get("checkpoint_sent_to") or _("nobody"))
			if checkpoint_on else _("never taken"),
			recent(checkpoint_on, now) and bool(chain.get("checkpoint_sent_to")),
		)
	)
	key_config = getattr(audit_chain, "KEY_CONFIG", None)
	if key_config:
		keyed = bool(frappe.conf.get(key_config))
		rows.append(
			check("Setting", _("Audit chain key in site_config.json"), _("Present"), _("Present") if keyed else _("Missing"), keyed)
		)
	return rows


def signature_checks() -> list[dict]:
	from medtrace.signatures.esignature import lockout_attempts

	attempts = lockout_attempts()
	return [
		check(
			"Setting", _("Electronic signature lockout"), _("After 1 to {0} failed attempts").format(MAX_SIGNATURE_ATTEMPTS),
			_("After {0} failed attempts").format(attempts), 0 < attempts <= MAX_SIGNATURE_ATTEMPTS,
		)
	]


def scheduler_checks() -> list[dict]:
	from frappe.utils.scheduler import is_schduler_process_running, is_scheduler_inactive

	enabled = not is_scheduler_inactive(verbose=False)
	running = is_schduler_process_running()
	found = ", ".join((_("enabled for this site") if enabled else _("disabled for this site"), _("process running") if running else _("no process running")))
	return [check("Setting", _("Scheduler (daily audit chain verification, checkpoints, data-quality rules)"), _("Enabled and running"), found, enabled and running)]


def backup_checks() -> list[dict]:
	from frappe.utils.backups import get_backup_path

	backups = sorted(Path(get_backup_path()).glob("*-database.sql*"), key=lambda path: path.stat().st_mtime)
	newest = None
	if backups:
		modified = datetime.fromtimestamp(backups[-1].stat().st_mtime, tz=timezone.utc).replace(tzinfo=None)
		newest = convert_utc_to_system_timezone(modified).replace(tzinfo=None)
	return [
		check(
			"Setting", _("Database backups"), _("A backup within the last {0} hours").format(MAX_EVIDENCE_AGE_HOURS),
			_("Last backup {0}").format(format_datetime(newest)) if newest else _("no backup found"), recent(newest, now_datetime()),
		)
	]


def setting_checks() -> list[dict]:
	return track_changes_checks() + system_setting_checks() + audit_chain_checks() + signature_checks() + scheduler_checks() + backup_checks()


def run_installation_qualification(run, manifest: dict, app_root: Path = APP_ROOT) -> None:
	"""Fill a Validation Run with what this site runs and whether each check passes."""
	versions = installed_versions()
	found = app_checksums(app_root)
	for key in ("frappe", "erpnext", "medtrace", "python", "mariadb", "redis"):
		run.set(f"{key}_version", versions[key])
	run.set("iq_checks", [])
	for row in version_checks(versions, manifest) + file_checks(manifest, found) + setting_checks():
		run.append("iq_checks", row)
	run.files_checked = len(found)
	run.files_digest = files_digest(found)
	run.iq_result = "Fail" if any(row.result == "Fail" for row in run.iq_checks) else "Pass"
	tests = {name: digest for name, digest in manifest["files"].items() if not name.startswith(APP_PREFIX)}
	run.manifest_json = frappe.as_json(
		{
			"medtrace_version": versions["medtrace"],
			"files": {**found, **tests},
			"test_requirements": manifest.get("test_requirements", {}),
			"requirements": [entry["id"] for entry in load_register()["requirements"]],
		},
		indent=None,
	)
