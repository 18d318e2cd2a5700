"""Float64 NumPy reference of the counting module (Zhang, Hare &
Prügel-Bennett, ICLR 2018), one example and one entry at a time.

The piecewise-linear functions are written as the paper defines them (the
cumulative sum of the weights of the pieces left of x plus the fraction of
the piece x falls in), not as the layer computes them.
"""

import numpy as np


def piecewise(v, x):
    """f(x) = Σ_{p < ⌊Px⌋} w_p + (Px − ⌊Px⌋) w_⌊Px⌋, w = |v| / Σ|v|."""
    w = np.abs(v) / np.abs(v).sum()
    pieces = len(w)
    y = pieces * min(max(x, 0.0), 1.0)
    k = min(int(np.floor(y)), pieces)
    inside = (y - k) * w[k] if k < pieces else 0.0
    return w[:k].sum() + inside


def iou(p, q):
    """Intersection over union (+ 1e-12) of two (x1, y1, x2, y2) boxes."""
    w = max(min(p[2], q[2]) - max(p[0], q[0]), 0.0)
    h = max(min(p[3], q[3]) - max(p[1], q[1]), 0.0)
    area = lambda b: max(b[2] - b[0], 0.0) * max(b[3] - b[1], 0.0)
    return w * h / (area(p) + area(q) - w * h + 1e-12)


def count_one(boxes, a, functions, objects):
    """The weighted one-hot count [objects + 1] of one example.

    boxes [φ, 4]; a [φ] attention weights in [0, 1]; functions [8, P].
    """
    f = lambda i, x: piecewise(functions[i], x)
    keep = np.argsort(-a, kind="stable")[: min(objects, len(a))]
    a, boxes = a[keep], boxes[keep]
    n = len(a)
    d = np.array(
        [[1 - iou(boxes[i], boxes[j]) for j in range(n)] for i in range(n)]
    )
    score = np.array(
        [
            [f(0, a[i] * a[j]) * f(1, d[i, j]) for j in range(n)]
            for i in range(n)
        ]
    )
    x = np.array(
        [
            [f(3, a[i] * a[j]) * f(4, d[i, j]) for j in range(n)]
            for i in range(n)
        ]
    )
    s = np.ones((n, n))
    for i in range(n):
        for j in range(n):
            s[i, j] = f(2, 1 - abs(a[i] - a[j]))
            for k in range(n):
                s[i, j] *= f(2, 1 - abs(x[i, k] - x[j, k]))
    r = s.sum(axis=1)
    total = sum(
        score[i, j] / (r[i] * r[j]) for i in range(n) for j in range(n)
    )
    total += sum(f(0, a[i] * a[i]) / r[i] for i in range(n))
    c = min(max(np.sqrt(total + 1e-20), 0.0), objects)
    low = int(np.floor(c))
    one_hot = np.zeros(objects + 1)
    one_hot[low] += 1 - (c - low)
    if low < objects:
        one_hot[low + 1] += c - low
    a_conf = np.mean([abs(f(5, v) - 0.5) for v in a])
    d_conf = np.mean([abs(f(6, v) - 0.5) for v in d.ravel()])
    return one_hot * f(7, a_conf + d_conf)


def counter(boxes, attention, functions, objects, from_logits=True, mask=None):
    """Counts of a batch: boxes [B, φ, 4], attention [B, φ] -> [B, n + 1]."""
    out = []
    for b in range(len(boxes)):
        a = np.asarray(attention[b], np.float64)
        if from_logits:
            a = 1 / (1 + np.exp(-a))
        if mask is not None:
            a = np.where(mask[b], a, 0.0)
        out.append(count_one(boxes[b], a, functions, objects))
    return np.array(out)
