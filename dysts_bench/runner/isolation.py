"""Keeping a worker contained: process limits and the guard against leaks.

* limits: ``PR_SET_PDEATHSIG`` (die with the parent), ``RLIMIT_AS`` (memory), and
  :func:`parse_size` for the ``memory`` option;
* :class:`Guard`: the import hook and audit hook installed in every worker host and task
  process before the forecaster's code is imported (see the package docstring), with the
  module lists it blocks (:data:`DATA_MODULES`, :data:`SYSTEM_MODULES`) and the paths it
  protects (:func:`_default_protect`).
"""

from __future__ import annotations

import os
import signal
import sys
import types
from pathlib import Path

#: Always blocked in workers: the dataset (files and generator).
DATA_MODULES = ("dysts_bench.dataset",)
#: Blocked unless the forecaster declares ``uses_system_name``: knowledge of the equations.
SYSTEM_MODULES = ("dysts_bench.registry", "dysts_bench.compile", "dysts_bench.trajectory",
                  "dysts_bench.solvers", "dysts_bench.invariants")


class LeakageError(PermissionError):
    """A worker tried to reach evaluation data (raised in hosts; task processes are killed)."""


# -- limits -----------------------------------------------------------------------

def parse_size(value) -> int | None:
    """Bytes from ``"4GB"``, ``"300MB"``, ``"512MiB"``, ``"1.5G"`` or a number; None/0/"none" -> no limit."""
    if value is None or value is False:
        return None
    if isinstance(value, (int, float)):
        return int(value) if value > 0 else None
    text = str(value).strip().lower().replace(" ", "")
    if text in ("", "0", "none", "unlimited", "inf"):
        return None
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    num = text.rstrip("ib").rstrip("b")
    factor = 1
    if num and num[-1] in units:
        factor, num = units[num[-1]], num[:-1]
    try:
        size = float(num) * factor
    except ValueError:
        raise ValueError(f"cannot parse memory size {value!r} (e.g. 4GB, 300MB, 512MiB)") from None
    if size <= 0:
        return None
    return int(size)


_LIBC = []


