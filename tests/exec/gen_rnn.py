#!/usr/bin/python3
"""Conformance-style cases for the recurrent ops RNN, GRU and LSTM.

    /usr/bin/python3 tests/exec/gen_rnn.py

Writes tests/exec/data/rnn/node/<case>/{model.onnx,test_data_set_0/*.pb},
the layout of ONNX's backend test data, which tests/conformance/conformance
runs. ONNX's own cases cover only forward, layout 0, default activations and
sequence_lens on RNN/GRU; these add reverse, bidirectional, layout 1, initial
states, sequence_lens everywhere, clip, GRU linear_before_reset 0/1, LSTM
peepholes and input_forget, non-default activations and omitted outputs.

Expected outputs come from two oracles:
  - PyTorch 1.13 (torch.nn.RNN/GRU/LSTM with the same weights, packed
    sequences for sequence_lens) wherever it computes the same function:
    default activations, no clip, no peepholes, GRU linear_before_reset=1;
  - otherwise a NumPy transcription of the ONNX spec's equations (float64,
    one batch entry and one step at a time). It is checked against PyTorch
    on every case PyTorch can compute before any file is written.
ONNX leaves input_forget's formula open; like ONNX Runtime, it is read as
f = 1 - i.
"""
import os
import shutil

import numpy as np
import torch
from onnx import helper

import case_writer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "rnn", "node")
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
DEFAULT_ACTS = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"]}
# Which of activation_alpha / activation_beta each activation takes.
USES = {"Relu": (0, 0), "Tanh": (0, 0), "Sigmoid": (0, 0), "Affine": (1, 1), "LeakyRelu": (1, 0),
        "ThresholdedRelu": (1, 0), "ScaledTanh": (1, 1), "HardSigmoid": (1, 1), "Elu": (1, 0),
        "Softsign": (0, 0), "Softplus": (0, 0)}


def activation(name, a, b):
    return {
        "Relu": lambda x: np.maximum(x, 0),
        "Tanh": np.tanh,
        "Sigmoid": lambda x: 1 / (1 + np.exp(-x)),
        "Affine": lambda x: a * x + b,
        "LeakyRelu": lambda x: np.where(x >= 0, x, a * x),
        "ThresholdedRelu": lambda x: np.where(x > a, x, 0),
        "ScaledTanh": lambda x: a * np.tanh(b * x),
        "HardSigmoid": lambda x: np.clip(a * x + b, 0, 1),
        "Elu": lambda x: np.where(x >= 0, x, a * (np.exp(x) - 1)),
        "Softsign": lambda x: x / (1 + np.abs(x)),
        "Softplus": lambda x: np.log1p(np.exp(x)),
    }[name]


# ---------------------------------------------------------------- NumPy oracle

