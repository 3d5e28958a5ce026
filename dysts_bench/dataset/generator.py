"""Generate a dataset: one task per system, locally or on Dask, resumable.

Each task integrates one system (:func:`~dysts_bench.dataset.simulation.simulate`) and
writes its files atomically (temporary file, then ``os.replace``); the parent process
alone updates ``_manifest.json``, atomically, after every finished system. A rerun skips
every system whose manifest record matches the current registry entry and generator
version and whose files are present with the recorded hashes, so an interrupted run
resumes where it stopped without rewriting finished systems.
"""

from __future__ import annotations

import time
import traceback
import warnings
from pathlib import Path

from ..pool import open_pool
from .protocol import (CANONICAL, GENERATOR_VERSION, NOISE_KINDS, SPLITS,
                       TARGET_LYAPUNOV_TIMES, CanonicalConfig, SkipSystem, horizon_check,
                       supports, system_fingerprint)
from .simulation import simulate
from .store import (block_digest, load_manifest, new_manifest, save_manifest, sha256_file,
                    write_block)


def default_root() -> Path:
    """Where the shipped canonical dataset lives (inside the package)."""
    return Path(__file__).resolve().parent.parent / "data"


def build_system_files(out_dir, config_dict, name) -> dict:
    """Generate one system and write its files; returns its manifest record.

    Never raises for a system-level problem: a skipped system (see ``supports``) or a failed
    integration becomes ``status: skipped`` / ``failed`` with the reason.
    """
    from ..registry import get_system
    from ..solvers import IntegrationError
    config = CanonicalConfig.from_dict(config_dict)
    started = time.perf_counter()
    record = {"status": "ok", "registry_hash": system_fingerprint(get_system(name)),
              "generator_version": GENERATOR_VERSION, "files": [], "derived": {},
              "unavailable": {}}
    file_records = {}
    try:
        gen = simulate(name, config, splits=SPLITS, noise=NOISE_KINDS)
    except SkipSystem as exc:
        record.update(status="skipped", reason=str(exc))
    except (IntegrationError, ValueError, FloatingPointError) as exc:
        record.update(status="failed", reason=f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001 - recorded, the other systems go on
        record.update(status="failed", reason=f"{type(exc).__name__}: {exc}",
                      traceback=traceback.format_exc(limit=8))
    else:
        record["unavailable"] = dict(gen.unavailable)
        for (split, noise), block in sorted(gen.blocks.items()):
            if noise in config.stored_noise:
                rel, rec = write_block(out_dir, block, config.width, config.compression_level)
                file_records[rel] = rec
                record["files"].append(rel)
            else:
                record["derived"][f"{split}/{noise}"] = block_digest(block, config.width)
        record["dim"] = int(gen.blocks[("test", "none")].values.shape[2])
    # (Timing is returned beside the record, not in it: the manifest stays reproducible.)
    return {"system": name, "record": record, "files": file_records,
            "seconds": time.perf_counter() - started}


def _is_done(root: Path, manifest: dict, name: str, fingerprint: str, retry_failed=False) -> bool:
    rec = manifest["systems"].get(name)
    if not rec or rec.get("registry_hash") != fingerprint \
            or rec.get("generator_version") != GENERATOR_VERSION:
        return False
    if rec["status"] == "skipped" or "traceback" in rec:
        return False  # cheap to retry / an unexpected error: try again
    if rec["status"] == "failed" and retry_failed:
        return False
    for rel in rec.get("files", []):
        frec = manifest["files"].get(rel)
        path = root / rel
        if frec is None or not path.is_file() or path.stat().st_size != frec["bytes"] \
                or sha256_file(path) != frec["sha256"]:
            return False
    return True


def _apply(root: Path, manifest: dict, result: dict) -> None:
    name = result["system"]
    old = manifest["systems"].get(name, {})
    new_files = set(result["files"])
    for rel in old.get("files", []):
        if rel not in new_files:  # a variant that is no longer produced
            manifest["files"].pop(rel, None)
            _unlink(root, [rel])
    manifest["files"].update(result["files"])
    manifest["systems"][name] = result["record"]
    save_manifest(root, manifest)


def _only_version_differs(old: dict, config: CanonicalConfig) -> bool:
    new = config.to_dict()
    return (old.get("protocol_version") != new["protocol_version"]
            and {**old, "protocol_version": None} == {**new, "protocol_version": None})


def _progress(total, enabled):
    if not enabled:
        return None
    from ..console import ProgressBar
    return ProgressBar(total, "generate")


def generate(out_dir=None, config: CanonicalConfig = CANONICAL, systems=None, workers=1,
             scheduler=None, progress=True, overwrite=False, retry_failed=False) -> dict:
    """Generate (or complete) a dataset under ``out_dir``.

    Parameters
    ----------
    out_dir : path, optional
        Dataset root (default: the package's shipped ``dysts_bench/data``).
    config : CanonicalConfig
        Generator configuration (default: the canonical protocol).
    systems : list of str, optional
        Systems to generate (default: every registry system).
    workers : int
        Local worker processes (1: in this process).
    scheduler : str, distributed.Client or cluster, optional
        Run on Dask instead: a scheduler address (``tcp://host:port``), a ``Client`` or a
        cluster object (``LocalCluster``, ...). Workers must see ``out_dir``.
    progress : bool
        Show a progress bar (rich).
    overwrite : bool
        Allow replacing a dataset generated with a different configuration.
    retry_failed : bool
        Also redo systems recorded as failed (a failed integration is deterministic, so
        by default it is not retried until the registry entry or generator changes).

    With ``systems=None`` the dataset is made to match the whole registry: systems no
    longer in the registry are removed from the manifest and their files deleted.

    Returns
    -------
    dict with the lists ``generated``, ``unchanged``, ``skipped``, ``failed`` (name ->
    reason) and ``unavailable`` (name -> {variant: reason}).
    """
    from ..registry import get_system
    root = Path(out_dir) if out_dir is not None else default_root()
    root.mkdir(parents=True, exist_ok=True)
    full = systems is None
    if full:
        from ..registry import list_systems
        names = list_systems()
    else:
        names = list(dict.fromkeys(get_system(n).name for n in systems))
    manifest = _open_manifest(root, config, overwrite)
    if full:
        _drop_unregistered(root, manifest, names)
    _warn_short_horizon(config, names)
    todo, unchanged = _plan(root, manifest, names, retry_failed)
    if todo:
        manifest["environment"] = new_manifest(config)["environment"]
    _build_all(root, manifest, config, todo, workers, scheduler, progress)
    return _summary(root, manifest, names, todo, unchanged)


def _open_manifest(root: Path, config: CanonicalConfig, overwrite: bool) -> dict:
    """The manifest to complete: the one under ``root`` when it was made with ``config``
    (or only the protocol version differs), else a new one (``overwrite`` deletes the old
    files)."""
    manifest = load_manifest(root)
    if manifest is not None and _only_version_differs(manifest.get("config", {}), config):
        # A protocol bump that changes no generator setting: the files of systems whose
        # registry entry is unchanged stay valid (and byte-identical); the rest regenerate.
        manifest.update(protocol_version=config.protocol_version, config=config.to_dict(),
                        config_hash=config.fingerprint)
        save_manifest(root, manifest)
    if manifest is not None and manifest.get("config_hash") != config.fingerprint:
        if not overwrite:
            raise ValueError(f"{root} holds a dataset generated with another configuration "
                             f"(config_hash {manifest.get('config_hash', '?')[:12]}); use "
                             "another directory or overwrite=True (--overwrite)")
        _unlink(root, manifest.get("files", {}))
        manifest = None
    if manifest is None:
        manifest = new_manifest(config)
        save_manifest(root, manifest)
    return manifest


def _unlink(root: Path, rels) -> None:
    for rel in rels:
        try:
            (root / rel).unlink()
        except FileNotFoundError:
            pass


def _drop_unregistered(root: Path, manifest: dict, names) -> None:
    """Remove systems no longer in the registry from the manifest, and their files."""
    gone = sorted(set(manifest["systems"]) - set(names))
    for name in gone:
        rels = manifest["systems"].pop(name).get("files", [])
        for rel in rels:
            manifest["files"].pop(rel, None)
        _unlink(root, rels)
    if gone:
        save_manifest(root, manifest)


def _warn_short_horizon(config: CanonicalConfig, names) -> None:
    check = horizon_check(config, names) if config.is_canonical else {"ok": True}
    if not check["ok"]:
        warnings.warn(f"the test horizon ({config.horizon} samples) covers only "
                      f"{check['lyapunov_times']:.1f} Lyapunov times on the median system "
                      f"({check['source']}); the protocol asks for {TARGET_LYAPUNOV_TIMES}: "
                      f"set CanonicalConfig.horizon = {check['recommended_horizon']}",
                      stacklevel=3)


def _plan(root: Path, manifest: dict, names, retry_failed: bool) -> tuple[list, list]:
    """(todo, unchanged): the systems to (re)build and those whose files stand."""
    from ..registry import get_system
    todo, unchanged = [], []
    for name in names:
        system = get_system(name)
        # A system newly excluded (e.g. labelled transient) keeps its registry hash: redo it.
        done = _is_done(root, manifest, name, system_fingerprint(system), retry_failed) \
            and supports(system) is None
        (unchanged if done else todo).append(name)
    return todo, unchanged


def _build_all(root: Path, manifest: dict, config: CanonicalConfig, todo, workers, scheduler,
               progress) -> None:
    """Build every system of ``todo`` on the executor; the manifest is saved after each."""
    bar = _progress(len(todo), progress)
    cfg = config.to_dict()
    pool = open_pool(workers if len(todo) > 1 else 1, scheduler, preload=[__name__])
    calls = [(name, (str(root), cfg, name)) for name in todo]
    try:
        # build_system_files is looked up here, at call time (a test replaces it)
        for _, result in pool.imap_unordered(build_system_files, calls):
            _apply(root, manifest, result)
            if bar is not None:
                bar.set_postfix_str(result["system"])
                bar.update(1)
    except BaseException:  # Ctrl-C or a crashed worker: drop the queue, keep what is done
        pool.close(kill=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    pool.close()


def _summary(root: Path, manifest: dict, names, todo, unchanged) -> dict:
    summary = {"root": str(root), "generated": sorted(todo), "unchanged": sorted(unchanged),
               "skipped": {}, "failed": {}, "unavailable": {}}
    for name in names:
        rec = manifest["systems"].get(name, {})
        if rec.get("status") == "skipped":
            summary["skipped"][name] = rec.get("reason")
        elif rec.get("status") == "failed":
            summary["failed"][name] = rec.get("reason")
        if rec.get("unavailable"):
            summary["unavailable"][name] = rec["unavailable"]
    summary["generated"] = [n for n in summary["generated"]
                            if manifest["systems"].get(n, {}).get("status") == "ok"]
    return summary
