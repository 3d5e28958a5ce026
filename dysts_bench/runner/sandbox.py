"""The OS-level sandbox around every worker host and its task processes (bubblewrap).

This, not the in-process :class:`~.isolation.Guard`, is the security boundary. A worker
host is started as ``bwrap ... python -c <host boot>`` with:

* its own PID namespace (the runner and every other host are invisible; when the host
  dies, everything in the namespace dies), IPC, UTS, cgroup and network namespaces (no
  network: only a private loopback);
* a read-only view of the whole file system, in which the dataset files, the results
  directory, the project's ``.git`` and ``leaderboard/`` and the compile cache are
  replaced by empty private tmpfs mounts (absent); the Python environment and the
  forecaster's code stay readable; one private scratch directory is writable;
* uid/gid 65534 (nobody) inside, no capabilities, ``PR_SET_NO_NEW_PRIVS``;
* ``--die-with-parent`` and a new session (no terminal injection).

Inside, the host makes itself non-dumpable (a task cannot read its memory or open its
pipes through ``/proc/<host>/``), becomes the child subreaper (orphans of a task, e.g. a
``setsid`` daemon, are re-parented to it, killed after the task and their CPU time
counted) and sets ``RLIMIT_NPROC`` and ``RLIMIT_FSIZE``. The host measures each task's
wall time, CPU time and memory over the whole task tree (:func:`tree_pids`,
:func:`tree_memory`), not the task itself.

Where bubblewrap is missing or cannot create namespaces, :func:`choose` falls back to the
older isolation (guard + process group + ``RLIMIT_AS``) with a warning, and records are
marked ``sandbox: "none"``, ``verified: false``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

#: uid and gid of task processes inside the sandbox.
NOBODY = 65534
#: Per-file size limit of a task (``RLIMIT_FSIZE``).
MAX_FILE_BYTES = 1 << 30
#: Processes a task tree may have (``RLIMIT_NPROC`` where the kernel enforces it for the
#: mapped uid, and always by the host's poll).
MAX_PROCESSES = 256
_ENV_SWITCH = "DYSTS_BENCH_SANDBOX"  # "none" forces the fallback (tests, debugging)

_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_NO_NEW_PRIVS = 38


def _prctl(option, value) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except Exception:  # noqa: BLE001
        return False


def make_undumpable() -> bool:
    """No core dumps, and no ``/proc/<pid>/mem``, ``fd`` or ptrace for same-uid processes."""
    return _prctl(_PR_SET_DUMPABLE, 0)


# -- choosing the sandbox (parent side) -------------------------------------------------

def _probe_args(bwrap):
    return [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc",
            "--dev", "/dev", "--uid", str(NOBODY), "--gid", str(NOBODY), "true"]


@functools.lru_cache(maxsize=None)
def _bwrap_works() -> str | None:
    """Path of a bubblewrap that can create the namespaces here, else None (probed once)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None
    try:
        ok = subprocess.run(_probe_args(bwrap), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return bwrap if ok else None


def choose(mode="auto") -> str:
    """``"bwrap"`` or ``"none"`` for a run. ``mode``: ``"auto"`` (bwrap if it works, else
    a warning and none), ``"bwrap"`` (required: error if unavailable) or ``"none"``.
    The environment variable ``DYSTS_BENCH_SANDBOX=none`` turns ``"auto"`` into none."""
    if mode not in ("auto", "bwrap", "none"):
        raise ValueError(f"sandbox must be 'auto', 'bwrap' or 'none', got {mode!r}")
    if mode == "auto" and os.environ.get(_ENV_SWITCH, "").lower() == "none":
        mode = "none"
    if mode == "none":
        return "none"
    if _bwrap_works():
        return "bwrap"
    if mode == "bwrap":
        raise RuntimeError("sandbox='bwrap' requested but bubblewrap is not installed or cannot create "
                           "namespaces here (Debian/Ubuntu: apt-get install bubblewrap)")
    warnings.warn("dysts-bench: bubblewrap (bwrap) is unavailable: task processes run WITHOUT the OS "
                  "sandbox (in-process guard only); records are marked sandbox='none', verified=false",
                  RuntimeWarning, stacklevel=3)
    return "none"


def project_root() -> Path | None:
    """The source checkout this package runs from (a directory with ``pyproject.toml``), if any."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else None


def cache_dir() -> Path:
    return Path(os.environ.get("DYSTS_BENCH_CACHE_DIR", Path.home() / ".cache" / "dysts-bench")).resolve()


def _git_dirs(dot_git: Path) -> list[Path]:
    """For a worktree (``.git`` is a file ``gitdir: ...``): its git dir and the common one."""
    try:
        text = dot_git.read_text() if dot_git.is_file() else ""
    except OSError:
        return []
    if not text.startswith("gitdir:"):
        return []
    gitdir = (dot_git.parent / text.split(":", 1)[1].strip()).resolve()
    out = [gitdir]
    try:
        out.append((gitdir / (gitdir / "commondir").read_text().strip()).resolve())
    except OSError:
        pass
    return out


def hidden_paths(results_dir, extra=()) -> list[str]:
    """Paths that are absent inside the sandbox (an empty tmpfs, or /dev/null for a file):
    the dataset files and package, the results, the compile cache, the checkout's ``.git``
    and ``leaderboard/``, and ``extra``. Only existing directories can be covered; the
    compile cache is created first so that a forecaster compiling systems gets a private,
    empty, writable one (nothing it writes survives the host)."""
    from .isolation import _default_protect
    pkg = Path(__file__).resolve().parents[1]
    guarded = [str(p).rstrip("*").rstrip(os.sep) for p in _default_protect(results_dir, extra)[0]]
    # (the guard's list includes the dataset package: its generator reproduces the canonical data)
    items = [pkg / "data", Path(results_dir), cache_dir(), *map(Path, extra), *map(Path, guarded)]
    root = project_root()
    if root is not None:
        items += [root / ".git", root / "leaderboard", *_git_dirs(root / ".git")]
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
    except OSError:
        pass
    out = []
    for item in items:
        real = os.path.realpath(item)
        if os.path.exists(real) and real not in out and real != "/":
            out.append(real)
    return out


def host_command(argv, hidden, scratch) -> list[str]:
    """The bubblewrap command line that runs ``argv`` (a worker host) in the sandbox."""
    cmd = [_bwrap_works() or "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
           "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
    for path in hidden:  # a directory becomes an empty tmpfs, a file an empty one
        cmd += ["--tmpfs", path] if os.path.isdir(path) else ["--ro-bind", "/dev/null", path]
    # the only writable place; numba's and the compile cache are private ones in it, seeded
    # from a read-only view of the real compile cache (seed_caches)
    cmd += ["--bind", scratch, scratch]
    if cache_dir().is_dir():
        cmd += ["--ro-bind", str(cache_dir()), os.path.join(scratch, _CACHE_SOURCE)]
    cmd += ["--chdir", scratch, "--setenv", "TMPDIR", scratch,
            "--setenv", "NUMBA_CACHE_DIR", os.path.join(scratch, "numba"),
            "--setenv", "DYSTS_BENCH_CACHE_DIR", os.path.join(scratch, "compile-cache"),
            "--setenv", "DYSTS_BENCH_SANDBOX_SCRATCH", scratch,
            "--uid", str(NOBODY), "--gid", str(NOBODY), "--"]
    return cmd + list(argv)


_CACHE_SOURCE = "compile-cache-source"  # in the scratch: the real compile cache, read-only


def new_scratch() -> str:
    """A private writable directory for one sandboxed host (removed by the parent)."""
    scratch = tempfile.mkdtemp(prefix="dysts-bench-sandbox-")
    os.mkdir(os.path.join(scratch, _CACHE_SOURCE))  # mount point
    return scratch


def seed_caches(scratch) -> None:
    """In a host whose forecaster integrates the equations: a private copy of the compile
    cache (``compile-cache``; nothing planted there outlives the host) and numba's caches
    of this package and of that copy (``numba``; the in-tree ones are read-only here), so
    that nothing is recompiled. Run inside the sandbox, once per host."""
    source, copy = Path(scratch, _CACHE_SOURCE), Path(scratch, "compile-cache")
    try:
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("*.tmp"), dirs_exist_ok=True)
    except (OSError, shutil.Error):
        copy.mkdir(exist_ok=True)
    numba_dir = Path(scratch, "numba")
    for root in (Path(__file__).resolve().parents[1], copy):
        for cache in root.glob("**/__pycache__"):
            files = [f for f in cache.iterdir() if f.suffix in (".nbi", ".nbc")]
            if files:  # numba's NUMBA_CACHE_DIR layout: <parent name>_<sha1 of the source directory>
                source_dir = os.path.abspath(cache.parent)
                tag = hashlib.sha1(source_dir.encode()).hexdigest()
                dest = numba_dir / f"{os.path.basename(source_dir)}_{tag}"
                dest.mkdir(parents=True, exist_ok=True)
                for f in files:
                    shutil.copy2(f, dest / f.name)


# -- inside the host ----------------------------------------------------------------------

def harden_host(sandboxed: bool) -> None:
    """Start of a worker host: non-dumpable, no new privileges, subreaper of its task
    trees, and the process-count and file-size limits every task inherits."""
    import resource
    make_undumpable()
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    limits = [(resource.RLIMIT_FSIZE, MAX_FILE_BYTES)]
    if sandboxed:
        limits.append((resource.RLIMIT_NPROC, MAX_PROCESSES))
    for which, value in limits:
        try:
            soft, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def proc_stat(pid) -> list | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (from the state on: field
    3 of proc(5) is item 0), or None if the process is gone. The name may hold spaces and
    parentheses, hence the split at the last ``)``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            text = fh.read()
    except OSError:
        return None
    return text[text.rfind(b")") + 2:].split()


def _stat_fields(pid):
    """(ppid, pgid) of ``pid`` from /proc, or None if it is gone."""
    rest = proc_stat(pid)
    return None if rest is None else (int(rest[1]), int(rest[2]))


def _children(pid) -> list[int] | None:
    """Direct children of ``pid`` (all its threads), or None if the kernel does not say."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                out += [int(c) for c in fh.read().split()]
    except FileNotFoundError:
        return None if os.path.exists(f"/proc/{pid}") else []  # no such file, or the process is gone
    except (OSError, ValueError):
        pass
    return out


def tree_pids(root_pid) -> list[int]:
    """Every descendant of ``root_pid`` (the host: its task and any orphan it adopted)."""
    out, todo = [], [root_pid]
    while todo:
        kids = _children(todo.pop())
        if kids is None:  # no /proc/<pid>/task/<tid>/children: scan every process
            return _tree_pids_by_scan(root_pid)
        out += kids
        todo += kids
    return out


def _tree_pids_by_scan(root_pid) -> list[int]:
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat_fields(int(name))
            if fields is not None:
                children.setdefault(fields[0], []).append(int(name))
    out, todo = [], [root_pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            out.append(child)
            todo.append(child)
    return out


def tree_memory(pids) -> int:
    """Private (anonymous) resident bytes summed over ``pids``: memory split over many
    subprocesses counts in full; shared library pages are not counted once per process."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                fields = fh.read().split()
            total += (int(fields[1]) - int(fields[2])) * page
        except (OSError, ValueError, IndexError):
            pass
    return total


def private_memory() -> int:
    """This process's private resident bytes (the baseline a forked task shares)."""
    return tree_memory([os.getpid()])


def kill_tree(host_pid) -> None:
    """SIGKILL every descendant of the host and reap them all (the host is their
    subreaper, so a detached ``setsid`` grandchild is found and reaped too)."""
    for _ in range(10000):
        pids = tree_pids(host_pid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.waitpid(-1, 0)  # one dies (or a zombie is reaped); orphans come to us
        except ChildProcessError:
            time.sleep(0.001)  # a grandchild is being re-parented
