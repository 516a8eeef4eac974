"""Which modules a torch model applies, in order, for the three torch readers.

The readers (:mod:`dsssolver.netmodel`, :mod:`dsssolver.layers`, :mod:`dsssolver.conv.dcgan`)
read a model as a chain of modules.  An ``nn.Sequential`` is one by definition, nested ones
included.  Any other module -- typically a model class whose ``forward`` calls ``self.main``,
as in PyTorch's DCGAN example -- is read as its children in order, which is an assumption
about its ``forward``; :func:`check_composition` tests it on random inputs, so a model whose
``forward`` does something else (a skip connection, a reshape, a scaling) is refused rather
than misread.
"""
from __future__ import annotations

from .errors import InvalidInputError

__all__ = ["layer_modules", "check_composition"]


def _is_sequential(mod):
    return type(mod).__name__ == "Sequential"


def layer_modules(net):
    """The modules ``net`` applies, in order: nested ``nn.Sequential`` expanded, and a model
    that is not a Sequential read as its children (see :func:`check_composition`)."""
    if not hasattr(net, "children"):
        return list(net)
    out = []
    for mod in net.children():
        out += layer_modules(mod) if _is_sequential(mod) else [mod]
    return out


def _input_shape(mods, given):
    """The shape of one input of the chain ``mods``: from its first Linear / Unflatten, else
    ``given`` (a convolution's ``(c, h, w)``); None when neither tells."""
    for mod in mods:
        name = type(mod).__name__
        if name == "Linear":
            return (int(mod.in_features),)
        if name == "Unflatten":
            size = 1
            for d in mod.unflattened_size:
                size *= int(d)
            return (size,)
        if name.startswith("Conv") or name.startswith("BatchNorm"):
            break
    return tuple(int(d) for d in given) if given is not None else None


def check_composition(net, mods, input_shape=None, where="net"):
    """Raise :class:`InvalidInputError` unless ``net(x)`` is the modules ``mods`` applied in
    order, for two random inputs ``x`` (shape from the chain's first Linear or Unflatten, else
    ``input_shape``).

    Nothing is checked for an ``nn.Sequential`` (or a list), whose forward is that chain by
    definition, or when no input shape is known (the reader then asks for one).  The model is
    run as it is (no copy, no mode change); both sides use the same torch kernels, so they
    agree to rounding.  Readers call this before reading, so a misread model is named as such.
    """
    if not hasattr(net, "children") or _is_sequential(net):
        return
    input_shape = _input_shape(mods, input_shape)
    if input_shape is None or any(m.training for m in mods if type(m).__name__.startswith(
            ("BatchNorm", "Dropout"))):
        return  # a forward in training mode would change BatchNorm's statistics; the reader refuses
    import torch

    param = next(net.parameters(), None)
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    gen = torch.Generator().manual_seed(0)
    x = torch.randn((2,) + tuple(int(d) for d in input_shape), generator=gen, dtype=dtype)
    if param is not None:
        x = x.to(param.device)  # the readers take weights from any device (.cpu())
    name = type(net).__name__
    try:
        with torch.no_grad():
            want = net(x.clone())  # clones: an in-place first module must not change x
            got = x.clone()
            for mod in mods:
                got = mod(got)
    except Exception as exc:  # any failure means the chain is not what forward does
        raise InvalidInputError(
            f"{where}: {name}.forward is not its child modules applied in order (running them on "
            f"an input of shape {tuple(x.shape)}: {type(exc).__name__}: {exc}); pass an "
            "nn.Sequential of the layers it applies") from None
    if not isinstance(want, torch.Tensor) or want.numel() != got.numel() or not torch.allclose(
            want.reshape(-1), got.reshape(-1), rtol=1e-5,
            atol=1e-6 * max(1.0, float(want.abs().max()) if want.numel() else 1.0)):
        raise InvalidInputError(
            f"{where}: {name}.forward is not its child modules applied in order (their outputs "
            "differ on random inputs); pass an nn.Sequential of the layers it applies")
