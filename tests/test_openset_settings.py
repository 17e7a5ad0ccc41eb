"""Settings: the false-accept rate chooser shows the threshold in force and what it costs."""

from __future__ import annotations

import pytest

from facelens.settings import Settings, SettingsError

pytest.importorskip("pytestqt")


def _dialog(qtbot, settings: Settings, size: int):
    from facelens.app.settings_dialog import SettingsDialog
    from facelens.modelpack.pack import source_manifest

    default = source_manifest("lite")["calibration"]["threshold"]
    d = SettingsDialog(settings, default, None, "/tmp", pack="lite", gallery_size=size)
    qtbot.addWidget(d)
    return d


def test_rate_sets_the_threshold_and_says_what_it_costs(qtbot):
    d = _dialog(qtbot, Settings(), 50)
    assert d.far_row.far() == 0.001  # the default operating point
    strict_text = d.meaning.text()
    assert "In force: threshold" in strict_text and "1 stranger in 1,000" in strict_text
    assert "misses" in strict_text
    strict = d.threshold
    d.far_row.choice.setCurrentIndex(d.far_row.choice.findData(0.01))
    assert d.threshold < strict  # a looser rate, a lower threshold
    assert "1 stranger in 100 " in d.meaning.text()
    out = d.result_settings()
    assert out.far == 0.01 and out.threshold is None


def test_threshold_rises_with_the_gallery(qtbot):
    small, large = _dialog(qtbot, Settings(), 5), _dialog(qtbot, Settings(), 500)
    assert large.threshold > small.threshold


def test_raw_threshold_for_experts(qtbot):
    d = _dialog(qtbot, Settings(), 50)
    d.slider.setValue(72)
    assert d.far_row.far() is None
    out = d.result_settings()
    assert out.threshold == 0.72
    assert "threshold 0.720" in d.meaning.text()


def test_bad_far_in_settings_file_is_refused(tmp_path):
    (tmp_path / "settings.json").write_text('{"far": 3}')
    with pytest.raises(SettingsError, match="far"):
        Settings.load(tmp_path)


def test_unknown_review_and_site_calibration_are_opt_in(qtbot):
    d = _dialog(qtbot, Settings(), 5)
    assert not d.unknown_review.isChecked() and not d.site_calibration.isChecked()
    d.unknown_review.setChecked(True)
    out = d.result_settings()
    assert out.unknown_review is True and out.site_calibration is False
