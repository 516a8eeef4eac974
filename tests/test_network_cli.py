"""`dss certify-network` and `dss check` on network evidence, run as a user would."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from dsssolver.cli.main import main

EQ4 = {"W0": np.vstack([np.eye(2), -np.eye(2)]), "W1": np.eye(4)}


def dss(*args):
    return subprocess.run([sys.executable, "-m", "dsssolver", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_equation_4_network_json_evidence_and_check(tmp_path):
    np.savez(tmp_path / "net.npz", **EQ4)
    r = dss("certify-network", "--json", "-o", tmp_path / "ev.json", tmp_path / "net.npz")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # nothing but JSON on stdout
    assert doc["status"] == "injective" and doc["format"] == "dsssolver-network-evidence"
    assert json.loads((tmp_path / "ev.json").read_text()) == doc
    r = dss("check", tmp_path / "net.npz", tmp_path / "ev.json")
    assert r.returncode == 0 and r.stdout.startswith("valid"), r.stdout + r.stderr
    # the same evidence does not prove another network
    np.savez(tmp_path / "other.npz", W0=EQ4["W0"], W1=np.vstack([np.ones((1, 4)), np.eye(4)[1:]]))
    r = dss("check", tmp_path / "other.npz", tmp_path / "ev.json")
    assert r.returncode == 1 and r.stdout.startswith("INVALID"), r.stdout + r.stderr


def test_verdicts_and_exit_codes(tmp_path, capsys):
    np.savez(tmp_path / "bad.npz", W0=np.ones((2, 2)), W1=np.eye(2))  # rank 1: not injective
    assert main(["certify-network", str(tmp_path / "bad.npz")]) == 1
    assert capsys.readouterr().out.startswith("not_injective")
    # layer 2 alone is not injective on R^4 but the network is: end to end decides it
    W0 = np.vstack([np.eye(2), -np.eye(2)])
    np.savez(tmp_path / "e2e.npz", W0=W0, W1=np.array([[1., 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, -1.]]),
             activations=np.array(["relu", "linear"]))
    assert main(["certify-network", "--no-end-to-end", str(tmp_path / "e2e.npz")]) == 3
    assert main(["certify-network", "--node-limit", "1", str(tmp_path / "e2e.npz")]) == 3
    capsys.readouterr()
    code = main(["certify-network", "--json", str(tmp_path / "e2e.npz")])
    doc = json.loads(capsys.readouterr().out)
    assert code == {"injective": 0, "not_injective": 1}[doc["status"]]
    assert doc["decided_by"] == "end to end"


def test_biases_on_a_box(tmp_path, capsys):
    np.savez(tmp_path / "b.npz", W0=np.array([[1.0], [-1.0]]), b0=np.array([1.0, 1.0]),
             W1=np.array([[1.0, 1.0]]), b1=np.zeros(1))
    ev = tmp_path / "ev.json"
    code = main(["certify-network", "--box", "-1/2", "1/2", "-o", str(ev), str(tmp_path / "b.npz")])
    out = capsys.readouterr().out
    assert code == 1 and out.startswith("not_injective")  # |x| folds: 1 + x + 1 - x = 2 everywhere
    assert main(["check", "--box", "-1/2", "1/2", str(tmp_path / "b.npz"), str(ev)]) == 0
    assert main(["check", "--box", "-1/4", "1/4", str(tmp_path / "b.npz"), str(ev)]) == 1
    assert "another input domain" in capsys.readouterr().out


def test_a_network_numbered_from_one_is_read_the_same(tmp_path, capsys):
    # a file written for `dss invert` (W1, b1, W2, ...) certifies as its W0-numbered twin
    from dsssolver.io import load_network

    np.savez(tmp_path / "one.npz", W1=EQ4["W0"], b1=np.zeros(4), W2=EQ4["W1"])
    np.savez(tmp_path / "zero.npz", W0=EQ4["W0"], b0=np.zeros(4), W1=EQ4["W1"])
    one, zero = load_network(tmp_path / "one.npz"), load_network(tmp_path / "zero.npz")
    assert len(one) == len(zero) == 2
    for a, b in zip(one, zero):
        assert np.array_equal(a["W"], b["W"]) and (a["b"] is None) == (b["b"] is None)
    assert main(["certify-network", str(tmp_path / "one.npz")]) == 0
    assert "injective" in capsys.readouterr().out


def _bad_networks(tmp_path):
    np.savez(tmp_path / "no_w0.npz", W=np.eye(2))
    np.savez(tmp_path / "gap.npz", W0=np.eye(2), W2=np.eye(2))
    np.savez(tmp_path / "shape.npz", W0=np.eye(2), W1=np.eye(3))
    np.savez(tmp_path / "nan.npz", W0=np.array([[np.nan, 1.0]]))
    np.savez(tmp_path / "acts.npz", W0=np.eye(2), activations=np.array(["relu", "relu"]))
    np.savez(tmp_path / "act_name.npz", W0=np.eye(2), activations=np.array(["softplus"]))
    np.savez(tmp_path / "tanh_mid.npz", W0=np.eye(2), W1=np.eye(2),
             activations=np.array(["tanh", "relu"]))
    (tmp_path / "text.npz").write_text("not a network")
    (tmp_path / "junk.pt").write_bytes(b"\x80\x04junk")
    return {"missing.npz": "no such file", "no_w0.npz": "W0", "gap.npz": "unexpected arrays",
            "shape.npz": "columns", "nan.npz": "NaN", "acts.npz": "activations",
            "act_name.npz": "activation", "tanh_mid.npz": "only after the last layer",
            "text.npz": "not a .npy or .npz", "junk.pt": "junk.pt"}


def test_bad_network_files_exit_2_with_one_line(tmp_path, capsys):
    for name, words in _bad_networks(tmp_path).items():
        if name.endswith(".pt") and not _has_torch():
            continue
        assert main(["certify-network", str(tmp_path / name)]) == 2, name
        err = capsys.readouterr().err.strip()
        assert err.startswith("dss: error:") and "\n" not in err and words.lower() in err.lower(), err
    np.savez(tmp_path / "ok.npz", **EQ4)
    for argv in (["--box", "1", "x"], ["--box", "1", "0"], ["--box", "0", "1", "--domain", "nonnegative"]):
        assert main(["certify-network", *argv, str(tmp_path / "ok.npz")]) == 2, argv
        assert "\n" not in capsys.readouterr().err.strip()


def _has_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def test_torch_sequential_file(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Linear(2, 4, bias=False), torch.nn.ReLU(),
                              torch.nn.Linear(4, 4, bias=False), torch.nn.ReLU())
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(EQ4["W0"]))
        net[2].weight.copy_(torch.eye(4))
    torch.save(net, tmp_path / "net.pt")
    assert main(["certify-network", "-o", str(tmp_path / "ev.json"), str(tmp_path / "net.pt")]) == 0
    assert main(["check", str(tmp_path / "net.pt"), str(tmp_path / "ev.json")]) == 0
    torch.save(net.state_dict(), tmp_path / "sd.pt")
    assert main(["certify-network", str(tmp_path / "sd.pt")]) == 2
    assert "state_dict" in capsys.readouterr().err


def test_check_of_network_evidence_honours_the_time_limit(tmp_path, capsys):
    import dsssolver as dss_api
    from dsssolver.errors import CheckTimeout
    from dsssolver.verify.network import check_network

    from pathlib import Path

    W0 = np.load(Path(dss_api.__file__).parent / "examples" / "gaussian_56x8.npz")["W"]
    net = [(W0, None), (np.eye(56), None)]
    np.savez(tmp_path / "net.npz", W0=W0, W1=np.eye(56))
    ev = dss_api.certify_network(net)
    assert ev.status == "injective"
    assert check_network(ev, net, workers=1)
    with pytest.raises(CheckTimeout):
        check_network(ev, net, time_limit=1e-6, workers=1)
    (tmp_path / "ev.json").write_text(json.dumps(ev.to_json()))
    capsys.readouterr()
    assert main(["check", "--time-limit", "1e-6", "--workers", "1", str(tmp_path / "net.npz"),
                 str(tmp_path / "ev.json")]) == 3
    assert capsys.readouterr().out.startswith("unknown")
    assert main(["check", "--workers", "1", str(tmp_path / "net.npz"), str(tmp_path / "ev.json")]) == 0
    for bad in ("-1", "0", "nan"):  # as for layer evidence: a bad limit is bad input, exit 2
        assert main(["check", "--time-limit", bad, str(tmp_path / "net.npz"),
                     str(tmp_path / "ev.json")]) == 2


# ------------------------------------------------------------------ layer-graph files
def _theorem5_graph():
    from dsssolver.networks import construct

    G, _ = construct.theorem5_augment([np.array([[1.0, -1.0]]), (np.array([[2.0]]), None, "linear")],
                                      2.0 ** -6, box=([-2, -2], [2, 2]))
    return G


def test_graph_file_round_trip_certify_and_check(tmp_path):
    from fractions import Fraction

    import networkx as nx

    from dsssolver import certify_network
    from dsssolver.io import load_network, save_graph
    from dsssolver.netmodel import as_graph

    G = _theorem5_graph()
    # an exact, non-float weight and a leaky node survive the file too
    G.add_node("extra", layer={"W": np.array([[Fraction(1, 3)]], dtype=object),
                               "activation": "leaky_relu", "negative_slope": Fraction(1, 5)})
    G.add_edge("N2", "extra")
    save_graph(G, tmp_path / "g.json")
    H = load_network(tmp_path / "g.json")
    a, b = as_graph(G), as_graph(H)
    assert a.order == b.order and a.preds == b.preds and a.dims == b.dims
    for v in a.layers:
        assert (a.layers[v].W == b.layers[v].W).all() and (a.layers[v].b == b.layers[v].b).all()
        assert a.layers[v].activation == b.layers[v].activation
        assert Fraction(a.layers[v].negative_slope) == Fraction(b.layers[v].negative_slope)
    assert certify_network(H).status == certify_network(G).status == "injective"
    assert nx.is_isomorphic(G, H)
    r = dss("certify-network", "-o", tmp_path / "ev.json", tmp_path / "g.json")
    assert r.returncode == 0, r.stdout + r.stderr
    r = dss("check", tmp_path / "g.json", tmp_path / "ev.json")
    assert r.returncode == 0 and r.stdout.startswith("valid"), r.stdout + r.stderr
    # the evidence does not prove a graph whose lift is too weak to be injective
    doc = json.loads((tmp_path / "g.json").read_text())
    doc["nodes"][0]["W"] = [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [1.0, 1.0]]
    (tmp_path / "h.json").write_text(json.dumps(doc))
    r = dss("check", tmp_path / "h.json", tmp_path / "ev.json")
    assert r.returncode == 1 and r.stdout.startswith("INVALID"), r.stdout + r.stderr


GOOD = {"format": "dsssolver-network-graph", "version": 1, "input": "x", "dim": 2,
        "nodes": [{"id": "f", "inputs": ["x"], "W": [[1, 0], [0, 1], [-1, 0], [0, -1]]}]}


@pytest.mark.parametrize("change, words", [
    ({"format": "other"}, "not a network graph"),
    ({"version": 2}, "unsupported version"),
    ({"extra": 1}, "unknown keys"),
    ({"input": 3}, "'input'"),
    ({"dim": 0}, "'dim'"),
    ({"nodes": []}, "'nodes'"),
    ({"nodes": [7]}, "must be an object"),
    ({"nodes": [{"id": "f", "inputs": ["x"], "W": [[1, 0]], "bias": [0]}]}, "unknown keys"),
    ({"nodes": [{"id": "x", "inputs": ["x"], "W": [[1, 0]]}]}, "'id'"),
    ({"nodes": [{"id": "f", "inputs": ["y"], "W": [[1, 0]]}]}, "'inputs'"),
    ({"nodes": [{"id": "f", "inputs": [], "W": [[1, 0]]}]}, "'inputs'"),
    ({"nodes": [{"id": "f", "inputs": ["x"], "W": [[1, 0], [1]]}]}, "equal-length rows"),
    ({"nodes": [{"id": "f", "inputs": ["x"], "W": [[1, "NaN"]]}]}, "not a rational"),
    ({"nodes": [{"id": "f", "inputs": ["x"], "W": [[1, True]]}]}, "numbers"),
    # Fraction() would build 10^999999999 from this: refused at once instead of hanging
    ({"nodes": [{"id": "f", "inputs": ["x"], "W": [[1, "1e999999999"]]}]}, "not a rational"),
    ({"nodes": [{"id": "f", "inputs": ["x"], "W": [[1, "1/0"]]}]}, "not a rational"),
    ({"nodes": [{"id": "f", "inputs": ["x"], "W": [[1, 0, 0]]}]}, "columns"),
    ({"nodes": [{"id": "f", "inputs": ["x"], "W": [[1, 0]], "activation": "softplus"}]},
     "activation"),
    ({"nodes": [{"id": "f", "inputs": ["x"], "W": [[1, 0], [0, 1]], "activation": "tanh"},
                {"id": "g", "inputs": ["f"], "W": [[1, 0], [0, 1]]}]}, "on an output node"),
    ({"nodes": [{"id": "f", "inputs": ["x"], "activation": "relu"}]}, "need a 'W'"),
    ({"nodes": [{"id": "f", "inputs": ["x", "g"], "W": [[1, 0, 0, 0]]},
                {"id": "g", "inputs": ["f"], "W": [[1]]}]}, "acyclic"),
])
def test_hostile_graph_files_are_one_line_errors(tmp_path, change, words):
    doc = {**GOOD, **change}
    (tmp_path / "g.json").write_text(json.dumps(doc))
    r = dss("certify-network", tmp_path / "g.json")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "g.json" in lines[0], lines


def test_graph_file_nan_literal_and_garbage(tmp_path):
    (tmp_path / "nan.json").write_text(json.dumps(GOOD).replace("[1, 0], [0, 1]", "[NaN, 0], [0, 1]"))
    (tmp_path / "junk.json").write_bytes(b"\x00\xff not json")
    for name, words in (("nan.json", "finite"), ("junk.json", "cannot read")):
        r = dss("certify-network", tmp_path / name)
        assert r.returncode == 2 and "Traceback" not in r.stderr and words in r.stderr, r.stderr
    r = dss("certify-network", "--last-activation", "linear", tmp_path / "ok.json")
    assert r.returncode == 2
    (tmp_path / "ok.json").write_text(json.dumps(GOOD))
    r = dss("certify-network", "--last-activation", "linear", tmp_path / "ok.json")
    assert r.returncode == 2 and "chain networks" in r.stderr
    assert dss("certify-network", tmp_path / "ok.json").returncode == 0


def test_tanh_after_the_last_layer_is_read_as_linear(tmp_path, capsys):
    W = np.vstack([np.eye(2), -np.eye(2)])
    np.savez(tmp_path / "t.npz", W0=W, W1=np.eye(4)[:3], activations=np.array(["relu", "tanh"]))
    assert main(["certify-network", str(tmp_path / "t.npz")]) == 1  # 3 x 4 linear on x >= 0 in R^4
    out = capsys.readouterr().out
    assert "not_injective" in out or "not injective" in out
    np.savez(tmp_path / "u.npz", W0=W, W1=np.eye(4))
    assert main(["certify-network", str(tmp_path / "u.npz"), "--last-activation", "sigmoid"]) == 0
    assert "sigmoid" in capsys.readouterr().out


def test_tanh_on_an_output_node_of_a_graph(tmp_path, capsys):
    import networkx as nx

    from dsssolver import certify_network
    from dsssolver.io import load_network, save_graph

    W = np.vstack([np.eye(2), -np.eye(2)])
    G = nx.DiGraph()
    G.add_node("x", dim=2)
    G.add_node("h", layer=W)
    G.add_node("out", layer={"W": np.eye(4), "activation": "tanh"})
    G.add_node("side", layer=(np.ones((1, 2)), None, "sigmoid"))  # an output, not injective
    G.add_edges_from([("x", "h"), ("h", "out"), ("x", "side")])
    res = certify_network(G)
    assert (res.status, res.checked) == ("injective", True)
    for words in ("the tanh on output node 'out'", "the sigmoid on output node 'side'",
                  "are strictly increasing, so they change nothing"):
        assert words in res.message, res.message
    save_graph(G, tmp_path / "g.json")
    doc = json.loads((tmp_path / "g.json").read_text())
    assert {d["id"]: d["activation"] for d in doc["nodes"]} == {"h": "relu", "out": "tanh",
                                                                 "side": "sigmoid"}
    H = load_network(tmp_path / "g.json")
    assert H.nodes["out"]["layer"].output_squash == "tanh"
    assert main(["certify-network", str(tmp_path / "g.json"), "-o", str(tmp_path / "ev.json")]) == 0
    assert main(["check", str(tmp_path / "g.json"), str(tmp_path / "ev.json")]) == 0
    capsys.readouterr()
    # the same graph with a 1 x 4 tanh output: tanh changes no verdict, so not injective either
    G.nodes["out"]["layer"] = {"W": np.ones((1, 4)), "activation": "tanh"}
    G.remove_node("side")
    assert certify_network(G).status != "injective"
