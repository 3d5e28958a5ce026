"""dysts-bench: a benchmark dataset of chaotic dynamical systems and a forecasting leaderboard.

Start with `dysts-bench systems`, `dysts-bench show Lorenz` and `dysts-bench leaderboard`;
`dysts-bench COMMAND --help` explains each command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path



def _parse_filters(items):
    filters = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"--filter expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        filters[key.strip()] = value.strip()
    return filters


def _check_filters(filters: dict) -> None:
    """Reject a filter value no system could match, naming the valid ones (``dim=four``,
    ``delay=yes``), instead of printing an empty table."""
    from .map_registry import map_registry
    from .registry import registry
    systems = [*registry().values(), *map_registry().values()]
    for key, value in filters.items():
        if key == "kind":
            valid = ["flow", "map"]
        else:
            seen = {getattr(s, key, None) for s in systems} - {None}
            if seen and all(isinstance(v, bool) for v in seen):
                valid = ["true", "false"]
            elif seen and all(isinstance(v, (int, float)) for v in seen):
                try:
                    float(value)
                    continue
                except ValueError:
                    raise SystemExit(f"--filter {key}={value}: expected a number, e.g. {key}="
                                     f"{sorted(seen)[0]:g} (values: {', '.join(f'{v:g}' for v in sorted(seen)[:12])})")
            else:
                continue  # free text (e.g. citation): any value is a fair question
        if value.lower() not in valid:
            raise SystemExit(f"--filter {key}={value}: not a valid value; use one of {', '.join(valid)}")


def cmd_systems(args):
    from .registry import System, get_system, list_systems
    filters = _parse_filters(args.filter)
    if "dimension" in filters:
        filters["dim"] = filters.pop("dimension")
    bad = [k for k in filters if k not in System.__dataclass_fields__ and k not in ("dim", "kind")]
    if bad:
        raise SystemExit(f"unknown filter field(s) {bad}; try dim, kind, delay, nonautonomous, hamiltonian")
    _check_filters(filters)
    names = list_systems(**filters)
    rows = []
    for name in names:
        s = get_system(name)
        flags = ",".join(f for f in ("nonautonomous", "delay", "hamiltonian") if getattr(s, f)) \
            or ("map" if s.kind == "map" else "-")
        lam = s.maximum_lyapunov
        # a delay system is stored as its published lag embedding: more columns than its dimension
        columns = s.embedding if s.delay and s.embedding else s.dim
        rows.append((name, s.dim, columns, flags, f"{s.period:.4g}", "-" if lam is None else f"{lam:.4g}"))
    from .console import print_table
    print_table(f"{len(rows)} systems", ["name", "dim", "stored columns", "flags", "period", "max Lyapunov"],
                rows, wide=args.wide, right=(1, 2, 4, 5), priority=(0, 1, 2, 5, 3, 4), fold=(3,))


def _rounded(value):
    """An invariant for display: floats to 4 significant digits, lists of them too."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(_rounded(v)) for v in value) + "]"
    return value


def cmd_show(args):
    from . import expressions as ex
    from .registry import get_system
    s = get_system(args.name)
    defs, eqs = s.trees
    print(f"{s.name}  (dimension {s.dim})")
    print(f"  {s.description}")
    print(f"  citation: {s.citation}")
    flags = [f for f in ("nonautonomous", "delay", "hamiltonian") if getattr(s, f)]
    print(f"  flags: {', '.join(flags) or ('discrete map' if s.kind == 'map' else 'autonomous ODE')}")
    print("  parameters: " + (", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {list(v)}"
                                        for k, v in s.parameters.items()) or "none"))
    if s.delay:
        print(f"  delay: tau = {s.tau:g}, embedding {s.embedding}")
    print("  equations:")
    for (aux, _), tree in zip(s.definitions, defs):
        print(f"    {aux} = {ex.pretty(tree)}")
    for var, tree in zip(s.variables, eqs):
        print(f"    {_lhs(s, var)} = {ex.pretty(tree)}")
    for var, text in s.output.items():
        print(f"    observed {var} -> {text}")
    print(f"  initial condition: {list(s.initial_condition)}")
    if s.kind != "map":
        print(f"  dt = {s.dt:g}, dominant period = {s.period:g}")
    if s.invariants:
        from .chaos import describe
        print("  invariants:")
        for key, value in s.invariants.items():
            if not isinstance(value, dict):
                print(f"    {key}: {_rounded(value)}")
    print(f"  chaos: {describe(s.invariants.get('chaos'))}")
    if s.notes:
        print(f"  notes: {s.notes}")


def _lhs(system, var) -> str:
    """Left-hand side of an equation in `show`: a derivative, or a map's next value."""
    return f"{var}_next" if system.kind == "map" else f"d{var}/dt"


