"""Starting PostgreSQL with `initdb`/`pg_ctl` found on PATH, when `pgserver` is unavailable.

PostgreSQL refuses to run as root, so as root the server runs as the unprivileged `pgserver`
account: the same one the `pgserver` package uses, so a data directory keeps one owner
whichever way it was started.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

SERVICE_ACCOUNT = "pgserver"
SUPERUSER = "postgres"
PORT = 5432
# A unix socket path must fit in sun_path (108 bytes, NUL included); keep a safe margin.
MAX_SOCKET_PATH = 100


def start_with_path_binaries(data_dir: Path) -> None:
    """Initialise `data_dir` if new, then start a server that listens only on a unix socket
    (no TCP port to collide with another server)."""
    bin_dir = _bin_dir()
    account = _service_account() if os.geteuid() == 0 else None
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    socket_dir = _socket_dir(data_dir)
    if account is not None:
        _hand_over(data_dir, account)
        _hand_over(socket_dir, account)
    if not (data_dir / "PG_VERSION").exists():
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--no-locale",
                "--encoding=UTF8",
            ],
            account,
        )
    options = f"-h '' -k {shlex.quote(str(socket_dir))} -p {PORT}"
    log = data_dir / "log"
    try:
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data_dir),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            ],
            account,
        )
    except RuntimeError as error:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"{error}\nserver log:\n{tail}") from None


def _bin_dir() -> Path:
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None or shutil.which("initdb") is None:
        raise FileNotFoundError(
            "initdb/pg_ctl are not on PATH: install PostgreSQL or set DATABASE_URL"
        )
    # Debian links them from /usr/lib/postgresql/N/bin; initdb must match pg_ctl's version.
    return Path(pg_ctl).resolve().parent


def _service_account() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVICE_ACCOUNT)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", SERVICE_ACCOUNT],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVICE_ACCOUNT)


def _socket_dir(data_dir: Path) -> Path:
    if len(str(data_dir / f".s.PGSQL.{PORT}")) < MAX_SOCKET_PATH:
        return data_dir
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    socket_dir = Path(tempfile.gettempdir()) / f"mj-pgsock-{digest}"
    socket_dir.mkdir(mode=0o700, exist_ok=True)
    return socket_dir


def _hand_over(directory: Path, account: pwd.struct_passwd) -> None:
    """Give `directory` to the service account and let it traverse (only) every parent."""
    os.chown(directory, account.pw_uid, account.pw_gid)
    for parent in directory.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def _run(command: list[str], account: pwd.struct_passwd | None) -> None:
    # Output goes to a file, not a pipe: the postmaster inherits pg_ctl's descriptors and
    # a pipe would never reach end-of-file while the server runs.
    with tempfile.TemporaryFile("w+") as output:
        completed = subprocess.run(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd="/",
            timeout=120,
            check=False,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )
        if completed.returncode != 0:
            output.seek(0)
            name = Path(command[0]).name
            tail = output.read()[-2000:]
            raise RuntimeError(f"{name} exited with {completed.returncode}: {tail}")
