"""The training loop's algorithm without PyTorch: test_runner's comparison with torch
(two iterations of 2 D steps and 1 G step, plain SGD), replayed here by hand with
minigan's own primitives (F, grad) on copies of the two networks. The Trainer must
take the same samples in the same order, use the chosen loss and label smoothing,
detach G's samples in D's step and hold D fixed in G's step."""
import copy

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import nn, optim
from minigan.gan.runner import Trainer

NOISE, DATA, LR = 3, 2, 0.1


def _models():
    minigan.manual_seed(123)
    G = nn.Sequential(nn.Dense(NOISE, 16), nn.ReLU(), nn.Dense(16, DATA)).double()
    D = nn.Sequential(nn.Dense(DATA, 16), nn.LeakyReLU(0.2), nn.Dense(16, 1)).double()
    return G, D


def _sgd(module, loss):
    """One step of plain SGD by hand: p <- p - lr dL/dp."""
    params = list(module.parameters())
    for p, g in zip(params, minigan.grad(loss, params)):
        p.data -= LR * g.data


def _d_loss(name, real_logits, fake_logits):
    """D's loss written out: BCE with the real label (0.9 with smoothing 0.1) and 0, or
    Wasserstein's E[D(fake)] - E[D(real)]."""
    if name == "wasserstein":
        return fake_logits.mean() - real_logits.mean()
    target = 0.9 if name == "minimax" else 1.0
    bce = F.binary_cross_entropy_with_logits
    return (bce(real_logits, minigan.tensor(np.full(real_logits.shape, target)))
            + bce(fake_logits, minigan.tensor(np.zeros(fake_logits.shape))))


def _g_loss(name, fake_logits):
    """G's loss: -log D(G(z)) (non-saturating), log(1 - D(G(z))) = -softplus(l) (minimax),
    -E[D(G(z))] (Wasserstein)."""
    if name == "non-saturating":
        return F.binary_cross_entropy_with_logits(
            fake_logits, minigan.tensor(np.ones(fake_logits.shape)))
    if name == "minimax":
        return -F.softplus(fake_logits).mean()
    return -fake_logits.mean()


@pytest.mark.parametrize("loss", ["non-saturating", "minimax", "wasserstein"])
def test_two_steps_match_the_algorithm_by_hand(loss):
    rng = np.random.default_rng(0)
    batches = {"real": [rng.normal(size=(8, DATA)) for _ in range(4)],
               "noise": [rng.normal(size=(8, NOISE)) for _ in range(6)]}
    G, D = _models()
    hand_G, hand_D = copy.deepcopy(G), copy.deepcopy(D)
    it = {k: iter(v) for k, v in batches.items()}
    tr = Trainer(G, D, optim.SGD(G.parameters(), lr=LR), optim.SGD(D.parameters(), lr=LR),
                 lambda m: minigan.tensor(next(it["real"])),
                 lambda m: minigan.tensor(next(it["noise"])),
                 loss=loss, d_steps=2, batch_size=8, progress=False,
                 label_smoothing=0.1 if loss == "minimax" else 0.0)
    real = iter(batches["real"])
    noise = iter(batches["noise"])
    for _ in range(2):
        tr.step()
        for _ in range(2):                                   # k = 2 steps of D, G fixed
            z, x = minigan.tensor(next(noise)), minigan.tensor(next(real))
            fake = hand_G(z).detach()
            _sgd(hand_D, _d_loss(loss, hand_D(x), hand_D(fake)))
        lg = _g_loss(loss, hand_D(hand_G(minigan.tensor(next(noise)))))
        _sgd(hand_G, lg)                                     # one step of G, D fixed
    for ours, hand in ((G, hand_G), (D, hand_D)):
        for (name, p), q in zip(ours.named_parameters(), hand.parameters()):
            np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=name)
    assert tr.history[-1]["loss_g"] == pytest.approx(lg.item(), rel=1e-10)
    assert not np.allclose(G[0].weight.numpy(), _models()[0][0].weight.numpy())   # it moved
