#include "edgevision/landmarks.hpp"

#include <algorithm>
#include <cmath>

namespace edgevision {

namespace {
inline float activate(Activation a, float v) { return a == Activation::sigmoid ? 1.0f / (1.0f + std::exp(-v)) : v; }

void copy_row(const MatrixView<float>& m, int64_t r, float* out) {
  for (int64_t c = 0; c < m.cols; ++c) out[c] = m(r, c);
}
}  // namespace

void decode_landmarks(const float* raw, const LandmarkDecoding& o, float* out) {
  const int cols = std::min(o.dims, 5);
  const float w = static_cast<float>(o.input_size.width), h = static_cast<float>(o.input_size.height);
  for (int i = 0; i < o.num_landmarks; ++i) {
    const float* v = raw + static_cast<int64_t>(i) * o.dims;
    float* d = out + static_cast<int64_t>(i) * cols;
    d[0] = o.normalize ? v[0] / w : v[0];
    if (cols > 1) d[1] = o.normalize ? v[1] / h : v[1];
    if (cols > 2) d[2] = o.normalize ? v[2] / w / o.normalize_z : v[2];
    if (cols > 3) d[3] = activate(o.visibility, v[3]);
    if (cols > 4) d[4] = activate(o.presence, v[4]);
  }
}

void project_landmarks(const MatrixView<float>& lm, const Rect& rect, Size image, float* out) {
  const double c = std::cos(rect.rotation), s = std::sin(rect.rotation);
  const double w = rect.width / image.width, h = rect.height / image.height;
  const double cx = rect.x_center / image.width, cy = rect.y_center / image.height;
  for (int64_t i = 0; i < lm.rows; ++i) {
    float* d = out + i * lm.cols;
    copy_row(lm, i, d);
    const double x = lm(i, 0) - 0.5, y = lm(i, 1) - 0.5;
    d[0] = static_cast<float>((c * x - s * y) * w + cx);
    d[1] = static_cast<float>((s * x + c * y) * h + cy);
    if (lm.cols > 2) d[2] = static_cast<float>(lm(i, 2) * w);
  }
}

void project_world_landmarks(const MatrixView<float>& lm, double rotation, float* out) {
  const double c = std::cos(rotation), s = std::sin(rotation);
  for (int64_t i = 0; i < lm.rows; ++i) {
    float* d = out + i * lm.cols;
    copy_row(lm, i, d);
    const double x = lm(i, 0), y = lm(i, 1);
    d[0] = static_cast<float>(c * x - s * y);
    d[1] = static_cast<float>(s * x + c * y);
  }
}

}  // namespace edgevision
