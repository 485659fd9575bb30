"""Batch samplers: exact composition, walks without repeats, shards, determinism, inputs."""

import pickle
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pandas as pd
import polars as pl
import pytest

from equipoise.sampling import BalancedBatchSampler, StratifiedBatchSampler


def batches(sampler, epoch=None):
    return list(sampler.iter_numpy(epoch))


def class_codes(y):
    return np.unique(y, return_inverse=True)[1]


def check_cumulative_shares(y, batch_list, shares):
    """After every batch each class has the floor or the ceiling of its share of the rows so far
    (exact rational arithmetic, independent of the core)."""
    codes = class_codes(y)
    k = len(shares)
    total = sum(shares)
    cum = np.zeros(k, dtype=np.int64)
    t = 0
    for b in batch_list:
        cum += np.bincount(codes[b], minlength=k)
        t += len(b)
        for c in range(k):
            q = Fraction(t) * shares[c] / total
            assert q.__floor__() <= cum[c] <= q.__ceil__(), (c, t, cum[c], q)
    return cum, t


@pytest.mark.parametrize("name", ["mammography", "yeast_me2", "glass"])
@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_balanced_batches_have_the_exact_composition(load, name, batch_size):
    _, y = load(name)
    s = BalancedBatchSampler(y, batch_size, seed=3)
    bl = batches(s)
    k = len(np.unique(y))
    cum, t = check_cumulative_shares(y, bl, [Fraction(1)] * k)
    counts = np.bincount(class_codes(y))
    # One pass over the largest class: every one of its rows exactly once.
    big = counts.argmax()
    assert cum[big] == counts[big]
    assert t == s.rows_per_epoch == sum(len(b) for b in bl)
    assert all(len(b) == batch_size for b in bl[:-1])
    # The reported composition is the one the batches have.
    got = np.array([np.bincount(class_codes(y)[b], minlength=k) for b in bl])
    np.testing.assert_array_equal(got, s.composition())


def test_a_half_percent_class_gets_its_share_across_batches():
    y = np.array([0] * 9950 + [1] * 50)
    s = StratifiedBatchSampler(y, 64, seed=0)
    per_batch = [int((y[b] == 1).sum()) for b in s.iter_numpy()]
    assert sum(per_batch) == 50 and max(per_batch) == 1
    check_cumulative_shares(y, batches(s), [Fraction(9950), Fraction(50)])


@pytest.mark.parametrize("name", ["glass", "pima", "ecoli"])
def test_stratified_epoch_draws_every_row_once(load, name):
    _, y = load(name)
    s = StratifiedBatchSampler(y, 16, seed=1)
    bl = batches(s)
    np.testing.assert_array_equal(np.sort(np.concatenate(bl)), np.arange(y.size))
    counts = np.bincount(class_codes(y))
    check_cumulative_shares(y, bl, [Fraction(int(c)) for c in counts])


def test_custom_proportions_are_exact_fractions(load):
    _, y = load("haberman")
    s = BalancedBatchSampler(y, 10, proportions={0: 0.7, 1: 0.3}, seed=0)
    assert s.proportions_ == {0: 0.7, 1: 0.3}
    bl = batches(s)
    assert all(int((y[b] == 1).sum()) == 3 for b in bl[:-1])
    check_cumulative_shares(y, bl, [Fraction(7, 10), Fraction(3, 10)])
    # A class given no share never appears.
    s0 = BalancedBatchSampler(y, 8, proportions=[1, 0], seed=0)
    assert all((y[b] == 0).all() for b in s0.iter_numpy())


@pytest.mark.parametrize("name", ["yeast_me2", "glass"])
def test_no_row_repeats_before_its_whole_class_is_seen(load, name):
    _, y = load(name)
    codes = class_codes(y)
    k = codes.max() + 1
    s = BalancedBatchSampler(y, 24, seed=5)
    seen = np.zeros(y.size, dtype=np.int64)
    for epoch in range(3):
        for b in s.iter_numpy(epoch):
            np.add.at(seen, b, 1)
            for c in range(k):
                sc = seen[codes == c]
                assert sc.max() - sc.min() <= 1, (epoch, c)


