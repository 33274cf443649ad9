# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scripted fake UM itself: an answer a test scripted but no request took fails that test (at teardown)."""

from __future__ import annotations

import pytest

from ansible_collections.aiqum.jobs.tests.unit.um_fakes import FakeClock, FakeUM

LUNS = "/storage-provider/luns"


def test_a_scripted_answer_left_unused_fails():
    um = FakeUM(FakeClock())
    um.script("POST", LUNS, (202, {"job": {"key": "1:2:3:4"}}), (202, {"job": {"key": "5:6:7:8"}}))
    um.send("POST", "https://um/api" + LUNS, LUNS, None, {"name": "lun1"}, 5.0, False)
    with pytest.raises(AssertionError) as err:
        um.assert_scripted_used()
    assert "scripted answers never asked for: POST /storage-provider/luns:" in str(err.value)
    assert "5:6:7:8" in str(err.value) and "1:2:3:4" not in str(err.value)


def test_every_scripted_answer_used_passes():
    um = FakeUM(FakeClock())
    um.script("DELETE", LUNS, (202, {"job": {"key": "1:2:3:4"}}))
    um.send("DELETE", "https://um/api" + LUNS, LUNS, None, None, 5.0, False)
    um.assert_scripted_used()
