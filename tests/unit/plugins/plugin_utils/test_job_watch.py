# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The um_jobs event source's watermark on a fake job list and a fake clock: nothing here sleeps or talks HTTP."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from ansible_collections.aiqum.jobs.plugins.plugin_utils._job_watch import (
    Mark,
    Pacer,
    StateError,
    load_state,
    save_state,
)
from ansible_collections.aiqum.jobs.plugins.module_utils._table import parse_time

T0 = 1_800_000_000.0  # an epoch second in 2027
LATER = T0 + 3600.0  # a clock after every job of a test (jobs end in the past)


def iso(ts: float, offset_minutes: int = 0) -> str:
    tz = dt.timezone(dt.timedelta(minutes=offset_minutes))
    return dt.datetime.fromtimestamp(ts, tz).isoformat(timespec="milliseconds")


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeList:
    """UM's job list as the source reads it: ended jobs, newest first, in pages read lazily.

    `between_pages` runs before every page after the first (to change the list mid-look), `fail_on_page`
    raises instead of answering that page. `pages` counts the pages actually requested.
    """

    def __init__(self, page_size: int = 3) -> None:
        self.jobs: list[dict] = []
        self.page_size = page_size
        self.pages = 0
        self.between_pages = None
        self.fail_on_page: int | None = None

    def end(self, key: str, ts: float, offset_minutes: int = 0, **extra) -> dict:
        job = {"key": key, "complete_time": iso(ts, offset_minutes), "state": "completed", **extra}
        self.jobs.append(job)
        return job

    def _sorted(self) -> list[dict]:
        # Newest first; ties keep creation order reversed, like the simulator.
        return [j for _i, j in sorted(enumerate(self.jobs), key=lambda p: (parse_time(p[1]["complete_time"]) or 0.0, p[0]),
                                      reverse=True)]

    def records(self):
        offset = 0
        page_no = 0
        while True:
            if page_no and self.between_pages:
                self.between_pages(page_no)
            if self.fail_on_page == page_no:
                raise ConnectionError(f"page {page_no} lost")
            page = self._sorted()[offset:offset + self.page_size]
            self.pages += 1
            page_no += 1
            yield from page
            if len(page) < self.page_size:
                return
            offset += len(page)


def keys(look) -> list[str]:
    return [r["key"] for r in look.new]


def test_parse_time_reads_offsets_as_instants():
    assert parse_time("2019-11-15T09:57:18.000+05:30") == parse_time("2019-11-15T04:27:18Z")
    assert parse_time("2019-11-15T04:27:18.250+00:00") == pytest.approx(parse_time("2019-11-15T04:27:18Z") + 0.25)
    assert parse_time("2019-11-15T04:27:18-0100") == parse_time("2019-11-15T05:27:18+00:00")
    for bad in (None, "", "yesterday", "2019-13-45T00:00:00Z", 1573791438, "2019-11-15"):
        assert parse_time(bad) is None, bad


def test_first_look_reports_nothing_then_each_new_job_once():
    um = FakeList()
    for i in range(5):
        um.end(f"old{i}", T0 + i)
    mark = Mark("complete_time", lookback=10, clock=FakeClock())
    first = mark.look(um.records())
    assert first.baseline and keys(first) == []
    assert keys(mark.look(um.records())) == []
    um.end("new1", T0 + 20)
    um.end("new2", T0 + 21)
    assert keys(mark.look(um.records())) == ["new1", "new2"]  # oldest first
    assert keys(mark.look(um.records())) == []


def test_first_look_on_an_empty_list_then_everything_is_new():
    um = FakeList()
    mark = Mark("complete_time", lookback=5, clock=FakeClock())
    assert mark.look(um.records()).baseline
    um.end("a", T0)
    um.end("b", T0 - 3600)  # ended long ago by its own clock, but appeared after the start: report it
    assert sorted(keys(mark.look(um.records()))) == ["a", "b"]


def test_jobs_ending_in_the_same_second_are_neither_lost_nor_repeated():
    um = FakeList(page_size=2)
    um.end("base", T0)
    # No lookback at all: only the keys seen at the watermark protect.
    mark = Mark("complete_time", lookback=0, clock=FakeClock(LATER))
    mark.look(um.records())
    um.end("a", T0 + 5)
    um.end("b", T0 + 5)
    assert keys(mark.look(um.records())) == ["a", "b"]
    # Two more jobs end in that same second and appear in the list later (over two pages, with a and b).
    um.end("c", T0 + 5)
    um.end("d", T0 + 5)
    assert sorted(keys(mark.look(um.records()))) == ["c", "d"]
    assert keys(mark.look(um.records())) == []
    assert set(mark.seen) == {"a", "b", "c", "d"}


def test_a_job_listed_late_within_the_lookback_is_reported():
    um = FakeList()
    um.end("base", T0)
    mark = Mark("complete_time", lookback=30, clock=FakeClock())
    mark.look(um.records())
    um.end("quick", T0 + 40)
    assert keys(mark.look(um.records())) == ["quick"]
    um.end("slow-to-show", T0 + 15)  # ended before "quick" but became visible only now
    assert keys(mark.look(um.records())) == ["slow-to-show"]


