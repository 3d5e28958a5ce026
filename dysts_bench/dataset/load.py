"""Reading the dataset: arrays, DataFrames, darts series, and benchmark tasks.

Nothing here integrates anything for the canonical files, except when a noise variant is
not stored (the measurement-noise variant of the shipped dataset is derived at load time
from the clean values and its recorded seed) or when ``fresh_seed`` asks for new initial
conditions.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .generator import default_root
from .protocol import NOISE_KINDS, SPLITS, Block, CanonicalConfig, SkipSystem
from .simulation import add_measurement_noise, simulate
from .store import MANIFEST, load_manifest, read_block, relpath, sha256_file


class DatasetError(RuntimeError):
    """The dataset directory is missing, incomplete or inconsistent."""


def _root(root) -> Path:
    return Path(root) if root is not None else default_root()


_REPAIR = ("check the whole dataset with `dysts-bench verify`; repair it by reinstalling "
           "dysts-bench (shipped data) or regenerating it with `dysts-bench generate`")


@lru_cache(maxsize=8)
def _manifest_cached(path: str, mtime_ns: int, size: int) -> dict:
    try:
        man = load_manifest(path)
    except (ValueError, OSError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise DatasetError(f"{Path(path) / MANIFEST}: corrupt manifest ({exc}); {_REPAIR}") from None
    if not (isinstance(man, dict) and isinstance(man.get("files"), dict)
            and isinstance(man.get("systems"), dict) and isinstance(man.get("config"), dict)):
        raise DatasetError(f"{Path(path) / MANIFEST}: corrupt manifest (expected an object with "
                           f"'config', 'systems' and 'files'); {_REPAIR}")
    return man


@lru_cache(maxsize=4096)
def _file_verified(path: str, mtime_ns: int, size: int, sha256: str) -> None:
    """Hash a data file against its manifest entry, once per process while the file is
    unchanged (the key holds its mtime and size): a file overwritten after generation is
    never served as data."""
    if sha256_file(path) != sha256:
        raise DatasetError(f"{path}: contents differ from the manifest's sha256; {_REPAIR}")


def _read_verified(root: Path, rel: str, man: dict, reader=None):
    """``read_block`` (or ``reader``) of a manifest-listed file after checking its hash;
    a missing, altered or undecodable file raises :class:`DatasetError` naming it and
    its system."""
    path = root / rel
    rec = man["files"].get(rel)
    if rec is None:
        raise DatasetError(f"{path}: not listed in {root / MANIFEST}; {_REPAIR}")
    system = rec.get("system", "?") if isinstance(rec, dict) else "?"
    try:
        st = path.stat()
    except OSError as exc:
        raise DatasetError(f"{path} (system {system}): cannot be read ({exc}); {_REPAIR}") from None
    if not isinstance(rec, dict) or not isinstance(rec.get("sha256"), str):
        raise DatasetError(f"{root / MANIFEST}: corrupt entry for {rel}; {_REPAIR}")
    try:
        _file_verified(str(path), st.st_mtime_ns, st.st_size, rec["sha256"])
        return (reader or read_block)(path)
    except DatasetError as exc:
        raise DatasetError(f"{exc} (system {system})") from None
    except Exception as exc:  # noqa: BLE001 - a verified file that cannot be decoded
        raise DatasetError(f"{path} (system {system}): cannot be decoded "
                           f"({type(exc).__name__}: {exc}); {_REPAIR}") from None


def manifest(root=None) -> dict:
    """The manifest of a dataset (default: the shipped one)."""
    r = _root(root)
    path = r / MANIFEST
    if not path.is_file():
        hint = (" (regenerate it with `dysts-bench generate --canonical`)" if root is None
                else " (generate one with `dysts-bench generate --out DIR`)")
        raise DatasetError(f"no dataset at {r}: {MANIFEST} not found{hint}")
    st = path.stat()
    return _manifest_cached(str(r), st.st_mtime_ns, st.st_size)


def config_of(root=None) -> CanonicalConfig:
    return CanonicalConfig.from_dict(manifest(root)["config"])


def available_systems(root=None, noise=None) -> list:
    """Systems with data in the dataset (for ``noise``: with that variant)."""
    kind = _noise(noise)
    out = []
    for name, rec in manifest(root)["systems"].items():
        if rec.get("status") == "ok" and kind not in rec.get("unavailable", {}):
            out.append(name)
    return sorted(out)


def _noise(noise) -> str:
    kind = "none" if noise is None else str(noise)
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise must be None or one of {NOISE_KINDS}, got {noise!r}")
    return kind


def _split(split) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return split


def _resolve(systems, root, kind) -> list:
    """Validate requested names against the dataset; unknown ones raise with close matches."""
    from ..registry import UnknownSystemError
    man = manifest(root)
    avail = available_systems(root, kind)
    if systems is None:
        return avail
    if isinstance(systems, str):
        systems = [systems]
    out = []
    for name in systems:
        if name in avail:
            out.append(name)
            continue
        rec = man["systems"].get(name)
        if rec is not None:
            reason = (rec.get("unavailable", {}).get(kind) or rec.get("reason")
                      or f"status {rec.get('status')}")
            raise UnknownSystemError(f"system {name!r} has no {kind!r} data in this dataset: {reason}")
        pool = sorted(set(man["systems"]) | set(avail))
        folded = [n for n in pool if n.lower() == str(name).lower()]
        close = folded or difflib.get_close_matches(str(name), pool, n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see available_systems()"
        raise UnknownSystemError(f"unknown system {name!r} in the dataset at {_root(root)}{hint}")
    return out


def load_block(system, split="test", noise=None, root=None) -> Block:
    """One (system, split, noise) block: values (n_series, length, dim) float32, times
    (n_series, length) and metadata. Derives a variant that is not stored."""
    kind = _noise(noise)
    _split(split)
    r = _root(root)
    man = manifest(root)
    rel = relpath(split, kind, system)
    if rel in man["files"]:
        return _read_verified(r, rel, man)
    rec = man["systems"].get(system, {})
    if f"{split}/{kind}" not in rec.get("derived", {}):
        raise DatasetError(f"{system}: no {split}/{kind} data in {r}")
    config = CanonicalConfig.from_dict(man["config"])
    if kind == "measurement":
        clean = _read_verified(r, relpath(split, "none", system), man)
        return add_measurement_noise(clean, config)
    # A dynamical-noise variant that was not stored: integrate it (deterministic).
    gen = simulate(system, config, splits=(split,), noise=("dynamical",))
    return gen.blocks[(split, "dynamical")]


def load_dataset(split="test", systems=None, as_="numpy", root=None, noise=None):
    """Load a split of the dataset (default: the shipped canonical one).

    Parameters
    ----------
    split : {"train", "test", "maps"}
        ``"maps"``: the test series of the discrete maps (:mod:`dysts_bench.dataset.maps`;
        their train series: ``split="train", root=maps_root()``).
    systems : str or list of str, optional
        Default: every system with data.
    as_ : {"numpy", "pandas", "darts"}
        ``numpy``: dict name -> float32 array (n_series, length, dim) (train: one series
        of context + validation tail; test: series of context + horizon); metadata via
        :func:`load_metadata`. ``pandas``: one DataFrame with columns ``system``,
        ``series``, ``time``, ``t``, ``x0 ..`` (NaN beyond a system's dimension).
        ``darts``: dict name -> list of ``darts.TimeSeries`` (one per series, components
        named after the variables, integer time index).
    root : path, optional
        Dataset root (default: the shipped ``dysts_bench/data``).
    noise : {None, "none", "measurement", "dynamical"}
    """
    if split == "maps":  # a dataset root of its own, in the same format
        from .maps import maps_root
        return load_dataset("test", systems, as_, root=maps_root() if root is None else root,
                            noise=noise)
    kind = _noise(noise)
    _split(split)
    if as_ not in ("numpy", "pandas", "darts"):
        raise ValueError(f"as_ must be 'numpy', 'pandas' or 'darts', got {as_!r}")
    names = _resolve(systems, root, kind)
    blocks = {name: load_block(name, split, kind, root) for name in names}
    if as_ == "numpy":
        return {name: b.values for name, b in blocks.items()}
    if as_ == "pandas":
        return _to_pandas(blocks)
    return _to_darts(blocks)


def load_metadata(split="test", systems=None, root=None, noise=None) -> dict:
    """dict name -> metadata of its (split, noise) block (dt, pts_per_period, Lyapunov
    time, initial conditions, seeds, config, ...), read from the files' schema."""
    from .store import read_meta
    kind = _noise(noise)
    _split(split)
    r = _root(root)
    man = manifest(root)
    out = {}
    for name in _resolve(systems, root, kind):
        rel = relpath(split, kind, name)
        if rel in man["files"]:
            out[name] = _read_verified(r, rel, man, read_meta)
        else:
            out[name] = load_block(name, split, kind, root).meta
    return out


def _to_pandas(blocks):
    import pandas as pd
    names = list(blocks)
    width = max((b.values.shape[2] for b in blocks.values()), default=0)
    codes, series, time, t = [], [], [], []
    cols = [[] for _ in range(width)]
    for code, b in enumerate(blocks.values()):
        n_series, length, dim = b.values.shape
        rows = n_series * length
        codes.append(np.full(rows, code, dtype=np.int32))
        series.append(np.repeat(np.arange(n_series, dtype=np.int32), length))
        time.append(np.tile(np.arange(length, dtype=np.int32), n_series))
        t.append(b.t.reshape(-1))
        flat = b.values.reshape(rows, dim)
        for i in range(width):
            cols[i].append(flat[:, i] if i < dim else np.full(rows, np.nan, np.float32))
    def cat(parts, dtype):
        return np.concatenate(parts) if parts else np.empty(0, dtype)
    data = {"system": pd.Categorical.from_codes(cat(codes, np.int32), categories=names),
            "series": cat(series, np.int32), "time": cat(time, np.int32), "t": cat(t, np.float64)}
    for i in range(width):
        data[f"x{i}"] = cat(cols[i], np.float32)
    return pd.DataFrame(data)


def _to_darts(blocks):
    try:
        from darts import TimeSeries
    except ImportError as exc:
        raise ImportError("as_='darts' needs the darts package: `pip install darts`") from exc
    out = {}
    for name, b in blocks.items():
        cols = list(b.meta["variables"])[: b.values.shape[2]]
        out[name] = [TimeSeries.from_values(b.values[k].astype(np.float64), columns=cols)
                     for k in range(b.values.shape[0])]
    return out


# ------------------------------------------------------------------------ tasks
@dataclass(frozen=True, eq=False)
class Task:
    """One forecasting task: a context to fit on and the future to score against.

    ``context`` (context_length, dim) and ``future`` (horizon, dim) are read-only float64
    arrays. ``info`` holds ``dt`` (time units between samples), ``pts_per_period``,
    ``dim``, ``lyapunov_time_samples`` and ``maximum_lyapunov`` (from the files; if they
    recorded null, from the current registry, ``lyapunov_source`` saying which; None while
    the registry has no exponent), ``system``, ``evaluation`` (the track, see
    :mod:`dysts_bench.tracks`, or "fresh:<seed>" / "<track>+fresh:<seed>") and also ``series``, ``split``, ``noise``, ``variables``, ``t0`` (time of the first
    context sample), ``context_length``, ``horizon``, ``protocol_version``.
    """

    system: str
    series: int
    context: np.ndarray
    future: np.ndarray
    info: dict


def _lyapunov(meta):
    """(maximum exponent, Lyapunov time in samples, source): the file's values, else the
    current registry's (exponents annotated after the files were written), else None."""
    if meta.get("maximum_lyapunov") is not None:
        return meta["maximum_lyapunov"], meta["lyapunov_time_samples"], "dataset"
    from ..registry import UnknownSystemError, get_system
    from .protocol import lyapunov_time_samples
    try:
        system = get_system(meta["system"])
    except UnknownSystemError:
        return None, None, None
    if system.maximum_lyapunov is None:
        return None, None, None
    return (system.maximum_lyapunov, lyapunov_time_samples(system, meta["pts_per_period"]),
            "registry")


def _info(meta, series, evaluation, context_length, horizon, t0):
    lam, lyap_samples, source = _lyapunov(meta)
    return {
        "dt": float(meta["dt"]), "pts_per_period": meta["pts_per_period"], "dim": int(meta["dim"]),
        "lyapunov_time_samples": lyap_samples, "maximum_lyapunov": lam,
        "lyapunov_source": source, "system": meta["system"],
        "evaluation": evaluation, "series": int(series), "split": meta["split"],
        "noise": meta["noise"], "variables": list(meta["variables"]), "t0": float(t0),
        "context_length": int(context_length), "horizon": int(horizon),
        "protocol_version": meta["protocol_version"],
    }


def _readonly(a):
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _tasks_from_block(b: Block, context_length, evaluation, truth: Block | None = None):
    """Tasks of a block; ``truth`` (the clean block of the same series, measurement track)
    gives the futures instead of ``b`` itself."""
    meta = b.meta
    origin = int(meta["context_length"])  # forecast origin: fixed by the protocol
    if context_length > origin:
        raise ValueError(f"context_length {context_length} exceeds the {origin} context samples "
                         "of the dataset; use fresh_seed with a longer context or regenerate")
    if context_length < 1:
        raise ValueError("context_length must be positive")
    target = b if truth is None else truth
    if target.values.shape != b.values.shape or not np.array_equal(target.t, b.t):
        raise DatasetError(f"{meta['system']}: the clean series do not match the "
                           f"{meta['noise']} series (shape or times differ)")
    for k in range(b.values.shape[0]):
        ctx = b.values[k, origin - context_length:origin]
        fut = target.values[k, origin:]
        info = _info(meta, k, evaluation, context_length, fut.shape[0],
                     b.t[k, origin - context_length])
        yield Task(meta["system"], k, _readonly(ctx), _readonly(fut), info)


def _stored_tasks(name, split, kind, root, context_length, track):
    """Tasks of one system from the files: measurement-noise contexts get the clean
    futures; a map's block is labelled ``maps`` whatever root it was read from."""
    block = load_block(name, split, kind, root)
    truth = load_block(name, split, "none", root) if kind == "measurement" else None
    if track == "canonical" and block.meta.get("kind") == "map":
        track = "maps"
    yield from _tasks_from_block(block, context_length, track, truth)


def _track_setup(track, noise, split, root, systems):
    """``(track, noise kind, split, root, systems)`` of an :func:`iter_tasks` call."""
    from ..tracks import TRACK_NOISE, check_track
    if split == "maps":
        if track not in (None, "maps"):
            raise ValueError(f"split='maps' is the maps track, not {track!r}")
        track, split = "maps", "test"
    kind = _noise(noise)
    if track is None:
        track = {"none": "canonical"}.get(kind, kind)
    check_track(track)
    if noise is not None and kind != TRACK_NOISE[track]:
        raise ValueError(f"the {track} track uses noise {TRACK_NOISE[track]!r}, not {noise!r}")
    kind = TRACK_NOISE[track]
    _split(split)
    if track == "maps" and root is None:
        from .maps import maps_root
        root = maps_root()
    if track == "zero-shot":
        systems = _heldout_systems(systems, root)
    return track, kind, split, root, systems


def _heldout_systems(systems, root) -> list:
    """The zero-shot track's systems: the held-out side of the split (all with data, or
    those asked for, each of which must be held out)."""
    from ..heldout import side_systems
    held = set(side_systems("heldout"))
    if systems is None:
        return [n for n in available_systems(root) if n in held]
    names = [systems] if isinstance(systems, str) else list(systems)
    bad = [n for n in names if n not in held]
    if bad:
        raise ValueError(f"the zero-shot track evaluates held-out systems only; not held out: "
                         f"{', '.join(map(str, bad))} (see dysts_bench/heldout_split.json)")
    return names


def iter_tasks(split="test", systems=None, root=None, fresh_seed=None, context_length=1000,
               noise=None, track=None):
    """Yield :class:`Task` objects, system by system (sorted, or in the order given),
    series by series.

    The forecast origin is fixed by the protocol (after the dataset's 1000 context
    samples); a shorter ``context_length`` takes the last samples before it, so the
    futures are the same for every context length. ``split="train"`` gives one task per
    system whose future is the validation tail.

    ``track`` (:mod:`dysts_bench.tracks`; default from ``noise``: ``canonical``,
    ``measurement`` or ``dynamical``) sets each task's ``info["evaluation"]``:

    * ``canonical``: clean series (``maps`` when the root holds maps);
    * ``maps``: the maps split (``split="maps"`` is the same);
    * ``measurement``: the measurement-noise context, scored against the CLEAN future;
    * ``dynamical``: context and future of the dynamical-noise series;
    * ``zero-shot``: the held-out systems (:mod:`dysts_bench.heldout`), clean.

    ``fresh_seed``: instead of reading the files, draw new test initial conditions on the
    attractor from this seed (the protocol's next blocks of the reference orbit, never
    the shipped ones) and integrate them now, with the dataset's configuration
    (``root``'s manifest, else the canonical one) and the current registry; the
    evaluation is ``fresh:<seed>`` (``<track>+fresh:<seed>`` off the canonical track).
    """
    track, kind, split, root, systems = _track_setup(track, noise, split, root, systems)
    if fresh_seed is None:
        for name in _resolve(systems, root, kind):
            yield from _stored_tasks(name, split, kind, root, context_length, track)
        return
    if split != "test":
        raise ValueError("fresh_seed draws new test initial conditions; use split='test'")
    if track == "maps":
        raise ValueError("the maps track has no fresh initial conditions (its test series are "
                         "fixed windows of one orbit)")
    from ..registry import get_system, list_systems
    from ..solvers import IntegrationError
    try:
        config = config_of(root)
    except DatasetError:
        if root is not None:
            raise
        config = CanonicalConfig()
    if context_length > config.context_length:
        config = config.replace(context_length=int(context_length))
    if systems is None:
        try:
            names = available_systems(root, kind)
        except DatasetError:
            names = list_systems()
    else:
        names = [get_system(n).name for n in ([systems] if isinstance(systems, str) else systems)]
    evaluation = f"fresh:{int(fresh_seed)}"
    if track != "canonical":
        evaluation = f"{track}+{evaluation}"
    variants = ("none", "measurement") if kind == "measurement" else (kind,)
    for name, gen in _simulate_fresh(sorted(names), config, variants, int(fresh_seed)):
        if isinstance(gen, (SkipSystem, IntegrationError)):
            if systems is not None:
                raise gen
            warnings.warn(f"{name}: skipped ({gen})", stacklevel=2)
            continue
        block = gen.blocks.get(("test", kind))
        if block is None:
            msg = f"{name}: no {kind} variant ({gen.unavailable.get(kind)})"
            if systems is not None:
                raise DatasetError(msg)
            warnings.warn(msg, stacklevel=2)
            continue
        truth = gen.blocks[("test", "none")] if kind == "measurement" else None
        yield from _tasks_from_block(block, context_length, evaluation, truth)


def _fresh_threads(n_systems: int) -> int:
    """Threads for fresh draws: one per core (at most one per system)."""
    import os
    return max(1, min(n_systems, os.cpu_count() or 1))


def _simulate_fresh(names, config, variants, seed):
    """Yield ``(name, Generated or the SkipSystem/IntegrationError it raised)`` in the
    order of ``names``, simulated on a thread per core.

    The integrators run in compiled code that releases the GIL (``nogil``), so threads
    integrate systems in parallel; the first system runs alone so that the shared loops
    compile (or load from the disk cache) once. A line on stderr says at once what the
    wait is for.
    """
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from ..solvers import IntegrationError

    def one(name):
        try:
            return simulate(name, config, splits=("test",), noise=variants, fresh_seed=seed)
        except (SkipSystem, IntegrationError) as exc:
            return exc

    if not names:
        return
    threads = _fresh_threads(len(names))
    print(f"dysts-bench: integrating fresh initial conditions (seed {seed}) of "
          f"{len(names)} system(s) on {threads} thread(s) ...", file=sys.stderr, flush=True)
    yield names[0], one(names[0])
    pool = ThreadPoolExecutor(threads)
    try:
        yield from zip(names[1:], pool.map(one, names[1:]))
    finally:  # a consumer that stops early does not wait for the systems it never reads
        pool.shutdown(wait=True, cancel_futures=True)


def load_train(system, root=None, noise=None):
    """The training data of one system: ``(context, validation_tail, info)`` with context
    (1000, dim) and validation tail (500, dim) float64 arrays (canonical protocol). With
    ``noise="measurement"`` the context is noisy and the tail clean, as on that track."""
    kind = _noise(noise)
    (name,) = _resolve([system], root, kind)
    b = load_block(name, "train", kind, root)
    (task,) = list(_stored_tasks(name, "train", kind, root, int(b.meta["context_length"]), "canonical"))
    return np.array(task.context), np.array(task.future), task.info
