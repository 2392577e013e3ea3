"""A broken setup is reported in one line naming what is wrong, never with a traceback."""

import json
import os
import subprocess
from pathlib import Path


from bench_tool import REPO


def run_tests_with_bench(bench: Path) -> subprocess.CompletedProcess:
	env = {**os.environ, "MEDTRACE_BENCH": str(bench)}
	return subprocess.run(
		[str(REPO / "scripts" / "run-tests"), "--collect-only", "-q"], env=env, capture_output=True, text=True, timeout=120
	)


def fake_bench_with_config(real_bench: Path, tmp_path: Path, **config) -> Path:
	"""A bench that shares the real one's Python and apps but points at other service addresses."""
	fake = tmp_path / "bench"
	(fake / "sites").mkdir(parents=True)
	for shared in ("env", "apps"):
		(fake / shared).symlink_to(real_bench / shared)
	real_config = json.loads((real_bench / "sites" / "common_site_config.json").read_text())
	(fake / "sites" / "common_site_config.json").write_text(json.dumps({**real_config, **config}))
	return fake


def assert_one_line_error(result: subprocess.CompletedProcess, *expected: str) -> None:
	assert result.returncode != 0
	output = (result.stdout + result.stderr).strip()
	assert "Traceback" not in output
	assert len(output.splitlines()) == 1, output
	for text in expected:
		assert text in output


def test_no_bench(tmp_path):
	result = run_tests_with_bench(tmp_path / "missing-bench")
	assert_one_line_error(result, "No Frappe bench at", "MEDTRACE_BENCH")


def test_mariadb_down(bench, tmp_path):
	result = run_tests_with_bench(fake_bench_with_config(bench, tmp_path, db_host="127.0.0.1", db_port=1))
	assert_one_line_error(result, "MariaDB is not reachable at 127.0.0.1:1")


def test_redis_down(bench, tmp_path):
	result = run_tests_with_bench(fake_bench_with_config(bench, tmp_path, redis_cache="redis://127.0.0.1:1"))
	assert_one_line_error(result, "Redis (redis_cache) is not reachable at 127.0.0.1:1")
