#!/usr/bin/python3
"""The PyTorch side of `npm run bench -- vs-torch` (bench/vs-torch.ts drives it).

The same hypercleaning hypergradient as hypertape's, on the arrays hypertape exported to a folder
(manifest.json plus one raw little-endian file per array, written by bench/torch-export.ts):

    inner  g(W, lam) = (1/n) sum_i sigmoid(lam_i) CE(W x_i, y_i) + rho ||W||_F^2
    outer  f(W)      = (1/m) sum_j CE(W x_j, y_j) over the validation set
    W_0 = 0, W_{t+1} = W_t - gamma grad_W g(W_t, lam)   (grad_W g by autograd, T steps)

and the K-step truncated hypergradient h_{T-K} (K-RMD, eq. 8 of Shaban et al. 2019): the first
T - K steps run without a graph (each step's gradient by autograd, then detached), W is detached
at step T - K, and the last K steps are recorded with create_graph=True so that f can be
differentiated through them with respect to lam. K = T is full RMD (W_0 = 0 does not depend on
lam). float32 throughout.

Modes:
    vs_torch.py serve DIR           answer JSON requests, one per line on stdin:
        {"K": 5, "threads": 2, "out": "/path/h.f32"}  ->  {"ms": ..., "value": f, "threads": n}
        (h written to "out" if given); the first line printed is
        {"ready": true, "torch": version, "blas": library or null}
    vs_torch.py echo DIR OUT        read every array of DIR as this script does and write it back
                                    to OUT/<name>.bin in its dtype (the round-trip test; numpy only)
"""
import json
import os
import sys
import time

import numpy as np

FORMAT = "hypertape-vs-torch/1"
DTYPES = {"float32": np.float32, "uint8": np.uint8}


def fail(message):
    sys.stderr.write(f"vs_torch.py: {message}\n")
    sys.exit(2)


def load(folder):
    """The manifest's settings and arrays; every size checked against the declared shape and dtype."""
    path = os.path.join(folder, "manifest.json")
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: cannot read the manifest ({e}); bench/torch-export.ts writes it")
    if manifest.get("format") != FORMAT:
        fail(f"{path}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    arrays = {}
    for name, spec in manifest["arrays"].items():
        dtype = DTYPES.get(spec["dtype"])
        if dtype is None:
            fail(f"{path}: array {name} has dtype {spec['dtype']!r}, expected one of {sorted(DTYPES)}")
        file = os.path.join(folder, spec["file"])
        data = np.fromfile(file, dtype=np.dtype(dtype).newbyteorder("<"))
        count = int(np.prod(spec["shape"])) if spec["shape"] else 1
        if data.size != count:
            fail(f"{file}: {data.size} {spec['dtype']} values, expected {count} for shape {spec['shape']}")
        arrays[name] = data.reshape(spec["shape"]).astype(dtype, copy=False)
    return manifest["settings"], arrays


def echo(folder, out):
    _, arrays = load(folder)
    os.makedirs(out, exist_ok=True)
    for name, a in arrays.items():
        a.astype(a.dtype.newbyteorder("<")).tofile(os.path.join(out, f"{name}.bin"))


def blas_threads_setter():
    """openblas_set_num_threads of the OpenBLAS that torch loaded (torch.set_num_threads leaves it alone)."""
    import ctypes
    import re

    with open("/proc/self/maps") as f:
        libs = sorted(set(re.findall(r"(/\S*libopenblas\S*\.so\S*)", f.read())))
    for lib in libs:
        try:
            setter = ctypes.CDLL(lib).openblas_set_num_threads
            return lib, setter
        except (OSError, AttributeError):
            continue
    return None, None


def serve(folder):
    import torch
    import torch.nn.functional as F

    blas, set_blas_threads = blas_threads_setter()

    def use_threads(n):
        """n threads for torch's own kernels and for OpenBLAS's."""
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
        if set_blas_threads is not None:
            set_blas_threads(n)

    settings, arrays = load(folder)
    T, gamma, rho = int(settings["T"]), float(settings["gamma"]), float(settings["rho"])
    x_train = torch.from_numpy(arrays["xTrain"])  # [n, 785]
    y_train = torch.from_numpy(arrays["yTrain"].astype(np.int64))
    x_val = torch.from_numpy(arrays["xVal"])
    y_val = torch.from_numpy(arrays["yVal"].astype(np.int64))
    lam0 = torch.from_numpy(arrays["lambda"])
    classes = int(settings["classes"])

    def inner(W, lam):
        ce = F.cross_entropy(x_train @ W.t(), y_train, reduction="none")
        return (torch.sigmoid(lam) * ce).mean() + rho * (W * W).sum()

    def outer(W):
        return F.cross_entropy(x_val @ W.t(), y_val)

    def hypergradient(K):
        if not 1 <= K <= T:
            raise ValueError(f"K = {K} is outside 1..T = {T}")
        lam = lam0.clone().requires_grad_(True)
        W = torch.zeros(classes, x_train.shape[1])
        lam_const = lam.detach()
        for _ in range(T - K):  # untruncated steps: no graph kept
            W.requires_grad_(True)
            (gW,) = torch.autograd.grad(inner(W, lam_const), W)
            W = (W - gamma * gW).detach()
        W.requires_grad_(True)  # detached at T - K: the truncation
        for _ in range(K):  # the last K steps, recorded to be differentiated (second order)
            (gW,) = torch.autograd.grad(inner(W, lam), W, create_graph=True)
            W = W - gamma * gW
        f = outer(W)
        (h,) = torch.autograd.grad(f, lam)
        return f.item(), h

    print(json.dumps({"ready": True, "torch": torch.__version__, "blas": blas}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        if request.get("quit"):
            break
        try:
            use_threads(int(request["threads"]))
            t0 = time.perf_counter()
            value, h = hypergradient(int(request["K"]))
            ms = (time.perf_counter() - t0) * 1000
            if request.get("out"):
                h.detach().numpy().astype("<f4").tofile(request["out"])
            print(json.dumps({"ms": ms, "value": value, "threads": torch.get_num_threads()}), flush=True)
        except Exception as e:  # reported to the driver, which throws with this message
            print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "echo":
        echo(sys.argv[2], sys.argv[3])
    else:
        fail(f"usage: vs_torch.py serve DIR | vs_torch.py echo DIR OUT (got {sys.argv[1:]})")
