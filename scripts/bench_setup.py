"""Brings a Debian/Ubuntu machine from bare to a Frappe v15 + ERPNext v15 bench that MedTrace runs on.

`scripts/run-tests`, `scripts/serve-demo` and `.ci/run` call this first, so a user and CI share one set-up.
Each step checks before it acts: on a machine that has everything, the whole run only checks (seconds).
Runs with the system's python3 and its standard library only, because nothing else exists yet.

Frappe and ERPNext come from their upstream repositories, or from local git repositories or folders named
by MEDTRACE_FRAPPE_SOURCE and MEDTRACE_ERPNEXT_SOURCE (plants without internet access). Frappe's two
GitHub-only dependencies can be named the same way: MEDTRACE_GUNICORN_SOURCE, MEDTRACE_AIR_DATEPICKER_SOURCE.
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUPPORTED_MAJOR = 15
# Versions the suite has passed on; any other v15 release is accepted, a warning names the difference.
KNOWN_GOOD = {"frappe": "15.101.1", "erpnext": "15.99.1"}
BRANCH = f"version-{SUPPORTED_MAJOR}"
UPSTREAM = {
	"frappe": "https://github.com/frappe/frappe",
	"erpnext": "https://github.com/frappe/erpnext",
	"gunicorn": "https://github.com/frappe/gunicorn",
	"air-datepicker": "https://github.com/frappe/air-datepicker",
}
SOURCE_VARIABLE = {
	"frappe": "MEDTRACE_FRAPPE_SOURCE",
	"erpnext": "MEDTRACE_ERPNEXT_SOURCE",
	"gunicorn": "MEDTRACE_GUNICORN_SOURCE",
	"air-datepicker": "MEDTRACE_AIR_DATEPICKER_SOURCE",
}
# setuptools 81 dropped pkg_resources, which parts of Frappe v15's dependency tree still import.
SETUPTOOLS_PIN = "setuptools<70"
DEBIAN_PACKAGES = [
	"git", "curl", "build-essential", "pkg-config", "python3-dev", "python3-venv", "python3-pip",
	"mariadb-server", "mariadb-client", "redis-server", "wkhtmltopdf", "xfonts-75dpi", "xfonts-base",
	# pdftoppm/pdftotext read the PDFs back in tests; a CJK font renders Chinese in PDFs and in the browser.
	"poppler-utils", "fonts-wqy-zenhei", "chromium",
]
REDIS_PORT = 6379
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}"
REDIS_KEYS = ("redis_cache", "redis_queue", "redis_socketio")
# bench 5.x imports a private click helper that click 8.2 removed.
BENCH_CLI = ["frappe-bench>=5.22,<6", "click<8.2", SETUPTOOLS_PIN]
MIN_NODE_MAJOR = 18
# A new bench with ERPNext, its node modules and built assets takes about 6 GB; sites and backups need more.
MIN_FREE_GB = 8
SUPPORTED_PYTHONS = ((3, 10), (3, 11), (3, 12), (3, 13))
# Debian's default buffer pool (128 MB) makes the trace benchmarks 2-3x slower; a quarter of the memory,
# capped, is what MariaDB's own sizing guidance gives a machine shared with the application.
MARIADB_CONFIG = "/etc/mysql/mariadb.conf.d/99-medtrace.cnf"
# What the bench user's commands must keep when `runuser` starts them with a clean environment.
PASSED_VARIABLES = re.compile(
	r"^(SSL_CERT_\w+|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|NODE_EXTRA_CA_CERTS|GIT_SSL_CAINFO|PIP_\w+|UV_\w+"
	r"|npm_config_\w+|NPM_CONFIG_\w+|YARN_\w+|https?_proxy|HTTPS?_PROXY|no_proxy|NO_PROXY|LANG|LC_\w+)$"
)


class SetupError(Exception):
	"""Something the machine lacks, said in one line without a traceback."""


def say(message: str) -> None:
	print(f"medtrace setup: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- machine


def is_root() -> bool:
	return os.geteuid() == 0


def bench_user() -> str:
	if is_root():
		return os.environ.get("MEDTRACE_BENCH_USER") or "frappe"
	import pwd

	return pwd.getpwuid(os.geteuid()).pw_name


def home_of(user: str) -> Path:
	import pwd

	try:
		return Path(pwd.getpwnam(user).pw_dir)
	except KeyError:
		return Path("/home") / user


def default_bench() -> Path:
	"""The bench lives in its user's home, so every clone of this repository (CI's too) finds the same one."""
	return home_of(bench_user()) / "frappe-bench"


def bench_path() -> Path:
	return Path(os.environ.get("MEDTRACE_BENCH") or default_bench()).expanduser().absolute()


def cache_dir() -> Path:
	return home_of(bench_user()) / ".cache" / "medtrace"


def port_open(port: int, host: str = "127.0.0.1") -> bool:
	try:
		with socket.create_connection((host, port), timeout=2):
			return True
	except OSError:
		return False


def memory_bytes() -> int:
	return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def python_version(python: str) -> tuple[int, int] | None:
	try:
		out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True, timeout=20)
	except (OSError, subprocess.TimeoutExpired):
		return None
	if out.returncode:
		return None
	major, minor = out.stdout.split()
	return int(major), int(minor)


def find_python() -> str:
	"""The interpreter the bench's virtual environment is made from: MEDTRACE_PYTHON, else the system's."""
	wanted = os.environ.get("MEDTRACE_PYTHON")
	supported = ", ".join(f"{major}.{minor}" for major, minor in SUPPORTED_PYTHONS)
	if wanted:
		version = python_version(wanted)
		if version is None:
			raise SetupError(f"MEDTRACE_PYTHON={wanted} is not a Python interpreter that runs.")
		if version not in SUPPORTED_PYTHONS:
			raise SetupError(f"MEDTRACE_PYTHON is Python {version[0]}.{version[1]}; Frappe v15 needs one of {supported}.")
		return wanted
	# System interpreters first: a pyenv Python under /root is not readable by the bench's user.
	for candidate in ("/usr/bin/python3", "/usr/local/bin/python3", "python3.12", "python3.11", "python3.10", "python3"):
		path = shutil.which(candidate)
		if path and python_version(path) in SUPPORTED_PYTHONS:
			return path
	raise SetupError(f"No Python {supported} found: install python3 (Debian: apt-get install python3) or set MEDTRACE_PYTHON.")


def check_disk(bench: Path) -> None:
	if (bench / "env").is_dir():
		return
	target = bench.parent
	while not target.exists():
		target = target.parent
	free_gb = shutil.disk_usage(target).free / 1e9
	needed = float(os.environ.get("MEDTRACE_MIN_FREE_GB") or MIN_FREE_GB)
	if free_gb < needed:
		raise SetupError(f"Only {free_gb:.1f} GB free at {target}; a new bench needs {needed:g} GB: free some space or set MEDTRACE_BENCH elsewhere.")


def check_port_free(port: int, purpose: str, variable: str) -> None:
	"""For servers this project starts itself: a port in use by something else is named, not crashed on."""
	if port_open(port):
		raise SetupError(f"Port {port} ({purpose}) is already in use by another program: stop it or set {variable} to a free port.")


def check_server_ports(bench: Path, web_port: int) -> None:
	"""The Desk's web server and socket.io, before serve-demo starts them."""
	check_port_free(web_port, "web server", "MEDTRACE_PORT")
	socketio_port = int(read_common_site_config(bench).get("socketio_port") or 9000)
	check_port_free(socketio_port, "socket.io", "socketio_port in sites/common_site_config.json")