def numpy_reference(op, X, W, R, B, lens, h0, c0, P, direction, acts, clip, lbr, input_forget):
    """Layout 0 arrays in, (Y, Y_h, Y_c) out, straight from the spec equations."""
    S, N, _ = X.shape
    D, H = W.shape[0], R.shape[2]
    X, W, R = X.astype(np.float64), W.astype(np.float64), R.astype(np.float64)
    Y = np.zeros((S, D, N, H))
    Yh, Yc = np.zeros((D, N, H)), np.zeros((D, N, H))
    cl = (lambda v: np.clip(v, -clip, clip)) if clip else (lambda v: v)
    for d in range(D):
        fns = [activation(*a) for a in acts[d]]
        f = lambda v: fns[0](cl(v))
        g = lambda v: fns[1](cl(v))
        hfn = lambda v: fns[2](cl(v))
        Wd, Rd = W[d], R[d]
        Wb, Rb = (B[d, :W.shape[1]], B[d, W.shape[1]:]) if B is not None else (np.zeros(W.shape[1]),) * 2
        for n in range(N):
            h = h0[d, n].astype(np.float64) if h0 is not None else np.zeros(H)
            c = c0[d, n].astype(np.float64) if c0 is not None else np.zeros(H)
            steps = range(lens[n])
            if direction == "reverse" or d == 1:
                steps = reversed(steps)
            for t in steps:
                x = X[t, n]
                blk = lambda M, k: M[k * H:(k + 1) * H]
                if op == "RNN":
                    h = f(Wd @ x + Rd @ h + Wb + Rb)
                elif op == "GRU":
                    z = f(blk(Wd, 0) @ x + blk(Rd, 0) @ h + blk(Wb, 0) + blk(Rb, 0))
                    r = f(blk(Wd, 1) @ x + blk(Rd, 1) @ h + blk(Wb, 1) + blk(Rb, 1))
                    if lbr:
                        hh = g(blk(Wd, 2) @ x + r * (blk(Rd, 2) @ h + blk(Rb, 2)) + blk(Wb, 2))
                    else:
                        hh = g(blk(Wd, 2) @ x + blk(Rd, 2) @ (r * h) + blk(Rb, 2) + blk(Wb, 2))
                    h = (1 - z) * hh + z * h
                else:  # LSTM, gates i o f c, peepholes i o f
                    p = P[d] if P is not None else np.zeros(3 * H)
                    pre = lambda k: blk(Wd, k) @ x + blk(Rd, k) @ h + blk(Wb, k) + blk(Rb, k)
                    i = f(pre(0) + blk(p, 0) * c)
                    fg = 1 - i if input_forget else f(pre(2) + blk(p, 2) * c)
                    c = fg * c + i * g(pre(3))
                    o = f(pre(1) + blk(p, 1) * c)
                    h = o * hfn(c)
                Y[t, d, n] = h
            Yh[d, n], Yc[d, n] = h, c
    return Y, Yh, Yc


# -------------------------------------------------------------- PyTorch oracle

# Rows of PyTorch's stacked gate weights, as blocks of ONNX's: GRU r z n
# from z r h, LSTM i f g o from i o f c.
TORCH_ORDER = {"RNN": [0], "GRU": [1, 0, 2], "LSTM": [0, 2, 3, 1]}


