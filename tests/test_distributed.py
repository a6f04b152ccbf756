"""torchrun/DDP: the helpers are no-ops in one process; two processes train exactly like one."""

import os
import textwrap

import numpy as np
import pytest
import torch
from helpers import free_port
from sklearn.datasets import make_classification
from torchrun import torchrun

from deepzoo import MLPClassifier
from deepzoo.engine import distributed
from deepzoo.engine.training import fit_loop

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# no validation part (500 rows would now hold one out under early_stopping='auto'): the losses of the
# whole data are compared; WEIGHTED below covers early stopping on a held-out split
SETTINGS = dict(
    hidden_layer_sizes=(16,),
    batch_size=64,
    max_iter=5,
    random_state=0,
    dropout=0.0,
    batch_norm=False,
    early_stopping=False,
)
# sample weights, early stopping on a held-out split, and 501 = 10 * 50 + 1 samples (a last global
# batch of one sample, which joins the batch before it)
WEIGHTED = {
    **SETTINGS,
    "batch_size": 50,
    "max_iter": 8,
    "class_weight": "balanced",
    "early_stopping": True,
    "n_iter_no_change": 2,
    "learning_rate": 0.02,
}


def test_helpers_are_no_ops_in_one_process(monkeypatch):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert not distributed.launched_by_torchrun()
    assert distributed.ensure_initialized(torch.device("cpu")) is False
    assert not distributed.is_distributed()
    assert distributed.rank() == 0 and distributed.world_size() == 1
    assert distributed.is_main_process()
    tensor = torch.tensor([1.0, 2.0])
    assert distributed.all_reduce_sum(tensor) is tensor and tensor.tolist() == [1.0, 2.0]
    assert distributed.broadcast_object({"a": 1}) == {"a": 1}
    distributed.barrier()
    assert distributed.device_for_rank(torch.device("cpu")) == torch.device("cpu")
    assert distributed.device_for_rank(torch.device("cuda")) == torch.device("cuda")  # not under torchrun