# ---------------------------------------------------------------------------------------- system packages


def missing_debian_packages() -> list[str]:
	query = subprocess.run(
		["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *DEBIAN_PACKAGES], capture_output=True, text=True
	)
	installed = {line.split()[0] for line in query.stdout.splitlines() if line.endswith(" installed")}
	missing = [package for package in DEBIAN_PACKAGES if package not in installed]
	if node_major() < MIN_NODE_MAJOR:
		missing += ["nodejs", "npm"]
	return missing


def node_major() -> int:
	node = shutil.which("node")
	if not node:
		return 0
	out = subprocess.run([node, "--version"], capture_output=True, text=True)
	match = re.match(r"v(\d+)", out.stdout.strip())
	return int(match.group(1)) if match else 0


def install_system_packages() -> str:
	if not shutil.which("dpkg-query"):
		needed = ["mariadbd", "redis-server", "wkhtmltopdf", "pdftoppm", "node", "git", "chromium"]
		absent = [command for command in needed if not shutil.which(command)]
		if absent:
			raise SetupError(f"Not a Debian/Ubuntu machine and {', '.join(absent)} missing: install them with your package manager.")
		return "skipped (not Debian; the commands needed are there)"
	missing = missing_debian_packages()
	if not missing:
		return "skipped (all installed)"
	if not is_root():
		raise SetupError(f"Missing system packages; as root run: apt-get install -y {' '.join(missing)}")
	environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
	run(["apt-get", "update", "-qq"], env=environment, what="apt-get update")
	run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=environment, what="apt-get install")
	if node_major() < MIN_NODE_MAJOR:
		raise SetupError(f"Node.js {node_major()} is too old; Frappe v15 needs {MIN_NODE_MAJOR} or newer (install it from NodeSource or your distribution).")
	return f"installed {' '.join(missing)}"


