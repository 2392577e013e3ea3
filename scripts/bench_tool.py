"""Bench-side plumbing behind the README's two commands and the pytest harness.

Runs with the bench's own Python (``$MEDTRACE_BENCH/env/bin/python``): it checks the bench and its
services, links this checkout's app into the bench, and creates or migrates a site through the same
``frappe.utils.bench_helper`` entry point the ``bench`` CLI calls (which also works as root, where the
``bench`` CLI refuses to run).
"""

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from bench_setup import SetupError, bench_path

REPO = Path(__file__).resolve().parents[1]
APP_SOURCE = REPO / "apps" / "medtrace"
# Parallel work on one bench can give each worker its own site.
TEST_SITE = os.environ.get("MEDTRACE_TEST_SITE") or "medtrace-test.localhost"
DEMO_SITE = "medtrace-demo.localhost"
ADMIN_PASSWORD = "admin"


def check_bench(bench: Path) -> None:
	if not bench.is_dir():
		raise SetupError(
			f"No Frappe bench at {bench}: run scripts/run-tests or scripts/serve-demo, which set one up, "
			"or set MEDTRACE_BENCH to your bench's directory."
		)
	for required in ("env/bin/python", "apps/frappe", "apps/erpnext", "sites/common_site_config.json"):
		if not (bench / required).exists():
			raise SetupError(f"The bench at {bench} is incomplete: {required} is missing.")


def common_site_config(bench: Path) -> dict:
	return json.loads((bench / "sites" / "common_site_config.json").read_text())


def check_port(host: str, port: int) -> bool:
	try:
		with socket.create_connection((host, port), timeout=3):
			return True
	except OSError:
		return False


def check_services(bench: Path) -> None:
	config = common_site_config(bench)
	db_host = config.get("db_host") or "127.0.0.1"
	db_port = int(config.get("db_port") or 3306)
	if not check_port(db_host, db_port):
		raise SetupError(f"MariaDB is not reachable at {db_host}:{db_port}: start it (e.g. 'service mariadb start').")
	for key in ("redis_cache", "redis_queue"):
		url = urlparse(config.get(key) or "redis://127.0.0.1:6379")
		if not check_port(url.hostname, url.port or 6379):
			raise SetupError(
				f"Redis ({key}) is not reachable at {url.hostname}:{url.port}: start redis-server "
				f"or point {key} in sites/common_site_config.json at a running one."
			)


def free_port() -> int:
	with socket.socket() as probe:
		probe.bind(("127.0.0.1", 0))
		return probe.getsockname()[1]


def wait_for_port(port: int, seconds: float = 60) -> None:
	"""Returns once a server started in another process accepts connections (or the time is up)."""
	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline and not check_port("127.0.0.1", port):
		time.sleep(0.5)


def db_root_password(bench: Path) -> str:
	password = os.environ.get("MEDTRACE_DB_ROOT_PASSWORD") or common_site_config(bench).get("root_password")
	if not password:
		raise SetupError(
			"No MariaDB root password: set MEDTRACE_DB_ROOT_PASSWORD (needed to create the site's database)."
		)
	return password


