// Plain views and options shared by the kernels. No ownership: callers keep the memory alive.
#pragma once

#include <cstdint>

namespace edgevision {

struct Size {
  int width = 0;
  int height = 0;
};

// Interleaved uint8 image; strides in bytes, both positive. The channel axis is contiguous.
struct ImageView {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int channels = 0;
  int64_t row_stride = 0;
  int64_t pixel_stride = 0;

  // Bytes from the first to one past the last byte of the image.
  int64_t span() const {
    return (height - 1) * row_stride + (width - 1) * pixel_stride + channels;
  }
};

// Single-plane mask of float32 or uint8; strides in elements.
template <class T>
struct PlaneView {
  const T* data = nullptr;
  int width = 0;
  int height = 0;
  int64_t row_stride = 0;
  int64_t col_stride = 0;
};

enum class Border { zero, replicate };
enum class Layout { nhwc, nchw };
enum class ElementType { float32, uint8 };
enum class Sampling { opencv, mediapipe };

// Half-open rectangle of tensor pixels.
struct PixelRect {
  int x0 = 0;
  int y0 = 0;
  int x1 = 0;
  int y1 = 0;
};

// What a kernel writes: a contiguous [1, h, w, 3] or [1, 3, h, w] tensor.
struct TensorSpec {
  Size size;
  Layout layout = Layout::nhwc;
  ElementType type = ElementType::float32;
  float range_lo = 0.0f;  // pixel 0 maps here, 255 to range_hi (float32 only)
  float range_hi = 1.0f;
  bool bgr_input = false;  // the source image is BGR; tensors are always RGB
  Border border = Border::zero;

  int64_t elements() const { return int64_t{3} * size.width * size.height; }
};

}  // namespace edgevision
