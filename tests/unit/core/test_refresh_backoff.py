"""The auto-refresh policy: soon while things change, doubling while nothing does or the listing
fails, from the start again on F5, nothing while no image is left to finish."""

from __future__ import annotations

import pytest

from qamera_desktop.core.refresh_backoff import (
    FAILED_MAX_DELAY,
    FIRST_DELAY,
    MAX_DELAY,
    RefreshBackoff,
)


def quiet_refreshes(backoff: RefreshBackoff, revision: int, count: int) -> list[float | None]:
    """`count` successful refreshes that all show `revision` while images are unfinished."""
    return [backoff.next_delay(revision, failed=False, unfinished=True) for _ in range(count)]


def test_the_defaults_are_three_seconds_up_to_thirty():
    backoff = RefreshBackoff()
    assert (backoff.first, backoff.maximum, backoff.growth) == (3.0, 30.0, 2.0)
    assert (FIRST_DELAY, MAX_DELAY, FAILED_MAX_DELAY) == (3.0, 30.0, 10.0)
    assert backoff.failed_maximum == 10.0
    assert backoff.delay == 3.0


def test_the_first_listing_counts_as_a_change():
    backoff = RefreshBackoff()
    assert backoff.next_delay(0, failed=False, unfinished=True) == 3.0


def test_waits_double_while_nothing_changes_up_to_the_maximum():
    backoff = RefreshBackoff()
    assert backoff.next_delay(5, failed=False, unfinished=True) == 3.0
    assert quiet_refreshes(backoff, 5, 5) == [6.0, 12.0, 24.0, 30.0, 30.0]
    assert backoff.delay == 30.0


def test_a_change_brings_the_wait_back_to_the_first():
    backoff = RefreshBackoff()
    backoff.next_delay(1, failed=False, unfinished=True)
    quiet_refreshes(backoff, 1, 3)
    assert backoff.delay == 24.0
    assert backoff.next_delay(2, failed=False, unfinished=True) == 3.0
    assert backoff.next_delay(2, failed=False, unfinished=True) == 6.0


def test_failures_back_off_even_when_the_revision_moved_but_only_up_to_ten_seconds():
    backoff = RefreshBackoff()
    backoff.next_delay(1, failed=False, unfinished=True)
    assert backoff.next_delay(1, failed=True, unfinished=True) == 6.0
    # shoot tracking changed the images meanwhile: the failed listing still backs off
    assert backoff.next_delay(2, failed=True, unfinished=True) == 10.0
    # however long the server stays away, its return is seen within ten seconds (the bug: 30 s,
    # after the client's own 15 s of retries)
    assert [backoff.next_delay(2, failed=True, unfinished=True) for _ in range(5)] == [10.0] * 5
    # it works again: that revision was seen already, so nothing changed
    assert backoff.next_delay(2, failed=False, unfinished=True) == 20.0
    assert backoff.next_delay(2, failed=False, unfinished=True) == 30.0
    assert backoff.next_delay(3, failed=False, unfinished=True) == 3.0


def test_a_failure_after_long_quiet_waits_comes_back_to_ten_seconds():
    backoff = RefreshBackoff()
    quiet_refreshes(backoff, 1, 6)
    assert backoff.delay == 30.0
    assert backoff.next_delay(1, failed=True, unfinished=True) == 10.0


def test_the_failed_ceiling_stays_between_first_and_maximum():
    assert RefreshBackoff(first=0.05, maximum=0.2).failed_maximum == 0.2
    assert RefreshBackoff(first=5.0, maximum=30.0, failed_maximum=1.0).failed_maximum == 5.0


def test_no_next_refresh_while_nothing_is_unfinished_but_the_wait_is_kept():
    backoff = RefreshBackoff()
    assert backoff.next_delay(1, failed=False, unfinished=False) is None
    assert backoff.next_delay(1, failed=False, unfinished=False) is None
    assert backoff.delay == 6.0
    # a shoot starts: the refresh after it comes at the grown pace unless something changed
    assert backoff.next_delay(1, failed=False, unfinished=True) == 12.0
    assert backoff.next_delay(2, failed=False, unfinished=True) == 3.0


def test_a_refresh_the_user_asked_for_starts_from_the_first_again():
    backoff = RefreshBackoff()
    backoff.next_delay(1, failed=False, unfinished=True)
    quiet_refreshes(backoff, 1, 4)
    assert backoff.delay == 30.0
    backoff.user_refreshed()
    assert backoff.delay == 3.0
    # the user's refresh itself changed nothing: the wait after it grows from the first
    assert backoff.next_delay(1, failed=False, unfinished=True) == 6.0


def test_a_new_filter_makes_its_first_listing_a_change():
    backoff = RefreshBackoff()
    backoff.next_delay(7, failed=False, unfinished=True)
    quiet_refreshes(backoff, 7, 3)
    assert backoff.delay == 24.0
    backoff.query_changed()
    # the new filter's listing may happen to land on the same revision number: still a change
    assert backoff.next_delay(7, failed=False, unfinished=True) == 3.0
    assert backoff.next_delay(7, failed=False, unfinished=True) == 6.0


def test_a_new_filter_whose_first_listing_fails_still_backs_off():
    backoff = RefreshBackoff()
    backoff.next_delay(1, failed=False, unfinished=True)
    backoff.query_changed()
    assert backoff.next_delay(1, failed=True, unfinished=True) == 6.0


def test_custom_first_maximum_and_growth():
    backoff = RefreshBackoff(first=0.5, maximum=2.0, growth=1.5)
    assert backoff.next_delay(1, failed=False, unfinished=True) == 0.5
    assert quiet_refreshes(backoff, 1, 5) == [0.75, 1.125, 1.6875, 2.0, 2.0]


def test_growth_of_one_keeps_a_steady_pace():
    backoff = RefreshBackoff(first=4.0, maximum=4.0, growth=1.0)
    assert quiet_refreshes(backoff, 1, 3) == [4.0, 4.0, 4.0]


@pytest.mark.parametrize(
    ("first", "maximum", "growth"),
    [(0.0, 30.0, 2.0), (-1.0, 30.0, 2.0), (31.0, 30.0, 2.0), (3.0, 30.0, 0.5)],
)
def test_nonsense_settings_are_refused(first, maximum, growth):
    with pytest.raises(ValueError, match=r"first|growth"):
        RefreshBackoff(first=first, maximum=maximum, growth=growth)
