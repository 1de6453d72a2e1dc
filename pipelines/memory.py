"""Memory of the crawl and of every process it started (extraction workers, the fork server).

Why: the crawl must stay flat in memory over long runs, and with extraction in worker processes
the crawl process's own peak is no longer the whole story. Figures go to the crawl stats:

- ``tomtalks/memory/crawl_peak_rss_mb``: the kernel's peak RSS of the crawl process (getrusage);
- ``tomtalks/memory/workers_peak_rss_mb``: the highest peak RSS of one extraction worker, and
  ``…_sum``: those peaks added up (what the workers would take if all peaked at once);
- ``tomtalks/memory/tree_peak_rss_mb`` / ``tree_peak_pss_mb``: the largest total over the crawl
  process and all its descendants at one moment, sampled every ``interval`` seconds. RSS counts
  pages shared between processes once per process; PSS splits them, so it is the fair total.

Process figures come from ``/proc`` (Linux). Elsewhere only the getrusage figures exist (psutil
is not a dependency).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import sys
from pathlib import Path

PROC = Path("/proc")
MB = 1024 * 1024
#: glibc ``mallopt`` parameters (malloc.h).
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8
#: Blocks at least this large get their own mapping, returned to the system when freed.
MMAP_THRESHOLD = 128 * 1024


def tune_malloc() -> bool:
    """Keep page-sized buffers from fragmenting the heap (glibc only; a no-op elsewhere).

    A crawl allocates and frees megabytes of page text per second (bodies, decoded text, pickles,
    gzip). glibc serves blocks over 128 KiB with ``mmap`` at first, but raises that threshold each
    time one is freed, after which such blocks come from the heap, whose freed holes are seldom given
    back: the resident size creeps up with every large page. A fixed threshold keeps them mapped and
    returned on free; one arena per process (instead of one per thread) keeps the store's writer
    thread from growing a heap of its own.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # not glibc (musl has no mallopt)
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_ARENA_MAX, 1))


def self_peak_rss_bytes() -> int:
    """Peak RSS of this process: the kernel's ``VmHWM`` where there is ``/proc``.

    Not ``getrusage``'s ``ru_maxrss`` on Linux: it keeps the peak of the process image *before* the
    last ``exec``, which for a process started with fork + exec is the peak of its launcher (a
    benchmark holding thousands of pages reported its own size as the crawl's).
    """
    hwm = status_kb(os.getpid(), "VmHWM").get("VmHWM")
    if hwm:
        return hwm * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def children_peak_rss_bytes() -> int:
    """Peak RSS of the largest child already waited for (getrusage reports the maximum, not a sum)."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def descendants(pid: int) -> list[int]:
    """Every living process under ``pid`` (children, their children, …).

    From ``/proc/<pid>/task/<tid>/children`` where the kernel has it (cheap: only this tree is read),
    else from the parent field of every ``/proc/*/stat``.
    """
    if not (PROC / str(pid) / "task").is_dir():
        return []
    if not any((PROC / str(pid) / "task").glob("*/children")):
        return _descendants_by_scan(pid)
    found, stack = [], [pid]
    while stack:
        parent = stack.pop()
        for children in (PROC / str(parent) / "task").glob("*/children"):
            try:
                pids = [int(child) for child in children.read_text().split()]
            except (OSError, ValueError):
                continue  # the process ended while we looked
            found.extend(pids)
            stack.extend(pids)
    return found


def _descendants_by_scan(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in PROC.glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the process ended while we looked
        parents.setdefault(int(fields[1]), []).append(int(entry.parent.name))
    found, stack = [], [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def status_kb(pid: int, *keys: str) -> dict[str, int]:
    """Fields of ``/proc/<pid>/status`` in kB (``VmRSS``, ``VmHWM``…); empty when the process is gone."""
    values: dict[str, int] = {}
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in keys:
                values[name] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        return {}
    return values


def pss_kb(pid: int) -> int | None:
    """Proportional set size of ``pid`` (shared pages divided among their users), if the kernel tells."""
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class MemoryMonitor:
    """Samples the crawl's process tree; ``figures()`` gives the stats, in MB."""

    def __init__(self, pid: int | None = None) -> None:
        self.pid = pid or os.getpid()
        self.available = (PROC / str(self.pid) / "status").exists()
        self.tree_peak_rss_kb = 0
        self.tree_peak_pss_kb = 0
        self.process_peak_kb: dict[int, int] = {}  # pid → VmHWM last seen (the kernel's own peak)
        self.samples = 0

    def sample(self) -> None:
        if not self.available:
            return
        rss_total = pss_total = 0
        pss_known = True
        for pid in [self.pid, *descendants(self.pid)]:
            status = status_kb(pid, "VmRSS", "VmHWM")
            if not status:
                continue
            rss_total += status.get("VmRSS", 0)
            if pid != self.pid:
                self.process_peak_kb[pid] = max(status.get("VmHWM", 0), self.process_peak_kb.get(pid, 0))
            pss = pss_kb(pid)
            pss_known = pss_known and pss is not None
            pss_total += pss or 0
        self.samples += 1
        self.tree_peak_rss_kb = max(self.tree_peak_rss_kb, rss_total)
        if pss_known:
            self.tree_peak_pss_kb = max(self.tree_peak_pss_kb, pss_total)

    def figures(self, worker_peaks_kb: dict[int, int]) -> dict[str, float]:
        """Stats in MB. ``worker_peaks_kb``: each extraction worker's peak as it reported it."""
        peaks = {**self.process_peak_kb}
        for pid, peak in worker_peaks_kb.items():
            peaks[pid] = max(peak, peaks.get(pid, 0))
        workers = [peaks[pid] for pid in worker_peaks_kb]
        figures = {
            "crawl_peak_rss_mb": self_peak_rss_bytes() / MB,
            "workers": len(workers),
            "workers_peak_rss_mb": max(workers, default=0) / 1024,
            "workers_peak_rss_mb_sum": sum(workers) / 1024,
            "other_children_peak_rss_mb_sum": sum(v for pid, v in peaks.items() if pid not in worker_peaks_kb) / 1024,
        }
        if self.samples:
            figures["tree_peak_rss_mb"] = self.tree_peak_rss_kb / 1024
            if self.tree_peak_pss_kb:
                figures["tree_peak_pss_mb"] = self.tree_peak_pss_kb / 1024
        return {name: round(value, 1) for name, value in figures.items()}
