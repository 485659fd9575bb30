"""The ``neighbors=`` parameter on every neighbour-based estimator.

- The exact names ('auto', 'exact', 'kdtree') give bit-identical output to the default (which is
  imbalanced-learn's, see test_cleaning_parity.py / test_smote*.py), on bundled datasets.
- 'hnsw' applies the same rules to an approximate graph: with a search wide enough to be exhaustive
  on small data it gives the exact result; on the fraud-like benchmark data (and a real dataset
  with heavy class overlap) it agrees with the exact run on >= 99% of the selected rows.
- Bad values are refused with errors naming the parameter; an imbalanced-learn style neighbour
  object keeps working and makes ``neighbors`` ignored; hnsw runs are deterministic for a seed,
  whatever ``n_jobs`` is.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import InvalidParameterError

from equipoise import datasets
from equipoise.combine import SMOTEENN, SMOTETomek
from equipoise.datasets import make_fraud as fraud
from equipoise.datasets import make_fraud_multiclass as fraud_multiclass
from equipoise.over_sampling import ADASYN, SMOTE, SMOTEN, SMOTENC, BorderlineSMOTE
from equipoise.sampling import OnlineSMOTE
from equipoise.under_sampling import (
    AllKNN,
    CondensedNearestNeighbour,
    EditedNearestNeighbours,
    NeighbourhoodCleaningRule,
    OneSidedSelection,
    RepeatedEditedNearestNeighbours,
    TomekLinks,
)

# The benchmark data generator lives in the source tree's benches/ (tests run against the wheel).

pytestmark = pytest.mark.filterwarnings("ignore:the cleaning removed every row:UserWarning")

# Every numeric neighbour-based estimator, seeded where it draws.
NUMERIC_ESTIMATORS = {
    "SMOTE": lambda: SMOTE(random_state=0),
    "BorderlineSMOTE-1": lambda: BorderlineSMOTE(random_state=0),
    "BorderlineSMOTE-2": lambda: BorderlineSMOTE(kind="borderline-2", random_state=0),
    "ADASYN": lambda: ADASYN(random_state=0),
    "ENN": lambda: EditedNearestNeighbours(),
    "ENN-mode-all": lambda: EditedNearestNeighbours(kind_sel="mode", sampling_strategy="all"),
    "RENN": lambda: RepeatedEditedNearestNeighbours(),
    "AllKNN": lambda: AllKNN(),
    "TomekLinks": lambda: TomekLinks(sampling_strategy="all"),
    "NCR": lambda: NeighbourhoodCleaningRule(),
    "OSS": lambda: OneSidedSelection(random_state=0),
    "CNN": lambda: CondensedNearestNeighbour(random_state=0),
    "SMOTEENN": lambda: SMOTEENN(random_state=0),
    "SMOTETomek": lambda: SMOTETomek(random_state=0),
}
ALL_ESTIMATORS = {
    **NUMERIC_ESTIMATORS,
    "SMOTENC": lambda: SMOTENC(categorical_features=[0], random_state=0),
    "SMOTEN": lambda: SMOTEN(random_state=0),
}
_DATA = {}


def data(name):
    if name not in _DATA:
        if name == "fraud5":
            X, y = fraud_multiclass(3000)
        elif name == "abalone_19-sex":  # its one categorical column
            X, y, _ = datasets.load("abalone_19")
            X = X[:, :1]
        elif name.startswith("fraud20k"):
            X, y = (fraud_multiclass if name.endswith("multi") else fraud)(20_000)
        else:
            X, y, _ = datasets.load(name, numeric_only=name not in ("abalone_19", "car_eval_4"))
        _DATA[name] = (X, y)
    return _DATA[name]


def run(est, X, y):
    X_res, y_res = est.fit_resample(X, y)
    return X_res, y_res, getattr(est, "sample_indices_", None)


def assert_same_run(a, b):
    for u, v in zip(a, b):
        if u is None:
            assert v is None
        else:
            np.testing.assert_array_equal(u, v)


def datasets_of(name):
    if name == "SMOTENC":
        return ["abalone_19"]
    if name == "SMOTEN":
        return ["car_eval_4", "abalone_19-sex"]
    if name == "ADASYN":  # ADASYN itself refuses glass and fraud5 (a class would get no new row)
        return ["ecoli", "pima", "yeast_me2"]
    return ["ecoli", "glass", "fraud5"]


CASES = [(n, d) for n in ALL_ESTIMATORS for d in datasets_of(n)]


@pytest.mark.parametrize(("name", "dataset"), CASES)
def test_exact_names_give_the_default_output(name, dataset):
    X, y = data(dataset)
    default = run(ALL_ESTIMATORS[name](), X, y)
    assert ALL_ESTIMATORS[name]().get_params()["neighbors"] == "auto"
    for value in ("auto", "exact", "kdtree", {"algorithm": "kdtree"}):
        if name == "SMOTEN" and isinstance(value, dict):
            continue
        est = ALL_ESTIMATORS[name]().set_params(neighbors=value)
        assert_same_run(default, run(est, X, y))


@pytest.mark.parametrize("name", ALL_ESTIMATORS)
def test_bad_neighbors_values_are_refused_by_name(name):
    X, y = data(datasets_of(name)[0])
    for bad in ("annoy", 3, None, ["hnsw"]):
        est = ALL_ESTIMATORS[name]().set_params(neighbors=bad)
        with pytest.raises(InvalidParameterError, match="'neighbors' parameter"):
            est.fit_resample(X, y)
    if name == "SMOTEN":
        # Its distance is not Euclidean: HNSW (a name or a dict) is refused by the validation,
        # and by the sampler itself when called past it.
        for bad in ("hnsw", {"M": 8}):
            with pytest.raises(InvalidParameterError, match="'neighbors' parameter"):
                SMOTEN(neighbors=bad).fit_resample(X, y)
        est = SMOTEN(neighbors="hnsw")
        with pytest.raises(ValueError, match="SMOTEN's neighbors must be one of"):
            est._resample(X, y, np.unique(y), np.searchsorted(np.unique(y), y), None)
        return
    bad_dicts = {
        "neighbors\\['M'\\] must be an integer >= 2": {"algorithm": "hnsw", "M": 1},
        "neighbors\\['ef_search'\\] must be an integer >= 1": {"ef_search": 0},
        "unknown neighbors option\\(s\\) \\['efSearch'\\]": {"efSearch": 10},
        "neighbors\\['algorithm'\\] must be one of": {"algorithm": "faiss"},
        "neighbors\\['seed'\\] must be an integer": {"seed": 1.5},
    }
    for message, bad in bad_dicts.items():
        est = ALL_ESTIMATORS[name]().set_params(neighbors=bad)
        with pytest.raises(ValueError, match=message):
            est.fit_resample(X, y)


def test_online_smote_checks_neighbors():
    X, y = data("ecoli")
    with pytest.raises(ValueError, match="neighbors must be one of"):
        OnlineSMOTE(X, y, 32, neighbors="annoy")
    with pytest.raises(TypeError, match="neighbors must be a string"):
        OnlineSMOTE(X, y, 32, neighbors=3)
    with pytest.raises(ValueError, match="unknown neighbors option"):
        OnlineSMOTE(X, y, 32, neighbors={"m": 3})


@pytest.mark.parametrize("name", ALL_ESTIMATORS)
def test_get_params_round_trip(name):
    value = {"algorithm": "hnsw", "M": 8, "ef_search": 32}
    est = ALL_ESTIMATORS[name]()
    if name == "SMOTEN":
        value = "kdtree"
    est.set_params(neighbors=value)
    copy = clone(est)
    assert copy.get_params()["neighbors"] == value
    assert copy.get_params() == est.get_params()


# --- hnsw: the same rules on an approximate graph ---------------------------------------------

# ef_search >= n makes the search exhaustive on these small sets: the graph is the exact one, so
# the rule applied to it must give the exact result (ties aside; these sets have none that matter).
WIDE = {"algorithm": "hnsw", "ef_search": 2000, "ef_construction": 400}


@pytest.mark.parametrize("dataset", ["ecoli", "glass", "pima", "yeast_me2"])
@pytest.mark.parametrize(
    "name", ["ENN", "ENN-mode-all", "TomekLinks", "RENN", "AllKNN", "NCR", "ADASYN"]
)
def test_exhaustive_hnsw_gives_the_exact_result(name, dataset):
    if dataset not in datasets_of(name) and name == "ADASYN":
        dataset = "ecoli"
    X, y = data(dataset)
    exact = run(NUMERIC_ESTIMATORS[name](), X, y)
    approx = run(NUMERIC_ESTIMATORS[name]().set_params(neighbors=WIDE), X, y)
    assert_same_run(exact, approx)


def test_exhaustive_hnsw_smotenc_searches_the_smotenc_distance():
    # The dense encoding searched by HNSW has the SMOTE-NC distance: with an exhaustive search
    # the neighbour graph, hence the output, is the exact one.
    X, y = data("abalone_19")
    est = ALL_ESTIMATORS["SMOTENC"]
    assert_same_run(run(est(), X, y), run(est().set_params(neighbors=WIDE), X, y))


def sym_diff_share(exact, approx):
    """|exact Δ approx| / |exact| of two selections of row indices."""
    return np.setxor1d(exact, approx).size / exact.size


@pytest.mark.parametrize("dataset", ["fraud20k", "fraud20k-multi", "phoneme"])
@pytest.mark.parametrize(
    "make",
    [
        lambda: EditedNearestNeighbours(),
        lambda: EditedNearestNeighbours(sampling_strategy="all", kind_sel="mode"),
        lambda: TomekLinks(),
        lambda: TomekLinks(sampling_strategy="all"),
    ],
    ids=["ENN", "ENN-all-mode", "Tomek", "Tomek-all"],
)
def test_hnsw_agrees_with_exact_on_99_percent_of_rows(make, dataset):
    X, y = data(dataset)
    exact, approx = make(), make().set_params(neighbors="hnsw")
    exact.fit_resample(X, y)
    approx.fit_resample(X, y)
    assert sym_diff_share(exact.sample_indices_, approx.sample_indices_) <= 0.01
    if dataset == "phoneme":  # real overlap: the rule has work to do, and does the same work
        assert exact.sample_indices_.size < X.shape[0] - 50


def rows_set_diff_share(A, B):
    """Rows of A not in B plus rows of B not in A, over len(A) (rows compared exactly)."""
    a = np.ascontiguousarray(A).view(np.dtype((np.void, A.dtype.itemsize * A.shape[1])))
    b = np.ascontiguousarray(B).view(np.dtype((np.void, B.dtype.itemsize * B.shape[1])))
    return np.setxor1d(a.ravel(), b.ravel()).size / A.shape[0]


@pytest.mark.parametrize("cls", [SMOTEENN, SMOTETomek])
def test_hnsw_combined_samplers_agree_with_exact(cls):
    X, y = data("fraud20k")
    Xe, ye = cls(random_state=0).fit_resample(X, y)
    Xa, ya = cls(random_state=0, neighbors="hnsw").fit_resample(X, y)
    assert abs(ye.size - ya.size) <= 0.01 * ye.size
    assert rows_set_diff_share(Xe, Xa) <= 0.01


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: EditedNearestNeighbours(sampling_strategy="all", **kw),
        lambda **kw: TomekLinks(sampling_strategy="all", **kw),
        lambda **kw: SMOTEENN(random_state=0, **kw),
        lambda **kw: NeighbourhoodCleaningRule(**kw),
    ],
    ids=["ENN", "Tomek", "SMOTEENN", "NCR"],
)
def test_hnsw_is_deterministic_for_a_seed_whatever_n_jobs(make):
    X, y = fraud_multiclass(4000, seed=3)
    X = X + np.float32(0.5) * np.random.default_rng(0).standard_normal(X.shape, np.float32)
    spec = {"algorithm": "hnsw", "seed": 5, "ef_search": 16, "M": 4}
    first = make(neighbors=spec, n_jobs=1).fit_resample(X, y)
    for n_jobs in (1, 2):
        again = make(neighbors=spec, n_jobs=n_jobs).fit_resample(X, y)
        assert_same_run(first, again)


def test_online_smote_exact_names_and_hnsw_graph():
    X, y = data("fraud5")
    ref = OnlineSMOTE(X, y, 64, seed=0)
    for value in ("exact", "kdtree"):
        other = OnlineSMOTE(X, y, 64, seed=0, neighbors=value)
        for c, g in ref._graph.items():
            np.testing.assert_array_equal(g, other._graph[c])
    approx = OnlineSMOTE(X, y, 64, seed=0, neighbors="hnsw")
    assert approx._graph.keys() == ref._graph.keys()
    for c, g in approx._graph.items():
        assert np.all(y[g] == y[ref._rows[c]][0])  # neighbours within the class
        assert not np.any(g == ref._rows[c][:, None])  # never the row itself
        # Small classes: HNSW's graph is (nearly) the exact one.
        assert np.mean(g == ref._graph[c]) >= 0.99
    xb, yb = next(iter(approx.iter_batches(0)))
    assert xb.shape[1] == X.shape[1] and np.isfinite(xb).all()


@pytest.mark.parametrize(
    ("make", "param"),
    [
        (lambda **kw: EditedNearestNeighbours(**kw), "n_neighbors"),
        (lambda **kw: RepeatedEditedNearestNeighbours(**kw), "n_neighbors"),
        (lambda **kw: AllKNN(**kw), "n_neighbors"),
        (lambda **kw: NeighbourhoodCleaningRule(**kw), "n_neighbors"),
        (lambda **kw: SMOTE(random_state=0, **kw), "k_neighbors"),
        (lambda **kw: ADASYN(random_state=0, **kw), "n_neighbors"),
        (lambda **kw: BorderlineSMOTE(random_state=0, **kw), "m_neighbors"),
    ],
    ids=["ENN", "RENN", "AllKNN", "NCR", "SMOTE", "ADASYN", "BorderlineSMOTE"],
)
def test_a_neighbour_object_keeps_working_and_neighbors_is_then_ignored(make, param):
    X, y = data("pima" if param == "n_neighbors" and "ADASYN" in repr(make()) else "glass")
    nn = NearestNeighbors(n_neighbors=4)
    ref = run(make(**{param: nn}), X, y)
    assert_same_run(ref, run(make(**{param: nn, "neighbors": "hnsw"}), X, y))
    # ... and the object is the int it describes (a plain Euclidean NearestNeighbors).
    if param != "m_neighbors":
        assert_same_run(ref, run(make(**{param: 3}), X, y))


def test_every_documented_hnsw_default_is_the_cores():
    # HNSW's defaults have one source, the core (equipoise._core.hnsw_defaults()); the estimators'
    # docstrings and the README quote them, and must quote them right.
    import re
    from pathlib import Path

    import equipoise.combine
    import equipoise.neighbors
    import equipoise.over_sampling
    import equipoise.under_sampling
    from equipoise import _core
    from equipoise.neighbors._select import HNSW_DEFAULTS

    assert HNSW_DEFAULTS == _core.hnsw_defaults()
    assert set(HNSW_DEFAULTS) == {"M", "ef_construction", "ef_search", "seed"}
    texts = {}
    for module in (
        equipoise.over_sampling,
        equipoise.under_sampling,
        equipoise.combine,
        equipoise.neighbors,
    ):
        for name in module.__all__:
            texts[f"{module.__name__}.{name}"] = getattr(module, name).__doc__ or ""
    readme = Path(__file__).resolve().parents[1] / "README.md"
    if readme.exists():
        texts["README.md"] = readme.read_text()
    quoted = 0
    for where, text in texts.items():
        text = " ".join(text.split())
        found = re.findall(r'"(M|ef_construction|ef_search|seed)": (\d+)', text)
        found += re.findall(r"\b(M|ef_construction|ef_search|seed) : int, default=(\d+)", text)
        for option, value in found:
            assert int(value) == HNSW_DEFAULTS[option], f"{where}: {option}={value}"
        quoted += len(found)
    assert quoted >= 20  # the docstrings do quote them (the test would be empty otherwise)