@pytest.mark.parametrize("world_size", [2, 3, 5])
def test_shards_are_disjoint_equal_and_cover(load, world_size):
    _, y = load("mammography")
    kw = dict(seed=9, num_batches=60)
    whole = batches(BalancedBatchSampler(y, 32, **kw), 4)
    shards = [
        batches(BalancedBatchSampler(y, 32, rank=r, world_size=world_size, **kw), 4)
        for r in range(world_size)
    ]
    assert len({len(sh) for sh in shards}) == 1
    # Every global batch to exactly one rank, in step order.
    for j in range(60 // world_size * world_size):
        np.testing.assert_array_equal(shards[j % world_size][j // world_size], whole[j])
    # Rows of the walked (majority) class are disjoint across ranks.
    maj = [np.concatenate(sh)[y[np.concatenate(sh)] == 0] for sh in shards]
    allmaj = np.concatenate(maj)
    assert np.unique(allmaj).size == allmaj.size


def test_uneven_shards_still_have_equal_length(load):
    _, y = load("ecoli")
    lens = {len(BalancedBatchSampler(y, 10, rank=r, world_size=7)) for r in range(7)}
    assert len(lens) == 1
    lens = {
        len(BalancedBatchSampler(y, 10, rank=r, world_size=7, drop_last=True)) for r in range(7)
    }
    assert len(lens) == 1


def test_same_seed_and_epoch_same_batches_different_epochs_differ(load):
    _, y = load("pen_digits")
    a = BalancedBatchSampler(y, 50, seed=1, n_jobs=1)
    b = BalancedBatchSampler(y, 50, seed=1, n_jobs=2)
    e0 = batches(a, 0)
    assert all(np.array_equal(p, q) for p, q in zip(e0, batches(b, 0)))
    e1 = batches(a, 1)
    assert not all(np.array_equal(p, q) for p, q in zip(e0, e1))
    other = batches(BalancedBatchSampler(y, 50, seed=2), 0)
    assert not all(np.array_equal(p, q) for p, q in zip(e0, other))
    # set_epoch + iter (lists, the DataLoader contract) == iter_numpy == epoch_indices.
    a.set_epoch(1)
    lists = list(a)
    assert all(isinstance(x, list) and isinstance(x[0], int) for x in lists[:3])
    assert len(lists) == len(e1)
    assert all(np.array_equal(np.array(p), q) for p, q in zip(lists, e1))
    idx, off = a.epoch_indices(1)
    assert off.size == len(a) + 1
    np.testing.assert_array_equal(idx, np.concatenate(e1))
    # Pickled (DataLoader workers under spawn): the same batches.
    c = pickle.loads(pickle.dumps(a))
    assert c.epoch == 1 and len(list(c)) == len(e1)
    assert all(np.array_equal(np.array(p), q) for p, q in zip(list(c), e1))


def test_labels_from_pandas_polars_lists_and_strings(load):
    _, y = load("glass")
    ref = batches(BalancedBatchSampler(y, 16, seed=0))
    for labels in (
        pd.Series(y),
        pl.Series(y),
        y.tolist(),
        y.astype(str),
        pd.Series(y).astype("category"),
    ):
        got = batches(BalancedBatchSampler(labels, 16, seed=0))
        assert all(np.array_equal(p, q) for p, q in zip(ref, got))


def test_num_batches_drop_last_and_memory():
    y = np.repeat([0, 1, 2], [1000, 100, 10])
    s = BalancedBatchSampler(y, 30, num_batches=17, seed=0)
    assert len(s) == 17 and all(len(b) == 30 for b in s.iter_numpy())
    s = BalancedBatchSampler(y, 64, drop_last=True, seed=0)
    assert all(len(b) == 64 for b in s.iter_numpy())
    assert len(s) == 3000 // 64
    s = BalancedBatchSampler(y, 64, seed=0)
    assert len(s) == -(-3000 // 64) and len(batches(s)[-1]) == 3000 % 64
    assert s.nbytes == 4 * y.size


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(batch_size=2.5), TypeError, "batch_size"),
        (dict(batch_size=4, rank=2, world_size=2), ValueError, "rank"),
        (dict(batch_size=4, proportions={7: 1}), ValueError, "absent"),
        (dict(batch_size=4, proportions=[1, -1]), ValueError, ">= 0"),
        (dict(batch_size=4, proportions=[0, 0]), ValueError, "positive"),
        (dict(batch_size=4, proportions=[1, 2, 3]), ValueError, "entries"),
        (dict(batch_size=4, proportions="weird"), ValueError, "unknown"),
        (dict(batch_size=4, num_batches=0), ValueError, "num_batches"),
        (dict(batch_size=4, seed=None), TypeError, "seed"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    y = np.array([0, 1] * 10)
    with pytest.raises(exc, match=match):
        BalancedBatchSampler(y, **kwargs)


def test_bad_labels_and_epoch():
    with pytest.raises(ValueError, match="1-D"):
        BalancedBatchSampler(np.zeros((3, 3)), 2)
    with pytest.raises(ValueError, match="empty"):
        BalancedBatchSampler([], 2)
    s = BalancedBatchSampler([0, 1, 1], 2)
    with pytest.raises(ValueError, match="epoch"):
        s.set_epoch(-1)
    y = np.array([0, 1] * 5)
    before = y.copy()
    BalancedBatchSampler(y, 3)
    np.testing.assert_array_equal(y, before)


def test_importing_equipoise_does_not_import_torch():
    code = (
        "import sys, equipoise, equipoise.sampling;"
        "import numpy as np;"
        "list(equipoise.sampling.BalancedBatchSampler(np.array([0, 1, 1]), 2));"
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _epoch_in_child(sampler):
    idx, _ = sampler.epoch_indices(0)
    return idx


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_the_core_works_in_forked_children_after_the_parent_used_its_threads(load):
    import multiprocessing as mp
    import warnings

    _, y = load("pen_digits")
    s = BalancedBatchSampler(y, 32, seed=0, n_jobs=2)
    ref, _ = s.epoch_indices(0)  # the parent's 2-thread pool exists before the fork
    with warnings.catch_warnings():
        # Python >= 3.12 warns about fork in a threaded process: that hazard is what is tested.
        warnings.simplefilter("ignore", DeprecationWarning)
        with mp.get_context("fork").Pool(2) as pool:
            tasks = [pool.apply_async(_epoch_in_child, (s,)) for _ in "ab"]
            got = [r.get(timeout=120) for r in tasks]
    for g in got:
        np.testing.assert_array_equal(g, ref)
