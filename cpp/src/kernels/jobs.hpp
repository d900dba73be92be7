// Fully resolved work orders for the per-ISA kernels: geometry and tables are computed once,
// by the callers in cpp/src/*.cpp, so every ISA runs exactly the same arithmetic.
#pragma once

#include <cstdint>

#include "edgevision/types.hpp"

namespace edgevision::kernels {

// Tensor pixel (j, i) samples source position (m[0] j + m[1] i + m[2], m[3] j + m[4] i + m[5]).
struct AffineMap {
  float m[6];
};

struct SampleImageJob {
  ImageView src;        // offsets fit int32
  AffineMap map;
  PixelRect content;    // only these tensor pixels are sampled; the caller fills the rest
  Border border;
  int width, height;    // tensor
  Layout layout;
  ElementType type;
  float scale, offset;  // float32 value = pixel * scale + offset
  int channel_shift[3]; // bit shift of the source byte feeding tensor channel c
  // scratch for axis-aligned maps: column taps of the content, width rounded up to 8
  int32_t* column_offset;
  int32_t* column_weights;
  void* out;
};

// Bilinear resample of a float plane. Separable jobs use the per-column / per-row tables;
// affine jobs use `map` and the validity window. Out-of-range taps already have weight 0.
struct ResampleMaskJob {
  PlaneView<float> src;
  int width, height;  // output
  // separable
  const int32_t* col_off0;  // element offsets within a source row
  const int32_t* col_off1;
  const float* col_w0;
  const float* col_w1;
  const int32_t* row0;  // source row indices
  const int32_t* row1;
  const float* row_w0;
  const float* row_w1;
  float* cache;  // 2 * width floats of scratch
  // affine
  AffineMap map;
  Border border;
  int tap_x0, tap_y0, tap_x1, tap_y1;  // inclusive range of readable taps (the content)
  float valid_x0, valid_y0, valid_x1, valid_y1;  // positions beyond these give 0 (replicate)
  // output
  bool thresholded;
  float threshold;
  void* out;  // float32 or uint8, contiguous height x width
};

// Box-average downsample by `factor` of the first `channels` channels, edge pixels repeated
// in partial blocks. Output interleaved float, low_w x low_h x channels.
struct BoxDownsampleJob {
  ImageView src;
  int32_t last_word;
  int factor;
  int low_w, low_h;
  const int32_t* elem_off;  // per element x*C + c of a full-res row: x*pixel_stride + c; null
                            // when rows are contiguous
  const int32_t* box_taps;  // factor x (low_w * channels): element offsets into `row_sum`
  float* row_sum;           // scratch, width * channels floats
  float* out;
};

// Separable Gaussian on an interleaved float image, reflect-101 borders.
struct GaussianBlurJob {
  float* image;  // width x height x channels, blurred in place
  int width, height, channels;
  const float* weights;  // 2 * radius + 1
  int radius;
  float* padded_row;  // scratch, (width + 2 * radius) * channels floats
  float* column_tmp;  // scratch, width * height * channels floats
};

enum class BackgroundKind { color, image, upsampled };

// out = round(bg + (fg - bg) * clamp(mask, 0, 1)) over the flat elements of each row.
struct BlendJob {
  ImageView fg;
  int32_t fg_last_word;
  const int32_t* fg_elem_off;  // null when rows are contiguous
  // mask: one of the two planes (uint8: non-zero is 1 after clamping)
  const float* mask_f32;
  const uint8_t* mask_u8;
  int64_t mask_row_stride, mask_col_stride;
  float* mask_row;  // scratch, width * channels floats
  BackgroundKind background;
  const float* color_row;  // width * channels
  ImageView bg;
  int32_t bg_last_word;
  const int32_t* bg_elem_off;  // null when contiguous
  // upsampled background: low-res interleaved image + separable tables per element / row
  const float* low;
  int low_row_elems;
  const int32_t* up_off0;
  const int32_t* up_off1;
  const float* up_w0;
  const float* up_w1;
  const int32_t* up_row0;
  const int32_t* up_row1;
  const float* up_row_w0;
  const float* up_row_w1;
  float* cache;  // 2 * width * channels floats
  uint8_t* out;  // contiguous height x width x channels
};

}  // namespace edgevision::kernels
