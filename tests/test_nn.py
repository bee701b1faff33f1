"""minigan.nn: modules, layers, initializers and summary().

Every layer is compared with PyTorch's layer of the same name (weights copied
over) in float64 and float32, and passes gradcheck and gradgradcheck."""
import math
import re

import numpy as np
import pytest

import minigan
from minigan import nn, optim
from minigan.nn import init

from conftest import needs_torch, HAVE_TORCH
import reference as R

if HAVE_TORCH:
    import torch

LECTURE_G = """\
Total params: 1,486,352
Trainable params: 1,486,352
Non-trainable params: 0"""
LECTURE_D = """\
Total params: 1,460,225
Trainable params: 1,460,225
Non-trainable params: 0"""


def lecture_generator():
    """The Keras MLP generator of the GAN lecture: 100 -> 256 -> 512 -> 1024 -> 784."""
    return nn.Sequential(nn.Dense(100, 256), nn.LeakyReLU(0.2),
                         nn.Dense(256, 512), nn.LeakyReLU(0.2),
                         nn.Dense(512, 1024), nn.LeakyReLU(0.2),
                         nn.Dense(1024, 784), nn.Tanh())


def lecture_discriminator():
    """Its discriminator: 784 -> 1024 -> 512 -> 256 -> 1 with dropout 0.3."""
    return nn.Sequential(nn.Dense(784, 1024), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                         nn.Dense(1024, 512), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                         nn.Dense(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                         nn.Dense(256, 1), nn.Sigmoid())


# ------------------------------------------------------------------ summary
def test_summary_generator_matches_lecture_printout(capsys):
    text = lecture_generator().summary(input_shape=(100,))
    assert LECTURE_G in text
    assert capsys.readouterr().out.strip() == text.strip()      # printed as well as returned
    rows = [l for l in text.splitlines() if "(Dense)" in l]
    # the per-layer counts of the lecture's printout, in order
    assert [l.split()[-1] for l in rows] == ["25,856", "131,584", "525,312", "803,600"]
    assert [re.search(r"\(None, \d+\)", l).group() for l in rows] == \
        ["(None, 256)", "(None, 512)", "(None, 1024)", "(None, 784)"]


def test_summary_discriminator_matches_lecture_printout():
    D = lecture_discriminator()
    x = minigan.tensor(np.zeros((64, 784), np.float32))
    text = D.summary(x, print_fn=None)
    assert LECTURE_D in text
    counts = [l.split()[-1] for l in text.splitlines() if "(Dense)" in l]
    assert counts == ["803,840", "524,800", "131,328", "257"]
    assert "(None, 1)" in text and "Dropout" in text


def test_summary_frozen_discriminator_inside_gan():
    """The lecture's combined GAN with discriminator.trainable = False."""
    G, D = lecture_generator(), lecture_discriminator()
    D.requires_grad_(False)
    text = nn.Sequential(G, D).summary(input_shape=(100,), depth=1, print_fn=None)
    assert "Total params: 2,946,577" in text
    assert "Trainable params: 1,486,352" in text
    assert "Non-trainable params: 1,460,225" in text
    assert len([l for l in text.splitlines() if "(Sequential)" in l]) == 2


def test_summary_leaves_training_mode_and_running_stats_alone():
    m = nn.Sequential(nn.Dense(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    before = m.state_dict()
    text = m.summary(input_shape=(3,), print_fn=None)
    assert m.training and all(c.training for c in m)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    assert "Buffers" in text and "Total params: 24" in text


def test_summary_without_input_shows_unknown_shapes():
    text = nn.Sequential(nn.Dense(3, 4)).summary(print_fn=None)
    assert "?" in text and "Total params: 16" in text
    with pytest.raises(ValueError, match="either"):
        nn.Dense(3, 4).summary(np.zeros((1, 3)), input_shape=(3,))


# ------------------------------------------------------------- Module basics
def test_parameter_names_repr_and_modes():
    m = nn.Sequential(nn.Dense(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Dense(3, 1, bias=False))
    names = [n for n, _ in m.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight"]
    assert list(m.state_dict()) == names + ["1.running_mean", "1.running_var"]
    assert "(0): Dense(in_features=4, out_features=3, bias=True)" in repr(m)
    assert "(3): Dense(in_features=3, out_features=1, bias=False)" in repr(m)
    assert isinstance(m[0], nn.Dense) and len(m) == 4 and len(m[1:]) == 3
    assert m.eval() is m and not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    assert isinstance(m[0].weight, minigan.Tensor) and m[0].weight.requires_grad


def test_eval_mode_gives_each_module_its_own_mode_back():
    G = nn.Sequential(nn.Dense(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    D = nn.Sequential(nn.Dense(2, 1), nn.Dropout(0.5)).eval()
    G[1].eval()                                    # a mixed model: batch norm frozen alone
    x = minigan.tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    with nn.eval_mode(G, None, D) as (g, _, d):
        assert g is G and d is D
        assert not any(m.training for m in list(G.modules()) + list(D.modules()))
        y = G(x)
    assert [m.training for m in G.modules()] == [True, True, False, True]
    assert not any(m.training for m in D.modules())     # it came in eval mode: it stays
    np.testing.assert_array_equal(y.data, G.eval()(x).data)   # eval mode's output
    G.train()
    with pytest.raises(RuntimeError, match="inside"):
        with nn.eval_mode(G):
            raise RuntimeError("inside")
    assert all(m.training for m in G.modules())          # back after an error too


def test_custom_module_registers_attributes_and_shared_parameters_once():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Dense(2, 2)
            self.b = self.a                    # the same layer twice: its weights count once
            self.scale = nn.Parameter(np.ones(1, np.float32))

        def forward(self, x):
            return self.b(self.a(x)) * self.scale
    net = Net()
    assert len(list(net.parameters())) == 3
    out = net(minigan.tensor(np.ones((1, 2), np.float32)))
    out.sum().backward()
    assert net.scale.grad is not None
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())

    class Forgot(nn.Module):
        def __init__(self):
            self.x = nn.Dense(1, 1)
    with pytest.raises(RuntimeError, match="super"):
        Forgot()


def test_freezing_gives_no_gradient_and_optimizer_skips_it():
    layer = nn.Dense(3, 2)
    layer.weight.requires_grad = False
    w0 = layer.weight.data.copy()
    x = minigan.tensor(np.random.randn(4, 3).astype(np.float32))
    layer(x).sum().backward()
    assert layer.weight.grad is None and layer.bias.grad is not None
    optim.SGD(layer.parameters(), lr=0.1).step()
    np.testing.assert_array_equal(layer.weight.data, w0)
    text = layer.summary(input_shape=(3,), print_fn=None)
    assert "Trainable params: 2" in text and "Non-trainable params: 6" in text


def test_state_dict_is_a_snapshot_and_round_trips():
    a, b = nn.Sequential(nn.Dense(3, 4), nn.BatchNorm1d(4)), nn.Sequential(nn.Dense(3, 4),
                                                                           nn.BatchNorm1d(4))
    a(minigan.tensor(np.random.randn(5, 3).astype(np.float32)))       # moves running stats
    sd = a.state_dict()
    assert set(sd) == {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                       "1.running_var"}
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    a[0].weight.data += 1                                             # sd must not follow
    assert not np.allclose(sd["0.weight"], a[0].weight.data)
    res = b.load_state_dict(sd)
    assert res.missing_keys == [] and res.unexpected_keys == []
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v, sd[k])
    b.load_state_dict({k: minigan.tensor(v) for k, v in sd.items()})  # Tensors work too


def test_deepcopy_gives_an_independent_model():
    """What an exponential moving average of a generator's weights starts from."""
    import copy
    m = nn.Sequential(nn.Dense(2, 3), nn.BatchNorm1d(3))
    ema = copy.deepcopy(m)
    assert [n for n, _ in ema.named_parameters()] == [n for n, _ in m.named_parameters()]
    assert isinstance(ema[0].weight, nn.Parameter) and ema[0].weight is not m[0].weight
    ema[0].weight.data += 1
    ema[1].running_mean.data += 1
    assert not np.allclose(ema[0].weight.data, m[0].weight.data)
    assert (m[1].running_mean.data == 0).all()


def test_load_state_dict_lists_every_problem_at_once():
    m = nn.Sequential(nn.Dense(3, 4), nn.Dense(4, 2))
    sd = m.state_dict()
    del sd["1.bias"]
    sd["0.weight"] = np.zeros((5, 3), np.float32)
    sd["extra"] = np.zeros(1)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    msg = str(e.value)
    assert "1.bias" in msg and "extra" in msg and "0.weight" in msg and "(5, 3)" in msg
    # strict=False tolerates missing and unexpected keys but never a wrong shape
    with pytest.raises(RuntimeError, match="shape"):
        m.load_state_dict(sd, strict=False)
    sd["0.weight"] = np.full((4, 3), 7, np.float32)
    res = m.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["1.bias"] and res.unexpected_keys == ["extra"]
    assert (m[0].weight.data == 7).all()


@pytest.mark.parametrize("spoil,words", [
    (lambda sd: sd.__setitem__("1.running_var", np.zeros(5)), ["shape", "1.running_var"]),
    (lambda sd: sd.__setitem__("2.bias", np.array(["a", "b"])), ["not numbers", "2.bias"]),
    (lambda sd: sd.__setitem__("2.bias", np.array([1 + 2j, 3j])), ["not numbers", "complex"]),
    (lambda sd: sd.pop("2.weight"), ["missing", "2.weight"]),
], ids=["shape", "strings", "complex", "missing"])
def test_a_refused_load_state_dict_changes_nothing(spoil, words):
    """All or nothing: a problem in a late entry leaves the earlier ones untouched too."""
    m = nn.Sequential(nn.Dense(3, 4), nn.BatchNorm1d(4), nn.Dense(4, 2))
    m(minigan.tensor(np.random.randn(5, 3).astype(np.float32)))       # moves running stats
    before = m.state_dict()
    incoming = {k: np.full_like(v, 7.0) for k, v in before.items()}   # all valid...
    spoil(incoming)                                                   # ...but one
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(incoming)
    for word in words:
        assert word in str(e.value), f"{word!r} missing from: {e.value}"
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=f"{k} was overwritten")


def test_to_moves_parameters_and_buffers(device):
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Dense(8, 1))
    opt = optim.Adam(m.parameters(), lr=1e-3)
    m.to(device)
    assert all(t.device == device for t in list(m.parameters()) + list(m.buffers()))
    x = minigan.tensor(np.random.randn(2, 1, 4, 4).astype(np.float32), device=device)
    loss = m(x).sum()
    loss.backward()
    opt.step()                                     # the optimizer still holds the same Parameters
    m.to("cpu")
    assert all(t.device == "cpu" for t in list(m.parameters()) + list(m.buffers()))
    m.double()
    assert all(t.dtype == np.float64 for t in list(m.parameters()) + list(m.buffers()))


# ------------------------------------------------------------ error messages
def test_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError) as e:
        nn.Dense(784, 1024)(minigan.tensor(np.zeros((64, 100), np.float32)))
    assert str(e.value) == ("Dense(784 -> 1024): expected input with 784 features, "
                            "got shape (64, 100)")
    with pytest.raises(ValueError, match=r"Conv2d\(3 -> 8, 4x4\).*\(N, 3, H, W\).*\(2, 1, 8, 8\)"):
        nn.Conv2d(3, 8, 4)(minigan.tensor(np.zeros((2, 1, 8, 8), np.float32)))
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(100 -> 64, 4x4\)"):
        nn.ConvTranspose2d(100, 64, 4)(minigan.tensor(np.zeros((2, 100), np.float32)))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(16\).*\(N, 16, H, W\).*\(4, 16\)"):
        nn.BatchNorm2d(16)(minigan.tensor(np.zeros((4, 16), np.float32)))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(5\).*\(N, 5\).*\(4, 6\)"):
        nn.BatchNorm1d(5)(minigan.tensor(np.zeros((4, 6), np.float32)))
    with pytest.raises(ValueError, match=r"Reshape\(1, 28, 28\).*100 elements.*\(64, 100\)"):
        nn.Reshape(1, 28, 28)(minigan.tensor(np.zeros((64, 100), np.float32)))
    with pytest.raises(ValueError, match="Dropout"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2)


@pytest.mark.parametrize("call, error, words", [
    (lambda: nn.InstanceNorm2d(3)(minigan.tensor(np.zeros((4, 3), np.float32))), ValueError,
     ["InstanceNorm2d(3): expected input of shape (N, 3, H, W), got shape (4, 3)"]),
    (lambda: nn.InstanceNorm2d(3, affine=True)(minigan.tensor(np.zeros((2, 5, 4, 4)))),
     ValueError, ["InstanceNorm2d(3): expected input of shape (N, 3, H, W), got shape "
                  "(2, 5, 4, 4)"]),
    (lambda: nn.InstanceNorm2d(3)(minigan.tensor(np.zeros((2, 3, 1, 1)))), ValueError,
     ["instance_norm", "more than one pixel", "(2, 3, 1, 1)"]),
    (lambda: nn.InstanceNorm2d(3)(np.zeros((2, 3, 4, 4))), TypeError,
     ["InstanceNorm2d(3): the input must be a minigan Tensor"]),
    (lambda: nn.InstanceNorm2d(3, track_running_stats=True), NotImplementedError,
     ["track_running_stats=True"]),
    (lambda: nn.InstanceNorm2d(0), ValueError, ["InstanceNorm2d", "num_features", "got 0"]),
    (lambda: nn.Upsample(scale_factor=1.5), ValueError,
     ["Upsample", "scale_factor must be a positive whole number", "got 1.5"]),
    (lambda: nn.Upsample(scale_factor=0), ValueError, ["Upsample", "got 0"]),
    (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), NotImplementedError,
     ["Upsample", "only mode='nearest'", "'bilinear'"]),
    (lambda: nn.Upsample()(minigan.tensor(np.zeros((3, 4, 4)))), ValueError,
     ["Upsample(scale_factor=2): expected input of shape (N, C, H, W), got shape (3, 4, 4)"]),
    (lambda: nn.AvgPool2d(3)(minigan.tensor(np.zeros((1, 2, 2, 5)))), ValueError,
     ["AvgPool2d(kernel_size=(3, 3), stride=(3, 3))", "kernel (3, 3) is larger than the input "
      "padded to (2, 5)", "(1, 2, 2, 5)"]),
    (lambda: nn.AvgPool2d(4, padding=1)(minigan.tensor(np.zeros((1, 2, 1, 8)))), ValueError,
     ["AvgPool2d(kernel_size=(4, 4), stride=(4, 4))", "padded to (3, 10)"]),
    (lambda: nn.AvgPool2d(2)(minigan.tensor(np.zeros((2, 8, 8)))), ValueError,
     ["AvgPool2d(kernel_size=(2, 2), stride=(2, 2)): expected input of shape (N, C, H, W), "
      "got shape (2, 8, 8)"]),
    (lambda: nn.AvgPool2d(3, padding=2), ValueError,
     ["AvgPool2d", "padding (2, 2) must be at most half of the kernel size (3, 3)"]),
    (lambda: nn.AvgPool2d(2, ceil_mode=True), NotImplementedError, ["AvgPool2d", "ceil_mode"]),
    (lambda: nn.AvgPool2d(2.5), ValueError, ["AvgPool2d", "kernel_size", "2.5"]),
], ids=["in-2d", "in-channels", "in-one-pixel", "in-array", "in-running", "in-zero",
        "up-fraction", "up-zero", "up-mode", "up-3d", "pool-too-large", "pool-padded",
        "pool-3d", "pool-padding", "pool-ceil", "pool-kernel"])
def test_the_applications_layers_errors_name_the_layer_and_the_shapes(call, error, words):
    with pytest.raises(error) as e:
        call()
    for word in words:
        assert word in str(e.value), f"{word!r} missing from: {e.value}"


def test_reshape_and_flatten():
    x = minigan.tensor(np.arange(24, dtype=np.float32).reshape(2, 12), requires_grad=True)
    y = nn.Reshape(3, 2, 2)(x)
    assert y.shape == (2, 3, 2, 2) and nn.Reshape(-1, 4)(x).shape == (2, 3, 4)
    z = nn.Flatten()(y)
    np.testing.assert_array_equal(z.data, x.data)
    (z * z).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * x.data)