def _integrator_compiled() -> bool:
    """Whether numba's on-disk cache holds the compiled integrator (in the package's
    ``__pycache__``, ``$NUMBA_CACHE_DIR`` or the user cache numba falls back to)."""
    import os
    solvers = Path(__file__).resolve().parent / "solvers"
    places = [solvers / "__pycache__", Path.home() / ".cache" / "numba"]
    if os.environ.get("NUMBA_CACHE_DIR"):
        places.append(Path(os.environ["NUMBA_CACHE_DIR"]))
    return any(next(p.rglob("erk.*.nbi"), None) is not None for p in places if p.is_dir())


def cmd_trajectory(args):
    import pandas as pd

    if not _integrator_compiled():  # say why the first run is slow
        print("dysts-bench: compiling the integrator, once, about 30 s (cached for later runs)", file=sys.stderr)

    from .trajectory import make_trajectory
    from .registry import get_system
    system = get_system(args.name)
    t, y = make_trajectory(system, args.n, pts_per_period=args.pts_per_period,
                           standardize=args.standardize, noise=args.noise, seed=args.seed,
                           method=args.method, rtol=args.rtol, atol=args.atol,
                           timescale=args.timescale)
    frame = pd.DataFrame(y, columns=list(system.variables)[: y.shape[1]] if y.shape[1] == system.dim
                         else [f"x{i}" for i in range(y.shape[1])])
    frame.insert(0, "time", t)
    if args.out is None:
        print(frame.describe().T.to_string())
        return
    out = Path(args.out)
    if out.suffix == ".csv":
        frame.to_csv(out, index=False)
    elif out.suffix == ".parquet":
        frame.astype({c: "float32" for c in frame.columns if c != "time"}).to_parquet(out, index=False)
    else:
        raise SystemExit(f"--out must end in .csv or .parquet, got {out.name}")
    print(f"wrote {len(frame)} samples of {system.name} to {out}")


def cmd_annotate(args):
    from pathlib import Path

    from .invariants import annotate, report_markdown
    if not args.report_only:
        errors = annotate(args.names or None, workers=args.workers, progress=not args.quiet,
                          settings={"chaos_only": True} if args.chaos_only else None)
        for name, error in errors.items():
            print(f"dysts-bench: could not annotate {name}: {error}", file=sys.stderr)
        if errors:
            return 1
    if args.report:
        from . import registry
        registry._cached_default.cache_clear()
        Path(args.report).write_text(report_markdown())
        print(f"wrote {args.report}")


def cmd_corpus(args):
    from .corpus import CorpusConfig, generate_corpus
    config = CorpusConfig(seed=args.seed, n_parameter_draws=args.draws,
                          n_initial_conditions=args.ics, length=args.length)
    client = None
    if args.dask:
        from dask.distributed import Client
        client = Client(args.dask)
    manifest = generate_corpus(args.out, config, systems=args.systems or None, client=client)
    ok = sum(rec["status"] == "ok" for rec in manifest["systems"].values())
    print(f"wrote {len(manifest['files'])} files ({ok} of {len(manifest['systems'])} systems) to {args.out}")


def cmd_maps(args):
    """Recompute the maps' invariants (maps.json) and/or rewrite the maps split."""
    if args.annotate:
        from .maps import annotate_maps
        annotate_maps(args.names or None)
        from . import map_registry
        map_registry._cached.cache_clear()
    if args.data:
        from .dataset.maps import generate_maps, maps_root
        manifest = generate_maps()
        print(f"wrote {len(manifest['files'])} files to {maps_root()}")


def add_zero_shot_cli(sub):
    """``corpus`` (pretraining corpus of the zero-shot track) and ``maps`` (maintenance)."""
    p = sub.add_parser("corpus", help="generate a pretraining corpus (pretrain side of the held-out split)")
    p.add_argument("--out", required=True, help="output directory (never commit it)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--draws", type=int, default=4, help="parameter draws per system")
    p.add_argument("--ics", type=int, default=4, help="initial conditions per draw")
    p.add_argument("--length", type=int, default=2000, help="samples per series")
    p.add_argument("--systems", nargs="*", help="default: the whole pretraining side")
    p.add_argument("--dask", metavar="ADDRESS", help="Dask scheduler address")
    p.set_defaults(func=cmd_corpus)
    p = sub.add_parser("maps", help="re-annotate the discrete maps and/or rewrite their split")
    p.add_argument("names", nargs="*", help="maps to annotate (default: all)")
    p.add_argument("--annotate", action="store_true", help="recompute invariants into maps.json")
    p.add_argument("--data", action="store_true", help="rewrite dysts_bench/data_maps")
    p.set_defaults(func=cmd_maps)
def cmd_plot(args):
    from .plot import plot_system
    out = Path(args.out or f"{args.name}.png")
    if out.suffix not in (".png", ".svg", ".pdf"):
        raise SystemExit(f"--out must end in .png, .svg or .pdf, got {out.name}")
    plot_system(args.name, args.n, series=args.series).savefig(out, dpi=args.dpi)
    print(f"wrote {out}")


