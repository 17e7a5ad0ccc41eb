"""Scoring a live run against a synthetic video's ground truth, face-frame by face-frame.

Each labelled frame's answers (box and name, or no name) are matched to the true faces of that
frame greedily by IoU. A face-frame is *correct* when its box overlaps the truth by IoU >= 0.5
and its label is right: the person's name for an enrolled person, no name for a stranger.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np

from .tracker import iou_matrix

IOU_GOOD = 0.5

Box = tuple[float, float, float, float]
TruthFrame = Sequence[tuple[str, Box]]  # (true label, box) per face
AnswerFrame = Sequence[tuple[Box, str | None]]  # (box, name or None) per face shown


def match_frame(truth: TruthFrame, answer: AnswerFrame) -> list[tuple[float, str | None, bool]]:
    """Per true face: (IoU with its matched answer, the answer's name, matched at all).

    Greedy matching by descending IoU; an answer is used once; unmatched faces get IoU 0.
    """
    t = np.array([b for _, b in truth], np.float32).reshape(-1, 4)
    a = np.array([b for b, _ in answer], np.float32).reshape(-1, 4)
    ious = iou_matrix(t, a)
    out: list[tuple[float, str | None, bool]] = [(0.0, None, False)] * len(truth)
    used_t: set[int] = set()
    used_a: set[int] = set()
    for flat in np.argsort(-ious, axis=None):
        ti, ai = (int(i) for i in np.unravel_index(flat, ious.shape))
        if ious[ti, ai] <= 0:
            break
        if ti in used_t or ai in used_a:
            continue
        used_t.add(ti)
        used_a.add(ai)
        out[ti] = (float(ious[ti, ai]), answer[ai][1], True)
    return out


def score_run(truth: Sequence[TruthFrame], answers: Mapping[int, AnswerFrame],
              enrolled: Collection[str]) -> dict:
    """Ground-truth figures of one run: `answers` maps frame index to what was shown on it.

    Only frames that were labelled count (their number is the loop's labelled rate); true
    faces whose label is not in `enrolled` are strangers, rightly shown without a name.
    """
    ious: list[float] = []
    right_name = correct = strangers = strangers_named = frames_right = extra = 0
    for fid, answer in answers.items():
        faces = truth[fid]
        matches = match_frame(faces, answer)
        frame_ok = sum(m[2] for m in matches) == len(answer)  # no box on nothing
        extra += len(answer) - sum(m[2] for m in matches)
        for (label, _), (iou, name, _) in zip(faces, matches, strict=True):
            stranger = label not in enrolled
            name_ok = name is None if stranger else name == label
            if stranger:
                strangers += 1
                strangers_named += name is not None
            ious.append(iou)
            right_name += name_ok
            ok = iou >= IOU_GOOD and name_ok
            correct += ok
            frame_ok = frame_ok and ok
        frames_right += frame_ok
    n = len(ious)

    def share(k: int, total: int) -> float | None:
        return round(k / total, 4) if total else None

    return {
        "face_frames": n,
        "iou_mean": round(float(np.mean(ious)), 4) if n else None,
        "iou_ge_05": share(sum(i >= IOU_GOOD for i in ious), n),
        "named_right": share(right_name, n),
        "strangers_named": share(strangers_named, strangers),
        "frames_all_right": share(frames_right, len(answers)),
        "correct_fraction": share(correct, n),
        "boxes_on_nothing": extra,
    }
