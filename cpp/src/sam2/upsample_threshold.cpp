// SAM 2's mask post-processing: the low-resolution logits bilinearly upsampled to the image and
// thresholded in one pass. Taps follow PyTorch's interpolate (align_corners=False) in float32;
// the per-ISA kernel (upsample_threshold.inl) does the arithmetic.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "edgevision/sam2.hpp"
#include "sam2/upsample_job.hpp"

namespace edgevision {

namespace sam2_kernels {

extern const Sam2KernelTable k_scalar_table;
#if defined(EDGEVISION_HAVE_X86)
extern const Sam2KernelTable k_sse41_table;
extern const Sam2KernelTable k_avx2_table;
#endif
#if defined(EDGEVISION_HAVE_NEON)
extern const Sam2KernelTable k_neon_table;
#endif

const Sam2KernelTable& table_for(Isa isa) {
  switch (isa) {
#if defined(EDGEVISION_HAVE_X86)
    case Isa::sse41:
      return k_sse41_table;
    case Isa::avx2:
      return k_avx2_table;
#endif
#if defined(EDGEVISION_HAVE_NEON)
    case Isa::neon:
      return k_neon_table;
#endif
    default:
      return k_scalar_table;
  }
}

}  // namespace sam2_kernels

namespace {

using namespace sam2_kernels;

// PyTorch's taps along one axis (area_pixel_compute_source_index, clamped like
// guard_index_and_lambda), in float32 as its CPU kernel computes them: per output index the
// offsets of the two source elements (`stride` apart) and their weights.
void axis_taps(int in_size, int out_size, int64_t stride, int32_t* off0, int32_t* off1, float* w0, float* w1) {
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  for (int i = 0; i < out_size; ++i) {
    float src = scale * (static_cast<float>(i) + 0.5f) - 0.5f;
    if (src < 0.0f) src = 0.0f;
    const int32_t i0 = std::min(static_cast<int32_t>(std::floor(src)), in_size - 1);
    const float lambda = std::min(std::max(src - static_cast<float>(i0), 0.0f), 1.0f);
    off0[i] = static_cast<int32_t>(i0 * stride);
    off1[i] = static_cast<int32_t>((i0 + (i0 < in_size - 1 ? 1 : 0)) * stride);
    w1[i] = lambda;
    w0[i] = 1.0f - lambda;
  }
}

struct Scratch {
  std::vector<int32_t> ints;
  std::vector<float> floats;
  std::vector<int8_t> classes;
};

// Bounds beyond which every output computed from the taps lands on the same side of the
// threshold: each output is a convex combination rounded six times (relative error < 8 * 2^-24),
// so a margin of 2e-6 relative plus a tiny absolute term covers it, also for subnormal values.
void class_bounds(float threshold, float& above, float& below) {
  const double t = threshold, margin = std::fabs(t) * 2e-6 + 1e-30;
  above = std::nextafter(static_cast<float>(t + margin), std::numeric_limits<float>::infinity());
  below = std::nextafter(static_cast<float>(t - margin), -std::numeric_limits<float>::infinity());
}

// Per source row and output block: are all the taps the block reads above `above` (kAbove),
// at or below `below` (kBelow), or neither (kMixed, also for NaN)? Counts from per-row prefix
// sums, so each block costs O(1) however many columns it spans.
void classify_blocks(const UpsampleThresholdJob& job, float above, float below, int8_t* classes) {
  const PlaneView<float>& src = job.src;
  const int64_t cs = src.col_stride;
  thread_local std::vector<int32_t> span, count_above, count_below;
  span.resize(2 * size_t(job.blocks));  // the source columns [first, last] each block reads
  for (int b = 0; b < job.blocks; ++b) {
    const int j0 = b * kBlockWidth, j1 = std::min(j0 + kBlockWidth, job.width) - 1;
    span[2 * b] = static_cast<int32_t>(job.col_off0[j0] / cs);
    span[2 * b + 1] = static_cast<int32_t>(job.col_off1[j1] / cs);
  }
  count_above.resize(size_t(src.width) + 1);
  count_below.resize(size_t(src.width) + 1);
  int32_t* n_above = count_above.data();
  int32_t* n_below = count_below.data();
  n_above[0] = n_below[0] = 0;
  for (int r = 0; r < src.height; ++r) {
    const float* row = src.data + r * src.row_stride;
    int32_t a = 0, z = 0;  // running counts in registers, not through the arrays
    for (int c = 0; c < src.width; ++c) {
      const float v = row[c * cs];
      a += v > above;
      z += v <= below;
      n_above[c + 1] = a;
      n_below[c + 1] = z;
    }
    int8_t* row_classes = classes + int64_t{r} * job.blocks;
    for (int b = 0; b < job.blocks; ++b) {
      const int32_t first = span[2 * b], end = span[2 * b + 1] + 1, n = end - first;
      row_classes[b] = n_above[end] - n_above[first] == n   ? kAbove
                       : n_below[end] - n_below[first] == n ? kBelow
                                                            : kMixed;
    }
  }
}

}  // namespace

void sam2_upsample_threshold(const PlaneView<float>& logits, Size size, float threshold, uint8_t* out) {
  const int W = size.width, H = size.height;
  UpsampleThresholdJob job;
  job.src = logits;
  job.width = W;
  job.height = H;
  job.blocks = (W + kBlockWidth - 1) / kBlockWidth;
  job.threshold = threshold;
  job.out = out;

  thread_local Scratch scratch;
  scratch.ints.resize(2 * size_t(W) + 2 * size_t(H) + 2 * size_t(job.blocks));
  scratch.floats.resize(4 * size_t(W) + 2 * size_t(H));
  scratch.classes.resize(size_t(logits.height) * job.blocks);
  // ints: column offsets, row indices, cache tags; floats: column weights, row weights, cache.
  int32_t* ints = scratch.ints.data();
  float* floats = scratch.floats.data();
  axis_taps(logits.width, W, logits.col_stride, ints, ints + W, floats, floats + W);
  axis_taps(logits.height, H, 1, ints + 2 * W, ints + 2 * W + H, floats + 2 * W, floats + 2 * W + H);
  job.col_off0 = ints, job.col_off1 = ints + W, job.row0 = ints + 2 * W, job.row1 = ints + 2 * W + H;
  job.col_w0 = floats, job.col_w1 = floats + W, job.row_w0 = floats + 2 * W, job.row_w1 = floats + 2 * W + H;
  job.cache_row = ints + 2 * W + 2 * H;
  job.cache = floats + 2 * W + 2 * H;

  float above, below;
  class_bounds(threshold, above, below);
  classify_blocks(job, above, below, scratch.classes.data());
  job.block_class = scratch.classes.data();
  table_for(active_isa()).upsample_threshold(job);
}

}  // namespace edgevision
