#include "edgevision/geometry.hpp"

#include <cmath>
#include <stdexcept>

namespace edgevision {

Transform::Matrix multiply(const Transform::Matrix& a, const Transform::Matrix& b) {
  Transform::Matrix r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) r[3 * i + j] += a[3 * i + k] * b[3 * k + j];
  return r;
}

Transform::Transform(const Matrix& matrix, Size src_size, Size dst_size, PixelRect content, bool half_pixel)
    : matrix_(matrix), src_size_(src_size), dst_size_(dst_size), content_(content), half_pixel_(half_pixel) {}

Transform::Transform(const Matrix& matrix, Size src_size, Size dst_size)
    : Transform(matrix, src_size, dst_size, PixelRect{0, 0, src_size.width, src_size.height}) {}

Transform::Matrix Transform::normalized_matrix() const {
  // Normalised u -> pixel coordinate u * size, less half a pixel for half-pixel-centred maps.
  const double shift = half_pixel_ ? 0.5 : 0.0;
  const Matrix to_src_pixels{double(src_size_.width), 0, -shift, 0, double(src_size_.height), -shift, 0, 0, 1};
  const Matrix to_dst_normalized{1.0 / dst_size_.width, 0, shift / dst_size_.width,
                                 0, 1.0 / dst_size_.height, shift / dst_size_.height, 0, 0, 1};
  return multiply(to_dst_normalized, multiply(matrix_, to_src_pixels));
}

Transform Transform::inverse() const {
  const Matrix& m = matrix_;
  const Matrix adjugate{
      m[4] * m[8] - m[5] * m[7], m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
      m[5] * m[6] - m[3] * m[8], m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
      m[3] * m[7] - m[4] * m[6], m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3],
  };
  const double det = m[0] * adjugate[0] + m[1] * adjugate[3] + m[2] * adjugate[6];
  if (!(std::abs(det) > 1e-300) || !std::isfinite(det)) throw std::domain_error("transform is not invertible");
  Matrix inv;
  for (int k = 0; k < 9; ++k) inv[k] = adjugate[k] / det;
  return Transform(inv, dst_size_, src_size_, PixelRect{0, 0, dst_size_.width, dst_size_.height}, half_pixel_);
}

bool Transform::is_affine() const { return matrix_[6] == 0.0 && matrix_[7] == 0.0 && matrix_[8] == 1.0; }

namespace {
template <class T>
void apply_matrix(const Transform::Matrix& m, const T* xy, T* out, size_t count) {
  for (size_t k = 0; k < count; ++k) {
    const double x = xy[2 * k], y = xy[2 * k + 1];
    const double w = m[6] * x + m[7] * y + m[8];
    out[2 * k] = static_cast<T>((m[0] * x + m[1] * y + m[2]) / w);
    out[2 * k + 1] = static_cast<T>((m[3] * x + m[4] * y + m[5]) / w);
  }
}
}  // namespace

template <class T>
void Transform::apply(const T* xy, T* out, size_t count) const {
  apply_matrix(matrix_, xy, out, count);
}

template <class T>
void Transform::apply_normalized(const T* xy, T* out, size_t count) const {
  apply_matrix(normalized_matrix(), xy, out, count);
}

template void Transform::apply<float>(const float*, float*, size_t) const;
template void Transform::apply<double>(const double*, double*, size_t) const;
template void Transform::apply_normalized<float>(const float*, float*, size_t) const;
template void Transform::apply_normalized<double>(const double*, double*, size_t) const;

}  // namespace edgevision
