"""The batch samplers inside a real torch DataLoader with worker processes (fork), training a
small model on a real dataset. Skipped when torch is missing; `.ci/run` installs torch and runs
this file in its own step."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from equipoise.base import take_rows  # noqa: E402
from equipoise.sampling import BalancedBatchSampler, StratifiedBatchSampler  # noqa: E402


class CoreGatherDataset(torch.utils.data.Dataset):
    """Fetches whole batches with equipoise's parallel gather (2 rayon threads) in the worker."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.X[i], self.y[i]

    def __getitems__(self, idx):
        idx = np.asarray(idx, dtype=np.int64)
        return [(torch.from_numpy(take_rows(self.X, idx, 2)), torch.from_numpy(self.y[idx]))]


def _collate_whole(batch):
    return batch[0]


def _balanced_accuracy(model, X, y):
    with torch.no_grad():
        pred = model(torch.from_numpy(X)).argmax(1).numpy()
    return np.mean([np.mean(pred[y == c] == c) for c in np.unique(y)])


def test_dataloader_with_two_fork_workers_trains_on_balanced_batches(load):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    X, y = load("mammography")
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    sampler = BalancedBatchSampler(y, 64, seed=0)
    # The parent uses the core's thread pool before forking: the workers must not inherit a dead
    # pool (docs/design.md, "Threads, fork, panics and memory").
    sampler.n_jobs = 2
    sampler.epoch_indices(0)
    loader = DataLoader(
        CoreGatherDataset(X, y),
        batch_sampler=sampler,
        collate_fn=_collate_whole,
        num_workers=2,
        multiprocessing_context="fork",
        timeout=120,
    )
    assert len(loader) == len(sampler)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(X.shape[1], 16), nn.ReLU(), nn.Linear(16, 2))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    expected = sampler.composition()
    before = _balanced_accuracy(model, X, y)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        for b, (xb, yb) in enumerate(loader):
            # Exactly the planned composition, batch after batch, through the workers.
            np.testing.assert_array_equal(np.bincount(yb.numpy(), minlength=2), expected[b])
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        assert b + 1 == len(sampler)
    after = _balanced_accuracy(model, X, y)
    # Balanced batches make the model care about the 2% class: trained, it finds most of it.
    assert after > 0.8 and after > before + 0.1, (before, after)


def test_dataloader_batches_match_the_sampler_and_repeat_per_epoch(load):
    X, y = load("glass")
    ds = TensorDataset(torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y))
    sampler = StratifiedBatchSampler(y, 16, seed=4)
    loader = DataLoader(ds, batch_sampler=sampler, num_workers=2, multiprocessing_context="fork")
    first = [yb.numpy() for _, yb in loader]
    again = [yb.numpy() for _, yb in loader]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    want = [y[b] for b in sampler.iter_numpy()]
    assert all(np.array_equal(a, b) for a, b in zip(first, want))
    # Every row exactly once per epoch.
    ys = np.concatenate(first)
    np.testing.assert_array_equal(np.sort(ys), np.sort(y))
    sampler.set_epoch(1)
    other = [yb.numpy() for _, yb in loader]
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_shards_for_two_ranks_in_dataloaders(load):
    X, y = load("yeast_me2")
    ds = TensorDataset(torch.arange(len(y)))
    seen = []
    for rank in range(2):
        s = BalancedBatchSampler(y, 32, seed=1, rank=rank, world_size=2, num_batches=40)
        seen.append([idx.numpy() for (idx,) in DataLoader(ds, batch_sampler=s)])
    assert len(seen[0]) == len(seen[1]) == 20
    whole = list(BalancedBatchSampler(y, 32, seed=1, num_batches=40).iter_numpy())
    for j, b in enumerate(whole):
        np.testing.assert_array_equal(np.sort(seen[j % 2][j // 2]), np.sort(b))


def test_online_smote_in_a_dataloader_with_fork_workers(load):
    from equipoise.sampling import OnlineSMOTE

    torch.manual_seed(0)
    torch.set_num_threads(1)
    X, y = load("mammography")
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    smote = OnlineSMOTE(X, y, 64, seed=0, output="torch", n_jobs=2)
    loader = DataLoader(
        smote.index_dataset,
        batch_sampler=smote,
        collate_fn=smote.collate,
        num_workers=2,
        multiprocessing_context="fork",
        timeout=120,
    )
    nn = torch.nn
    model = nn.Sequential(nn.Linear(X.shape[1], 16), nn.ReLU(), nn.Linear(16, 2))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    plan = smote.sampler.composition()
    for epoch in range(2):
        smote.set_epoch(epoch)
        ref = list(smote.iter_batches(epoch))
        for b, (xb, yb) in enumerate(loader):
            np.testing.assert_array_equal(np.bincount(yb.numpy(), minlength=2), plan[b])
            # The workers built the same rows as the main process.
            np.testing.assert_array_equal(xb.numpy(), ref[b][0])
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
    assert _balanced_accuracy(model, X, y) > 0.8