def test_once_the_lookback_has_passed_a_quiet_look_is_one_small_page():
    clock = FakeClock(LATER)
    um = FakeList(page_size=3)
    um.end("base", T0)
    mark = Mark("complete_time", lookback=30, clock=clock)
    mark.look(um.records())
    for i in range(10):  # a burst: ten jobs end within the lookback of each other
        um.end(f"burst{i}", T0 + 100 + i)
    assert len(keys(mark.look(um.records()))) == 10
    um.pages = 0
    clock.advance(5)
    assert keys(mark.look(um.records())) == []
    assert um.pages == 4  # still inside the lookback: the whole burst is read again (and not reported)
    clock.advance(30)
    mark.look(um.records())  # the lookback has passed: the window closes on the newest job
    um.pages = 0
    assert keys(mark.look(um.records())) == []
    assert um.pages == 1 and mark.since == T0 + 109 and list(mark.seen) == ["burst9"]
    um.end("same-second", T0 + 109)  # still found: the key seen at the watermark protects the tie
    um.end("next", T0 + 200)
    assert keys(mark.look(um.records())) == ["same-second", "next"]


def test_many_new_jobs_over_several_pages_each_once_and_no_page_more_than_needed():
    um = FakeList(page_size=3)
    for i in range(10):
        um.end(f"old{i}", T0 + i)
    mark = Mark("complete_time", lookback=0, clock=FakeClock(LATER))
    mark.look(um.records())
    assert um.pages == 1  # the first look needs the newest record only
    um.pages = 0
    for i in range(8):
        um.end(f"new{i}", T0 + 100 + i)
    assert keys(mark.look(um.records())) == [f"new{i}" for i in range(8)]
    # 8 new ones, old9 (at the watermark, seen) and old8 (older: the look stops there): 10 records, 4 pages.
    assert um.pages == 4
    um.pages = 0
    assert keys(mark.look(um.records())) == []
    assert um.pages == 1  # a quiet look is one request


def test_pages_shifting_during_a_look_neither_lose_nor_repeat():
    um = FakeList(page_size=2)
    um.end("base", T0)
    mark = Mark("complete_time", lookback=0, clock=FakeClock())
    mark.look(um.records())
    for i in range(4):
        um.end(f"n{i}", T0 + 10 + i)
    arrivals = iter(["late1", "late2"])

    def a_job_ends(_page_no):
        key = next(arrivals, None)
        if key:
            um.end(key, T0 + 50)  # pushes every record one place down: the next page repeats one

    um.between_pages = a_job_ends
    first = keys(mark.look(um.records()))
    assert sorted(first) == ["n0", "n1", "n2", "n3"]  # seen once although listed twice
    um.between_pages = None
    assert sorted(keys(mark.look(um.records()))) == ["late1", "late2"]
    assert keys(mark.look(um.records())) == []


def test_a_look_that_fails_half_way_changes_nothing():
    um = FakeList(page_size=2)
    um.end("base", T0)
    mark = Mark("complete_time", lookback=0, clock=FakeClock())
    mark.look(um.records())
    for i in range(5):
        um.end(f"n{i}", T0 + 10 + i)
    before = mark.to_dict()
    um.fail_on_page = 1
    with pytest.raises(ConnectionError):
        mark.look(um.records())
    assert mark.to_dict() == before
    um.fail_on_page = None
    assert keys(mark.look(um.records())) == [f"n{i}" for i in range(5)]


def test_unreadable_records_are_skipped_and_counted():
    um = FakeList()
    um.end("base", T0)
    mark = Mark("complete_time", lookback=0, clock=FakeClock())
    mark.look(um.records())
    um.end("ok", T0 + 3)
    broken = [{"key": "no-time", "state": "completed"}, {"complete_time": iso(T0 + 4)}, "not a record"]

    def records():
        yield from broken
        yield from um.records()

    look = mark.look(records())
    assert keys(look) == ["ok"] and look.unreadable == 3


def test_offsets_do_not_confuse_the_order():
    um = FakeList()
    um.end("base", T0, offset_minutes=330)
    mark = Mark("complete_time", lookback=0, clock=FakeClock())
    mark.look(um.records())
    # One second later, written in another offset: its text sorts before the base's, its instant after.
    um.end("later", T0 + 1, offset_minutes=-300)
    assert keys(mark.look(um.records())) == ["later"]


def test_replay_window_on_a_first_start_uses_the_clock():
    clock = FakeClock(T0 + 1000)
    um = FakeList()
    um.end("too-old", T0 + 1000 - 700)
    um.end("recent1", T0 + 1000 - 500)
    um.end("recent2", T0 + 1000 - 10)
    mark = Mark("complete_time", lookback=60, clock=clock)
    mark.replay(600)
    assert keys(mark.look(um.records())) == ["recent1", "recent2"]
    clock.advance(30)
    um.end("next", clock.now)
    assert keys(mark.look(um.records())) == ["next"]