# ------------------------------------------------------------ initializers
def test_default_init_bounds_and_spread():
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases (PyTorch's defaults)."""
    for layer, fan_in in [(nn.Dense(200, 300), 200), (nn.Conv2d(16, 32, 4), 256),
                          (nn.ConvTranspose2d(8, 16, 3), 144)]:   # transposed: out*kh*kw
        b = 1 / math.sqrt(fan_in)
        w = layer.weight.numpy()
        assert np.abs(w).max() <= b and np.abs(w).max() > 0.98 * b
        assert abs(w.std() - b / math.sqrt(3)) < 0.05 * b / math.sqrt(3)
        assert np.abs(layer.bias.numpy()).max() <= b
    bn = nn.BatchNorm2d(5)
    assert (bn.weight.data == 1).all() and (bn.bias.data == 0).all()
    assert (bn.running_mean.data == 0).all() and (bn.running_var.data == 1).all()


@needs_torch
def test_default_init_matches_torch_bounds():
    torch.manual_seed(0)
    pairs = [(nn.Dense(200, 300), torch.nn.Linear(200, 300), 200),
             (nn.Conv2d(16, 32, 4), torch.nn.Conv2d(16, 32, 4), 256),
             (nn.ConvTranspose2d(8, 16, 3), torch.nn.ConvTranspose2d(8, 16, 3), 144)]
    for ours, theirs, fan_in in pairs:
        bound = 1 / math.sqrt(fan_in)
        for name in ("weight", "bias"):
            a = getattr(ours, name).numpy()
            t = getattr(theirs, name).detach().numpy()
            assert a.shape == t.shape
            # the same bound: both stay inside it, and large tensors come close to it
            assert np.abs(a).max() <= bound and np.abs(t).max() <= bound
            if a.size > 1000:
                assert np.abs(a).max() > 0.99 * bound and np.abs(t).max() > 0.99 * bound
                assert abs(a.std() - t.std()) < 0.03 * t.std()


@needs_torch
def test_initializers_follow_torch_formulas():
    for nl, param in [("linear", None), ("relu", None), ("leaky_relu", 0.2), ("tanh", None),
                      ("sigmoid", None), ("selu", None)]:
        expected = torch.nn.init.calculate_gain(nl, param)
        assert init.calculate_gain(nl, param) == pytest.approx(expected)
    w = nn.Parameter(np.zeros((256, 128, 3, 3), np.float32))
    tw = torch.empty(256, 128, 3, 3)
    fan_in, fan_out = 128 * 9, 256 * 9
    checks = [
        (lambda t: init.xavier_uniform_(t, gain=2.0),
         lambda t: torch.nn.init.xavier_uniform_(t, 2.0)),
        (lambda t: init.xavier_normal_(t), lambda t: torch.nn.init.xavier_normal_(t)),
        (lambda t: init.kaiming_uniform_(t, a=0.2, mode="fan_out"),
         lambda t: torch.nn.init.kaiming_uniform_(t, a=0.2, mode="fan_out")),
        (lambda t: init.kaiming_normal_(t, nonlinearity="relu"),
         lambda t: torch.nn.init.kaiming_normal_(t, nonlinearity="relu")),
        (lambda t: init.normal_(t, 0.5, 0.02), lambda t: torch.nn.init.normal_(t, 0.5, 0.02)),
        (lambda t: init.uniform_(t, -3, 1), lambda t: torch.nn.init.uniform_(t, -3, 1)),
    ]
    for ours, theirs in checks:
        a = ours(w).numpy()
        t = theirs(tw).numpy()
        assert abs(a.mean() - t.mean()) < 0.01 * (t.std() + abs(t.mean()))
        assert abs(a.std() - t.std()) < 0.01 * t.std()
    assert init.calculate_fan_in_and_fan_out(w) == (fan_in, fan_out)
    init.constant_(w, 3.0)
    assert (w.data == 3).all()
    assert (init.zeros_(w).data == 0).all() and (init.ones_(w).data == 1).all()


def test_init_is_seeded_and_dtype_independent():
    minigan.manual_seed(7)
    a = nn.Dense(10, 5)
    minigan.manual_seed(7)
    b = nn.Dense(10, 5, dtype="float64")
    np.testing.assert_allclose(a.weight.data, b.weight.data, rtol=1e-6)
    assert b.weight.dtype == np.float64


def test_dcgan_init():
    m = nn.Sequential(nn.ConvTranspose2d(64, 32, 4), nn.BatchNorm2d(32), nn.Conv2d(32, 64, 4),
                      nn.Dense(50, 40))
    assert nn.dcgan_init(m) is m
    for layer in (m[0], m[2], m[3]):
        w = layer.weight.numpy()
        assert abs(w.mean()) < 0.002 and abs(w.std() - 0.02) < 0.001
    assert abs(m[1].weight.numpy().mean() - 1) < 0.02 and (m[1].bias.data == 0).all()


# ---------------------------------------------------------- reference tests
def _layer_pairs():
    """(minigan layer, torch layer, input shape) over varied configurations."""
    T = torch.nn
    return [
        (nn.Dense(5, 3), T.Linear(5, 3), (6, 5)),
        (nn.Linear(4, 2, bias=False), T.Linear(4, 2, bias=False), (2, 3, 4)),
        (nn.Conv2d(3, 4, 3, stride=2, padding=1), T.Conv2d(3, 4, 3, stride=2, padding=1),
         (2, 3, 7, 6)),
        (nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=(1, 0), dilation=(2, 1), bias=False),
         T.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=(1, 0), dilation=(2, 1), bias=False),
         (2, 2, 6, 7)),
        (nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1),
         T.ConvTranspose2d(4, 3, 4, stride=2, padding=1), (2, 4, 3, 3)),
        (nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1, bias=False),
         T.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1, bias=False),
         (2, 2, 4, 3)),
        (nn.ConvTranspose2d(3, 2, (2, 3), stride=(2, 1), dilation=2),
         T.ConvTranspose2d(3, 2, (2, 3), stride=(2, 1), dilation=2), (1, 3, 3, 4)),
        (nn.BatchNorm1d(4), T.BatchNorm1d(4), (8, 4)),
        (nn.BatchNorm1d(3, momentum=0.3), T.BatchNorm1d(3, momentum=0.3), (5, 3, 4)),
        (nn.BatchNorm2d(3, eps=1e-3), T.BatchNorm2d(3, eps=1e-3), (4, 3, 5, 5)),
        (nn.BatchNorm2d(2, affine=False), T.BatchNorm2d(2, affine=False), (3, 2, 4, 4)),
        (nn.BatchNorm2d(2, track_running_stats=False), T.BatchNorm2d(2, track_running_stats=False),
         (3, 2, 4, 4)),
        (nn.InstanceNorm2d(3), T.InstanceNorm2d(3), (2, 3, 4, 5)),
        (nn.InstanceNorm2d(2, affine=True), T.InstanceNorm2d(2, affine=True), (3, 2, 5, 3)),
        (nn.InstanceNorm2d(4, eps=1e-3, affine=True), T.InstanceNorm2d(4, eps=1e-3, affine=True),
         (1, 4, 6, 6)),
        (nn.Upsample(scale_factor=2), T.Upsample(scale_factor=2, mode="nearest"), (2, 3, 4, 5)),
        (nn.Upsample(scale_factor=(1, 3)), T.Upsample(scale_factor=(1, 3), mode="nearest"),
         (1, 2, 3, 2)),
        (nn.AvgPool2d(2), T.AvgPool2d(2), (2, 3, 8, 7)),
        (nn.AvgPool2d(3, stride=2, padding=1), T.AvgPool2d(3, stride=2, padding=1), (2, 2, 7, 6)),
        (nn.AvgPool2d((3, 2), stride=(1, 2), padding=(1, 0)),
         T.AvgPool2d((3, 2), stride=(1, 2), padding=(1, 0)), (1, 3, 5, 5)),
        (nn.LeakyReLU(0.2), T.LeakyReLU(0.2), (4, 5)),
        (nn.ReLU(), T.ReLU(), (4, 5)),
        (nn.Tanh(), T.Tanh(), (4, 5)),
        (nn.Sigmoid(), T.Sigmoid(), (4, 5)),
        (nn.Flatten(), T.Flatten(), (2, 3, 4, 2)),
    ]


