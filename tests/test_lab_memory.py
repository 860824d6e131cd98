"""The kernel hands freed memory back to the system (churn_research.lab.return_freed_memory):
each check runs in a fresh interpreter, with and without the setting, so that the test shows
the difference it makes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# frees every other one of 100 arrays of 2 MB after a 20 MB one was freed: by default glibc
# then serves the 2 MB arrays from its heap and keeps the holes they leave
_SCRIPT = """
import json, sys
import numpy as np

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024

done = None
if sys.argv[1] == "on":
    from churn_research.lab import return_freed_memory
    done = return_freed_memory()
import pyarrow as pa
first = np.ones(20_000_000 // 8)
del first
before = rss()
arrays = [np.ones(2_000_000 // 8) for _ in range(100)]
arrays = arrays[1::2]
print(json.dumps({"done": done, "held_mb": rss() - before,
                  "arrow_pool": pa.default_memory_pool().backend_name}))
"""


def _run(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _SCRIPT, mode], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_freed_arrays_go_back_to_the_system():
    off, on = _run("off"), _run("on")
    assert on["done"] == {"malloc": True, "arrow": True}
    # 50 arrays of 2 MB are still held: about 100 MB with the setting, about twice that without
    assert 80 <= on["held_mb"] <= 130, on
    assert off["held_mb"] >= on["held_mb"] + 60, (off, on)
    assert on["arrow_pool"] == "system"
    assert off["arrow_pool"] != "system"
