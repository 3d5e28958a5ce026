"""The held-out split of the flows for the zero-shot track: pretraining vs held-out test.

The assignment is data (``heldout_split.json``), fixed and versioned: a model pretrained
on the ``pretrain`` side is scored on the ``heldout`` side, which it must not have seen.
Families are kept whole, so that variants of one system (Lorenz, Lorenz84, HyperLorenz,
...) never sit on both sides.

Family rule (:func:`families`), applied to registry names:

1. Split each name into its CamelCase words, digits dropped (``HyperLorenz`` -> Hyper,
   Lorenz; ``Bouali2`` -> Bouali); words in :data:`GENERIC_WORDS` (Hyper, Forced,
   Delay, ...) say how a system was built, not from what, and are ignored, and so are
   single letters (SprottA, BeerRNN).
2. Two systems sharing a remaining word are in one family (transitively: LuChen links
   Lu and Chen, so HyperLu, ChenLee and QiChen join), which also groups an author's
   systems (SprottA .. SprottS, SprottJerk, JerkCircuit).
3. The hand-made links of :data:`LINKS` merge families whose equations are variants of
   one another though their names differ (each with its reason).

The sides were drawn once (:func:`draw_sides`): families in the order of a keyed hash,
held out while they are small (at most :data:`MAX_HELDOUT_FAMILY` systems) until a fifth
of the systems are held out; the large families (Lorenz-Chen-Lu, Sprott) pretrain.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

#: Words that describe a construction (hyperchaotic extension, forcing, delay), not a lineage.
GENERIC_WORDS = frozenset({"Hyper", "Forced", "Delay", "Double", "Cell", "Flow", "Circuit",
                           "Oscillator", "Oscillation", "Oscillating", "Reduced", "Coupled",
                           "Bounded", "More"})
#: Families merged by hand: (a member, another member, why).
LINKS = (
    ("Lorenz", "Chen", "Chen and Lu systems are generalised Lorenz systems "
                       "(Celikovsky & Chen 2002, Int. J. Bifurcation Chaos 12, 1789)"),
    ("Lorenz", "ShimizuMorioka", "a normal form of the Lorenz attractor's bifurcations "
                                 "(Shimizu & Morioka 1980, Phys. Lett. A 76, 201)"),
    ("Lorenz", "Rucklidge", "a Lorenz-like model of double convection (Rucklidge 1992)"),
    ("LuChen", "HyperBao", "hyperchaotic extension of the Lu system (Bao & Liu 2008)"),
    ("LuChen", "HyperPang", "hyperchaotic extension of the Lu system (Pang & Liu 2011)"),
    ("Lorenz", "HyperJha", "hyperchaotic extension of the Lorenz equations"),
    ("Lorenz", "HyperCai", "hyperchaotic extension of Cai's Lorenz-like system"),
    ("Chen", "HyperYan", "hyperchaotic extension of the Chen system"),
    ("Lorenz", "DequanLi", "Dequan Li's TSUCS-2, a quadratic Lorenz-family flow"),
    ("DequanLi", "Tsucs2", "the same three-scroll unified chaotic system family (TSUCS)"),
)
MAX_HELDOUT_FAMILY = 3
HELDOUT_FRACTION = 0.2
VERSION = 1


def words(name: str) -> set:
    """The lineage words of a system name (rule 1)."""
    found = re.findall(r"[A-Z][a-z]*|[a-z]+", re.sub(r"\d+", "", name))
    # Single letters (SprottA, BeerRNN) are labels or acronyms, not lineages.
    return {w for w in found if len(w) > 1 and w not in GENERIC_WORDS}


def families(names) -> dict:
    """{family name: sorted members} by the family rule; a family is named after its
    alphabetically first member."""
    names = sorted(names)
    parent = {n: n for n in names}

    def find(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    owner = {}
    for n in names:
        for w in words(n):
            if w in owner:
                union(owner[w], n)
            else:
                owner[w] = n
    for a, b, _ in LINKS:
        if a in parent and b in parent:
            union(a, b)
    out = {}
    for n in names:
        out.setdefault(find(n), []).append(n)
    return out


def draw_sides(names, version=VERSION) -> dict:
    """The one-off draw of the sides (kept for the record; the JSON is the split)."""
    fams = families(names)
    total = sum(len(m) for m in fams.values())
    order = sorted(fams, key=lambda f: hashlib.sha256(f"heldout-v{version}:{f}".encode()).hexdigest())
    sides, held = {}, 0
    for fam in order:
        small = len(fams[fam]) <= MAX_HELDOUT_FAMILY
        if small and held < HELDOUT_FRACTION * total:
            sides[fam], held = "heldout", held + len(fams[fam])
        else:
            sides[fam] = "pretrain"
    return {"version": version, "rule": __doc__.split("Family rule")[1].strip(),
            "links": [list(link) for link in LINKS],
            "families": {f: {"side": sides[f], "members": fams[f]} for f in sorted(fams)}}


def default_path() -> Path:
    return Path(__file__).resolve().parent / "heldout_split.json"


@lru_cache(maxsize=2)
def load_split(path: str | None = None) -> dict:
    """The versioned split: {"version", "families": {family: {"side", "members"}}, ...}."""
    raw = json.loads(Path(path or default_path()).read_text())
    for fam, rec in raw["families"].items():
        if rec.get("side") not in ("pretrain", "heldout") or not rec.get("members"):
            raise ValueError(f"heldout_split.json: family {fam!r} needs a side "
                             "('pretrain' or 'heldout') and members")
    return raw


def side_systems(side: str, path=None) -> list:
    """Sorted names of the systems on one side: ``"pretrain"`` or ``"heldout"``."""
    if side not in ("pretrain", "heldout"):
        raise ValueError(f"side must be 'pretrain' or 'heldout', got {side!r}")
    split = load_split(None if path is None else str(path))
    return sorted(n for rec in split["families"].values() if rec["side"] == side
                  for n in rec["members"])


def family_of(name: str, path=None) -> str:
    """The family a system belongs to in the split."""
    split = load_split(None if path is None else str(path))
    for fam, rec in split["families"].items():
        if name in rec["members"]:
            return fam
    raise KeyError(f"{name!r} is not in the held-out split (version {split['version']}); "
                   "new systems must be assigned in heldout_split.json")


def straddling(split: dict, names) -> list:
    """Families (by the rule, over ``names``) whose members are not all on one side of
    ``split``, or not all assigned: the check that the split leaks no family."""
    side = {n: rec["side"] for rec in split["families"].values() for n in rec["members"]}
    return sorted(fam for fam, members in families(names).items()
                  if len({side.get(n) for n in members}) != 1 or None in {side.get(n) for n in members})