def _copy_into_torch(ours, theirs):
    with torch.no_grad():
        tp = dict(theirs.named_parameters())
        tp.update(theirs.named_buffers())
        for name, t in list(ours.named_parameters()) + list(ours.named_buffers()):
            tp[name].copy_(torch.from_numpy(t.numpy().astype(np.float64)))


def _rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-30)


def _compare_with_torch(ours, theirs, shape, dtype, device, tol, steps=1):
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    ours.to(device, dtype)
    theirs.to(tdtype)
    # random parameters (not only the default init), so the comparison sees every term
    for p in list(ours.parameters()):
        p.data[...] = minigan.tensor(np.random.uniform(0.5, 1.5, p.shape).astype(dtype),
                                     device=device).data
    _copy_into_torch(ours, theirs)
    for mode in ("train", "eval"):
        ours.train(mode == "train")
        theirs.train(mode == "train")
        for _ in range(steps):
            x = np.random.randn(*shape).astype(dtype)
            xm = minigan.tensor(x, requires_grad=True, device=device)
            xt = torch.tensor(x, requires_grad=True)
            ym, yt = ours(xm), theirs(xt)
            g = np.random.randn(*yt.shape).astype(dtype)
            ours.zero_grad()
            theirs.zero_grad()
            ym.backward(minigan.tensor(g, device=device))
            yt.backward(torch.tensor(g))
            where = f"{type(ours).__name__} {mode} {np.dtype(dtype).name}"
            assert ym.shape == tuple(yt.shape), where
            assert _rel(ym.numpy(), yt.detach().numpy()) < tol, where + " forward"
            assert _rel(xm.grad.numpy(), xt.grad.numpy()) < tol, where + " input gradient"
            tparams = dict(theirs.named_parameters())
            for name, p in ours.named_parameters():
                assert _rel(p.grad.numpy(), tparams[name].grad.numpy()) < tol, where + " " + name
            tbufs = dict(theirs.named_buffers())
            for name, b in ours.named_buffers():
                assert _rel(b.numpy(), tbufs[name].numpy()) < tol, where + " " + name


