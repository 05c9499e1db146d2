"""The registry lock on a local SQLite registry file, with real contender processes."""

from __future__ import annotations

import sqlite3

from tests.support import lock_scenarios as scenarios


def test_contenders_never_overlap_and_race_safely_to_create_the_lock(registry, tmp_path):
    scenarios.mutual_exclusion(registry, tmp_path, procs=4, rounds=2)


def test_held_lock_times_out_refuses_and_passes_on_after_the_holder_is_killed(registry):
    scenarios.held_lock(registry)


def test_each_ticket_is_judged_by_the_ttl_its_holder_recorded(registry):
    scenarios.different_ttls(registry)


def test_a_holder_stopped_past_its_ttl_loses_the_lock_before_its_next_write(registry):
    scenarios.stopped(registry)


def test_sigterm_and_ctrl_c_release_the_lock_at_once(registry):
    scenarios.terminated(registry)


def test_holder_cut_off_from_the_database_is_told_before_its_next_write(registry, tmp_path):
    """Another connection holds SQLite's exclusive lock: the holder's heartbeats hang."""
    blocker = sqlite3.connect(registry.extra["db"], isolation_level=None, check_same_thread=False)

    def block() -> None:
        blocker.execute("BEGIN EXCLUSIVE")

    def unblock() -> None:
        blocker.execute("ROLLBACK")

    try:
        scenarios.lost_when_unreachable(registry, tmp_path, block, unblock)
    finally:
        blocker.close()
