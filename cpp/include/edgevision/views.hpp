// Strided read-only views of small float arrays (detector heads, landmark lists, boxes), so
// kernels read numpy views in place. Strides are in elements and may be any sign.
#pragma once

#include <cstdint>

namespace edgevision {

template <class T>
struct VectorView {
  const T* data = nullptr;
  int64_t size = 0;
  int64_t stride = 1;

  const T& operator[](int64_t i) const { return data[i * stride]; }
};

template <class T>
struct MatrixView {
  const T* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t row_stride = 0;
  int64_t col_stride = 1;

  const T& operator()(int64_t r, int64_t c) const { return data[r * row_stride + c * col_stride]; }
  const T* row(int64_t r) const { return data + r * row_stride; }
};

// [n, k, 2]: keypoints of n detections.
template <class T>
struct PointsView {
  const T* data = nullptr;
  int64_t count = 0;
  int64_t points = 0;
  int64_t stride0 = 0;
  int64_t stride1 = 2;
  int64_t stride2 = 1;

  const T& operator()(int64_t i, int64_t k, int64_t c) const { return data[i * stride0 + k * stride1 + c * stride2]; }
};

}  // namespace edgevision