@needs_torch
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_layers_agree_with_torch(device, dtype, tol):
    torch.manual_seed(0)
    for ours, theirs, shape in _layer_pairs():
        _compare_with_torch(ours, theirs, shape, dtype, device, tol)


@needs_torch
def test_batchnorm_running_statistics_agree_after_training_steps(device):
    torch.manual_seed(0)
    cases = [(nn.BatchNorm1d(4, momentum=0.2), torch.nn.BatchNorm1d(4, momentum=0.2), (6, 4)),
             (nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3), (4, 3, 3, 5))]
    for ours, theirs, shape in cases:
        _compare_with_torch(ours, theirs, shape, np.float64, device, 1e-10, steps=5)
        rm = ours.running_mean.numpy()
        assert np.abs(rm).max() > 0      # the statistics really moved


@needs_torch
def test_reshape_agrees_with_torch_unflatten():
    x = np.random.randn(3, 12)
    ours = nn.Reshape(3, 2, 2)(minigan.tensor(x)).numpy()
    theirs = torch.nn.Unflatten(1, (3, 2, 2))(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(ours, theirs)


# --------------------------------------- the same layers against NumPy, without PyTorch
NUMPY_LAYERS = [
    (lambda: nn.Dense(5, 3), (6, 5)),
    (lambda: nn.Linear(4, 2, bias=False), (2, 3, 4)),
    (lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 6)),
    (lambda: nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=(1, 0), dilation=(2, 1), bias=False),
     (2, 2, 6, 7)),
    (lambda: nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1), (2, 4, 3, 3)),
    (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1, bias=False),
     (2, 2, 4, 3)),
    (lambda: nn.ConvTranspose2d(3, 2, (2, 3), stride=(2, 1), dilation=2), (1, 3, 3, 4)),
    (lambda: nn.BatchNorm1d(4), (8, 4)),
    (lambda: nn.BatchNorm1d(3, momentum=0.3), (5, 3, 4)),
    (lambda: nn.BatchNorm2d(3, eps=1e-3), (4, 3, 5, 5)),
    (lambda: nn.BatchNorm2d(2, affine=False), (3, 2, 4, 4)),
    (lambda: nn.BatchNorm2d(2, track_running_stats=False), (3, 2, 4, 4)),
    (lambda: nn.InstanceNorm2d(3), (2, 3, 4, 5)),
    (lambda: nn.InstanceNorm2d(2, eps=1e-3, affine=True), (3, 2, 5, 3)),
    (lambda: nn.Upsample(scale_factor=2), (2, 3, 4, 5)),
    (lambda: nn.Upsample(scale_factor=(3, 1)), (1, 2, 2, 3)),
    (lambda: nn.AvgPool2d(2), (2, 3, 8, 7)),
    (lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 2, 7, 6)),
    (lambda: nn.AvgPool2d((3, 2), stride=(1, 2), padding=(1, 0)), (1, 3, 5, 5)),
    (lambda: nn.LeakyReLU(0.2), (4, 5)),
    (lambda: nn.ReLU(), (4, 5)),
    (lambda: nn.Tanh(), (4, 5)),
    (lambda: nn.Sigmoid(), (4, 5)),
    (lambda: nn.Flatten(), (2, 3, 4, 2)),
    (lambda: nn.Reshape(3, 2, 2), (3, 12)),
]


