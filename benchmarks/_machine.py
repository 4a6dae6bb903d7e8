"""One-line description of the machine and of the libraries, for benchmark output."""

import os
import platform

import numpy as np


def describe(n_jobs=None):
    cpu, flags = platform.processor() or "cpu", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and cpu in ("cpu", "x86_64", ""):
                    cpu = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    simd = [f for f in ("avx2", "popcnt", "avx512f", "avx512_vpopcntdq") if f in flags]
    try:
        load = f"load average {os.getloadavg()[0]:.1f}"
    except OSError:
        load = ""
    import numba
    import sklearn

    return (
        f"machine: {cpu}, {os.cpu_count()} logical cores ({'+'.join(simd)}), "
        f"{load}; python {platform.python_version()}, numpy {np.__version__}, "
        f"numba {numba.__version__}, scikit-learn {sklearn.__version__}"
        + ("" if n_jobs is None else f"; n_jobs={n_jobs}")
    )
