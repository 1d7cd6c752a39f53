"""Write scripts/data/research-week.csv: one research group's week, minute by minute (seeded).

The week starts Monday 00:00. Weekdays: the researcher arrives between 08:30 and 09:30, leaves
between 17:00 and 19:00 and takes a lunch break; a Dask client is connected from the first
notebook cell to the end of the day, with 3 to 6 bursts of computation of 5 to 45 minutes that
ask for 4 to 40 workers. Wednesday evening a batch job runs from 18:30 to 22:30 (16 workers, no
one at the keyboard). Thursday the notebook is left open overnight: the client stays connected
until Friday morning, with no task. Saturday a 40-minute check with one short burst; Sunday
nothing. Columns: minute, clients, processing (tasks), adaptive_target (workers the work asks
for), busy_kernels, jupyter_activity (1 = a request from the user's browser that minute).
`--check` exits 1 when the recorded file differs from what the seed gives.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from pathlib import Path

SEED = 20261201
MINUTES_PER_DAY = 24 * 60
DAYS = 7
OUTPUT = Path(__file__).resolve().parent / "data" / "research-week.csv"
COLUMNS = ("minute", "clients", "processing", "adaptive_target", "busy_kernels", "jupyter_activity")


def empty_week() -> list[dict[str, int]]:
    return [{"minute": m, **{c: 0 for c in COLUMNS[1:]}} for m in range(DAYS * MINUTES_PER_DAY)]


def burst(week: list[dict[str, int]], start: int, length: int, workers: int) -> None:
    for row in week[start : start + length]:
        row.update(processing=2 * workers, adaptive_target=workers, busy_kernels=1)


def workday(week: list[dict[str, int]], rng: random.Random, day: int, open_until: int) -> None:
    base = day * MINUTES_PER_DAY
    arrive = base + 8 * 60 + 30 + rng.randrange(60)
    leave = base + 17 * 60 + rng.randrange(120)
    lunch = base + 12 * 60 + rng.randrange(30)
    lunch_end = lunch + 45 + rng.randrange(16)
    connect = arrive + 5 + rng.randrange(25)
    for minute in range(arrive, leave):
        at_desk = not lunch <= minute < lunch_end
        week[minute]["jupyter_activity"] = int(at_desk and rng.random() < 0.6)
    for row in week[connect : max(leave, open_until)]:
        row["clients"] = 1
    for _ in range(rng.randint(3, 6)):
        length = rng.randint(5, 45)
        start = rng.randrange(connect, leave - length)
        if not lunch - length <= start < lunch_end:
            burst(week, start, length, rng.randint(4, 40))


def build() -> list[dict[str, int]]:
    rng = random.Random(SEED)
    week = empty_week()
    friday_morning = 4 * MINUTES_PER_DAY + 9 * 60
    for day in range(5):
        workday(week, rng, day, open_until=friday_morning if day == 3 else 0)
    wednesday_job = 2 * MINUTES_PER_DAY + 18 * 60 + 30
    for row in week[wednesday_job : wednesday_job + 240]:
        row["clients"] = 1
    burst(week, wednesday_job, 240, 16)
    saturday = 5 * MINUTES_PER_DAY + 11 * 60 + rng.randrange(60)
    for row in week[saturday : saturday + 40]:
        row.update(clients=1, jupyter_activity=int(rng.random() < 0.7))
    burst(week, saturday + 10, 15, 8)
    return week


def as_csv(week: list[dict[str, int]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(week)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    args = parser.parse_args(argv)
    text = as_csv(build())
    if args.check:
        stale = not OUTPUT.exists() or OUTPUT.read_text() != text
        if stale:
            print(f"{OUTPUT}: stale; run python scripts/make_research_week.py", file=sys.stderr)
        return int(stale)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