def _numpy_layer(layer, x, g, state):
    """The layer's formula in NumPy: (output, input gradient, {parameter: gradient}).

    `state` holds NumPy copies of the layer's running statistics, updated in training
    mode as PyTorch does."""
    p = {n: t.numpy().astype(np.float64) for n, t in layer.named_parameters()}
    w, b = p.get("weight"), p.get("bias")
    if isinstance(layer, nn.Dense):
        lead = x.reshape(-1, x.shape[-1])
        grads = {"weight": g.reshape(-1, g.shape[-1]).T @ lead}
        if b is not None:
            grads["bias"] = g.reshape(-1, g.shape[-1]).sum(axis=0)
        return x @ w.T + (0 if b is None else b), g @ w, grads
    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
        kw = dict(stride=layer.stride, padding=layer.padding, dilation=layer.dilation)
        if isinstance(layer, nn.ConvTranspose2d):
            y, dx, dw, db = R.conv_transpose2d(x, w, b, output_padding=layer.output_padding,
                                               g=g, **kw)
        else:
            y, dx, dw, db = R.conv2d(x, w, b, g=g, **kw)
        return y, dx, {"weight": dw, **({} if b is None else {"bias": db})}
    if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if layer.training or not state:
            y, rm, rv, dx, dw, db = R.batch_norm_train(x, w, b, state.get("running_mean"),
                                                       state.get("running_var"),
                                                       layer.momentum, layer.eps, g=g)
            if state:
                state.update(running_mean=rm, running_var=rv)
        else:
            rm, rv = state["running_mean"], state["running_var"]
            y = R.batch_norm_eval(x, rm, rv, w, b, layer.eps)
            cs = (1, -1) + (1,) * (x.ndim - 2)
            xhat = R.batch_norm_eval(x, rm, rv, eps=layer.eps)
            axes = (0,) + tuple(range(2, x.ndim))
            scale = (1.0 if w is None else w.reshape(cs)) / np.sqrt(rv.reshape(cs) + layer.eps)
            dx, dw, db = g * scale, (g * xhat).sum(axis=axes), g.sum(axis=axes)
        return y, dx, ({"weight": dw, "bias": db} if w is not None else {})
    if isinstance(layer, nn.InstanceNorm2d):
        y, dx, dw, db = R.instance_norm(x, w, b, layer.eps, g=g)
        return y, dx, ({"weight": dw, "bias": db} if w is not None else {})
    if isinstance(layer, nn.Upsample):
        return (*R.upsample_nearest(x, layer.scale_factor, g=g), {})
    if isinstance(layer, nn.AvgPool2d):
        return (*R.avg_pool2d(x, layer.kernel_size, layer.stride, layer.padding, g=g), {})
    if isinstance(layer, nn.LeakyReLU):
        slope = np.where(x > 0, 1.0, layer.negative_slope)
        return x * slope, g * slope, {}
    if isinstance(layer, nn.ReLU):
        return np.maximum(x, 0), g * (x > 0), {}
    if isinstance(layer, nn.Tanh):
        y = np.tanh(x)
        return y, g * (1 - y * y), {}
    if isinstance(layer, nn.Sigmoid):
        y = 1 / (1 + np.exp(-x))
        return y, g * y * (1 - y), {}
    if isinstance(layer, (nn.Flatten, nn.Reshape)):
        y = x.reshape(x.shape[0], -1) if isinstance(layer, nn.Flatten) else \
            x.reshape((x.shape[0],) + layer.shape)
        return y, g.reshape(x.shape), {}
    raise AssertionError(f"no NumPy formula for {type(layer).__name__}")


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-4)],
                         ids=["float64", "float32"])
