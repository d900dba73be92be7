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
           const float* out, int64_t out_row_stride, const HeadSkip* skips) {
  if (features == nullptr || out == nullptr || head.head == nullptr)
    throw std::invalid_argument("segmentation_head: null features, output or head weights");
  if (head.levels < 1 || head.levels > kHeadMaxLevels)
    throw std::invalid_argument("segmentation_head: 1 or 2 upsampling levels");
  const int scale = 1 << head.levels;
  if (width < 1 || height < 1 || width > (1 << 20) || height > (1 << 20) ||
      row_stride < int64_t{width} * kHeadChannels || out_row_stride < int64_t{scale} * width)
    throw std::invalid_argument("segmentation_head: bad feature or output geometry");
  auto check_blocks = [](int count, const SegmentationHeadBlock* blocks) {
    if (count < 0 || count > kHeadMaxBlocks) throw std::invalid_argument("segmentation_head: 0 to 4 residual blocks");
    for (int b = 0; b < count; ++b)
      if (!blocks[b].depthwise || !blocks[b].depthwise_bias || !blocks[b].pointwise || !blocks[b].pointwise_bias)
        throw std::invalid_argument("segmentation_head: null block weights");
  };
  check_blocks(head.input_blocks, head.input_block);
  for (int l = 0; l < head.levels; ++l) {
    check_blocks(head.level[l].blocks, head.level[l].block);
    if (head.level[l].skip &&
        (skips == nullptr || skips[l].data == nullptr || skips[l].row_stride < (int64_t{width} << (l + 1)) * kHeadChannels))
      throw std::invalid_argument("segmentation_head: a level with a skip needs its map");
  }
}

}  // namespace

void segmentation_head(const float* features, int width, int height, int64_t row_stride, const SegmentationHead& head,
                       float* out, int64_t out_row_stride, int threads, bool sigmoid, const HeadSkip* skips) {
  check(features, width, height, row_stride, head, out, out_row_stride, skips);
  constexpr int kC = kHeadChannels;
  const int out_width = width << head.levels, out_height = height << head.levels;
  const size_t padded = size_t(out_width + 2) * kC;

  struct WorkerScratch {
    std::vector<float> rings;    // the stages' rows; their padding pixels stay zero
    std::array<int, 4 + kHeadMaxLevels> layout{};  // the rings' geometry: width, height, levels, blocks
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
  // The stages: [the input copied into padded rows, its blocks], then per level the upsample
  // (+ skip) and its blocks.
  kernels::SegmentationHeadJob job{};
  int all_blocks = head.input_blocks;
  for (int l = 0; l < head.levels; ++l) all_blocks += head.level[l].blocks;
  scratch.pointwise_t.resize(size_t(all_blocks) * kC * kC);
  int64_t ring_floats = 0;
  auto add_stage = [&](kernels::HeadStage::Kind kind, int w, int h, const SegmentationHeadBlock* block) {
    kernels::HeadStage& st = job.stage[job.stages];
    st = {kind, w, h, block, nullptr, ring_floats, int64_t{w + 2} * kC, nullptr, 0};
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
  std::array<int, 4 + kHeadMaxLevels> layout{width, height, head.levels, head.input_blocks};
  for (int l = 0; l < head.levels; ++l) {
    const SegmentationHeadLevel& level = head.level[l];
    const int w = width << (l + 1), h = height << (l + 1);
    add_stage(kernels::HeadStage::kUpsample, w, h, nullptr);
    if (level.skip) {
      job.stage[job.stages - 1].skip = skips[l].data;
      job.stage[job.stages - 1].skip_row_stride = skips[l].row_stride;
    }
    for (int b = 0; b < level.blocks; ++b) add_block(w, h, level.block[b]);
    layout[4 + l] = level.blocks;
  }

  const int usable = parallel::usable_workers(threads);
  // One chunk per worker: a helper that wakes late takes the last chunk whole or not at all (the
  // caller then runs it), and workers that finish together find the next call still watching.
  const int64_t chunk = std::max<int64_t>(kMinChunkRows, (out_height + usable - 1) / usable);
  const int workers = static_cast<int>(std::min<int64_t>(usable, (out_height + chunk - 1) / chunk));
  for (int k = 0; k < workers; ++k) {
    WorkerScratch& w = scratch.workers[k];
    if (w.layout != layout) {  // the layout fixes the rings' size; only row interiors are written later
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
