#!/usr/bin/env python3
"""PyTorch (CPU) reference timings for the HRM, CNN-LSTM v2 and TFT training step.

    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
    /tmp/torchenv/bin/python benches/torch_models.py --model hrm --batch 64 --seq 60 \
        --features 20 --hidden 64 --steps 20 --json

Only needs torch (numpy merely silences a warning). Inputs are SYNTHETIC: x ~ N(0, 1) of shape
[batch, seq, features], labels uniform in {0, 1, 2}, symbol ids all zero (TFT only); seed 0.
One step = model.train(); forward; cross-entropy on the 3-class logits; backward;
AdamW(lr=1e-3, weight_decay=0.01).step(); zero_grad. `--warmup` untimed steps come first, then
`--steps` timed ones. Auxiliary heads (return, confidence, quantiles) are computed in forward but
not in the loss. Default PyTorch initialisation everywhere; the few raw parameters use the init
of the nn.Linear they stand for (uniform +-1/sqrt(fan_in)).

Output (--json): one line {"model", "device": "cpu-torch-<version>-<threads>t", "param_count",
"samples_per_s" = batch*steps/elapsed, "ms_per_step" = elapsed*1000/steps}.
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

K = 3  # classes


class HRM(nn.Module):
    """Two-timescale LSTM: the high cell ticks every `period` low steps."""

    def __init__(self, f, h, period=10, dropout=0.1):
        super().__init__()
        self.period = period
        self.low = nn.LSTMCell(f + h, h)
        self.high = nn.LSTMCell(h, h)
        self.norm = nn.LayerNorm(2 * h)
        self.drop = nn.Dropout(dropout)
        self.cls = nn.Linear(2 * h, K)
        self.ret = nn.Linear(2 * h, 1)

    def forward(self, x, symbol=None):
        b, t_len, _ = x.shape
        hl = cl = x.new_zeros(b, self.low.hidden_size)
        hh = ch = x.new_zeros(b, self.high.hidden_size)
        for t in range(t_len):
            hl, cl = self.low(torch.cat([x[:, t], hh], -1), (hl, cl))
            if (t + 1) % self.period == 0:
                hh, ch = self.high(hl, (hh, ch))
        z = self.drop(self.norm(torch.cat([hl, hh], -1)))
        return self.cls(z), self.ret(z)


class CnnLstm(nn.Module):
    """Conv stem + 2 residual conv blocks, LSTM, self-attention, mean/last pooling."""

    def __init__(self, f, h, blocks=2, heads=4, dropout=0.4):
        super().__init__()
        c = h
        self.stem = nn.Conv1d(f, c, 3, padding=1)
        self.stem_norm = nn.LayerNorm(c)
        self.convs = nn.ModuleList(nn.Conv1d(c, c, 3, padding=1) for _ in range(blocks))
        self.norms = nn.ModuleList(nn.LayerNorm(c) for _ in range(blocks))
        self.lstm = nn.LSTM(c, h, batch_first=True)
        self.attn = nn.MultiheadAttention(h, heads, dropout=dropout, batch_first=True)
        self.attn_norm = nn.LayerNorm(h)
        self.drop = nn.Dropout(dropout)
        self.fc1 = nn.Linear(2 * h, h)
        self.cls = nn.Linear(h, K)
        self.conf = nn.Linear(2 * h, 1)
        self.ret = nn.Linear(2 * h, 1)

    def forward(self, x, symbol=None):
        h = self.stem(x.transpose(1, 2)).transpose(1, 2)
        h = F.gelu(self.stem_norm(h))
        for conv, norm in zip(self.convs, self.norms):
            r = h
            h = conv(h.transpose(1, 2)).transpose(1, 2)
            h = self.drop(F.gelu(norm(h))) + r
        s, _ = self.lstm(h)
        a, _ = self.attn(s, s, s, need_weights=False)
        s = self.attn_norm(s + self.drop(a))
        pool = torch.cat([s.mean(1), s[:, -1]], -1)
        logits = self.cls(self.drop(F.gelu(self.fc1(pool))))
        return logits, torch.sigmoid(self.conf(pool)), self.ret(pool)


# ---------------------------------------------------------------- TFT
class GRN(nn.Module):
    def __init__(self, d_in, d_hid, d_out, d_ctx=None, dropout=0.2):
        super().__init__()
        self.skip = None if d_in == d_out else nn.Linear(d_in, d_out)
        self.w2 = nn.Linear(d_in, d_hid)
        self.w3 = None if d_ctx is None else nn.Linear(d_ctx, d_hid, bias=False)
        self.w1 = nn.Linear(d_hid, d_hid)
        self.w4 = nn.Linear(d_hid, d_out)
        self.w5 = nn.Linear(d_hid, d_out)
        self.norm = nn.LayerNorm(d_out)
        self.drop = nn.Dropout(dropout)

    def forward(self, a, c=None):
        skip = a if self.skip is None else self.skip(a)
        e2 = self.w2(a)
        if self.w3 is not None:
            e2 = e2 + self.w3(c)
        e1 = self.drop(self.w1(F.elu(e2)))
        return self.norm(skip + torch.sigmoid(self.w4(e1)) * self.w5(e1))


class GateAddNorm(nn.Module):
    def __init__(self, d, dropout=0.2):
        super().__init__()
        self.w4, self.w5 = nn.Linear(d, d), nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, y):
        y = self.drop(y)
        return self.norm(x + torch.sigmoid(self.w4(y)) * self.w5(y))


def _linear_init(shape, fan_in):
    bound = 1.0 / math.sqrt(fan_in)
    return nn.Parameter(torch.empty(shape).uniform_(-bound, bound))


class FeatureGRNs(nn.Module):
    """F independent GRN(d, d, d), batched: weights [F, d, d] applied with torch.einsum."""

    def __init__(self, n, d, dropout=0.2):
        super().__init__()
        self.w2, self.b2 = _linear_init((n, d, d), d), _linear_init((n, d), d)
        self.w1, self.b1 = _linear_init((n, d, d), d), _linear_init((n, d), d)
        self.w4, self.b4 = _linear_init((n, d, d), d), _linear_init((n, d), d)
        self.w5, self.b5 = _linear_init((n, d, d), d), _linear_init((n, d), d)
        self.gamma, self.beta = nn.Parameter(torch.ones(n, d)), nn.Parameter(torch.zeros(n, d))
        self.drop = nn.Dropout(dropout)

    @staticmethod
    def lin(a, w, b):  # a [..., F, d], w [F, out, in] (nn.Linear layout)
        return torch.einsum("...fi,foi->...fo", a, w) + b

    def forward(self, a):  # [B, T, F, d] -> [B, T, F, d]
        e1 = self.drop(self.lin(F.elu(self.lin(a, self.w2, self.b2)), self.w1, self.b1))
        y = a + torch.sigmoid(self.lin(e1, self.w4, self.b4)) * self.lin(e1, self.w5, self.b5)
        return F.layer_norm(y, y.shape[-1:]) * self.gamma + self.beta


class InterpretableMHA(nn.Module):
    """Per-head Q/K (fused into one Linear(d, heads*d_k), same init and count as per-head
    Linear(d, d_k)), one shared V = Linear(d, d_k), heads averaged, causal mask."""

    def __init__(self, d, heads=8, dropout=0.2):
        super().__init__()
        self.heads, self.dk = heads, d // heads
        self.q = nn.Linear(d, heads * self.dk)
        self.k = nn.Linear(d, heads * self.dk)
        self.v = nn.Linear(d, self.dk)
        self.out = nn.Linear(self.dk, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        b, t, _ = x.shape
        q = self.q(x).view(b, t, self.heads, self.dk).transpose(1, 2)  # [B, h, T, dk]
        k = self.k(x).view(b, t, self.heads, self.dk).transpose(1, 2)
        v = self.v(x).unsqueeze(1)  # [B, 1, T, dk]
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dk)
        mask = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
        a = self.drop(torch.softmax(scores.masked_fill(mask, float("-inf")), -1))
        return self.out((a @ v).mean(1))


class TFT(nn.Module):
    def __init__(self, f, d, heads=8, dropout=0.2, n_symbols=1, n_quantiles=3):
        super().__init__()
        self.embed = nn.Embedding(n_symbols, d)
        self.static = nn.ModuleList(GRN(d, d, d, dropout=dropout) for _ in range(4))
        self.vsn_w, self.vsn_b = _linear_init((f, d), 1), _linear_init((f, d), 1)
        self.feat_grns = FeatureGRNs(f, d, dropout)
        self.select = GRN(f * d, d, f, d_ctx=d, dropout=dropout)
        self.lstm = nn.LSTM(d, d, batch_first=True)
        self.lstm_gate = GateAddNorm(d, dropout)
        self.enrich = GRN(d, d, d, d_ctx=d, dropout=dropout)
        self.attn = InterpretableMHA(d, heads, dropout)
        self.attn_gate = GateAddNorm(d, dropout)
        self.post = GRN(d, d, d, dropout=dropout)
        self.final_gate = GateAddNorm(d, dropout)
        self.cls = nn.Linear(d, K)
        self.quant = nn.Linear(d, n_quantiles)

    def forward(self, x, symbol):
        t = x.shape[1]
        e = self.embed(symbol)  # [B, d]
        c_s, c_e, c_h, c_c = (g(e) for g in self.static)
        xi = x.unsqueeze(-1) * self.vsn_w + self.vsn_b  # [B, T, F, d]
        xt = self.feat_grns(xi)
        ctx = c_s.unsqueeze(1).expand(-1, t, -1)
        v = torch.softmax(self.select(xi.flatten(-2), ctx), -1)  # [B, T, F]
        phi0 = (v.unsqueeze(-1) * xt).sum(-2)  # [B, T, d]
        o, _ = self.lstm(phi0, (c_h.unsqueeze(0).contiguous(), c_c.unsqueeze(0).contiguous()))
        phi = self.lstm_gate(phi0, o)
        theta = self.enrich(phi, c_e.unsqueeze(1).expand(-1, t, -1))
        delta = self.attn_gate(theta, self.attn(theta))
        final = self.final_gate(phi, self.post(delta))
        last = final[:, -1]
        return self.cls(last), self.quant(last)


MODELS = {"hrm": HRM, "cnn-lstm": CnnLstm, "tft": TFT}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=sorted(MODELS), default="hrm")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seq", type=int, default=60)
    p.add_argument("--features", type=int, default=20)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = MODELS[args.model](args.features, args.hidden)
    x = torch.randn(args.batch, args.seq, args.features)  # synthetic
    y = torch.randint(0, K, (args.batch,))
    symbol = torch.zeros(args.batch, dtype=torch.long)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)

    def step():
        model.train()
        logits = model(x, symbol)[0]
        F.cross_entropy(logits, y).backward()
        opt.step()
        opt.zero_grad()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    elapsed = time.perf_counter() - start

    threads = torch.get_num_threads()
    out = {
        "model": args.model,
        "device": f"cpu-torch-{torch.__version__.split('+')[0]}-{threads}t",
        "param_count": sum(p.numel() for p in model.parameters()),
        "samples_per_s": args.batch * args.steps / elapsed,
        "ms_per_step": elapsed * 1000 / args.steps,
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{out['model']}: {out['param_count']} params on {out['device']}, batch {args.batch} "
              f"seq {args.seq} features {args.features} hidden {args.hidden}: "
              f"{out['samples_per_s']:.1f} samples/s, {out['ms_per_step']:.2f} ms/step")


if __name__ == "__main__":
    main()