def test_rank_and_device_read_torchrun_environment(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert distributed.launched_by_torchrun()
    assert distributed.rank() == 3 and not distributed.is_main_process()  # before the group exists
    assert distributed.device_for_rank(torch.device("cuda")) == torch.device("cuda", 1)
    assert distributed.device_for_rank(torch.device("cuda", 0)) == torch.device("cuda", 0)
    assert distributed.device_for_rank(torch.device("cpu")) == torch.device("cpu")


def test_only_the_main_process_writes_checkpoints(tmp_path, monkeypatch):
    X, y = make_classification(100, n_features=5, random_state=0)
    monkeypatch.setenv("RANK", "1")  # a non-zero rank, as torchrun would set it
    MLPClassifier(**SETTINGS, checkpoint=tmp_path / "ckpt.pt").fit(X, y)
    assert not (tmp_path / "ckpt.pt").exists()
    monkeypatch.setenv("RANK", "0")
    MLPClassifier(**SETTINGS, checkpoint=tmp_path / "ckpt.pt").fit(X, y)
    assert (tmp_path / "ckpt.pt").exists()


SCRIPT = """
import os
import sys

import numpy as np
import torch.distributed as dist
from sklearn.datasets import make_classification

from deepzoo import MLPClassifier
from deepzoo.engine import distributed, training

out = sys.argv[1]
save_atomic = training._save_atomic


def recording_save(obj, path):
    # leaves a mark per rank that writes, so the test can check that only rank 0 does
    open(os.path.join(out, f"wrote-{distributed.rank()}"), "w").close()
    save_atomic(obj, path)


training._save_atomic = recording_save
X, y = make_classification(500, n_features=10, n_informative=5, random_state=0)
clf = MLPClassifier(**SETTINGS, checkpoint=os.path.join(out, "ckpt.pt")).fit(X, y)
assert distributed.is_distributed() and distributed.world_size() == 2
X2, y2 = make_classification(501, n_features=10, weights=[0.8], random_state=1)
weighted = MLPClassifier(**WEIGHTED).fit(X2, y2)
if distributed.is_main_process():
    np.save(os.path.join(out, "proba.npy"), clf.predict_proba(X))
    np.save(os.path.join(out, "loss.npy"), np.array(clf.history_["loss"]))
    np.save(os.path.join(out, "weighted.npy"), weighted.predict_proba(X2))
    np.save(os.path.join(out, "val_loss.npy"), np.array(weighted.history_["val_loss"]))
# dropout masks must differ between the processes: record the first batch's mask of each rank
import torch
from deepzoo.engine.training import fit_loop

masks = []


def recording_loss(output, target):
    masks.append((output.detach() == 0).numpy())
    return torch.nn.functional.cross_entropy(output, target, reduction="none")


torch.manual_seed(0)  # the same global stream on every rank, as MLPClassifier.fit sets it
layer = torch.nn.Linear(2, 2)
torch.nn.init.constant_(layer.weight, 1.0)
fit_loop(torch.nn.Sequential(layer, torch.nn.Dropout(0.5)), recording_loss, torch.ones(128, 2),
         torch.zeros(128, dtype=torch.long), batch_size=128, max_iter=1, warn_on_max_iter=False)
np.save(os.path.join(out, f"mask-{distributed.rank()}.npy"), masks[0])

# a streamed source (images on disk, say): each process reads only its share of every batch
from deepzoo.data.images import BatchSource

read_rows = []


class Rows:
    def __init__(self, data):
        self.data = data

    def __len__(self):
        return len(self.data)

    def __getitem__(self, rows):
        read_rows.extend(np.asarray(rows).tolist())
        return self.data[np.asarray(rows)]


X3, y3 = make_classification(200, n_features=6, random_state=2)
source = BatchSource(Rows(X3.astype(np.float32)), torch.as_tensor, "cpu", (6,))
torch.manual_seed(0)
streamed_net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
result, _ = fit_loop(streamed_net, lambda o, t: torch.nn.functional.cross_entropy(o, t, reduction="none"),
                     source, torch.as_tensor(y3), batch_size=50, max_iter=3, learning_rate=0.05,
                     warn_on_max_iter=False)
np.save(os.path.join(out, f"streamed-rows-{distributed.rank()}.npy"), np.array(read_rows))
if distributed.is_main_process():
    np.save(os.path.join(out, "streamed-loss.npy"), np.array(result.history["loss"]))

# every rank says it finished, so the test can tell a crash on rank 1 from one on rank 0
open(os.path.join(out, f"done-{distributed.rank()}"), "w").close()
dist.barrier()
dist.destroy_process_group()
"""


@pytest.mark.slow
def test_two_processes_under_torchrun_match_one_process(tmp_path):
    script = tmp_path / "ddp.py"
    script.write_text(
        textwrap.dedent(SCRIPT)
        .replace("**SETTINGS", f"**{SETTINGS!r}")
        .replace("**WEIGHTED", f"**{WEIGHTED!r}")
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    args = ["--nproc-per-node", "2", "--nnodes", "1", "--master-addr", "127.0.0.1", "--master-port",
            str(free_port()), str(script), str(tmp_path)]  # fmt: skip
    finished = lambda: (tmp_path / "done-0").exists() and (tmp_path / "done-1").exists()  # noqa: E731
    done = torchrun(args, env=env, finished=finished, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (tmp_path / "done-0").exists() and (tmp_path / "done-1").exists()
    assert (tmp_path / "ckpt.pt").exists()
    assert (tmp_path / "wrote-0").exists() and not (tmp_path / "wrote-1").exists()
    assert not list(tmp_path.glob("ckpt.pt.tmp*"))

    X, y = make_classification(500, n_features=10, n_informative=5, random_state=0)
    single = MLPClassifier(**SETTINGS).fit(X, y)
    # Two processes sum each batch's gradient in two halves and all-reduce them; one process sums it in
    # one pass: the same numbers in another order, so float32 rounding (~1e-7 relative) per step, and
    # another kernel path or thread count orders them otherwise again (measured 2e-7 relative on the
    # losses after 5 epochs). rtol 1e-5 (about 80 rounding steps) allows that; a wrong shard, a double
    # count or an average over the wrong total moves the losses by 1e-2 and more.
    np.testing.assert_allclose(np.load(tmp_path / "loss.npy"), single.history_["loss"], rtol=1e-5)
    np.testing.assert_allclose(np.load(tmp_path / "proba.npy"), single.predict_proba(X), atol=1e-5)
    X2, y2 = make_classification(501, n_features=10, weights=[0.8], random_state=1)
    weighted = MLPClassifier(**WEIGHTED).fit(X2, y2)
    np.testing.assert_allclose(np.load(tmp_path / "val_loss.npy"), weighted.history_["val_loss"], rtol=1e-5)
    np.testing.assert_allclose(np.load(tmp_path / "weighted.npy"), weighted.predict_proba(X2), atol=1e-5)
    mask0, mask1 = np.load(tmp_path / "mask-0.npy"), np.load(tmp_path / "mask-1.npy")
    assert mask0.shape == mask1.shape == (64, 2) and mask0.any() and not np.array_equal(mask0, mask1)
    # streamed: the two processes read disjoint halves of every epoch and train like one process
    rows0, rows1 = np.load(tmp_path / "streamed-rows-0.npy"), np.load(tmp_path / "streamed-rows-1.npy")
    assert len(rows0) == len(rows1) == 300  # 200 rows x 3 epochs, halved
    assert sorted(np.concatenate([rows0[:100], rows1[:100]]).tolist()) == list(range(200))
    X3, y3 = make_classification(200, n_features=6, random_state=2)
    torch.manual_seed(0)
    one = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    result, _ = fit_loop(
        one, lambda o, t: torch.nn.functional.cross_entropy(o, t, reduction="none"),
        torch.as_tensor(X3, dtype=torch.float32), torch.as_tensor(y3), batch_size=50, max_iter=3,
        learning_rate=0.05, warn_on_max_iter=False,
    )  # fmt: skip
    # the same rule: each half of a batch summed in its own process (float32 rounding, see above)
    np.testing.assert_allclose(np.load(tmp_path / "streamed-loss.npy"), result.history["loss"], rtol=1e-5)
    # the checkpoint written by rank 0 holds the whole run
    state = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    assert state["epoch"] == SETTINGS["max_iter"]
