// Rect (a rotated box in pixels) and Transform (the sampling map between a tensor and an image).
#pragma once

#include <array>
#include <cstddef>

#include "edgevision/types.hpp"

namespace edgevision {

// Rotated rectangle: centre and size in pixels, rotation in radians (clockwise on screen).
struct Rect {
  double x_center = 0.0;
  double y_center = 0.0;
  double width = 0.0;
  double height = 0.0;
  double rotation = 0.0;
};

// Maps pixel coordinates of a source frame (a model tensor) to a destination frame (the
// image), pixel centres at integers. `content` is the part of the source that holds image
// content (the unpadded area of a letterbox).
//
// Normalised coordinates (0..1 across the frame's edges) follow the sampling the matrix came
// from: MediaPipe's ImageToTensor samples pixel j at the image position its ROI map gives j
// and defines its MATRIX as that same map scaled by the sizes (the default here); a
// half-pixel-centred resize (cv2.resize, `half_pixel`) maps continuous positions, so the
// normalised map is the pixel map conjugated by the half-pixel shift.
class Transform {
 public:
  using Matrix = std::array<double, 9>;  // row-major 3x3

  Transform(const Matrix& matrix, Size src_size, Size dst_size, PixelRect content, bool half_pixel = false);
  Transform(const Matrix& matrix, Size src_size, Size dst_size);

  const Matrix& matrix() const { return matrix_; }
  Size src_size() const { return src_size_; }
  Size dst_size() const { return dst_size_; }
  PixelRect content() const { return content_; }
  bool half_pixel() const { return half_pixel_; }

  // Maps (x / src_w, y / src_h) to (X / dst_w, Y / dst_h): MediaPipe's MATRIX convention.
  Matrix normalized_matrix() const;
  // Throws std::domain_error when the matrix is singular.
  Transform inverse() const;
  bool is_affine() const;

  // `xy` holds `count` interleaved (x, y) pairs; results may alias the input.
  template <class T>
  void apply(const T* xy, T* out, size_t count) const;
  template <class T>
  void apply_normalized(const T* xy, T* out, size_t count) const;

 private:
  Matrix matrix_;
  Size src_size_;
  Size dst_size_;
  PixelRect content_;
  bool half_pixel_ = false;
};

Transform::Matrix multiply(const Transform::Matrix& a, const Transform::Matrix& b);

}  // namespace edgevision
