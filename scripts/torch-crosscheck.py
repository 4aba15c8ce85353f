#!/usr/bin/env python3
"""Cross-check golden files against PyTorch (float64, CPU). Optional developer tool.

    python3 scripts/torch-crosscheck.py [--rtol 1e-10] [--verbose] [golden/*.json ...]

Needs `torch` in the Python it runs under (e.g. a venv with the PyPI wheel); the
package and its tests never use it. For each case of each file it calls the matching
torch.nn.functional loss in float64 with the case's options, input, target, var and
upstream, computes grad_input / grad_target with autograd where the case expects them,
and compares with the file's expected values by the golden rule (shapes equal, nan and
infinities at the same positions, max|a - e| <= rtol * max|e| over finite positions).
A case with `expected_error` passes when torch raises. Every disagreement is printed;
the documented deliberate deviations (SEMANTICS.md, README "Deviations") show up here
as disagreements by design and are labelled when recognised.
"""
import argparse
import glob
import json
import math
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def tensor(spec, requires_grad=False):
    data = [float(v) if isinstance(v, str) else v for v in spec["data"]]
    if spec["dtype"] == "int":
        return torch.tensor(data, dtype=torch.int64).reshape(spec["shape"])
    t = torch.tensor(data, dtype=torch.float64).reshape(spec["shape"])
    if requires_grad:
        t.requires_grad_(True)
    return t


def call(loss, opts, x, y, var):
    r = opts.get("reduction", "mean")
    w = tensor(opts["weight"]) if "weight" in opts else None
    if loss == "mse":
        return F.mse_loss(x, y, reduction=r)
    if loss == "l1":
        return F.l1_loss(x, y, reduction=r)
    if loss == "huber":
        return F.huber_loss(x, y, reduction=r, delta=opts.get("delta", 1.0))
    if loss == "smooth_l1":
        return F.smooth_l1_loss(x, y, reduction=r, beta=opts.get("beta", 1.0))
    if loss == "bce":
        return F.binary_cross_entropy(x, y, weight=w, reduction=r)
    if loss == "bce_with_logits":
        pw = tensor(opts["pos_weight"]) if "pos_weight" in opts else None
        return F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw, reduction=r)
    if loss == "cross_entropy":
        return F.cross_entropy(x, y, weight=w, ignore_index=opts.get("ignore_index", -100), reduction=r,
                               label_smoothing=opts.get("label_smoothing", 0.0))
    if loss == "nll":
        return F.nll_loss(x, y, weight=w, ignore_index=opts.get("ignore_index", -100), reduction=r)
    if loss == "kl_div":
        return F.kl_div(x, y, reduction=r, log_target=opts.get("log_target", False))
    if loss == "poisson_nll":
        return F.poisson_nll_loss(x, y, log_input=opts.get("log_input", True), full=opts.get("full", False),
                                  eps=opts.get("eps", 1e-8), reduction=r)
    if loss == "gaussian_nll":
        return F.gaussian_nll_loss(x, y, var, full=opts.get("full", False), eps=opts.get("eps", 1e-6), reduction=r)
    raise ValueError(f"unknown loss {loss}")


def compare(actual, spec, rtol):
    """None if `actual` matches the expected tensor `spec` by the golden rule, else a reason."""
    exp = [float(v) if isinstance(v, str) else float(v) for v in spec["data"]]
    if list(actual.shape) != list(spec["shape"]):
        return f"shape {list(actual.shape)} vs expected {spec['shape']}"
    act = actual.detach().reshape(-1).tolist()
    scale = max([abs(e) for e in exp if math.isfinite(e)] or [0.0])
    worst, where = 0.0, None
    for i, (a, e) in enumerate(zip(act, exp)):
        if math.isnan(e) or math.isinf(e) or not math.isfinite(a):
            same = (math.isnan(e) and math.isnan(a)) or (math.isinf(e) and a == e)
            if not same:
                return f"[{i}]: torch {a} vs expected {e} (non-finite position)"
            continue
        if abs(a - e) > worst:
            worst, where = abs(a - e), i
    if worst > rtol * scale:
        return f"[{where}]: torch {act[where]!r} vs expected {exp[where]!r}, max|a-e|/max|e| = {worst / scale if scale else math.inf:.3g}"
    return None


def run_case(loss, case, rtol):
    opts = dict(case.get("options", {}))
    want = case.get("expected", {})
    x = tensor(case["input"], requires_grad="grad_input" in want)
    y = tensor(case["target"], requires_grad="grad_target" in want and case["target"]["dtype"] == "float")
    var = tensor(case["var"]) if "var" in case else None
    if "expected_error" in case:
        try:
            out = call(loss, opts, x, y, var)
            if "upstream" in case:  # a wrong upstream shape fails in the backward pass
                x.requires_grad_(True)
                out = call(loss, opts, x, y, var)
                torch.autograd.grad(out, [x], grad_outputs=tensor(case["upstream"]))
        except Exception as error:  # torch raises RuntimeError/ValueError for bad input
            return None, f"raises ({type(error).__name__})"
        return f"expected a {case['expected_error']} error; torch returns", None
    try:
        out = call(loss, opts, x, y, var)
    except Exception as error:
        return f"torch raises {type(error).__name__}: {str(error).splitlines()[0]}", None
    problems = []
    reason = compare(out, want["output"], rtol)
    if reason:
        problems.append("output " + reason)
    grads = [(name, t) for name, t in (("grad_input", x), ("grad_target", y)) if name in want]
    if grads:
        up = tensor(case["upstream"]) if "upstream" in case else torch.ones_like(out)
        got = torch.autograd.grad(out, [t for _, t in grads], grad_outputs=up, allow_unused=True)
        for (name, t), g in zip(grads, got):
            g = torch.zeros_like(t) if g is None else g
            reason = compare(g, want[name], rtol)
            if reason:
                problems.append(name + " " + reason)
    return ("; ".join(problems) or None), None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="*")
    parser.add_argument("--rtol", type=float, default=1e-10)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    files = args.files or sorted(glob.glob("golden/*.json"))
    total = disagreements = 0
    for path in files:
        with open(path) as f:
            doc = json.load(f)
        for case in doc["cases"]:
            total += 1
            problem, note = run_case(doc["loss"], case, args.rtol)
            if problem:
                disagreements += 1
                print(f"DIFF {path}: {case['name']}: {problem}")
            elif args.verbose:
                print(f"ok   {path}: {case['name']}{' ' + note if note else ''}")
    print(f"{total} cases, {disagreements} disagreements with torch {torch.__version__} (rtol {args.rtol:g})")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