def link_app(bench: Path) -> None:
	"""Make the bench run this checkout's app: a symlink, an editable install and an apps.txt entry."""
	target = bench / "apps" / "medtrace"
	if target.is_symlink() and target.resolve() != APP_SOURCE:
		target.unlink()
	if not target.exists():
		target.symlink_to(APP_SOURCE, target_is_directory=True)
	elif target.resolve() != APP_SOURCE:
		raise SetupError(f"{target} is another copy of medtrace; move it away so this checkout can be linked.")

	python = str(bench / "env" / "bin" / "python")
	found = subprocess.run([python, "-c", "import medtrace; print(medtrace.__file__)"], capture_output=True, text=True)
	if (
		found.returncode
		or Path(found.stdout.strip()).resolve().parent != APP_SOURCE / "medtrace"
		or not requirements_met(python, app_dependencies())
	):
		install = subprocess.run(
			[python, "-m", "pip", "install", "--quiet", "--editable", str(target)], capture_output=True, text=True
		)
		if install.returncode:
			raise SetupError(f"Installing medtrace into the bench's Python failed: {install.stderr.strip()[-300:]}")

	# What `bench build` links: the Desk loads app_include_js from sites/assets/medtrace.
	assets = bench / "sites" / "assets" / "medtrace"
	if assets.is_symlink() and assets.resolve() != APP_SOURCE / "medtrace" / "public":
		assets.unlink()
	if not assets.exists():
		assets.parent.mkdir(parents=True, exist_ok=True)
		assets.symlink_to(APP_SOURCE / "medtrace" / "public", target_is_directory=True)

	apps_txt = bench / "sites" / "apps.txt"
	apps = apps_txt.read_text().split() if apps_txt.exists() else ["frappe", "erpnext"]
	if "medtrace" not in apps:
		apps_txt.write_text("\n".join([*apps, "medtrace"]) + "\n")


# Asks the bench's Python whether every requirement given is installed in a satisfying version.
REQUIREMENTS_MET = """
import sys
from importlib.metadata import PackageNotFoundError, version
from packaging.requirements import Requirement
for line in sys.argv[1:]:
	requirement = Requirement(line)
	try:
		assert requirement.specifier.contains(version(requirement.name), prereleases=True)
	except (PackageNotFoundError, AssertionError):
		sys.exit(1)
"""


def requirements_met(python: str, requirements: list[str]) -> bool:
	return subprocess.run([python, "-c", REQUIREMENTS_MET, *requirements], capture_output=True).returncode == 0


def app_dependencies() -> list[str]:
	import tomllib

	return tomllib.loads((APP_SOURCE / "pyproject.toml").read_text())["project"]["dependencies"]


def install_test_requirements(bench: Path) -> None:
	python = str(bench / "env" / "bin" / "python")
	requirements = REPO / "tests" / "requirements.txt"
	lines = [line.split("#")[0].strip() for line in requirements.read_text().splitlines()]
	if requirements_met(python, [line for line in lines if line]):
		return
	install = subprocess.run([python, "-m", "pip", "install", "--quiet", "-r", str(requirements)], capture_output=True, text=True)
	if install.returncode:
		raise SetupError(f"Installing the test requirements failed: {install.stderr.strip()[-300:]}")