@pytest.mark.parametrize("make,shape", NUMPY_LAYERS,
                         ids=[f"{type(m()).__name__}-{i}" for i, (m, _) in enumerate(NUMPY_LAYERS)])
def test_layers_agree_with_numpy_formulas(make, shape, dtype, tol, device):
    """What test_layers_agree_with_torch checks, against the formulas themselves:
    output, input and parameter gradients and running statistics, three training
    steps and then evaluation (the reference in float64 on the same inputs)."""
    layer = make().to(device, dtype)
    for p in layer.parameters():             # random parameters, so every term shows
        p.data[...] = minigan.tensor(np.random.uniform(0.5, 1.5, p.shape).astype(dtype),
                                     device=device).data
    state = {n: b.numpy().astype(np.float64) for n, b in layer.named_buffers()}
    for mode in ("train", "train", "train", "eval"):
        layer.train(mode == "train")
        x = np.random.randn(*shape).astype(dtype)
        xm = minigan.tensor(x, requires_grad=True, device=device)
        layer.zero_grad()
        y = layer(xm)
        g = np.random.randn(*y.shape).astype(dtype)
        y.backward(minigan.tensor(g, device=device))
        ry, rdx, rgrads = _numpy_layer(layer, x.astype(np.float64), g.astype(np.float64), state)
        where = f"{type(layer).__name__} {mode}"
        assert y.shape == ry.shape and y.dtype == dtype and xm.grad.dtype == dtype, where

        def close(mine, ref, what):
            err = np.abs(mine.numpy() - ref).max() / max(np.abs(ref).max(), 1e-30)
            assert err < tol, f"{where} {what}: relative error {err:.3g}"
        close(y, ry, "output")
        close(xm.grad, rdx, "input gradient")
        for name, p in layer.named_parameters():
            close(p.grad, rgrads[name], f"d {name}")
        for name, buf in layer.named_buffers():
            close(buf, state[name], name)


