"""What the set-up cannot have is said in one line naming it, never with a traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

from bench_tool import REPO

import pytest

pytestmark = pytest.mark.requirement("MT-INS-004")

SETUP = REPO / "scripts" / "bench_setup.py"
# Every source variable unset, so each test decides where Frappe would come from.
SOURCE_VARIABLES = ("MEDTRACE_FRAPPE_SOURCE", "MEDTRACE_ERPNEXT_SOURCE", "MEDTRACE_GUNICORN_SOURCE", "MEDTRACE_AIR_DATEPICKER_SOURCE")


def environment(**overrides) -> dict:
	env = {key: value for key, value in os.environ.items() if key not in SOURCE_VARIABLES and key != "MEDTRACE_PYTHON"}
	return {**env, **overrides}


def run_setup(**overrides) -> subprocess.CompletedProcess:
	return subprocess.run([sys.executable, str(SETUP)], env=environment(**overrides), capture_output=True, text=True, timeout=120)


def run_tests_with_bench(bench: Path) -> subprocess.CompletedProcess:
	return subprocess.run(
		[str(REPO / "scripts" / "run-tests"), "--collect-only", "-q"], env=environment(MEDTRACE_BENCH=str(bench)),
		capture_output=True, text=True, timeout=120,
	)


def fake_bench_with_config(real_bench: Path, tmp_path: Path, **config) -> Path:
	"""A bench that shares the real one's Python, apps and assets but points at other service addresses."""
	fake = tmp_path / "bench"
	(fake / "sites").mkdir(parents=True)
	for shared in ("env", "apps", "sites/assets"):
		(fake / shared).symlink_to(real_bench / shared)
	real_config = json.loads((real_bench / "sites" / "common_site_config.json").read_text())
	(fake / "sites" / "common_site_config.json").write_text(json.dumps({**real_config, **config}))
	return fake


def error_line(result: subprocess.CompletedProcess) -> str:
	"""The set-up's progress lines may come first; what failed is the one last line, without a traceback."""
	assert result.returncode != 0
	output = (result.stdout + result.stderr).strip()
	assert "Traceback" not in output, output
	return output.splitlines()[-1]


def test_no_network_and_no_local_source(tmp_path):
	# A proxy that refuses connections is a machine without network, on any machine.
	result = run_setup(MEDTRACE_BENCH=str(tmp_path / "new-bench"), HTTPS_PROXY="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")
	line = error_line(result)
	assert "Cannot reach https://github.com/frappe/frappe" in line and "MEDTRACE_FRAPPE_SOURCE is not set" in line, line
	assert not (tmp_path / "new-bench").exists()


def test_local_source_that_does_not_exist(tmp_path):
	result = run_setup(MEDTRACE_BENCH=str(tmp_path / "new-bench"), MEDTRACE_FRAPPE_SOURCE=str(tmp_path / "nowhere"))
	assert "MEDTRACE_FRAPPE_SOURCE=" in error_line(result) and "does not exist" in error_line(result)


def test_local_source_of_an_unsupported_version(tmp_path):
	source = tmp_path / "frappe-14"
	(source / "frappe").mkdir(parents=True)
	(source / "frappe" / "__init__.py").write_text('__version__ = "14.82.1"\n')
	result = run_setup(MEDTRACE_BENCH=str(tmp_path / "new-bench"), MEDTRACE_FRAPPE_SOURCE=str(source))
	line = error_line(result)
	assert "frappe 14.82.1 is outside the supported range (>=15,<16)" in line, line


def test_wrong_python(tmp_path):
	old_python = tmp_path / "python3.8"
	old_python.write_text("#!/bin/sh\necho 3 8\n")
	old_python.chmod(0o755)
	result = run_setup(MEDTRACE_PYTHON=str(old_python))
	line = error_line(result)
	assert "MEDTRACE_PYTHON is Python 3.8; Frappe v15 needs one of 3.10" in line, line


def test_too_little_disk(tmp_path):
	result = run_setup(MEDTRACE_BENCH=str(tmp_path / "new-bench"), MEDTRACE_MIN_FREE_GB="1000000")
	line = error_line(result)
	assert "GB free at" in line and "a new bench needs 1e+06 GB" in line, line


def test_port_already_taken():
	import socket

	with socket.socket() as taken:
		taken.bind(("127.0.0.1", 0))
		taken.listen()
		port = taken.getsockname()[1]
		result = subprocess.run(
			[sys.executable, str(SETUP), "--check-ports", str(port)], env=environment(MEDTRACE_PORT=str(port)),
			capture_output=True, text=True, timeout=60,
		)
	line = error_line(result)
	assert f"Port {port} (web server) is already in use by another program" in line and "MEDTRACE_PORT" in line, line


def test_mariadb_down(bench, tmp_path):
	result = run_tests_with_bench(fake_bench_with_config(bench, tmp_path, db_host="127.0.0.1", db_port=1))
	assert "MariaDB is not reachable at 127.0.0.1:1" in error_line(result)


def test_redis_down(bench, tmp_path):
	result = run_tests_with_bench(fake_bench_with_config(bench, tmp_path, redis_cache="redis://127.0.0.1:1"))
	assert "Redis (redis_cache) is not reachable at 127.0.0.1:1" in error_line(result)


def test_second_run_only_checks(bench):
	"""Everything is there: the set-up does no work, and says so for each step, in seconds."""
	result = run_setup(MEDTRACE_BENCH=str(bench))
	assert result.returncode == 0, result.stderr
	steps = [line for line in result.stderr.splitlines() if line.startswith("medtrace setup: [")]
	assert steps and all("skipped" in line or "enough" in line for line in steps), result.stderr
