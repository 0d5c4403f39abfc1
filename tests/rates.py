"""The rate a server saw: what the tests of politeness assert on arrival times."""

from __future__ import annotations

# The scheduling noise between the client letting a request go and the server reading it: a few ms
# on a quiet machine, up to ~30 ms seen on a loaded 2-core CI machine.
ARRIVAL_NOISE_S = 0.05


def assert_rate(arrivals: list[float], rate: float) -> None:
    """Over every run of consecutive requests, k gaps take at least k / rate seconds.

    The server stamps arrival times, so one late stamp shortens the gap after it (one late
    stamp made a single gap 23 ms at 20 req/s, another 225 ms at 4 req/s). Noise does not add
    up along a run, only its two ends count, so the bound stays tight over longer runs: at 20
    req/s a limiter 1.5x too fast fails within 4 gaps, one 1.1x too fast within 12.
    """
    times = sorted(arrivals)
    for i in range(len(times)):
        for j in range(i + 1, len(times)):
            assert times[j] - times[i] >= (j - i) / rate - ARRIVAL_NOISE_S, (i, j, times[j] - times[i])
