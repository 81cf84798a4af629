"""Times `implicit`'s CPU iALS (conjugate gradient) on a CSR matrix written by bench/ials/run.ts.

Dev-only: run by `npx tsx bench/ials/run.ts --against implicit`, never by the product.

    python3 bench/ials/implicit_epoch.py DIR --factors 64 --iterations 3 --threads 2 \
        --regularization 20 --alpha 25 --cg-steps 3

DIR holds meta.json ({"rows", "cols", "nnz"}) and little-endian indptr.i32, indices.i32,
values.f32. Prints one JSON line: implicit's version, seconds and CPU seconds per iteration.
"""

import argparse
import json
import os
import sys
import time

# One BLAS thread: implicit's own threads do the work (it warns otherwise), as ours do.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import implicit  # noqa: E402
from implicit.cpu.als import AlternatingLeastSquares  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--regularization", type=float, default=20.0)
    parser.add_argument("--alpha", type=float, default=25.0)
    parser.add_argument("--cg-steps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    with open(os.path.join(args.dir, "meta.json"), encoding="utf-8") as file:
        meta = json.load(file)
    indptr = np.fromfile(os.path.join(args.dir, "indptr.i32"), dtype="<i4")
    indices = np.fromfile(os.path.join(args.dir, "indices.i32"), dtype="<i4")
    values = np.fromfile(os.path.join(args.dir, "values.f32"), dtype="<f4")
    if len(indptr) != meta["rows"] + 1 or len(indices) != meta["nnz"] or len(values) != meta["nnz"]:
        sys.exit(f"{args.dir}: array lengths do not match meta.json {meta}")
    user_items = scipy.sparse.csr_matrix(
        (values, indices, indptr), shape=(meta["rows"], meta["cols"])
    )

    model = AlternatingLeastSquares(
        factors=args.factors,
        regularization=args.regularization,
        alpha=args.alpha,
        dtype=np.float32,
        use_native=True,
        use_cg=True,
        iterations=args.iterations,
        calculate_training_loss=False,
        num_threads=args.threads,
        random_state=args.seed,
    )
    model.cg_steps = args.cg_steps

    seconds: list[float] = []
    cpu_seconds: list[float] = []
    cpu_at = [time.process_time()]

    def on_iteration(_iteration: int, elapsed: float, _loss: object) -> None:
        # implicit times each iteration itself (both half-steps, YᵀY included); CPU time is ours.
        seconds.append(elapsed)
        now = time.process_time()
        cpu_seconds.append(now - cpu_at[0])
        cpu_at[0] = now

    with threadpool_limits(limits=1, user_api="blas"):
        cpu_at[0] = time.process_time()
        model.fit(user_items, show_progress=False, callback=on_iteration)

    print(
        json.dumps(
            {
                "version": implicit.__version__,
                "seconds": seconds,
                "cpuSeconds": cpu_seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