def test_batchnorm_module_running_statistics_by_hand():
    """BatchNorm1d(1, momentum=0.1), three training batches, then eval: the numbers of
    test_batchnorm's hand example, through the module."""
    bn = nn.BatchNorm1d(1, momentum=0.1).double()
    for batch in ([1.0, 3.0], [2.0, 6.0], [-1.0, 1.0]):
        bn(minigan.tensor(np.array(batch).reshape(2, 1)))
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.522], rtol=1e-14)
    np.testing.assert_allclose(bn.running_var.numpy(), [1.811], rtol=1e-14)
    y = bn.eval()(minigan.tensor(np.array([[0.522 + 2.0]])))
    np.testing.assert_allclose(y.numpy(), [[2.0 / np.sqrt(1.811 + 1e-5)]], rtol=1e-12)


def test_initializers_follow_the_formulas():
    """Without PyTorch: the gains of torch.nn.init.calculate_gain and the bounds and
    standard deviations of Glorot (Xavier) and He (Kaiming) initialization."""
    assert init.calculate_gain("linear") == 1.0 and init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2.0), rel=1e-15)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04), rel=1e-15)
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3, rel=1e-15)
    assert init.calculate_gain("selu") == pytest.approx(0.75, rel=1e-15)
    w = nn.Parameter(np.zeros((256, 128, 3, 3), np.float32))
    fan_in, fan_out = 128 * 9, 256 * 9
    assert init.calculate_fan_in_and_fan_out(w) == (fan_in, fan_out)
    uniform = math.sqrt(1 / 3)                     # the std of U(-1, 1)
    glorot = 2.0 * math.sqrt(6 / (fan_in + fan_out))      # xavier_uniform's bound, gain 2
    checks = [  # (initializer, expected mean, expected std, bound or None)
        (lambda t: init.xavier_uniform_(t, gain=2.0), 0.0, glorot * uniform, glorot),
        (lambda t: init.xavier_normal_(t), 0.0, math.sqrt(2 / (fan_in + fan_out)), None),
        (lambda t: init.kaiming_uniform_(t, a=0.2, mode="fan_out"), 0.0,
         math.sqrt(2 / 1.04) * math.sqrt(3 / fan_out) * uniform,
         math.sqrt(2 / 1.04) * math.sqrt(3 / fan_out)),
        (lambda t: init.kaiming_normal_(t, nonlinearity="relu"), 0.0,
         math.sqrt(2.0) / math.sqrt(fan_in), None),
        (lambda t: init.normal_(t, 0.5, 0.02), 0.5, 0.02, None),
        (lambda t: init.uniform_(t, -3, 1), -1.0, 2 * uniform, None),
    ]
    for make, mean, std, bound in checks:
        a = make(w).numpy().astype(np.float64)
        assert abs(a.mean() - mean) < 0.01 * (std + abs(mean))
        assert abs(a.std() - std) < 0.01 * std
        if bound is not None:
            assert np.abs(a).max() <= bound * (1 + 1e-6) and np.abs(a).max() > 0.99 * bound


