// SAM 2's mask post-processing: the low-resolution logits bilinearly upsampled to the image and
// thresholded in one pass. Taps follow PyTorch's interpolate (align_corners=False) in float32;
// the per-ISA kernel (upsample_threshold.inl) does the arithmetic.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <system_error>
#include <thread>
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

constexpr int kMaxThreads = 4;
constexpr int64_t kPixelsPerThread = 1 << 18;  // ~0.1 ms of work: a thread start costs ~0.03 ms

// PyTorch's taps along one axis (area_pixel_compute_source_index, clamped like
// guard_index_and_lambda), in float32 as its CPU kernel computes them: per output index the
// offsets of the two source elements (`stride` apart) and their weights.
void axis_taps(int in_size, int out_size, int64_t stride, int32_t* off0, int32_t* off1, float* w0, float* w1) {
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  for (int i = 0; i < out_size; ++i) {
    float src = scale * (static_cast<float>(i) + 0.5f) - 0.5f;
    if (src < 0.0f) src = 0.0f;
    const int32_t i0 = std::min(static_cast<int32_t>(src), in_size - 1);  // src >= 0: truncation is floor
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

// True if the n bytes at p are all 1 (p is readable for 8 bytes past n, zero-padded).
inline bool all_ones(const uint8_t* p, int n) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  uint64_t word;
  for (; n >= 8; n -= 8, p += 8) {
    std::memcpy(&word, p, 8);
    if (word != kOnes) return false;
  }
  std::memcpy(&word, p, 8);
  const uint64_t keep = n == 0 ? 0 : kOnes >> (8 * (8 - n));
  return (word & keep) == keep;
}

// 1 where a row's element is > above / <= below (restrict: the byte stores may not alias the row,
// so the loop vectorises).
void flag_row(const float* __restrict row, int n, float above, float below, uint8_t* __restrict is_above,
              uint8_t* __restrict is_below) {
  for (int c = 0; c < n; ++c) {
    is_above[c] = row[c] > above;
    is_below[c] = row[c] <= below;
  }
}

// Per source row and output block: are all the taps the block reads above `above` (kAbove),
// at or below `below` (kBelow), or neither (kMixed, also for NaN)? One flag byte per source
// element (a loop the compiler vectorises), then a few word compares per block.
void classify_blocks(const UpsampleThresholdJob& job, float above, float below, int8_t* classes) {
  const PlaneView<float>& src = job.src;
  const int64_t cs = src.col_stride;
  thread_local std::vector<int32_t> span;
  thread_local std::vector<uint8_t> flags;
  span.resize(2 * size_t(job.blocks));  // the source columns [first, last] each block reads
  for (int b = 0; b < job.blocks; ++b) {
    const int j0 = b * kBlockWidth, j1 = std::min(j0 + kBlockWidth, job.width) - 1;
    span[2 * b] = static_cast<int32_t>(job.col_off0[j0] / cs);
    span[2 * b + 1] = static_cast<int32_t>(job.col_off1[j1] / cs);
  }
  const size_t padded = size_t(src.width) + 8;
  flags.assign(2 * padded, 0);
  uint8_t* is_above = flags.data();
  uint8_t* is_below = flags.data() + padded;
  for (int r = 0; r < src.height; ++r) {
    const float* row = src.data + r * src.row_stride;
    if (cs == 1) {
      flag_row(row, src.width, above, below, is_above, is_below);
    } else {
      for (int c = 0; c < src.width; ++c) {
        is_above[c] = row[c * cs] > above;
        is_below[c] = row[c * cs] <= below;
      }
    }
    int8_t* row_classes = classes + int64_t{r} * job.blocks;
    for (int b = 0; b < job.blocks; ++b) {
      const int32_t first = span[2 * b], n = span[2 * b + 1] - first + 1;
      row_classes[b] = all_ones(is_above + first, n) ? kAbove : all_ones(is_below + first, n) ? kBelow : kMixed;
    }
  }
}

}  // namespace

void sam2_upsample_threshold(const PlaneView<float>& logits, Size size, float threshold, uint8_t* out, int threads) {
  const int W = size.width, H = size.height;
  UpsampleThresholdJob job;
  job.src = logits;
  job.width = W;
  job.height = H;
  job.row_begin = 0;
  job.row_end = H;
  job.blocks = (W + kBlockWidth - 1) / kBlockWidth;
  job.threshold = threshold;
  job.out = out;
  // Split the rows only when the output is large enough to repay starting a thread.
  const int parts = std::max(1, std::min({threads, kMaxThreads, static_cast<int>(int64_t{W} * H / kPixelsPerThread)}));

  thread_local Scratch scratch;
  // ints: column offsets, row indices, then per part cache tags and column plan;
  // floats: column weights, row weights, then per part the row cache.
  const size_t part_ints = 2 * size_t(job.blocks) + 3 * size_t(W), part_floats = 2 * size_t(W);
  scratch.ints.resize(2 * size_t(W) + 2 * size_t(H) + parts * part_ints);
  scratch.floats.resize(2 * size_t(W) + 2 * size_t(H) + parts * part_floats);
  scratch.classes.resize(size_t(logits.height) * job.blocks);
  int32_t* ints = scratch.ints.data();
  float* floats = scratch.floats.data();
  axis_taps(logits.width, W, logits.col_stride, ints, ints + W, floats, floats + W);
  axis_taps(logits.height, H, 1, ints + 2 * W, ints + 2 * W + H, floats + 2 * W, floats + 2 * W + H);
  job.col_off0 = ints, job.col_off1 = ints + W, job.row0 = ints + 2 * W, job.row1 = ints + 2 * W + H;
  job.col_w0 = floats, job.col_w1 = floats + W, job.row_w0 = floats + 2 * W, job.row_w1 = floats + 2 * W + H;

  float above, below;
  class_bounds(threshold, above, below);
  classify_blocks(job, above, below, scratch.classes.data());
  job.block_class = scratch.classes.data();

  UpsampleThresholdJob jobs[kMaxThreads];
  for (int k = 0; k < parts; ++k) {
    jobs[k] = job;
    jobs[k].row_begin = static_cast<int>(int64_t{H} * k / parts);
    jobs[k].row_end = static_cast<int>(int64_t{H} * (k + 1) / parts);
    jobs[k].cache_row = ints + 2 * W + 2 * H + k * part_ints;
    jobs[k].plan = jobs[k].cache_row + 2 * job.blocks;
    jobs[k].cache = floats + 2 * W + 2 * H + k * part_floats;
  }
  const Sam2KernelTable& table = table_for(active_isa());
  std::thread workers[kMaxThreads - 1];
  for (int k = 1; k < parts; ++k) {
    try {
      workers[k - 1] = std::thread(table.upsample_threshold, std::cref(jobs[k]));
    } catch (const std::system_error&) {  // no thread to be had: that part runs here
      table.upsample_threshold(jobs[k]);
    }
  }
  table.upsample_threshold(jobs[0]);
  for (std::thread& worker : workers)
    if (worker.joinable()) worker.join();
}

}  // namespace edgevision
