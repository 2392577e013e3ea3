"""The set-up builds a whole bench from local sources, as in a plant without internet access.

The sources are the git repositories of the bench this suite runs on (their Frappe already points its
GitHub-only dependencies at local copies), so the test needs no GitHub; Python and Node packages come from
the package indexes as in a plant with a mirror.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from bench_setup import bench_user, home_of
from bench_tool import REPO, common_site_config

pytestmark = pytest.mark.requirement("MT-INS-004")


@pytest.fixture
def second_bench_path():
	parent = Path(tempfile.mkdtemp(prefix="medtrace-second-bench-", dir=home_of(bench_user())))
	if os.geteuid() == 0:
		shutil.chown(parent, bench_user(), bench_user())
	yield parent / "frappe-bench"
	shutil.rmtree(parent, ignore_errors=True)


@pytest.mark.slow
def test_bench_from_local_sources(bench, second_bench_path):
	started = time.monotonic()
	env = {
		**os.environ,
		"MEDTRACE_BENCH": str(second_bench_path),
		"MEDTRACE_FRAPPE_SOURCE": str(bench / "apps" / "frappe"),
		"MEDTRACE_ERPNEXT_SOURCE": str(bench / "apps" / "erpnext"),
		"MEDTRACE_DB_ROOT_PASSWORD": common_site_config(bench)["root_password"],
		# The Desk's assets are what a browser needs; this bench is checked from the command line.
		"MEDTRACE_SKIP_ASSETS": "1",
	}
	setup = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_setup.py")], env=env, capture_output=True, text=True, timeout=1800)
	assert setup.returncode == 0, setup.stderr[-3000:]
	built = time.monotonic() - started

	# Built from the local copies, not from upstream.
	for app in ("frappe", "erpnext"):
		remote = subprocess.run(["git", "-c", "safe.directory=*", "-C", str(second_bench_path / "apps" / app), "remote", "get-url", "upstream"], capture_output=True, text=True)
		assert remote.stdout.startswith(str(home_of(bench_user()) / ".cache" / "medtrace" / "sources" / app)), remote.stdout

	config = json.loads((second_bench_path / "sites" / "common_site_config.json").read_text())
	assert config["root_password"] == env["MEDTRACE_DB_ROOT_PASSWORD"]
	# `bench init` writes the addresses of Redis servers it would start itself; the set-up points them at the one running.
	assert {config[key] for key in ("redis_cache", "redis_queue", "redis_socketio")} == {"redis://127.0.0.1:6379"}, config
	(second_bench_path / "apps" / "medtrace").symlink_to(REPO / "apps" / "medtrace", target_is_directory=True)
	install = subprocess.run(
		[str(second_bench_path / "env/bin/python"), "-m", "pip", "install", "--quiet", "--editable", str(second_bench_path / "apps" / "medtrace")],
		capture_output=True, text=True, timeout=900,
	)
	assert install.returncode == 0, install.stderr[-2000:]
	# The apps import in the new bench's Python at the versions the set-up supports. Creating a site on it is
	# what the suite's own set-up does on every new machine (bench_tool.prepare_test_site): not repeated here.
	imported = subprocess.run(
		[str(second_bench_path / "env/bin/python"), "-c", "import frappe, erpnext, medtrace; print(frappe.__version__, erpnext.__version__)"],
		cwd=second_bench_path / "sites", capture_output=True, text=True, timeout=300,
	)
	assert imported.returncode == 0, imported.stderr[-2000:]
	assert [version.split(".")[0] for version in imported.stdout.split()] == ["15", "15"], imported.stdout
	print(f"\nsecond bench from local sources: built in {built:.0f} s, {time.monotonic() - started:.0f} s in all", file=sys.__stderr__)
