"""Wires the unknown-face review into the main window: the collector on the live recogniser
(only when ``unknown_review`` is on) and the "Unknown faces" tab."""

from __future__ import annotations


def _learn(window) -> str:
    """Run `facelens learn` on the window's gallery; what it decided, in words."""
    from ..gallery.central_limits import LEARNING, is_central, not_on_central
    from ..openset.adapter import learn as learn_adapter
    from ..openset.adapter import save as save_adapter

    g, engine = window.gallery, window.engine
    if g is None or engine is None:
        return "Nothing to learn from yet"
    if is_central(g):
        return str(not_on_central(LEARNING))
    from ..errors import FaceLensError
    from ..openset.adapter import with_unknowns

    try:  # e.g. a locked or damaged gallery file: said in the panel, not lost in the slot
        g.set_adapter(None)
        data = with_unknowns(g.learning_data(), window.unknown_panel.store())
        w, report = learn_adapter(*data, window.controller.config.threshold)
        if w is not None:
            save_adapter(window.home, engine.model_id, w, report)
            g.set_adapter(w)
    except FaceLensError as exc:
        return f"Learning failed: {exc}"
    return ("Adapter applied: " if w is not None else "Adapter not applied: ") + report.why


def hook_unknowns(window):
    """After the engine and gallery are set: collect unknown faces and show the review tab
    (an UnknownReviewPanel) when the setting is on; None when it is off."""
    review, site = window.settings.unknown_review, window.settings.site_calibration
    if not (review or site) or window.controller is None:
        return None
    from ..openset.unknowns import UnknownCollector, UnknownStore
    from .unknown_review import UnknownReviewPanel

    store = UnknownStore.for_home(window.home, window.gallery,
                                  window.settings.unknown_retention_days)
    window.controller.pipeline.recogniser.unknown_sink = UnknownCollector(
        store, window.controller.config.threshold, keep_crops=review)
    if not review:  # site calibration only: embeddings, no images, no review tab
        return None
    panel = UnknownReviewPanel(lambda: store, lambda: window.gallery,
                               lambda: window.controller.config.threshold,
                               lambda: _learn(window))
    from ..gallery.central_limits import LEARNING, is_central, not_on_central

    if is_central(window.gallery):  # refused up front: the button says why
        panel.learn_button.setEnabled(False)
        panel.learn_button.setToolTip(str(not_on_central(LEARNING)))
    panel.changed.connect(lambda: (window.people.refresh(), window._gallery_changed()))
    panel.message.connect(lambda m: window.status.showMessage(m, 5000))
    window.tabs.addTab(panel, "Unknown faces")
    return panel


def follow_settings(window) -> None:
    """After Settings changed: start the review/collection when turned on, stop collecting
    when both are turned off (kept faces stay until forgotten or past retention)."""
    if window.controller is None:
        return
    recogniser = window.controller.pipeline.recogniser
    if not (window.settings.unknown_review or window.settings.site_calibration):
        recogniser.unknown_sink = None
    elif recogniser.unknown_sink is None or (window.settings.unknown_review
                                             and getattr(window, "unknown_panel", None) is None):
        window.unknown_panel = hook_unknowns(window)