def _set_pdeathsig():
    """Ask Linux to SIGKILL this process when its parent (thread) dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        if not _LIBC:
            import ctypes
            _LIBC.append(ctypes.CDLL(None, use_errno=True))
        _LIBC[0].prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _bind_to_parent(parent_pid: int) -> None:
    """Start of a helper process the runner spawned: die with the parent (and exit at once
    if it is already gone) and leave Ctrl-C to the parent, which shuts helpers down."""
    _set_pdeathsig()
    if parent_pid and os.getppid() != parent_pid:  # 0: in a PID namespace (bwrap --die-with-parent)
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _vm_size() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _limit_memory(extra: int | None) -> int | None:
    """Cap the address space at its current size plus ``extra`` bytes (soft = hard)."""
    if not extra:
        return None
    import resource
    limit = _vm_size() + int(extra)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return limit


# ---------------------------------------------------------------------------
# The guard (runs inside worker hosts and task processes)
# ---------------------------------------------------------------------------

_WATCHED = frozenset({"open", "os.symlink", "os.link", "os.rename", "os.replace", "os.remove",
                      "os.truncate", "shutil.copyfile", "shutil.copytree", "shutil.move",
                      "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"})
_COMMANDS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"})


class _Tripwire:
    """Stands in for an object re-exported from a blocked module."""

    def __init__(self, guard, what):
        object.__setattr__(self, "_guard", guard)
        object.__setattr__(self, "_what", what)

    def __getattr__(self, name):
        self._guard.violation(f"use of {self._what}")

    def __call__(self, *args, **kwargs):
        self._guard.violation(f"call of {self._what}")

    def __iter__(self):
        self._guard.violation(f"use of {self._what}")

    def __repr__(self):
        return f"<blocked {self._what}>"


class _BlockedModule(types.ModuleType):
    """What importing a blocked module gives: the import works (a one-file script or a
    notebook that imports ``dysts_bench.dataset`` at the top for its own use loads fine),
    but every name in it is a tripwire, so *using* the data is the violation."""

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Tripwire(self.__dict__["_guard"], f"{self.__name__}.{name}")


class _BlockedLoader:
    def __init__(self, guard):
        self.guard = guard

    def create_module(self, spec):
        module = _BlockedModule(spec.name)
        module.__dict__["_guard"] = self.guard
        module.__path__ = []  # a package: its submodules come here too
        return module

    def exec_module(self, module):
        pass


class _BlockFinder:
    """``sys.meta_path`` entry that hands out :class:`_BlockedModule` for blocked modules."""

    def __init__(self, guard):
        self.guard = guard

    def find_spec(self, fullname, path=None, target=None):
        if self.guard.blocked(fullname):
            import importlib.machinery
            return importlib.machinery.ModuleSpec(fullname, _BlockedLoader(self.guard), is_package=True)
        return None

    def invalidate_caches(self):
        pass


class Guard:
    """Keeps a worker away from the evaluation data (see the module docstring).

    Parameters
    ----------
    modules : iterable of str
        Module names refused (with their submodules).
    protect : iterable of str
        Paths refused; a directory covers everything below it, an entry ending in ``*``
        is a plain prefix.
    """

    def __init__(self, modules=(), protect=()):
        self.modules = tuple(modules)
        self.exact, self.prefixes = [], []
        for item in protect:
            item = str(item)
            if item.endswith("*"):
                self.prefixes.append(os.path.realpath(item[:-1].rstrip(os.sep)) +
                                     (os.sep if item[:-1].endswith(os.sep) else ""))
            else:
                self.exact.append(os.path.realpath(item))
        self.notice_fd = None
        self.kill = False
        self.attempts = []
        self._busy = False
        self.installed = False

    def blocked(self, module: str) -> bool:
        return any(module == m or module.startswith(m + ".") for m in self.modules)

    def is_protected(self, path) -> bool:
        try:
            text = os.fsdecode(path)
        except TypeError:
            return False
        real = os.path.realpath(text)
        for p in self.exact:
            if real == p or real.startswith(p + os.sep):
                return True
        return any(real.startswith(p) for p in self.prefixes)

    def mentions_protected(self, text: str) -> bool:
        roots = self.exact + self.prefixes
        return any(r and r in text for r in roots)

    def install(self):
        """Purge already-imported blocked modules, add the import hook and the audit hook."""
        if self.installed:
            return self
        self._purge(dysts_only=True)
        sys.meta_path.insert(0, _BlockFinder(self))
        sys.addaudithook(self._audit)
        self.installed = True
        return self

    def tighten(self, modules=(), protect=()):
        """Block more modules and paths (after the forecaster's code was imported: names it
        bound from newly blocked modules are replaced by tripwires too)."""
        extra = Guard(modules, protect)
        self.modules += extra.modules
        self.exact += extra.exact
        self.prefixes += extra.prefixes
        self._purge(dysts_only=False)
        return self

    def arm(self, notice_fd):
        """From now on a violation writes to ``notice_fd`` and kills this process."""
        self.notice_fd = notice_fd
        self.kill = True

    def violation(self, what):
        self.attempts.append(what)
        if self.notice_fd is not None:
            try:
                os.write(self.notice_fd, (what[:2000] + "\n").encode("utf-8", "replace"))
            except OSError:
                pass
        if self.kill:
            try:
                os.kill(os.getpid(), signal.SIGKILL)
            finally:
                os._exit(99)
        raise LeakageError(f"dysts-bench: blocked {what}: forecasters may not access the evaluation data "
                           "(a script that defines a forecaster and runs the benchmark runs it under "
                           "`if __name__ == '__main__':`)")

    def _purge(self, dysts_only=True):
        for name in [n for n in sys.modules if self.blocked(n)]:
            del sys.modules[name]
            parent, _, child = name.rpartition(".")
            if parent in sys.modules and getattr(sys.modules[parent], child, None) is not None:
                try:
                    setattr(sys.modules[parent], child, _Tripwire(self, name))
                except (AttributeError, TypeError):
                    pass
        stdlib = getattr(sys, "stdlib_module_names", ())
        for name, module in list(sys.modules.items()):
            if module is None or not isinstance(module, types.ModuleType):
                continue
            ours = name == "dysts_bench" or name.startswith("dysts_bench.")
            if (dysts_only and not ours) or name.split(".")[0] in stdlib:
                continue
            try:
                items = list(vars(module).items())
            except TypeError:
                continue
            for attr, obj in items:
                try:
                    if isinstance(obj, types.ModuleType):
                        owner = obj.__name__
                    elif isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)) or callable(obj):
                        owner = obj.__module__ if isinstance(getattr(obj, "__module__", None), str) else None
                    else:
                        owner = None
                except Exception:  # noqa: BLE001 - exotic objects
                    owner = None
                if isinstance(owner, str) and self.blocked(owner):
                    try:
                        setattr(module, attr, _Tripwire(self, f"{owner}.{attr}"))
                    except (AttributeError, TypeError):
                        pass

    def _audit(self, event, args):
        if event not in _WATCHED or self._busy:
            return
        self._busy = True
        hit = None
        try:
            if event in _COMMANDS:
                for arg in args:
                    items = arg if isinstance(arg, (list, tuple)) else [arg]
                    for item in items:
                        if isinstance(item, (str, bytes)) and self.mentions_protected(os.fsdecode(item)):
                            hit = os.fsdecode(item)
            else:
                candidates = args[:2] if event in ("os.symlink", "os.link", "os.rename", "os.replace",
                                                   "shutil.copyfile", "shutil.copytree", "shutil.move") else args[:1]
                for arg in candidates:
                    if isinstance(arg, (str, bytes, os.PathLike)) and self.is_protected(arg):
                        hit = os.fsdecode(arg)
        except Exception:
            hit = None
        finally:
            self._busy = False
        if hit is not None:
            self.violation(f"{event} of {hit}")


# -- what the guard protects ---------------------------------------------------------

def _default_protect(results_dir, roots=()) -> tuple[list[str], list[str]]:
    """Paths no worker may open, and those closed to forecasters without ``uses_system_name``."""
    pkg = Path(__file__).resolve().parent.parent  # dysts_bench/
    items = [str(pkg / "dataset") + "*", str(pkg / "__pycache__" / "dataset") + "*",
             str(pkg / "data") + os.sep + "*", str(Path(results_dir).resolve())]
    items += [str(Path(r).resolve()) for r in roots if r]
    try:  # wherever the dataset keeps its files
        from .. import dataset as ds
        for attr in ("default_root", "DEFAULT_ROOT", "data_root", "DATA_ROOT", "DATA_DIR", "dataset_root"):
            value = getattr(ds, attr, None)
            value = value() if callable(value) else value
            if value:
                items.append(str(Path(value).resolve()))
    except Exception:  # noqa: BLE001 - no dataset module (yet)
        pass
    system_items = []
    try:
        from ..registry import default_path
        system_items.append(str(default_path().resolve()))
    except Exception:  # noqa: BLE001
        pass
    system_items.append(str(Path(os.environ.get("DYSTS_BENCH_CACHE_DIR",
                                                Path.home() / ".cache" / "dysts-bench")).resolve()))
    return items, system_items