def test_seen_keys_stay_bounded_by_the_lookback():
    um = FakeList(page_size=50)
    um.end("base", T0)
    mark = Mark("complete_time", lookback=10, clock=FakeClock(LATER))
    mark.look(um.records())
    for i in range(100):
        um.end(f"j{i}", T0 + i)
        mark.look(um.records())
    assert len(mark.seen) <= 11
    assert mark.since == T0 + 99 - 10


def test_state_survives_a_restart_without_repeats_and_without_losses(tmp_path):
    path = str(tmp_path / "um_jobs.json")
    um = FakeList(page_size=2)
    um.end("base", T0)
    mark = Mark("complete_time", lookback=5, clock=FakeClock())
    mark.look(um.records())
    for key in ("a", "b", "c"):
        um.end(key, T0 + 10)
    assert keys(mark.look(um.records())) == ["a", "b", "c"]
    save_state(path, {"ended": mark.to_dict()})
    assert [p.name for p in tmp_path.iterdir()] == ["um_jobs.json"]  # no temporary file left behind
    # The rulebook is stopped; more jobs end in the same second and later.
    um.end("d", T0 + 10)
    um.end("e", T0 + 12)
    saved = load_state(path)
    assert saved["format"] == 1
    again = Mark.from_dict(saved["ended"], "complete_time", 5, FakeClock())
    assert keys(again.look(um.records())) == ["d", "e"]
    assert keys(again.look(um.records())) == []


def test_state_file_errors_say_what_to_do(tmp_path):
    assert load_state(str(tmp_path / "missing.json")) is None
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(StateError, match="cannot be read.*delete it to start from now"):
        load_state(str(bad))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": 99}))
    with pytest.raises(StateError, match="not written by this event source"):
        load_state(str(other))
    with pytest.raises(ValueError, match="seen is not a map"):
        Mark.from_dict({"time_field": "complete_time", "seen": ["a"]}, "complete_time", 5)
    with pytest.raises(ValueError, match="no mark for complete_time"):
        Mark.from_dict({"time_field": "submit_time", "seen": {}}, "complete_time", 5)
    with pytest.raises(StateError, match="cannot be written.*folder the rulebook may write to"):
        save_state(str(tmp_path / "no-such-dir" / "s.json"), {})


def test_save_state_replaces_atomically(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    save_state(str(path), {"ended": {"n": 1}})

    def broken_replace(_src, _dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StateError, match="No space left on device"):
        save_state(str(path), {"ended": {"n": 2}})
    assert json.loads(path.read_text())["ended"] == {"n": 1}  # the old state is intact
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_pacer_keeps_the_interval_from_the_start_of_each_look_and_counts_failures():
    clock = FakeClock()
    pacer = Pacer(interval=10, max_delay=60, clock=clock)
    pacer.starting()
    clock.advance(3)  # the look took 3 s
    assert pacer.ok() == 7
    pacer.starting()
    clock.advance(12)  # a slow look: the next one follows at once
    assert pacer.ok() == 0
    assert [pacer.failed() for _failure in range(5)] == [1, 2, 3, 4, 5]  # the delay is _retry.decide's
    pacer.starting()
    assert pacer.ok() == 10 and pacer.failures == 0
    assert pacer.failed() == 1  # a new outage starts small again


def test_a_job_dated_in_the_future_does_not_hide_the_later_ones():
    """Issue 18: one job dated a day ahead moved the watermark and silently hid every later job."""
    um = FakeList(page_size=50)
    um.end("base", T0)
    clock = FakeClock(T0 + 10)
    mark = Mark("complete_time", lookback=5, clock=clock)
    mark.look(um.records())
    um.end("ahead", T0 + 86400)
    assert keys(mark.look(um.records())) == ["ahead"]
    assert mark.newest <= clock(), "the watermark never passes the present"
    for i in range(3):
        clock.advance(10)
        um.end(f"later{i}", clock() - 1)
        assert keys(mark.look(um.records())) == [f"later{i}"]
    assert "ahead" in mark.seen, "the future job is not reported again"


def test_a_record_with_an_impossible_offset_is_skipped_not_fatal():
    """Issue 18: one record with a bad time offset (ValueError from a second parser) made every look fail."""
    um = FakeList(page_size=50)
    um.end("base", T0)
    mark = Mark("complete_time", lookback=0, clock=FakeClock(LATER))
    mark.look(um.records())
    um.jobs.append({"key": "bad", "complete_time": "2027-01-15T08:00:00.000+25:00", "state": "completed"})
    um.end("good", T0 + 5)
    found = mark.look(um.records())
    assert keys(found) == ["good"] and found.unreadable == 1
    assert parse_time("2027-01-15T08:00:00.000+25:00") is None and parse_time("2027-02-30T00:00:00Z") is None