def cmd_gallery(args):
    from .plot import gallery
    index = gallery(args.dir, args.systems or None, n=args.n)
    print(f"wrote {index}")


def cmd_plot_forecast(args):
    import numpy as np

    from .plot import forecast_for, plot_forecast
    if args.forecast:
        forecast, label = np.load(args.forecast), args.forecaster or Path(args.forecast).stem
    else:
        forecast, label = forecast_for(args.results, args.system, args.series, forecaster=args.forecaster,
                                       evaluation=args.evaluation)
    out = Path(args.out or f"{args.system}-{args.series}-{label}.png")
    plot_forecast(args.system, args.series, forecast, label=label).savefig(out, dpi=args.dpi)
    print(f"wrote {out}")


def _add_plot_commands(sub):
    """``plot``, ``gallery`` and ``plot-forecast`` (need the ``plot`` extra)."""
    p = sub.add_parser("plot", help="picture of a system: attractor and time series (PNG/SVG)")
    p.add_argument("name")
    p.add_argument("--out", help="FILE.png, .svg or .pdf (default: NAME.png)")
    p.add_argument("--n", type=int, default=None, help="samples to draw (default: the whole test series)")
    p.add_argument("--series", type=int, default=0, help="test series of the dataset (default: 0)")
    p.add_argument("--dpi", type=int, default=100)
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("gallery", help="small pictures of every system and an index.html")
    p.add_argument("dir")
    p.add_argument("--systems", nargs="+", help="systems (default: all in the dataset)")
    p.add_argument("--n", type=int, default=3000, help="samples per picture")
    p.set_defaults(func=cmd_gallery)

    p = sub.add_parser("plot-forecast", help="a stored (or re-run) forecast against the truth")
    p.add_argument("results", help="results directory or one run file (.jsonl)")
    p.add_argument("--system", required=True)
    p.add_argument("--series", type=int, required=True)
    p.add_argument("--forecaster", help="forecaster name or run id (when RESULTS holds several)")
    p.add_argument("--forecast", help="a forecast .npy (horizon, dim) to plot instead")
    p.add_argument("--evaluation", default="canonical")
    p.add_argument("--out", help="FILE.png or .svg (default: SYSTEM-SERIES-FORECASTER.png)")
    p.add_argument("--dpi", type=int, default=100)
    p.set_defaults(func=cmd_plot_forecast)


def build_parser():
    from . import __version__
    parser = argparse.ArgumentParser(prog="dysts-bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"dysts-bench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("systems", help="list the registered systems")
    p.add_argument("--filter", action="append", metavar="KEY=VALUE",
                   help="e.g. dim=4, delay=true, hamiltonian=true (repeatable)")
    p.add_argument("--wide", action="store_true", help="show every column, whatever the terminal width")
    p.set_defaults(func=cmd_systems)

    p = sub.add_parser("show", help="equations, parameters, invariants and citation of a system")
    p.add_argument("name")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("trajectory", help="integrate a system and write or summarise it")
    p.add_argument("name")
    p.add_argument("--n", type=int, default=1000, help="number of samples")
    p.add_argument("--pts-per-period", type=float, default=100)
    p.add_argument("--timescale", choices=["period", "lyapunov"], default="period")
    p.add_argument("--standardize", action="store_true")
    p.add_argument("--noise", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--method", default="dop853", choices=["dop853", "dopri5", "rosenbrock23"])
    p.add_argument("--rtol", type=float, default=1e-12)
    p.add_argument("--atol", type=float, default=1e-12)
    p.add_argument("--out", help="output file (.parquet or .csv); omitted: print a summary")
    p.set_defaults(func=cmd_trajectory)

    p = sub.add_parser("annotate", help="recompute invariants and write them into systems.json")
    p.add_argument("names", nargs="*", help="systems (default: all)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--report", help="also write the Lyapunov comparison table (Markdown)")
    p.add_argument("--report-only", action="store_true", help="only write the report")
    p.add_argument("--chaos-only", action="store_true",
                   help="only (re)classify chaotic / transient / not_chaotic (invariants.chaos)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_annotate)

    from .dataset import add_cli as add_dataset_cli
    from .runner import add_cli as add_runner_cli
    add_dataset_cli(sub)
    add_runner_cli(sub)
    from .leaderboard import add_cli as add_leaderboard_cli
    add_leaderboard_cli(sub)
    add_zero_shot_cli(sub)
    _add_plot_commands(sub)
    return parser


def main(argv=None):
    from .dataset import DatasetError
    from .registry import RegistryError, UnknownSystemError
    from .solvers import IntegrationError
    args = build_parser().parse_args(argv)
    try:
        status = args.func(args)
    except (UnknownSystemError, RegistryError, IntegrationError, DatasetError, ValueError) as exc:
        print(f"dysts-bench: error: {exc}", file=sys.stderr)
        return 2
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