def install_yarn() -> str:
	if shutil.which("yarn"):
		return "skipped (yarn is there)"
	if not is_root():
		raise SetupError("yarn is missing; as root run: npm install -g yarn")
	run(["npm", "install", "-g", "--silent", "yarn"], what="npm install -g yarn")
	return "installed yarn"


# ---------------------------------------------------------------------------------------- MariaDB, Redis


def mariadb_config_text() -> str:
	buffer_pool_mb = max(256, min(memory_bytes() // 4 // 2**20, 16384))
	return (
		"# Written by MedTrace's set-up (scripts/bench_setup.py): what Frappe v15 requires, and a buffer pool\n"
		"# sized to this machine's memory.\n"
		"[mysqld]\n"
		"character-set-client-handshake = FALSE\n"
		"character-set-server = utf8mb4\n"
		"collation-server = utf8mb4_unicode_ci\n"
		f"innodb_buffer_pool_size = {buffer_pool_mb}M\n"
		"bind-address = 127.0.0.1\n\n"
		"[mysql]\n"
		"default-character-set = utf8mb4\n"
	)


def configure_mariadb() -> str:
	config = Path(MARIADB_CONFIG)
	wanted = mariadb_config_text()
	if config.exists() and config.read_text() == wanted:
		return "skipped (configured)"
	if not is_root():
		if server_settings_ok():
			return "skipped (settings already right)"
		raise SetupError(f"MariaDB needs utf8mb4 / utf8mb4_unicode_ci; as root write {MARIADB_CONFIG} (see scripts/bench_setup.py).")
	config.parent.mkdir(parents=True, exist_ok=True)
	config.write_text(wanted)
	if port_open(3306):
		stop_mariadb()
	return "written (utf8mb4, buffer pool sized to memory)"


def server_settings_ok() -> bool:
	out = mysql("SELECT @@character_set_server, @@collation_server", check=False)
	return out is not None and out.split() == ["utf8mb4", "utf8mb4_unicode_ci"]


def has_systemd() -> bool:
	return Path("/run/systemd/system").is_dir()


def stop_mariadb() -> None:
	"""Stops MariaDB, for start_mariadb to start it again with the configuration just written."""
	if has_systemd():
		subprocess.run(["systemctl", "stop", "mariadb"], capture_output=True)
	elif shutil.which("service"):
		subprocess.run(["service", "mariadb", "stop"], capture_output=True)
	else:
		subprocess.run(["mariadb-admin", "shutdown"], capture_output=True)
	for _ in range(30):
		if not port_open(3306):
			return
		time.sleep(1)


def start_mariadb() -> str:
	if port_open(3306):
		return "skipped (running)"
	if not is_root():
		raise SetupError("MariaDB is not running on 127.0.0.1:3306; start it (e.g. 'sudo service mariadb start').")
	if has_systemd():
		subprocess.run(["systemctl", "start", "mariadb"], capture_output=True)
	elif shutil.which("service"):
		subprocess.run(["service", "mariadb", "start"], capture_output=True)
	else:
		# No init system: start the server the way its own wrapper does, detached from this process.
		subprocess.Popen(["mysqld_safe"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
	wait_for(3306, "MariaDB")
	return "started"


def start_redis() -> str:
	if port_open(REDIS_PORT):
		return "skipped (running)"
	if not shutil.which("redis-server"):
		raise SetupError("redis-server is missing: install it (Debian: apt-get install redis-server).")
	subprocess.run(
		["redis-server", "--daemonize", "yes", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
		capture_output=True,
	)
	wait_for(REDIS_PORT, "Redis")
	return "started"


def wait_for(port: int, name: str, seconds: int = 60) -> None:
	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline:
		if port_open(port):
			return
		time.sleep(0.5)
	raise SetupError(f"{name} did not start on 127.0.0.1:{port} within {seconds} s; see its log under /var/log.")


def mysql(sql: str, password: str | None = None, check: bool = True) -> str | None:
	"""Runs SQL as MariaDB's root: with a password over TCP, else through the unix socket (root only)."""
	command = ["mariadb", "-uroot", "-N", "-B", "-e", sql]
	if password is not None:
		command[1:1] = ["-h127.0.0.1", f"-p{password}"]
	out = subprocess.run(command, capture_output=True, text=True)
	if out.returncode:
		if check:
			raise SetupError(f"MariaDB refused: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else 'no output'}")
		return None
	return out.stdout.strip()


def configure_db_root_password(bench: Path) -> str:
	"""Frappe creates each site's database as MariaDB's root; the bench keeps that password in its config."""
	config = read_common_site_config(bench)
	known = os.environ.get("MEDTRACE_DB_ROOT_PASSWORD") or config.get("root_password")
	if known and mysql("SELECT 1", password=known, check=False) == "1":
		if config.get("root_password") != known:
			update_common_site_config(bench, {"root_password": known})
			return "recorded in the bench's config"
		return "skipped (works)"
	unknown = SetupError(
		"Cannot log in to MariaDB as root with a password: set MEDTRACE_DB_ROOT_PASSWORD to its root password "
		"(or run the set-up as root on a MariaDB whose root has none yet)."
	)
	if not is_root() or mysql("SELECT 1", check=False) != "1":
		raise unknown
	# Another bench may already use root's password: it is set only where there is none.
	existing = mysql("SELECT JSON_VALUE(Priv, '$.authentication_string') FROM mysql.global_priv WHERE User='root' AND Host='localhost'")
	# Debian's package leaves root with the hash 'invalid': no password can match it, only the socket logs in.
	if existing not in ("", "NULL", "invalid", None):
		raise unknown
	password = secrets.token_urlsafe(18)
	# Root keeps its unix-socket login; the password is for Frappe, which connects over TCP.
	mysql(f"ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('{password}')")
	update_common_site_config(bench, {"root_password": password})
	return "set and recorded in the bench's config"


# ----------------------------------------------------------------------------------------- bench user


def ensure_bench_user() -> str:
	user = bench_user()
	if not is_root():
		return f"skipped (running as {user})"
	import pwd

	try:
		pwd.getpwnam(user)
		return f"skipped ({user} exists)"
	except KeyError:
		run(["useradd", "--create-home", "--shell", "/bin/bash", user], what=f"useradd {user}")
		return f"created {user}"


def as_bench_user(command: list[str]) -> list[str]:
	"""`bench` refuses to run as root; as root, run it as the bench's user with the certificates and mirrors set."""
	if not is_root():
		return command
	passed = [f"{key}={value}" for key, value in os.environ.items() if PASSED_VARIABLES.match(key)]
	if os.environ.get("SSL_CERT_FILE") and not os.environ.get("npm_config_cafile"):
		passed.append(f"npm_config_cafile={os.environ['SSL_CERT_FILE']}")
	home = home_of(bench_user())
	passed.append(f"GIT_CONFIG_GLOBAL={git_config_trusting_local_sources()}")
	return ["runuser", "-u", bench_user(), "--", "env", f"HOME={home}", f"USER={bench_user()}",
			f"PATH={bench_cli().parent}:/usr/local/bin:/usr/bin:/bin", *passed, *command]


def git_config_trusting_local_sources() -> Path:
	"""git refuses repositories owned by another user, and local sources usually belong to whoever copied
	them in. Only a global config can say otherwise to the `git upload-pack` a local clone starts."""
	config = cache_dir() / "gitconfig"
	make_owned_dirs(config.parent)
	config.write_text("[include]\n\tpath = ~/.gitconfig\n[safe]\n\tdirectory = *\n")
	return config


def bench_cli() -> Path:
	return cache_dir() / "bench-cli" / "bin" / "bench"


def install_bench_cli(python: str) -> str:
	cli_python = bench_cli().parent / "python"
	if cli_python.exists() and subprocess.run([cli_python, "-c", "import bench.cli"], capture_output=True).returncode == 0:
		return "skipped (installed)"
	venv = bench_cli().parent.parent
	make_owned_dirs(venv.parent)
	run(as_bench_user([python, "-m", "venv", "--clear", str(venv)]), what="python -m venv (bench CLI)")
	run(as_bench_user([str(venv / "bin" / "pip"), "install", "--quiet", *BENCH_CLI]), what="pip install frappe-bench")
	return "installed frappe-bench from PyPI"


def make_owned_dirs(path: Path) -> None:
	"""Creates the folders of a path that are missing, owned by the bench's user (folders that exist stay as they are)."""
	created = [part for part in [path, *path.parents] if not part.exists()]
	path.mkdir(parents=True, exist_ok=True)
	if is_root():
		import pwd

		user = pwd.getpwnam(bench_user())
		for part in created:
			os.chown(part, user.pw_uid, user.pw_gid)


# --------------------------------------------------------------------------------------------- sources


def source_of(name: str) -> str | None:
	"""A local path the user named, or None for the upstream repository."""
	value = os.environ.get(SOURCE_VARIABLE[name])
	if not value:
		return None
	path = Path(value).expanduser()
	if not path.exists():
		raise SetupError(f"{SOURCE_VARIABLE[name]}={value} does not exist.")
	return str(path.absolute())


def upstream_reachable(name: str) -> bool:
	out = subprocess.run(
		["git", "ls-remote", "--heads", UPSTREAM[name]], capture_output=True, timeout=60,
		env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
	)
	return out.returncode == 0


def require_upstream(name: str) -> str:
	if not upstream_reachable(name):
		raise SetupError(
			f"Cannot reach {UPSTREAM[name]} (no network?) and {SOURCE_VARIABLE[name]} is not set: "
			"set it to a local copy (README, 'Air-gapped installation')."
		)
	return UPSTREAM[name]


def stage_source(name: str, source: str) -> Path:
	"""A git repository of the bench user's with the source on branch version-15, which `bench` clones from."""
	stage = cache_dir() / "sources" / name
	if stage.exists():
		shutil.rmtree(stage)
	make_owned_dirs(stage.parent)
	# Read as whoever runs the set-up (root reads a source the bench user may not), then handed to the bench user.
	trusting = {**os.environ, "GIT_CONFIG_GLOBAL": str(git_config_trusting_local_sources())}
	is_git = (Path(source) / ".git").exists() or (Path(source) / "HEAD").exists()
	if is_git:
		# A file:// URL clones through git's pack protocol, which reads what a plain copy of .git may not.
		run(["git", "clone", "--quiet", f"file://{source}", str(stage)], env=trusting, what=f"git clone {name}")
	else:
		shutil.copytree(source, stage, symlinks=True)
	if is_root():
		subprocess.run(["chown", "-R", f"{bench_user()}:", str(stage)], check=True)
	if not is_git:
		git(stage, "init", "--quiet")
		git(stage, "add", "--all")
		git(stage, "commit", "--quiet", "-m", f"{name} from {source}")
	branches = git(stage, "branch", "--all", "--format=%(refname:short)").split()
	if BRANCH in branches:
		git(stage, "checkout", "--quiet", BRANCH)
	elif f"origin/{BRANCH}" in branches:
		git(stage, "checkout", "--quiet", "-B", BRANCH, f"origin/{BRANCH}")
	else:
		git(stage, "checkout", "--quiet", "-B", BRANCH)
	return stage


def git(repo: Path, *args: str) -> str:
	command = ["git", "-c", "user.name=MedTrace set-up", "-c", "user.email=setup@medtrace.invalid", *args]
	return run(as_bench_user(command), cwd=repo, what=f"git {args[0]}", capture=True)


def app_version(repo: Path, app: str) -> str:
	init = repo / app / "__init__.py"
	match = re.search(r'^__version__\s*=\s*"([^"]+)"', init.read_text(), re.M) if init.exists() else None
	if not match:
		raise SetupError(f"{repo} is not a {app} source: {app}/__init__.py with __version__ is missing.")
	return match.group(1)


def check_version(app: str, version: str) -> None:
	major = int(re.match(r"\d+", version).group()) if re.match(r"\d+", version) else 0
	if major != SUPPORTED_MAJOR:
		raise SetupError(
			f"{app} {version} is outside the supported range (>={SUPPORTED_MAJOR},<{SUPPORTED_MAJOR + 1}); "
			f"use the {BRANCH} branch (known good: {KNOWN_GOOD[app]})."
		)
	if version != KNOWN_GOOD[app]:
		say(f"note: {app} {version}; the suite is known to pass on {KNOWN_GOOD[app]}.")


def use_local_frappe_dependencies(frappe_stage: Path) -> None:
	"""Point Frappe's GitHub-only dependencies at local copies where the user named them (no GitHub here)."""
	pyproject = frappe_stage / "pyproject.toml"
	pin = re.search(r'"gunicorn @ git\+https://github\.com/frappe/gunicorn@([0-9a-f]+)"', pyproject.read_text())
	gunicorn = source_of("gunicorn")
	if pin and gunicorn:
		stage = stage_source("gunicorn", gunicorn)
		git(stage, "checkout", "--quiet", pin.group(1))
		pyproject.write_text(pyproject.read_text().replace(pin.group(0), f'"gunicorn @ git+file://{stage}@{pin.group(1)}"'))
	elif pin and not upstream_reachable("gunicorn"):
		raise SetupError(f"Cannot reach {UPSTREAM['gunicorn']} and MEDTRACE_GUNICORN_SOURCE is not set: Frappe needs it (README, 'Air-gapped installation').")

	package_json = frappe_stage / "package.json"
	datepicker = source_of("air-datepicker")
	wanted = '"air-datepicker": "github:frappe/air-datepicker"'
	if wanted in package_json.read_text() and datepicker:
		lock = frappe_stage / "yarn.lock"
		commit = re.search(r"air-datepicker/tar\.gz/([0-9a-f]+)", lock.read_text())
		stage = stage_source("air-datepicker", datepicker)
		if commit:
			git(stage, "checkout", "--quiet", commit.group(1))
		package_json.write_text(package_json.read_text().replace(wanted, f'"air-datepicker": "file:{stage}"'))
		# yarn v1 locks a file: dependency without a resolved URL.
		lock.write_text(re.sub(
			r'"air-datepicker@github:frappe/air-datepicker":\n  version "([^"]+)"\n  resolved "[^"]+"\n',
			lambda match: f'"air-datepicker@file:{stage}":\n  version "{match.group(1)}"\n',
			lock.read_text(),
		))
	elif wanted in package_json.read_text() and not upstream_reachable("air-datepicker"):
		raise SetupError(f"Cannot reach {UPSTREAM['air-datepicker']} and MEDTRACE_AIR_DATEPICKER_SOURCE is not set: Frappe needs it (README, 'Air-gapped installation').")
	if git(frappe_stage, "status", "--porcelain"):
		git(frappe_stage, "commit", "--quiet", "--all", "-m", "MedTrace set-up: GitHub-only dependencies from local copies")


def frappe_source() -> str:
	local = source_of("frappe")
	if not local:
		return require_upstream("frappe")
	stage = stage_source("frappe", local)
	check_version("frappe", app_version(stage, "frappe"))
	use_local_frappe_dependencies(stage)
	return str(stage)


def erpnext_source() -> str:
	local = source_of("erpnext")
	if not local:
		return require_upstream("erpnext")
	stage = stage_source("erpnext", local)
	check_version("erpnext", app_version(stage, "erpnext"))
	return str(stage)


# ---------------------------------------------------------------------------------------------- bench


def bench_complete(bench: Path) -> bool:
	return all((bench / path).exists() for path in ("env/bin/python", "apps/frappe", "sites/common_site_config.json", "sites/assets/frappe"))


def init_bench(bench: Path, python: str) -> str:
	if bench_complete(bench):
		check_version("frappe", app_version(bench / "apps" / "frappe", "frappe"))
		return "skipped (bench exists)"
	if bench.exists() and any(bench.iterdir()):
		raise SetupError(f"{bench} exists but is not a complete bench: move it away, or set MEDTRACE_BENCH to another folder.")
	if bench.exists():
		bench.rmdir()
	source = frappe_source()
	make_owned_dirs(bench.parent)
	command = ["bench", "init", "--frappe-branch", BRANCH, "--frappe-path", source, "--python", python,
			   "--no-backups", "--skip-redis-config-generation", str(bench)]
	if os.environ.get("MEDTRACE_SKIP_ASSETS"):
		command.append("--skip-assets")
	run(as_bench_user(command), cwd=bench.parent, what="bench init", env=bench_environment())
	# `bench init` records the Redis servers its Procfile would start, which this set-up does not run: the new
	# bench uses the Redis started above.
	update_common_site_config(bench, dict.fromkeys(REDIS_KEYS, REDIS_URL))
	check_version("frappe", app_version(bench / "apps" / "frappe", "frappe"))
	return f"created with Frappe {app_version(bench / 'apps' / 'frappe', 'frappe')}"


def bench_environment() -> dict:
	"""pip and uv inside `bench` see the setuptools pin, build environments included."""
	constraints = cache_dir() / "constraints.txt"
	make_owned_dirs(constraints.parent)
	constraints.write_text(SETUPTOOLS_PIN + "\n")
	return {**os.environ, "UV_CONSTRAINT": str(constraints), "UV_BUILD_CONSTRAINT": str(constraints), "PIP_CONSTRAINT": str(constraints)}


def keep_pkg_resources(bench: Path) -> str:
	python = str(bench / "env" / "bin" / "python")
	if subprocess.run([python, "-c", "import pkg_resources"], capture_output=True).returncode == 0:
		return "skipped (pkg_resources present)"
	run(as_bench_user([python, "-m", "pip", "install", "--quiet", SETUPTOOLS_PIN]), what="pip install setuptools<70")
	return f"installed {SETUPTOOLS_PIN}"


def get_erpnext(bench: Path) -> str:
	python = str(bench / "env" / "bin" / "python")
	if (bench / "apps" / "erpnext").is_dir() and subprocess.run([python, "-c", "import erpnext"], capture_output=True).returncode == 0:
		check_version("erpnext", app_version(bench / "apps" / "erpnext", "erpnext"))
		return "skipped (installed)"
	if (bench / "apps" / "erpnext").exists():
		shutil.rmtree(bench / "apps" / "erpnext")
	command = ["bench", "get-app", "--branch", BRANCH, erpnext_source()]
	if os.environ.get("MEDTRACE_SKIP_ASSETS"):
		command.append("--skip-assets")
	run(as_bench_user(command), cwd=bench, what="bench get-app erpnext", env=bench_environment())
	check_version("erpnext", app_version(bench / "apps" / "erpnext", "erpnext"))
	return f"installed ERPNext {app_version(bench / 'apps' / 'erpnext', 'erpnext')}"


def read_common_site_config(bench: Path) -> dict:
	path = bench / "sites" / "common_site_config.json"
	return json.loads(path.read_text()) if path.exists() else {}


def update_common_site_config(bench: Path, values: dict) -> None:
	path = bench / "sites" / "common_site_config.json"
	config = {**read_common_site_config(bench), **values}
	path.write_text(json.dumps(config, indent=1, sort_keys=True) + "\n")
	if is_root():
		owner = bench.stat()
		os.chown(path, owner.st_uid, owner.st_gid)


def configure_bench(bench: Path) -> str:
	wanted = {**dict.fromkeys(REDIS_KEYS, REDIS_URL), "socketio_port": 9000, "webserver_port": 8000}
	config = read_common_site_config(bench)
	# What the user set stays: only what is missing is filled in.
	missing = {key: value for key, value in wanted.items() if key not in config}
	if not missing:
		return "skipped (configured)"
	update_common_site_config(bench, missing)
	return f"{', '.join(missing)} recorded in sites/common_site_config.json"


# ------------------------------------------------------------------------------------------- running


def run(command: list[str], what: str, cwd: Path | None = None, env: dict | None = None, capture: bool = False) -> str:
	"""Runs a step's command with its output in the set-up log; a long one shows its latest line as it goes."""
	if capture:
		out = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
		if out.returncode:
			raise SetupError(f"{what} failed: {(out.stderr or out.stdout).strip()[-300:]}")
		return out.stdout.strip()
	log_path = Path(os.environ.get("MEDTRACE_SETUP_LOG") or "/tmp/medtrace-setup.log")
	latest = [""]
	with log_path.open("a") as log:
		log.write(f"\n$ {' '.join(command)}\n")
		log.flush()
		process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
								   stdin=subprocess.DEVNULL, errors="replace")
		ticker = threading.Thread(target=show_progress, args=(process, what, latest), daemon=True)
		ticker.start()
		for line in process.stdout:
			log.write(line)
			if line.strip():
				latest[0] = line.strip()
		process.wait()
	if process.returncode:
		raise SetupError(f"{what} failed (exit {process.returncode}): {latest[0][:200]}; see {log_path}")
	return ""


def show_progress(process: subprocess.Popen, what: str, latest: list[str]) -> None:
	started = time.monotonic()
	while process.poll() is None:
		time.sleep(20)
		if process.poll() is None:
			say(f"  … {what}, {time.monotonic() - started:.0f} s: {latest[0][:100]}")


def steps(bench: Path) -> list:
	python = find_python()
	return [
		("disk space", lambda: check_disk(bench) or "enough"),
		("system packages", install_system_packages),
		("yarn", install_yarn),
		("MariaDB configuration", configure_mariadb),
		("MariaDB", start_mariadb),
		("Redis", start_redis),
		("bench user", ensure_bench_user),
		("bench CLI", lambda: install_bench_cli(python)),
		("bench with Frappe", lambda: init_bench(bench, python)),
		("ERPNext", lambda: get_erpnext(bench)),
		("pkg_resources in the bench", lambda: keep_pkg_resources(bench)),
		("bench configuration", lambda: configure_bench(bench)),
		("MariaDB root password", lambda: configure_db_root_password(bench)),
	]


def set_up(bench: Path) -> None:
	started = time.monotonic()
	# Two commands started at once (a test run and the demo) must not build the same things side by side.
	import fcntl
	import tempfile

	lock = open(Path(tempfile.gettempdir()) / "medtrace-setup.lock", "a")
	fcntl.flock(lock, fcntl.LOCK_EX)
	plan = steps(bench)
	for number, (name, step) in enumerate(plan, 1):
		began = time.monotonic()
		outcome = step()
		say(f"[{number}/{len(plan)}] {name}: {outcome} ({time.monotonic() - began:.1f} s)")
	say(f"ready: {bench} ({time.monotonic() - started:.1f} s)")


def main() -> int:
	if sys.argv[1:] == ["--bench-path"]:
		print(bench_path())
		return 0
	try:
		if sys.argv[1:2] == ["--check-ports"]:
			check_server_ports(bench_path(), int(sys.argv[2]))
			return 0
		set_up(bench_path())
	except SetupError as error:
		say(f"error: {error}")
		return 2
	except KeyboardInterrupt:
		say("interrupted")
		return 130
	except subprocess.TimeoutExpired as error:
		say(f"error: {' '.join(map(str, error.cmd))[:80]} did not answer within {error.timeout} s")
		return 2
	return 0


if __name__ == "__main__":
	sys.exit(main())
