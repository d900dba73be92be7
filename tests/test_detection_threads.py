"""Decode, NMS and heatmap refinement release the GIL: concurrent calls give the
single-threaded results."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from edgevision.kernels import DetectionDecoder, decode_detections, nms, refine_from_heatmap, ssd_anchors

ANCHORS = ssd_anchors(input_size=(224, 224), strides=(8, 16, 32, 32, 32), min_scale=0.1484375, max_scale=0.75)


def test_concurrent_calls_match_sequential(rng):
    decoder = DetectionDecoder(ANCHORS, scale=224, num_keypoints=4, min_score=0.5)
    jobs = []
    for t in range(4):
        boxes = rng.normal(0, 20, (1, 2254, 12)).astype(np.float32)
        scores = rng.normal(-1 + t, 3, (1, 2254, 1)).astype(np.float32)
        lm = rng.uniform(0, 1, (39, 5)).astype(np.float32)
        hm = rng.normal(0, 3, (1, 64, 64, 39)).astype(np.float32)

        def job(boxes=boxes, scores=scores, lm=lm, hm=hm):
            dets = decode_detections(boxes, scores, ANCHORS, scale=224, num_keypoints=4, min_score=0.5)
            return [dets.boxes, nms(dets).boxes, nms(dets, method="hard").keypoints, decoder(boxes, scores).boxes,
                    refine_from_heatmap(lm, hm)]

        jobs.append(job)
    expected = [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [(t, pool.submit(jobs[t])) for _ in range(5) for t in range(4)]
        for t, future in futures:
            for want, got in zip(expected[t], future.result()):
                np.testing.assert_array_equal(got, want)
