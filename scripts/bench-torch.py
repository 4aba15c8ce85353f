#!/usr/bin/env python3
"""PyTorch CPU timings of the `losscheck bench` workloads. Optional developer tool.

    python3 scripts/bench-torch.py [--threads 1] [--runs 7] [--workload W1 ...]

Needs `torch` in the Python that runs it; nothing in the package uses it. Same sizes,
data ranges and options as docs/benchmarks.md, float32, reduction mean (kl_div
batchmean). Each workload: value + input gradient (forward, then autograd.grad of the
scalar), inputs created before timing, one warm-up, then the median and min wall time
of --runs runs, in milliseconds. Run it next to `losscheck bench` in the same quiet
window to put the two side by side.
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F


def workloads():
    g = torch.Generator().manual_seed(1)
    n = 1 << 24

    def uniform(shape, lo, hi):
        return torch.rand(shape, generator=g) * (hi - lo) + lo

    def elementwise(fn):
        x, y = uniform([n], -3, 3), uniform([n], -3, 3)
        return lambda: (x, lambda xx: fn(xx, y))

    def ce(rows, cols, smoothing=0.0, ignored=0.1):
        x = uniform([rows, cols], -4, 4)
        y = torch.randint(0, cols, [rows], generator=g)
        if ignored:
            y[torch.rand([rows], generator=g) < ignored] = -100
        return lambda: (x, lambda xx: F.cross_entropy(xx, y, label_smoothing=smoothing))

    def bce_logits():
        x = uniform([1 << 14, 1 << 10], -8, 8)
        y = (torch.rand([1 << 14, 1 << 10], generator=g) < 0.5).float()
        return lambda: (x, lambda xx: F.binary_cross_entropy_with_logits(xx, y))

    def bce():
        p = uniform([n], 2 ** -10, 1 - 2 ** -10)
        y = (torch.rand([n], generator=g) < 0.5).float()
        return lambda: (p, lambda xx: F.binary_cross_entropy(xx, y))

    def nll():
        x = torch.log_softmax(uniform([1 << 20, 10], -4, 4), dim=1)
        y = torch.randint(0, 10, [1 << 20], generator=g)
        return lambda: (x, lambda xx: F.nll_loss(xx, y))

    def kl():
        x = torch.log_softmax(uniform([4096, 1000], -4, 4), dim=1)
        t = torch.softmax(uniform([4096, 1000], -4, 4), dim=1)
        return lambda: (x, lambda xx: F.kl_div(xx, t, reduction="batchmean"))

    return {
        "W1": elementwise(F.mse_loss),
        "W2": elementwise(F.l1_loss),
        "W3": elementwise(lambda a, b: F.huber_loss(a, b, delta=1.0)),
        "W4": elementwise(lambda a, b: F.smooth_l1_loss(a, b, beta=1.0)),
        "W5": bce_logits(),
        "W6": bce(),
        "W7": ce(4096, 32000),
        "W8": ce(4096, 32000, smoothing=0.1),
        "W9": ce(1 << 20, 10, ignored=0),
        "W10": nll(),
        "W11": kl(),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--workload", action="append")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), float32, value + input gradient, ms")
    print(f"{'workload':8} {'median':>9} {'min':>9}")
    for name, make in workloads().items():
        if args.workload and name not in args.workload:
            continue
        x, fn = make()
        x = x.detach().requires_grad_(True)

        def once():
            loss = fn(x)
            torch.autograd.grad(loss, [x])

        once()
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            once()
            times.append((time.perf_counter() - start) * 1e3)
        print(f"{name:8} {statistics.median(times):9.1f} {min(times):9.1f}")


if __name__ == "__main__":
    main()
