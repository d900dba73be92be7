// Fully resolved work orders for the per-ISA kernels: geometry and tables are computed once,
// by the callers in cpp/src/*.cpp, so every ISA runs exactly the same arithmetic.
#pragma once

#include <cstdint>

#include "edgevision/segmentation_head.hpp"
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
  int32_t* column_weights_x4;  // pixel-major ISAs: each column's weights four times
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
  float* cache;              // two rows of scratch, cache_row_stride floats apart
  int64_t cache_row_stride;  // at least width (whole cache lines: both rows start on one)
  int32_t* window_plan;  // window_plan_ints(width) ints of scratch, from a cache line
  bool window_planned;   // window_plan already holds this job's column plan (a worker's later chunks)
  // affine
  AffineMap map;
  Border border;
  int tap_x0, tap_y0, tap_x1, tap_y1;  // inclusive range of readable taps (the content)
  float valid_x0, valid_y0, valid_x1, valid_y1;  // positions beyond these give 0 (replicate)
  // output: rows [row_begin, row_end) of it
  int row_begin, row_end;
  bool thresholded;
  float threshold;
  // Segmentation smoothing fused into the pass (float output only): each finished output row
  // is smoothed with the same row of `previous` (contiguous rows), or nothing when null.
  const float* previous;
  int64_t previous_row_stride;
  float smoothing_ratio;
  void* out;  // float32 or uint8, contiguous height x width
};

// Segmentation smoothing of `current` with `previous` (same size, any strides) into `out`,
// contiguous width x height.
struct SmoothMaskJob {
  PlaneView<float> previous;
  PlaneView<float> current;
  float ratio;
  float* out;
};

// Box-average downsample by `factor` of the first `channels` channels, edge pixels repeated
// in partial blocks. Output planar float: `channels` planes of low_w x low_h.
struct BoxDownsampleJob {
  ImageView src;
  const int32_t* elem_off;  // per element x*C + c of a full-res row: x*pixel_stride + c; null
                            // when rows are contiguous
  int factor;               // at most 32: a column of `factor` bytes sums within int16
  int low_w, low_h;
  int row_begin, row_end;   // the low-resolution rows to compute
  int16_t* column_sum;      // scratch, width * channels + factor * channels + 64, zeroed tail
  int16_t* block_sum;       // scratch, width * channels + 64 (uint16 sums of factor x factor)
  float* out;
};

// Separable Gaussian on a float plane, reflect-101 borders.
struct GaussianBlurJob {
  float* image;  // width x height, blurred in place
  int width, height;
  const float* weights;  // 2 * radius + 1
  int radius;
  float* padded_row;        // scratch, width + 2 * radius floats
  float* column_tmp;        // scratch, width * height floats
  const float** tap_rows;   // scratch, 2 * radius + 1 pointers
};

enum class BackgroundKind { color, image, upsampled };

// A low-resolution planar float image and the separable tables that upsample it to the frame.
struct UpsampledBackground {
  const float* low;
  int low_w, low_plane;  // row length and plane size
  const int32_t* off0;   // per frame column
  const int32_t* off1;
  const float* w0;
  const float* w1;
  const int32_t* row0;   // per frame row
  const int32_t* row1;
  const int32_t* row_q0;  // Q15 row weights in [0, 32768], summing to 32768
  const int32_t* row_q1;
  const int16_t* rows;    // every low row's horizontal pass made ahead (W * channels each), or null
};

// out = round(bg + (fg - bg) * clamp(mask, 0, 1)) over the flat elements of each row, in fixed
// point: images as Q6 int16 (byte * 64), the mask as Q15 weights (1 -> 32767, which still
// returns fg exactly). Rows of W * channels elements; every scratch row is padded by 64.
struct BlendJob {
  ImageView fg;
  const int32_t* fg_elem_off;  // null when rows are contiguous
  // The mask: a frame-size plane (float32, or uint8 where non-zero is 1), or a separable
  // resample job producing each frame row from a low-resolution plane.
  const float* mask_f32;
  const uint8_t* mask_u8;
  int64_t mask_row_stride, mask_col_stride;
  const ResampleMaskJob* mask_resample;  // null for a frame-size plane; its scratch is this job's
  bool thresholded;  // weight 1 where mask > threshold, else 0
  float threshold;
  float* mask_row;           // scratch, W floats
  float* mask_cache;         // scratch, 2 * W floats (resampled masks)
  int16_t* weight_row;       // scratch, W
  int16_t* weight_elements;  // scratch, W * channels
  BackgroundKind background;
  const int16_t* color_row;  // Q6, W * channels
  ImageView bg;
  const int32_t* bg_elem_off;  // null when contiguous
  UpsampledBackground up;   // BackgroundKind::upsampled
  int32_t* up_window_plan;  // scratch, window_plan_ints(W), from a cache line
  bool up_window_planned;   // up_window_plan already holds the plan (a worker's later chunks)
  float* up_planes;     // scratch, channels * W floats
  float* up_float_row;  // scratch, W * channels floats
  int16_t* up_cache;    // scratch, 2 * W * channels (Q6 rows)
  int16_t* bg_row;      // scratch, W * channels (Q6)
  int16_t* fg_row;      // scratch, W * channels (Q6; strided foregrounds)
  int row_begin, row_end;  // the output rows to blend
  uint8_t* out;         // contiguous height x width x channels
};

// One stage of segmentation_head: the input copied into padded rows, the 2x upsample, or a
// residual block; each keeps a ring of three padded rows ((width + 2) * 8 floats each).
struct HeadStage {
  enum Kind { kCopy, kUpsample, kBlock } kind;
  int width, height;                   // its rows
  const SegmentationHeadBlock* block;  // kind == kBlock
  const float* pointwise_t;            // kind == kBlock: the 1x1 weights as [in][out]
  int64_t ring_offset, padded;         // floats into the worker's rings; one row
  const float* skip;                   // kind == kUpsample: the map added to its rows, or null
  int64_t skip_row_stride;             // floats
};
constexpr int kHeadMaxStages = (kHeadMaxLevels + 1) * (kHeadMaxBlocks + 1);

// Output rows [row_begin, row_end) of segmentation_head, with one worker's scratch.
struct SegmentationHeadJob {
  const SegmentationHead* head;
  HeadStage stage[kHeadMaxStages];
  int stages;
  const float* features;     // in_height x in_width x 8
  int64_t row_stride;        // floats
  float* out;                // (in_height << levels) x (in_width << levels)
  int64_t out_row_stride;    // floats
  bool sigmoid;              // probabilities instead of logits
  int row_begin, row_end;
  float* rings;              // every stage's ring; the padding pixels zero
  const float* zero_row;     // a padded row of the widest stage, zeros
  float* scratch;            // a row of the widest stage
};

}  // namespace edgevision::kernels
