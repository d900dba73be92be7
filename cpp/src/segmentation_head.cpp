// segmentation_head's front end: checks, the transposed 1x1 weights, per-worker rings, the row
// split (kernels/segmentation_head.inl does the arithmetic).
#include "edgevision/segmentation_head.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <vector>

#include "flush_denormals.hpp"
#include "kernels/kernel_table.hpp"
#include "parallel/chunks.hpp"

namespace edgevision {

namespace {

// Rows per chunk at least: each chunk remakes a few rows of every stage above it (the halo).
constexpr int kMinChunkRows = 16;

void check(const float* features, int width, int height, int64_t row_stride, const SegmentationHead& head,
           const float* out, int64_t out_row_stride) {
  if (features == nullptr || out == nullptr || head.head == nullptr)
    throw std::invalid_argument("segmentation_head: null features, output or head weights");
  if (width < 1 || height < 1 || row_stride < int64_t{width} * kHeadChannels || out_row_stride < 2 * int64_t{width})
    throw std::invalid_argument("segmentation_head: bad feature or output geometry");
  if (head.blocks < 0 || head.blocks > kHeadMaxBlocks)
    throw std::invalid_argument("segmentation_head: 0 to 4 residual blocks");
  for (int b = 0; b < head.blocks; ++b) {
    const SegmentationHeadBlock& k = head.block[b];
    if (!k.depthwise || !k.depthwise_bias || !k.pointwise || !k.pointwise_bias)
      throw std::invalid_argument("segmentation_head: null block weights");
  }
}

}  // namespace

void segmentation_head(const float* features, int width, int height, int64_t row_stride, const SegmentationHead& head,
                       float* out, int64_t out_row_stride, int threads) {
  check(features, width, height, row_stride, head, out, out_row_stride);
  constexpr int kC = kHeadChannels;
  const int out_width = 2 * width, out_height = 2 * height;
  const size_t padded = size_t(out_width + 2) * kC;
  const size_t ring_floats = size_t(head.blocks + 1) * 3 * padded;

  struct WorkerScratch {
    std::vector<float> rings;    // the stages' rows; their padding pixels stay zero
    std::vector<float> scratch;  // one stage row
  };
  struct Scratch {
    std::vector<float> zero_row;
    std::vector<float> pointwise_t;
    std::array<WorkerScratch, parallel::kMaxWorkers> workers;
  };
  thread_local Scratch caller_scratch;
  Scratch& scratch = caller_scratch;  // the caller's, also for the helpers running the lambda
  scratch.zero_row.assign(padded, 0.0f);
  scratch.pointwise_t.resize(size_t(head.blocks) * kC * kC);
  for (int b = 0; b < head.blocks; ++b)
    for (int o = 0; o < kC; ++o)
      for (int i = 0; i < kC; ++i) scratch.pointwise_t[(size_t(b) * kC + i) * kC + o] = head.block[b].pointwise[o * kC + i];

  const int usable = parallel::usable_workers(threads);
  // One chunk per worker: a helper that wakes late takes the last chunk whole or not at all (the
  // caller then runs it), and workers that finish together find the next call still watching.
  const int64_t chunk = std::max<int64_t>(kMinChunkRows, (out_height + usable - 1) / usable);
  const int workers = static_cast<int>(std::min<int64_t>(usable, (out_height + chunk - 1) / chunk));
  for (int k = 0; k < workers; ++k) {
    WorkerScratch& w = scratch.workers[k];
    if (w.rings.size() != ring_floats) w.rings.assign(ring_floats, 0.0f);  // only the interiors are written
    w.scratch.resize(size_t(out_width) * kC);
  }
  kernels::SegmentationHeadJob job{&head, scratch.pointwise_t.data(), features, width, height, row_stride,
                                   out, out_row_stride, 0, 0, nullptr, scratch.zero_row.data(), nullptr};
  const kernels::KernelTable& table = kernels::active_table();
  auto run_rows = [&](int worker, int64_t begin, int64_t end) {
    const FlushDenormals flush_denormals;  // per thread
    kernels::SegmentationHeadJob part = job;
    part.row_begin = static_cast<int>(begin);
    part.row_end = static_cast<int>(end);
    part.rings = scratch.workers[worker].rings.data();
    part.scratch = scratch.workers[worker].scratch.data();
    table.segmentation_head_rows(part);
  };
  parallel::for_chunks(out_height, chunk, workers, run_rows);
}

}  // namespace edgevision
