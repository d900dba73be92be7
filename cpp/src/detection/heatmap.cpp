#include <algorithm>
#include <cmath>

#include "edgevision/landmarks.hpp"

namespace edgevision {

void refine_from_heatmap(const MatrixView<float>& lm, const HeatmapView& hm, int kernel_size, float min_confidence,
                         float* out, bool refine_presence, bool refine_visibility) {
  const int offset = (kernel_size - 1) / 2;
  const float W = static_cast<float>(hm.width), H = static_cast<float>(hm.height);
  for (int64_t i = 0; i < lm.rows; ++i) {
    float* d = out + i * lm.cols;
    for (int64_t c = 0; c < lm.cols; ++c) d[c] = lm(i, c);
    // MediaPipe truncates x*W toward zero and skips cells outside the map. Its check
    // compares the *column* with the height, so rows past the bottom are not skipped:
    // their window is clipped to the map (and empty from `offset` rows below it on).
    const float fx = d[0] * W, fy = d[1] * H;
    if (!(fx > -1.0f && fx < W && fy > -1.0f)) continue;  // NaN skips too
    if (!(fy < H + offset)) continue;                      // window empty: nothing to refine
    const int col = static_cast<int>(fx), row = static_cast<int>(fy);
    if (col >= hm.height) continue;
    const int col0 = std::max(0, col - offset), col1 = std::min(hm.width, col + offset + 1);
    const int row0 = std::max(0, row - offset), row1 = std::min(hm.height, row + offset + 1);
    const int channel = static_cast<int>(i);
    float sum = 0.0f, weighted_col = 0.0f, weighted_row = 0.0f, peak = 0.0f;
    for (int r = row0; r < row1; ++r) {
      for (int q = col0; q < col1; ++q) {
        const float confidence = 1.0f / (1.0f + std::exp(-hm.at(r, q, channel)));
        sum += confidence;
        peak = std::max(peak, confidence);
        weighted_col += q * confidence;
        weighted_row += r * confidence;
      }
    }
    if (peak >= min_confidence && sum > 0.0f) {
      d[0] = weighted_col / W / sum;
      d[1] = weighted_row / H / sum;
    }
    // A landmark the heatmap is not confident about is probably absent, hence not visible.
    if (refine_presence && sum > 0.0f) d[4] = std::min(d[4], peak);
    if (refine_visibility && sum > 0.0f) d[3] = std::min(d[3], peak);
  }
}

}  // namespace edgevision