def test_reshape_by_hand():
    x = np.arange(24.0).reshape(2, 12)
    y = nn.Reshape(3, 2, 2)(minigan.tensor(x)).numpy()
    assert y.shape == (2, 3, 2, 2) and y[1, 2, 0, 1] == 12 + 2 * 4 + 0 * 2 + 1
    np.testing.assert_array_equal(nn.Reshape(-1, 4)(minigan.tensor(x)).numpy(),
                                  x.reshape(2, 3, 4))


def test_dropout_fraction_scaling_and_eval_identity():
    d = nn.Dropout(0.3)
    x = minigan.tensor(np.ones((200, 500)), requires_grad=True)
    y = d(x)
    kept = y.numpy() != 0
    assert abs(1 - kept.mean() - 0.3) < 0.005                     # 100,000 coin flips
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.7)          # survivors scaled by 1/(1-p)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.7)       # d/dx = mask / (1 - p)
    d.eval()
    np.testing.assert_array_equal(d(x).numpy(), x.numpy())
    assert nn.Dropout(0.0)(x) is x


# ------------------------------------------------------- gradient checks
def _as_function(layer):
    """The layer as a function of (x, *parameters), for gradcheck's float64 copies."""
    names = [n for n, _ in layer.named_parameters(recurse=False)]

    def fn(x, *params):
        saved = [getattr(layer, n) for n in names]
        for n, p in zip(names, params):
            object.__setattr__(layer, n, p)
        try:
            minigan.manual_seed(3)          # Dropout draws the same mask every call
            return layer(x)
        finally:
            for n, p in zip(names, saved):
                object.__setattr__(layer, n, p)
    return fn, [getattr(layer, n) for n in names]


GRADCHECK_LAYERS = [
    (lambda: nn.Dense(3, 2), (4, 3)),
    (lambda: nn.Conv2d(2, 2, 3, stride=2, padding=1), (1, 2, 5, 5)),
    (lambda: nn.Conv2d(1, 2, 2, dilation=2, bias=False), (2, 1, 4, 4)),
    (lambda: nn.ConvTranspose2d(2, 1, 3, stride=2, padding=1, output_padding=1), (1, 2, 3, 3)),
    (lambda: nn.BatchNorm1d(3), (5, 3)),
    (lambda: nn.BatchNorm2d(2), (3, 2, 2, 2)),
    (lambda: nn.InstanceNorm2d(2), (2, 2, 2, 3)),
    (lambda: nn.InstanceNorm2d(2, affine=True), (2, 2, 3, 2)),
    (lambda: nn.Upsample(scale_factor=2), (2, 2, 2, 3)),
    (lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 2, 5, 4)),
    (lambda: nn.EqualizedDense(3, 2), (4, 3)),
    (lambda: nn.EqualizedConv2d(2, 2, 3, padding=1), (2, 2, 3, 3)),
    (lambda: nn.PixelNorm(), (2, 3, 2, 2)),
    (lambda: nn.MinibatchStdDev(2), (4, 2, 2, 2)),
    (lambda: nn.LeakyReLU(0.2), (3, 4)),
    (lambda: nn.ReLU(), (3, 4)),
    (lambda: nn.Tanh(), (3, 4)),
    (lambda: nn.Sigmoid(), (3, 4)),
    (lambda: nn.Dropout(0.4), (3, 4)),
    (lambda: nn.Flatten(), (2, 2, 3)),
    (lambda: nn.Reshape(3, 2), (2, 6)),
]


@pytest.mark.parametrize("make,shape", GRADCHECK_LAYERS,
                         ids=lambda v: type(v()).__name__ if callable(v) else str(v))
def test_every_layer_passes_gradcheck_and_gradgradcheck(make, shape):
    layer = make().double()
    fn, params = _as_function(layer)
    x = np.random.randn(*shape)
    if isinstance(layer, (nn.ReLU, nn.LeakyReLU)):
        x = np.where(np.abs(x) < 0.05, 0.5, x)        # keep away from the kink at 0
    inputs = [minigan.tensor(x, requires_grad=True)] + \
        [minigan.tensor(p.data.copy(), requires_grad=True) for p in params]
    assert minigan.gradcheck(fn, inputs)
    assert minigan.gradgradcheck(fn, inputs)
