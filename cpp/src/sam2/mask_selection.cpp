// Which of the decoder's mask tokens the image predictor returns (MaskDecoder.forward and
// _dynamic_multimask_via_stability).
#include <cmath>

#include "edgevision/sam2.hpp"

namespace edgevision {

float sam2_stability_score(const PlaneView<float>& logits, float delta) {
  int64_t intersection = 0, union_ = 0;
  for (int i = 0; i < logits.height; ++i) {
    const float* row = logits.data + i * logits.row_stride;
    int32_t above = 0, above_lower = 0;  // per row: no int64 in the (vectorised) inner loop
    if (logits.col_stride == 1) {
      for (int j = 0; j < logits.width; ++j) {
        above += row[j] > delta;
        above_lower += row[j] > -delta;
      }
    } else {
      for (int j = 0; j < logits.width; ++j) {
        const float v = row[j * logits.col_stride];
        above += v > delta;
        above_lower += v > -delta;
      }
    }
    intersection += above;
    union_ += above_lower;
  }
  // float32 counts divided in float32, as the reference does.
  return union_ > 0 ? static_cast<float>(intersection) / static_cast<float>(union_) : 1.0f;
}

Sam2Selection sam2_select_mask(const Sam2MaskStack& logits, const float* iou, int64_t iou_stride,
                               const Sam2SelectOptions& options) {
  Sam2Selection s;
  bool stability_known = false;
  if (logits.count > 1) {
    // argmax over the multimask tokens: first maximum, NaN counting as the largest (torch.argmax).
    int best = 1;
    for (int k = 2; k < logits.count; ++k) {
      const float a = iou[k * iou_stride], b = iou[best * iou_stride];
      if (!std::isnan(b) && (a > b || std::isnan(a))) best = k;
    }
    s.token = best;
    if (!options.multimask) {
      const float stability = sam2_stability_score(logits.plane(0), options.stability_delta);
      if (stability >= options.stability_threshold) {
        s.token = 0;
        s.stability = stability;
        stability_known = true;
      }
    }
  }
  s.score = iou[s.token * iou_stride];
  if (!stability_known) s.stability = sam2_stability_score(logits.plane(s.token), options.stability_delta);
  return s;
}

}  // namespace edgevision
