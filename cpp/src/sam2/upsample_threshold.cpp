// SAM 2's mask post-processing: the low-resolution logits bilinearly upsampled to the image and
// thresholded in one pass. Taps follow PyTorch's interpolate (align_corners=False) in float32;
// the per-ISA kernel (upsample_threshold.inl) does the arithmetic.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "edgevision/sam2.hpp"
#include "cache_line_scratch.hpp"
#include "kernels/window_gather.inl"  // window_plan_ints
#include "parallel/chunks.hpp"
#include "sam2/kernel_table.hpp"

namespace edgevision {

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
    const int32_t i0 = std::min(static_cast<int32_t>(src), in_size - 1);  // src >= 0: truncation is floor
    const float lambda = std::min(std::max(src - static_cast<float>(i0), 0.0f), 1.0f);
    off0[i] = static_cast<int32_t>(i0 * stride);
    off1[i] = static_cast<int32_t>((i0 + (i0 < in_size - 1 ? 1 : 0)) * stride);
    w1[i] = lambda;
    w0[i] = 1.0f - lambda;
  }
}

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

// The geometry of one output size, reused while calls keep it (a predictor's every mask).
struct Geometry {
  int64_t key[5] = {-1, -1, -1, -1, -1};  // source width, height, column stride; output width, height
  std::vector<int32_t> ints;  // column offsets (2 W), row indices (2 H), per block its source columns (2 B)
  std::vector<float> floats;  // column weights (2 W), row weights (2 H)
};

// What one worker keeps across the chunks it runs in a call.
struct WorkerScratch {
  std::vector<float> cache;      // 2 W
  std::vector<int32_t> ints;     // the column plan (on a cache line), cache tags (2 B)
  int32_t* plan = nullptr;
  std::vector<int8_t> classes;   // [source row][block]
  std::vector<uint8_t> classified;  // per source row
  std::vector<uint8_t> flags;    // classify_row's per-element flags
  bool ready = false;
};

struct Scratch {
  Geometry geometry;
  WorkerScratch workers[parallel::kMaxWorkers];
};

// Are all the taps each output block reads from source row r above `above` (kAbove), at or
// below `below` (kBelow), or neither (kMixed, also for NaN)? One flag byte per source element (a
// loop the compiler vectorises), then a few word compares per block. `span`: per block the
// first and last source column it reads.
void classify_row(const UpsampleThresholdJob& job, const int32_t* span, float above, float below, int r,
                  uint8_t* flags, int8_t* row_classes) {
  const PlaneView<float>& src = job.src;
  const int64_t cs = src.col_stride;
  const size_t padded = size_t(src.width) + 8;
  uint8_t* is_above = flags;
  uint8_t* is_below = flags + padded;
  const float* row = src.data + r * src.row_stride;
  if (cs == 1) {
    flag_row(row, src.width, above, below, is_above, is_below);
  } else {
    for (int c = 0; c < src.width; ++c) {
      is_above[c] = row[c * cs] > above;
      is_below[c] = row[c * cs] <= below;
    }
  }
  for (int b = 0; b < job.blocks; ++b) {
    const int32_t first = span[2 * b], n = span[2 * b + 1] - first + 1;
    row_classes[b] = all_ones(is_above + first, n) ? kAbove : all_ones(is_below + first, n) ? kBelow : kMixed;
  }
}

// Taps and block spans for the job's sizes into g (kept while the sizes repeat).
void plan_geometry(const PlaneView<float>& logits, int W, int H, int blocks, Geometry& g) {
  const int64_t key[5] = {logits.width, logits.height, logits.col_stride, W, H};
  if (std::equal(key, key + 5, g.key)) return;
  g.ints.resize(2 * size_t(W) + 2 * size_t(H) + 2 * size_t(blocks));
  g.floats.resize(2 * size_t(W) + 2 * size_t(H));
  int32_t* ints = g.ints.data();
  float* floats = g.floats.data();
  axis_taps(logits.width, W, logits.col_stride, ints, ints + W, floats, floats + W);
  axis_taps(logits.height, H, 1, ints + 2 * W, ints + 2 * W + H, floats + 2 * W, floats + 2 * W + H);
  int32_t* span = ints + 2 * W + 2 * H;
  for (int b = 0; b < blocks; ++b) {
    const int j0 = b * kBlockWidth, j1 = std::min(j0 + kBlockWidth, W) - 1;
    span[2 * b] = static_cast<int32_t>(ints[j0] / logits.col_stride);
    span[2 * b + 1] = static_cast<int32_t>(ints[W + j1] / logits.col_stride);
  }
  std::copy(key, key + 5, g.key);
}

}  // namespace

void sam2_upsample_threshold(const PlaneView<float>& logits, Size size, float threshold, uint8_t* out, int threads) {
  const int W = size.width, H = size.height;
  UpsampleThresholdJob job;
  job.src = logits;
  job.width = W;
  job.height = H;
  job.blocks = (W + kBlockWidth - 1) / kBlockWidth;
  job.threshold = threshold;
  job.out = out;
  const int B = job.blocks;

  thread_local Scratch caller_scratch;
  Scratch& scratch = caller_scratch;  // named in the lambda below, which helpers run too
  Geometry& g = scratch.geometry;
  plan_geometry(logits, W, H, B, g);
  job.col_off0 = g.ints.data(), job.col_off1 = job.col_off0 + W;
  job.row0 = job.col_off0 + 2 * W, job.row1 = job.row0 + H;
  job.col_w0 = g.floats.data(), job.col_w1 = job.col_w0 + W;
  job.row_w0 = job.col_w0 + 2 * W, job.row_w1 = job.row_w0 + H;
  const int32_t* span = job.row0 + 2 * H;

  // Helpers only for an output large enough to repay waking them.
  const parallel::RowSplit split = parallel::split_rows(H, W, threads);
  const int workers = split.workers;
  for (int k = 0; k < workers; ++k) {
    WorkerScratch& w = scratch.workers[k];
    w.cache.resize(2 * size_t(W));
    w.plan = cache_line_scratch(w.ints, kernels::window_plan_ints(W) + 2 * size_t(B));
    w.classes.resize(size_t(logits.height) * B);
    w.classified.assign(size_t(logits.height), 0);
    w.flags.assign(2 * (size_t(logits.width) + 8), 0);
    w.ready = false;
  }
  float above, below;
  class_bounds(threshold, above, below);
  const Sam2KernelTable& table = table_for(active_isa());

  // Each chunk of output rows classifies the source rows it reads (those this worker has not
  // classified yet) and runs the kernel over its rows.
  auto run_rows = [&](int worker, int64_t begin, int64_t end) {
    WorkerScratch& w = scratch.workers[worker];
    for (int r = job.row0[begin]; r <= job.row1[end - 1]; ++r) {
      if (w.classified[r]) continue;
      classify_row(job, span, above, below, r, w.flags.data(), w.classes.data() + int64_t{r} * B);
      w.classified[r] = 1;
    }
    UpsampleThresholdJob part = job;
    part.row_begin = static_cast<int>(begin);
    part.row_end = static_cast<int>(end);
    part.block_class = w.classes.data();
    part.cache = w.cache.data();
    part.plan = w.plan;
    part.cache_row = w.plan + kernels::window_plan_ints(W);
    part.scratch_ready = w.ready;
    table.upsample_threshold(part);
    w.ready = true;
  };
  parallel::for_chunks(H, split.chunk, workers, run_rows);
}

}  // namespace edgevision
