"""torch models as users write them: model classes that wrap an nn.Sequential (PyTorch's DCGAN
example), nested Sequentials, and models whose forward is *not* their children in order (which
must be refused, never misread).  Each of the three readers is exercised: certify_network
(netmodel), the inverter's layers.from_torch, and certify_network_pairs."""
from __future__ import annotations

import numpy as np
import pytest

import dsssolver as dss
from dsssolver.conv.dcgan import certify_network_pairs, to_torch
from dsssolver.errors import InvalidInputError
from dsssolver.layers import as_network

torch = pytest.importorskip("torch")
nn = torch.nn


class Wrapped(nn.Module):
    """PyTorch's DCGAN example: the layers in ``self.main``, forward = ``self.main(x)``."""

    def __init__(self, main):
        super().__init__()
        self.main = main

    def forward(self, x):
        return self.main(x)


class Skip(nn.Module):
    """Children Linear, ReLU, Linear, but forward adds a skip connection."""

    def __init__(self):
        super().__init__()
        self.a, self.r, self.b = nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3)

    def forward(self, x):
        return self.b(self.r(self.a(x))) + x


class Twice(nn.Module):
    """Children in order, but forward applies them in the other order."""

    def __init__(self):
        super().__init__()
        self.second, self.first = nn.Linear(6, 5), nn.Linear(3, 6)

    def forward(self, x):
        return self.second(torch.relu(self.first(x)))


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 12), nn.ReLU()))


def test_wrapped_and_nested_models_read_as_their_sequential():
    flat = nn.Sequential(*_mlp()[:2], *_mlp()[2])
    for net in (_mlp(), Wrapped(_mlp()), Wrapped(Wrapped(_mlp()).main)):
        net.eval()
        res = dss.certify_network(net)
        assert res.status == dss.certify_network(flat.eval()).status and res.checked
        assert [L.shape for L in res.layers] == [(8, 3), (12, 8)]
        G = as_network(net)
        x = np.random.default_rng(1).standard_normal(3)
        with torch.no_grad():
            want = net.double()(torch.from_numpy(x)).numpy()
        net.float()
        assert np.allclose(G.forward(x), want, rtol=1e-12, atol=1e-12)


def test_wrapped_dcgan_generator_with_batchnorm():
    """The shape of PyTorch's DCGAN example (Generator.main with BatchNorm2d), read by the pair
    route; with a training pass for the statistics, both ReLU layers are certified."""
    mods = []
    for m in to_torch(dss.injective_dcgan(latent=8, ngf=8, out_size=16, seed=1)):
        mods.append(m)
        if isinstance(m, nn.ConvTranspose2d) and m.out_channels != 3:
            mods.append(nn.BatchNorm2d(m.out_channels))
    G = Wrapped(nn.Sequential(*mods))
    torch.manual_seed(0)
    with torch.no_grad():
        G.train()
        G(torch.randn(32, 8, 1, 1))
    G.eval()
    res = certify_network_pairs(G, (8, 1, 1), independent_check=True)
    assert [r.status for r in res] == ["injective", "injective", "skipped"]
    assert all(r.stats["checker"]["ok"] for r in res[:2])


@pytest.mark.parametrize("model", [Skip, Twice])
def test_a_forward_that_is_not_the_children_in_order_is_refused(model):
    net = model().eval()
    with pytest.raises(InvalidInputError, match="not its child modules applied in order"):
        dss.certify_network(net)
    with pytest.raises(ValueError, match="not its child modules applied in order"):
        as_network(net)


def test_a_wrapped_conv_generator_whose_forward_rescales_is_refused():
    class Scaled(Wrapped):
        def forward(self, x):
            return 2 * self.main(x)

    net = Scaled(to_torch(dss.injective_dcgan(latent=8, ngf=8, out_size=16, seed=1))).eval()
    with pytest.raises(InvalidInputError, match="not its child modules applied in order"):
        certify_network_pairs(net, (8, 1, 1))
    assert certify_network_pairs(Wrapped(net.main), (8, 1, 1))[0].status == "injective"


def test_dropout_in_training_mode_is_refused_by_every_reader():
    net = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.ReLU())
    with pytest.raises(InvalidInputError, match="eval mode"):
        dss.certify_network(net.train())
    with pytest.raises(ValueError, match="eval mode"):
        as_network(net.train())
    assert dss.certify_network(net.eval()).layers[0].shape == (8, 3)
    assert as_network(net.eval()).layers[0].W.shape == (8, 3)


def test_a_wrapped_model_in_training_mode_is_refused_untouched():
    main = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU())
    net = Wrapped(main).train()
    before = main[1].running_mean.clone()
    with pytest.raises(InvalidInputError, match="eval mode"):
        dss.certify_network(net)
    with pytest.raises(ValueError, match="eval mode"):
        as_network(net)
    assert torch.equal(main[1].running_mean, before) and int(main[1].num_batches_tracked) == 0


def test_a_dcgan_sized_convolution_is_not_read_densely():
    """A DCGAN-shaped generator (latent 256) through certify_network: its first layer is a dense
    2048 x 256 matrix, fine; its second is 4096 x 2048, refused with a pointer to the pair route
    before any matrix is built."""
    net = to_torch(dss.injective_dcgan(latent=256, ngf=64, out_size=16, seed=0))
    dense = nn.Sequential(nn.Unflatten(1, (256, 1, 1)), *net).eval()
    with pytest.raises(InvalidInputError, match="certify_network_pairs"):
        dss.certify_network(dense)


def test_tanh_or_sigmoid_after_the_last_layer():
    """certify_network reads a Tanh / Sigmoid output as the identity (strictly increasing:
    same verdict as without it); the witness pair still collides through it; a Tanh anywhere
    else is refused with one line."""
    torch.manual_seed(3)
    for squash in (nn.Tanh(), nn.Sigmoid()):
        for width in (12, 2):  # 12 outputs: injective; 2 outputs of 3 inputs: not injective
            first = nn.Linear(3, 6, bias=False).double()
            with torch.no_grad():  # [I; -I]: ReLU(W x) is injective (seed Corollary 2)
                first.weight.copy_(torch.cat([torch.eye(3), -torch.eye(3)]))
            body = nn.Sequential(first, nn.ReLU(), nn.Linear(6, width, bias=False).double())
            with_squash = nn.Sequential(*body, squash).eval()
            res, ref = dss.certify_network(with_squash), dss.certify_network(body)
            assert res.status == ref.status and res.checked
            assert res.status == ("injective" if width == 12 else "not_injective")
            assert type(squash).__name__ in res.message
            if res.status == "not_injective":
                z1, z2 = (torch.tensor([float(v) for v in w], dtype=torch.float64)
                          for w in res.witness)
                assert not torch.equal(z1, z2)
                assert torch.allclose(with_squash(z1), with_squash(z2), atol=1e-12)
    mid = nn.Sequential(nn.Linear(3, 10), nn.Tanh(), nn.Linear(10, 12)).double().eval()
    with pytest.raises(InvalidInputError, match="only after the last layer"):
        dss.certify_network(mid)
