"""DCGAN-style generators in torch (64x64x3 outputs), regular and injective, for benchmarks.

The injective one follows Puthawala et al. 2022, Section 4: every ReLU layer has filters
``[C; -s^2 C]`` (each output channel of C and its negative multiple), so that
``ReLU(Cx)`` and ``ReLU(-s^2 Cx)`` together give ``Cx``; the layer is injective when C is.
Channel counts are chosen so that each C has at least as many outputs as inputs (a
transposed convolution of stride 2 quadruples the pixels), and are far smaller than a
real DCGAN's (64-512): 64 -> 16x4x4 -> 16x8x8 -> 16x16x16 -> 10x32x32 -> 3x64x64.
The regular generator has the same layer sizes with ordinary Gaussian filters.
"""
import torch

nn = torch.nn


def _doubled(w, s, dim):
    return torch.cat([w, -s * s * w], dim=dim)


def linear(n_in, n_out, injective, s, gen):
    c = n_out // 2 if injective else n_out
    W = torch.randn(c, n_in, generator=gen) / n_in ** .5
    m = nn.Linear(n_in, n_out, bias=False)
    m.weight.data = _doubled(W, s, 0) if injective else W
    return m


def conv_t(c_in, c_out, injective, s, gen):
    c = c_out // 2 if injective else c_out
    K = torch.randn(c_in, c, 4, 4, generator=gen) / (c_in * 4) ** .5
    m = nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)
    m.weight.data = _doubled(K, s, 1) if injective else K
    return m


def dcgan(z_dim=64, injective=True, s=1.0, seed=0):
    """A random DCGAN-style generator (float64), 64x64x3 output, last layer linear."""
    gen = torch.Generator().manual_seed(seed)
    return nn.Sequential(
        linear(z_dim, 256, injective, s, gen), nn.ReLU(), nn.Unflatten(0, (16, 4, 4)),
        conv_t(16, 16, injective, s, gen), nn.ReLU(),
        conv_t(16, 16, injective, s, gen), nn.ReLU(),
        conv_t(16, 10, injective, s, gen), nn.ReLU(),
        conv_t(10, 3, False, s, gen), nn.Flatten(0)).double()


def gd_torch(net, x, z_dim, iters=1000, lr=0.01, restarts=1, seed=0):
    """Adam on ||G(z) - x||^2 (torch, batched restarts); the best loss wins."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.as_tensor(x)
    Z = torch.randn(restarts, z_dim, dtype=torch.float64, generator=gen).requires_grad_(True)
    opt = torch.optim.Adam([Z], lr=lr)
    for _ in range(iters):
        opt.zero_grad()
        loss = ((torch.stack([net(z) for z in Z]) - X) ** 2).sum(dim=1)
        loss.sum().backward()
        opt.step()
    with torch.no_grad():
        loss = ((torch.stack([net(z) for z in Z]) - X) ** 2).sum(dim=1)
    return Z[int(torch.argmin(loss))].detach().numpy()
