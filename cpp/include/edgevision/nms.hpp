// Non-maximum suppression over DetectionList-shaped data: greedy ("hard") and MediaPipe's
// weighted variant (NonMaxSuppressionCalculator, algorithm WEIGHTED).
#pragma once

#include <cstdint>
#include <vector>

#include "edgevision/detections.hpp"

namespace edgevision {

enum class NmsMethod { hard, weighted };

struct NmsOptions {
  float iou_threshold = 0.3f;  // a detection overlaps when IoU > threshold (strictly)
  NmsMethod method = NmsMethod::weighted;
  int64_t max_detections = -1;  // < 0: no limit
};

// Detections are visited by descending score, ties by ascending index (NaN scores last).
// IoU is MediaPipe's: 0 when the boxes do not intersect or a box is empty; float32.
//
// hard: a detection is kept unless it overlaps one already kept; kept ones are copied.
// weighted: the top remaining detection (the seed) takes every remaining detection that
// overlaps it, itself included; the output is the seed with its own score and the
// score-weighted mean of the cluster's boxes and keypoints. Stops when a seed does not
// overlap itself (zero-area box), as MediaPipe does. The means are float32 sums in index
// order (MediaPipe sums in score order, which would need a sort): equal to float32
// rounding.
//
// Output is in seed order. `seeds`, if given, receives the input index of each output.
void non_max_suppression(const DetectionsView& in, const NmsOptions& options, DetectionList& out,
                         std::vector<int64_t>* seeds = nullptr);

// Input indices by descending score, ties by ascending index, NaN scores last.
void order_by_score(const VectorView<float>& scores, std::vector<int64_t>& order);

}  // namespace edgevision