def site_command(bench: Path, site: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
	"""Run a `bench --site <site> …` command through bench_helper, as the bench CLI does.

	Its output goes to logs/medtrace-site-command.log; a failure is reported by its last line."""
	command = [str(bench / "env" / "bin" / "python"), "-m", "frappe.utils.bench_helper", "frappe", "--site", site, *args]
	result = subprocess.run(command, cwd=bench / "sites", capture_output=True, text=True)
	log = bench / "logs" / "medtrace-site-command.log"
	with log.open("a") as handle:
		handle.write(f"$ bench --site {site} {args[0]}\n{result.stdout}{result.stderr}\n")
	if check and result.returncode:
		lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
		errors = [line for line in lines if "Error" in line or "Exception" in line] or lines
		raise SetupError(f"'bench --site {site} {args[0]}' failed ({errors[-1] if errors else 'no output'}); see {log}")
	return result


def say(message: str) -> None:
	print(f"medtrace: {message}", file=sys.stderr, flush=True)


def app_source_fingerprint() -> str:
	"""Changes whenever a file a migrate reads changes (doctypes, fixtures, workflows, patches, hooks)."""
	digest = hashlib.sha256()
	for path in sorted(APP_SOURCE.rglob("*")):
		if path.suffix in {".json", ".py", ".txt", ".csv"} and "__pycache__" not in path.parts:
			digest.update(str(path.relative_to(APP_SOURCE)).encode())
			digest.update(path.read_bytes())
	return digest.hexdigest()


def site_config(bench: Path, site: str) -> dict:
	path = bench / "sites" / site / "site_config.json"
	return json.loads(path.read_text()) if path.exists() else {}


def create_site(bench: Path, site: str) -> None:
	say(f"creating site {site} with ERPNext and MedTrace (a few minutes)…")
	site_command(
		bench, site, "new-site", site, "--force", "--db-root-password", db_root_password(bench),
		"--admin-password", ADMIN_PASSWORD, "--install-app", "erpnext", "--install-app", "medtrace",
	)


def installed_apps(bench: Path, site: str) -> list[str]:
	output = site_command(bench, site, "list-apps", "--format", "json", check=False).stdout
	try:
		return json.loads(output[output.index("{") :])[site]
	except (ValueError, KeyError):
		return []


# The suite commits more new users an hour (integration systems, parallel signers), run after run, than Frappe's
# guard against sign-up floods lets a site create (60): the test site, only, lifts it.
TEST_SITE_CONFIG = {"throttle_user_limit": 100_000}


def prepare_test_site(bench: Path) -> None:
	install_or_migrate_test_site(bench)
	config = site_config(bench, TEST_SITE)
	for key, value in TEST_SITE_CONFIG.items():
		if config.get(key) != value:
			site_command(bench, TEST_SITE, "set-config", "--parse", key, json.dumps(value))


def install_or_migrate_test_site(bench: Path) -> None:
	"""Create the test site if missing (or left half-created); otherwise install or migrate the app."""
	fingerprint = app_source_fingerprint()
	installed = installed_apps(bench, TEST_SITE) if site_config(bench, TEST_SITE) else []
	if "erpnext" not in installed:
		create_site(bench, TEST_SITE)
	else:
		if "medtrace" not in installed:
			say(f"installing medtrace on {TEST_SITE}…")
			site_command(bench, TEST_SITE, "install-app", "medtrace")
		elif site_config(bench, TEST_SITE).get("medtrace_source_fingerprint") == fingerprint:
			return
		say(f"migrating {TEST_SITE} to this checkout's app…")
		site_command(bench, TEST_SITE, "migrate")
	site_command(bench, TEST_SITE, "set-config", "medtrace_source_fingerprint", fingerprint)


def prepare_demo_site(bench: Path) -> None:
	create_site(bench, DEMO_SITE)
	say("loading the demo company…")
	site_command(
		bench, DEMO_SITE, "execute", "medtrace.setup.demo.load_demo", "--kwargs", json.dumps({"signing_password": ADMIN_PASSWORD})
	)


def give_back_to_bench_owner(bench: Path) -> None:
	"""Commands run as root leave root-owned logs, locks and site files; hand them back to the bench's user."""
	if os.geteuid() != 0:
		return
	owner = bench.stat()
	for path in (bench / "sites", bench / "logs", bench / "env", bench / "config"):
		if path.exists():
			subprocess.run(["chown", "-R", f"{owner.st_uid}:{owner.st_gid}", str(path)], check=False)
	for link in (bench / "apps" / "medtrace", bench / "sites" / "assets" / "medtrace"):
		if link.is_symlink():
			os.lchown(link, owner.st_uid, owner.st_gid)


def main() -> int:
	parser = argparse.ArgumentParser(description=__doc__)
	parser.add_argument("action", choices=["preflight", "prepare-test-site", "prepare-demo-site", "release"])
	action = parser.parse_args().action
	bench = bench_path()
	try:
		check_bench(bench)
		if action == "release":
			give_back_to_bench_owner(bench)
			return 0
		check_services(bench)
		link_app(bench)
		if action == "preflight":
			install_test_requirements(bench)
		elif action == "prepare-test-site":
			prepare_test_site(bench)
		elif action == "prepare-demo-site":
			prepare_demo_site(bench)
	except SetupError as error:
		print(f"medtrace: {error}", file=sys.stderr)
		return 2
	return 0


if __name__ == "__main__":
	sys.exit(main())
