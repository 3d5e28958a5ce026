"""The evaluation tracks of the benchmark: names and protocols (data only, no imports).

Every record's ``evaluation`` names its track (``fresh:<seed>`` and ``<track>+fresh:<seed>``
for fresh initial conditions), results files are ``<run id>.<evaluation>.jsonl`` and the
leaderboard shows one section per track. The dataset builds each track's tasks
(:func:`dysts_bench.dataset.iter_tasks` with ``track=``), the runner evaluates them and the
leaderboard groups them by this label; the protocol texts below are what ``TRACKS.md``
says.
"""

from __future__ import annotations

#: Track names, in leaderboard order.
TRACKS = ("canonical", "maps", "measurement", "dynamical", "zero-shot")

#: The noise variant a track's contexts come from.
TRACK_NOISE = {"canonical": "none", "maps": "none", "measurement": "measurement",
               "dynamical": "dynamical", "zero-shot": "none"}

#: One paragraph per track: what the forecaster sees and what it is scored against.
PROTOCOLS = {
    "canonical": (
        "The flows of the shipped dataset, test split, clean. The forecaster sees the last "
        "`context_length` samples before the forecast origin and is scored against the clean "
        "future of the same series. Hyperparameters may be tuned per system on the training "
        "series and its validation tail (never on test data)."),
    "maps": (
        "The discrete maps (`dysts-bench systems --filter kind=map`), test series of the `maps` "
        "split (`load_dataset('maps')`; one sample is one iteration, `dt` = 1). Context and "
        "scoring as on the canonical track. Only maps labelled `chaotic` in the registry enter "
        "the aggregates; maps with other labels are reported apart."),
    "measurement": (
        "Measurement noise: the forecaster sees the context of the measurement-noise variant "
        "(the clean test series plus independent Gaussian noise of the dataset's "
        "`measurement_noise` times each variable's attractor standard deviation) and is "
        "scored against the CLEAN future of the same series: the truth is the signal, not a "
        "noisy reading of it. Tuning uses the noisy training context and the clean "
        "validation tail."),
    "dynamical": (
        "Dynamical noise: the test series of the dynamical-noise variant (the stochastic "
        "differential equation with noise in the state, integrated by the dataset "
        "generator); the forecaster sees its context and is scored against the future of "
        "the same noisy trajectory (there is no clean counterpart of a noise-driven orbit). "
        "Tuning on the dynamical-noise training series."),
    "zero-shot": (
        "The held-out systems of the held-out split (`dysts_bench/heldout_split.json`, "
        "families kept whole), clean test series, no tuning. A forecaster with a "
        "`pretrain(corpus)` method is pretrained once per worker on a corpus from "
        "`dysts-bench corpus` (pretraining side only) before any task, then `fit`/`predict` "
        "on each held-out context as usual. Records of pretrained entries carry the corpus id "
        "and seed and `pretrained: true`. The leaderboard flags whether a model's pretraining "
        "data could include held-out systems: disjoint by construction for our corpora (the "
        "runner checks the corpus against the split), self-declared "
        "(`pretraining_data_disjoint`) for models pretrained elsewhere."),
}


def base_track(evaluation: str) -> str:
    """The track of an evaluation label: ``"maps"`` for ``"maps"``, ``"canonical"`` for
    ``"fresh:3"``, ``"measurement"`` for ``"measurement+fresh:3"``; other labels (ad-hoc
    tasks, older ``canonical+noise=...`` records) are returned as they are."""
    head = str(evaluation).split("+", 1)[0]
    if head in TRACKS:
        return head if "+noise=" not in str(evaluation) else str(evaluation)
    if head.startswith("fresh:"):
        return "canonical"
    return str(evaluation)


def check_track(track: str) -> str:
    if track not in TRACKS:
        raise ValueError(f"unknown track {track!r}; choose from {', '.join(TRACKS)}")
    return track
