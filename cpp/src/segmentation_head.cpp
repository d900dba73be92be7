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
  if (head.blocks < 0 || head.blocks > kHeadMaxBlocks || head.input_blocks < 0 || head.input_blocks > kHeadMaxBlocks)
    throw std::invalid_argument("segmentation_head: 0 to 4 residual blocks before and after the upsample");
  auto check_block = [](const SegmentationHeadBlock& k) {
    if (!k.depthwise || !k.depthwise_bias || !k.pointwise || !k.pointwise_bias)
      throw std::invalid_argument("segmentation_head: null block weights");
  };
  for (int b = 0; b < head.input_blocks; ++b) check_block(head.input_block[b]);
  for (int b = 0; b < head.blocks; ++b) check_block(head.block[b]);
}

}  // namespace

void segmentation_head(const float* features, int width, int height, int64_t row_stride, const SegmentationHead& head,
                       float* out, int64_t out_row_stride, int threads, bool sigmoid) {
  check(features, width, height, row_stride, head, out, out_row_stride);
  constexpr int kC = kHeadChannels;
  const int out_width = 2 * width, out_height = 2 * height;
  const size_t padded = size_t(out_width + 2) * kC;

  struct WorkerScratch {
    std::vector<float> rings;    // the stages' rows; their padding pixels stay zero
    std::array<int, 4> layout{};  // the rings' geometry: width, height, blocks before and after
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
  // The stages: [the input copied into padded rows, its blocks], the upsample, the blocks.
  kernels::SegmentationHeadJob job{};
  const int all_blocks = head.input_blocks + head.blocks;
  scratch.pointwise_t.resize(size_t(all_blocks) * kC * kC);
  int64_t ring_floats = 0;
  auto add_stage = [&](kernels::HeadStage::Kind kind, int w, int h, const SegmentationHeadBlock* block) {
    kernels::HeadStage& st = job.stage[job.stages];
    st = {kind, w, h, block, nullptr, ring_floats, int64_t{w + 2} * kC};
    ring_floats += 3 * st.padded;
    ++job.stages;
  };
  int transposed = 0;
  auto add_block = [&](int w, int h, const SegmentationHeadBlock& block) {
    add_stage(kernels::HeadStage::kBlock, w, h, &block);
    float* t = scratch.pointwise_t.data() + size_t(transposed++) * kC * kC;
    for (int o = 0; o < kC; ++o)
      for (int i = 0; i < kC; ++i) t[i * kC + o] = block.pointwise[o * kC + i];
    job.stage[job.stages - 1].pointwise_t = t;
  };
  if (head.input_blocks > 0) {
    add_stage(kernels::HeadStage::kCopy, width, height, nullptr);
    for (int b = 0; b < head.input_blocks; ++b) add_block(width, height, head.input_block[b]);
  }
  add_stage(kernels::HeadStage::kUpsample, out_width, out_height, nullptr);
  for (int b = 0; b < head.blocks; ++b) add_block(out_width, out_height, head.block[b]);

  const int usable = parallel::usable_workers(threads);
  // One chunk per worker: a helper that wakes late takes the last chunk whole or not at all (the
  // caller then runs it), and workers that finish together find the next call still watching.
  const int64_t chunk = std::max<int64_t>(kMinChunkRows, (out_height + usable - 1) / usable);
  const int workers = static_cast<int>(std::min<int64_t>(usable, (out_height + chunk - 1) / chunk));
  const std::array<int, 4> layout{width, height, head.input_blocks, head.blocks};
  for (int k = 0; k < workers; ++k) {
    WorkerScratch& w = scratch.workers[k];
    if (w.layout != layout || w.rings.size() != size_t(ring_floats)) {  // only row interiors are written later
      w.rings.assign(size_t(ring_floats), 0.0f);
      w.layout = layout;
    }
    w.scratch.resize(size_t(out_width) * kC);
  }
  job.head = &head;
  job.features = features;
  job.row_stride = row_stride;
  job.out = out;
  job.out_row_stride = out_row_stride;
  job.sigmoid = sigmoid;
  job.zero_row = scratch.zero_row.data();
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
