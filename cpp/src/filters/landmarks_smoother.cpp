#include <algorithm>
#include <limits>
#include <stdexcept>

#include "edgevision/filters.hpp"

namespace edgevision {

void LandmarksSmoother::apply(const MatrixView<float>& lm, int64_t t, std::optional<Size> image,
                              std::optional<float> object_scale, float* out) {
  const int64_t n = lm.rows, cols = lm.cols;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < cols; ++c) out[i * cols + c] = lm(i, c);
  if (n == 0) {
    reset();
    return;
  }
  if (bank_.size() != 0 && bank_.size() != 3 * n) throw std::length_error("landmark count changed");
  const int axes = static_cast<int>(std::min<int64_t>(cols, 3));
  // Landmarks in pixels, in float as MediaPipe converts them; z scales like x.
  const float sx = image ? static_cast<float>(image->width) : 1.0f;
  const float sy = image ? static_cast<float>(image->height) : 1.0f;
  const float scale[3] = {sx, sy, sx};
  values_.assign(static_cast<size_t>(3 * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int a = 0; a < axes; ++a) values_[3 * i + a] = image ? lm(i, a) * scale[a] : lm(i, a);

  float value_scale = 1.0f;
  if (!options_.disable_value_scaling) {
    float s;
    if (object_scale) {
      s = *object_scale;
    } else {  // mean of the pixel bounding box's width and height
      float x0 = std::numeric_limits<float>::max(), y0 = x0;
      float x1 = std::numeric_limits<float>::lowest(), y1 = x1;
      for (int64_t i = 0; i < n; ++i) {
        const float x = static_cast<float>(values_[3 * i]), y = static_cast<float>(values_[3 * i + 1]);
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      }
      s = ((x1 - x0) + (y1 - y0)) / 2.0f;
    }
    if (!(s >= options_.min_allowed_object_scale)) return;  // too small to scale by: pass through
    value_scale = 1.0f / s;
  }
  bank_.apply(t, value_scale, values_.data(), 3 * n);
  for (int64_t i = 0; i < n; ++i)
    for (int a = 0; a < axes; ++a) {
      const float v = static_cast<float>(values_[3 * i + a]);
      out[i * cols + a] = image ? v / scale[a] : v;
    }
}

void VisibilitySmoother::apply(const MatrixView<float>& lm, float* out) {
  for (int64_t i = 0; i < lm.rows; ++i)
    for (int64_t c = 0; c < lm.cols; ++c) out[i * lm.cols + c] = lm(i, c);
  if (lm.rows > 0) bank_.apply(out + 3, lm.rows, lm.cols);
}

}  // namespace edgevision
