"""What a /stats picture costs: draw time and the memory matplotlib adds.

    .venv/bin/python bench/heatmap.py [DRAWS]

Measures, in one fresh process: the resident memory (RSS) before anything is drawn, after
importing the parts of matplotlib the heatmap uses, and after the first draw (fonts loaded);
then the time of the first draw and of DRAWS more (default 200) for a 26-week and a 52-week
calendar in Chinese, as p50 and p99. Prints figures; asserts nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.core.progress import ProgressService  # noqa: E402
from bot.pictures import heatmap  # noqa: E402

TODAY = dt.date(2026, 3, 20)


def rss_mib() -> float:
    """This process's resident set size now (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def spec(weeks: int, seed: int) -> heatmap.Heatmap:
    rng = random.Random(seed)
    days = [TODAY - dt.timedelta(days=n) for n in range(weeks * 7) if rng.random() < 0.6]
    service = ProgressService(store=None, bank=None, clock=None)  # type: ignore[arg-type]
    return service.calendar(days, TODAY, weeks, "zh", "当前连续 12 天 · 最长 40 天 · 本月 15 天")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    draws = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    base = rss_mib()
    start = time.perf_counter()
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401
    imported = time.perf_counter() - start
    after_import = rss_mib()
    start = time.perf_counter()
    png = heatmap.draw(spec(26, 0))
    first = time.perf_counter() - start
    after_first = rss_mib()
    print(f"RSS before matplotlib:          {base:7.1f} MiB")
    print(f"import matplotlib (figure, agg): {imported * 1000:6.0f} ms, "
          f"+{after_import - base:.1f} MiB")
    print(f"first draw (fonts loaded):      {first * 1000:6.0f} ms, "
          f"+{after_first - after_import:.1f} MiB, {len(png) / 1024:.1f} KiB PNG")
    for weeks in (26, 52):
        times = []
        for i in range(draws):
            picture = spec(weeks, i)
            start = time.perf_counter()
            heatmap.draw(picture)
            times.append(time.perf_counter() - start)
        width, height = heatmap.size(weeks)
        print(f"{weeks} weeks ({width}×{height}), {draws} draws: "
              f"p50 {percentile(times, 0.5) * 1000:.1f} ms, "
              f"p99 {percentile(times, 0.99) * 1000:.1f} ms, "
              f"mean {statistics.fmean(times) * 1000:.1f} ms; RSS then {rss_mib():.1f} MiB")
    # Drawing the same sizes again shows whether memory keeps growing or has levelled off.
    for i in range(draws):
        heatmap.draw(spec(26 if i % 2 else 52, i))
    print(f"RSS after {draws} more draws:   {rss_mib():7.1f} MiB "
          f"(+{rss_mib() - base:.1f} MiB over the start)")


if __name__ == "__main__":
    main()
