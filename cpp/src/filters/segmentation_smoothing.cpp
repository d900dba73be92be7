#include <algorithm>

#include "edgevision/filters.hpp"
#include "flush_denormals.hpp"

namespace edgevision {

void segmentation_smoothing(const PlaneView<float>& prev, const PlaneView<float>& cur, float ratio, float* out) {
  const FlushDenormals flush_denormals;
  // Polynomial fit of the squared uncertainty in terms of (p - 0.5)^2 (MediaPipe's constants).
  const float c1 = 5.68842f, c2 = -0.748699f, c3 = -57.8051f, c4 = 291.309f, c5 = -624.717f;
  for (int i = 0; i < cur.height; ++i) {
    const float* p_row = cur.data + i * cur.row_stride;
    const float* q_row = prev.data + i * prev.row_stride;
    float* o = out + static_cast<int64_t>(i) * cur.width;
    for (int j = 0; j < cur.width; ++j) {
      const float p = p_row[j * cur.col_stride], q = q_row[j * prev.col_stride];
      const float t = p - 0.5f;
      const float x = t * t;
      const float u = 1.0f - std::min(1.0f, x * (c1 + x * (c2 + x * (c3 + x * (c4 + x * c5)))));
      o[j] = p + (q - p) * (u * ratio);
    }
  }
}

}  // namespace edgevision
