// SSD anchors as MediaPipe's SsdAnchorsCalculator builds them.
#pragma once

#include <cstdint>
#include <vector>

#include "edgevision/types.hpp"

namespace edgevision {

struct AnchorOptions {
  Size input_size;           // (width, height) of the model input
  std::vector<int> strides;  // one per layer; consecutive equal strides share one grid
  float min_scale = 0.1484375f;
  float max_scale = 0.75f;
  std::vector<float> aspect_ratios{1.0f};
  float offset_x = 0.5f;
  float offset_y = 0.5f;
  bool fixed_anchor_size = true;
  float interpolated_scale_aspect_ratio = 1.0f;  // <= 0: no interpolated anchor
  bool reduce_boxes_in_lowest_layer = false;
};

// Number of anchors `ssd_anchors` writes.
int64_t anchor_count(const AnchorOptions& options);

// Writes anchor_count() rows of (x_center, y_center, width, height), normalised, in
// MediaPipe's order: per stride group, cells row-major, then the group's anchors per cell.
void ssd_anchors(const AnchorOptions& options, float* out);

}  // namespace edgevision