def torch_reference(op, X, W, R, B, lens, h0, c0, direction):
    """(Y, Y_h, Y_c) from torch.nn.<op>; 'reverse' runs a bidirectional
    module and keeps its backward half (PyTorch has no reverse-only mode)."""
    S, N, I = X.shape
    D, H = W.shape[0], R.shape[2]
    tD = 2 if direction != "forward" else 1
    mod = {"RNN": torch.nn.RNN, "GRU": torch.nn.GRU, "LSTM": torch.nn.LSTM}[op](I, H, bidirectional=tD == 2)
    rows = lambda M: np.concatenate([M[k * H:(k + 1) * H] for k in TORCH_ORDER[op]])
    with torch.no_grad():
        for td in range(tD):
            sfx = "_reverse" if td == 1 else ""
            d = td if direction == "bidirectional" else 0  # reverse: both halves get ONNX's weights
            Bd = B[d] if B is not None else np.zeros(2 * W.shape[1], np.float32)
            getattr(mod, "weight_ih_l0" + sfx).copy_(torch.from_numpy(rows(W[d])))
            getattr(mod, "weight_hh_l0" + sfx).copy_(torch.from_numpy(rows(R[d])))
            getattr(mod, "bias_ih_l0" + sfx).copy_(torch.from_numpy(rows(Bd[:W.shape[1]])))
            getattr(mod, "bias_hh_l0" + sfx).copy_(torch.from_numpy(rows(Bd[W.shape[1]:])))
        # reverse: ONNX's one initial state goes to both halves
        place = lambda s: (np.zeros((tD, N, H), np.float32) if s is None else
                           np.ascontiguousarray(np.repeat(s, tD // D, axis=0)))
        hx = torch.from_numpy(place(h0))
        state = (hx, torch.from_numpy(place(c0))) if op == "LSTM" else hx
        packed = torch.nn.utils.rnn.pack_padded_sequence(torch.from_numpy(X), torch.tensor(lens),
                                                         enforce_sorted=False)
        out, hn = mod(packed, state)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=S)
    Y = out.numpy().reshape(S, N, tD, H).transpose(0, 2, 1, 3)
    hn, cn = (hn[0].numpy(), hn[1].numpy()) if op == "LSTM" else (hn.numpy(), None)
    if direction == "reverse":
        return Y[:, 1:], hn[1:], cn[1:] if cn is not None else None
    return Y, hn, cn


# ------------------------------------------------------------------ the cases

def make_case(name, op, direction="forward", S=4, N=3, I=2, H=3, layout=0, lens=None, init=False, bias=True,
              peep=False, acts=None, clip=None, lbr=0, input_forget=0, outputs=("Y", "Y_h", "Y_c"), seed=0,
              scale=1.0):
    rng = np.random.default_rng(seed)
    rnd = lambda *shape: (rng.uniform(-1, 1, shape) * scale).astype(np.float32)
    D, G = (2 if direction == "bidirectional" else 1), GATES[op]
    X, W, R = rnd(S, N, I), rnd(D, G * H, I), rnd(D, G * H, H)
    B = rnd(D, 2 * G * H) if bias else None
    P = rnd(D, 3 * H) if peep else None
    h0 = rnd(D, N, H) if init else None
    c0 = rnd(D, N, H) if init and op == "LSTM" else None
    lens_arr = np.array(lens if lens is not None else [S] * N, np.int32)
    names = acts or DEFAULT_ACTS[op]
    per_dir = [[(a, al, be) for a, al, be in names[k * len(DEFAULT_ACTS[op]):(k + 1) * len(DEFAULT_ACTS[op])]]
               for k in range(D)] if acts else [[(a, 0, 0) for a in names]] * D

    Y, Yh, Yc = numpy_reference(op, X, W, R, B, lens_arr, h0, c0, P, direction, per_dir, clip, lbr,
                                input_forget)
    torch_ok = not acts and not clip and not peep and not input_forget and (op != "GRU" or lbr == 1)
    if torch_ok:
        tY, tYh, tYc = torch_reference(op, X, W, R, B, list(lens_arr), h0, c0, direction)
        for want, got in ((tY, Y), (tYh, Yh), (tYc, Yc if op == "LSTM" else None)):
            if want is not None:
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=name)
        Y, Yh, Yc = tY, tYh, tYc if op == "LSTM" else None
    if clip:  # the case must exercise the clip, or it tests nothing
        unclipped = numpy_reference(op, X, W, R, B, lens_arr, h0, c0, P, direction, per_dir, None, lbr,
                                    input_forget)[0]
        assert np.abs(unclipped - Y).max() > 1e-2, name

    to_layout = lambda a: a if layout == 0 or a is None else np.swapaxes(a, 0, 1)
    Y = Y if layout == 0 else Y.transpose(2, 0, 1, 3)  # [S, D, N, H] -> [N, S, D, H]
    feeds = [("X", to_layout(X)), ("sequence_lens", lens_arr if lens is not None else None),
             ("initial_h", to_layout(h0)), ("initial_c", to_layout(c0))]
    inits = [("W", W), ("R", R), ("B", B), ("P", P)]
    order = ["X", "W", "R", "B", "sequence_lens", "initial_h"] + (["initial_c", "P"] if op == "LSTM" else [])
    present = {k for k, v in feeds + inits if v is not None}
    node_inputs = [k if k in present else "" for k in order]
    while node_inputs[-1] == "":
        node_inputs.pop()
    results = {"Y": Y, "Y_h": to_layout(Yh), "Y_c": to_layout(Yc)}
    out_names = ["Y", "Y_h"] + (["Y_c"] if op == "LSTM" else [])
    node_outputs = [k if k in outputs else "" for k in out_names]
    while node_outputs[-1] == "":
        node_outputs.pop()

    attrs = {"hidden_size": H, "direction": direction}
    if layout:
        attrs["layout"] = layout
    if clip:
        attrs["clip"] = clip
    if op == "GRU":
        attrs["linear_before_reset"] = lbr
    if input_forget:
        attrs["input_forget"] = input_forget
    if acts:
        attrs["activations"] = [a for a, _, _ in acts]
        alphas = [al for a, al, _ in acts if USES[a][0]]
        betas = [be for a, _, be in acts if USES[a][1]]
        if alphas:
            attrs["activation_alpha"] = alphas
        if betas:
            attrs["activation_beta"] = betas
    node = helper.make_node(op, node_inputs, node_outputs, name=name, **attrs)
    inputs = [(k, v) for k, v in feeds if v is not None]
    outs = [(k, results[k].astype(np.float32)) for k in node_outputs if k]
    model = case_writer.make_model([node], case_writer.tensor_infos(inputs), case_writer.tensor_infos(outs),
                                   [(k, v) for k, v in inits if v is not None], name=name, opset=14, ir_version=7)
    case_writer.write_case(ROOT, name, model, inputs, outs)
    print(f"{name}: {'PyTorch' if torch_ok else 'NumPy'} oracle")


shutil.rmtree(ROOT, ignore_errors=True)
# RNN
make_case("rnn_forward_lens_init", "RNN", lens=[4, 1, 2], init=True)
make_case("rnn_reverse_lens", "RNN", "reverse", lens=[2, 4, 3], seed=1)
make_case("rnn_bidirectional_layout1", "RNN", "bidirectional", layout=1, lens=[3, 4, 1], init=True, seed=2)
make_case("rnn_relu_clip", "RNN", "reverse", acts=[("Relu", 0, 0)], clip=0.7, init=True, seed=3, scale=2.0)
make_case("rnn_bidirectional_acts", "RNN", "bidirectional", acts=[("LeakyRelu", 0.3, 0), ("Softsign", 0, 0)],
          lens=[4, 2, 3], seed=4, scale=2.0)
# GRU
make_case("gru_forward_lbr1_lens_init", "GRU", lbr=1, lens=[4, 2, 3], init=True, seed=5)
make_case("gru_reverse_lbr0_lens_init", "GRU", "reverse", lbr=0, lens=[1, 4, 3], init=True, seed=6)
make_case("gru_reverse_lbr1_lens", "GRU", "reverse", lbr=1, lens=[3, 1, 4], seed=7)
make_case("gru_bidirectional_layout1_lbr1", "GRU", "bidirectional", layout=1, lbr=1, lens=[2, 4, 3], init=True,
          seed=8)
make_case("gru_bidirectional_lbr0_acts_clip", "GRU", "bidirectional", lbr=0, clip=0.8, init=True, seed=9,
          scale=2.0, acts=[("HardSigmoid", 0.3, 0.4), ("Elu", 0.8, 0), ("Sigmoid", 0, 0), ("ScaledTanh", 1.5, 0.7)])
# LSTM
make_case("lstm_forward_lens_init", "LSTM", lens=[4, 1, 3], init=True, seed=10)
make_case("lstm_reverse_lens_peepholes", "LSTM", "reverse", lens=[3, 4, 2], init=True, peep=True, seed=11)
make_case("lstm_bidirectional_layout1_init", "LSTM", "bidirectional", layout=1, lens=[4, 3, 1], init=True,
          seed=12)
make_case("lstm_bidirectional_peepholes_layout1", "LSTM", "bidirectional", layout=1, lens=[1, 4, 2], init=True,
          peep=True, seed=13)
make_case("lstm_input_forget_clip", "LSTM", lens=[4, 2, 3], init=True, peep=True, input_forget=1, clip=0.6,
          seed=14, scale=2.0)
make_case("lstm_acts", "LSTM", "reverse", init=True, seed=15,
          acts=[("Softplus", 0, 0), ("Affine", 0.5, 0.1), ("ThresholdedRelu", 0.2, 0)])
make_case("lstm_states_only", "LSTM", "bidirectional", lens=[4, 2, 3], init=True, seed=16,
          outputs=("Y_h", "Y_c"))
make_case("gru_no_bias_y_only", "GRU", "bidirectional", lbr=1, bias=False, seed=17, outputs=("Y",))
