// The work order of the fused upsample + threshold (geometry resolved by upsample_threshold.cpp;
// its per-ISA kernel is upsample_threshold.inl, in sam2/kernel_table.hpp's table).
#pragma once

#include <cstdint>

#include "edgevision/isa.hpp"
#include "edgevision/types.hpp"

namespace edgevision::sam2_kernels {

// Output columns are processed in blocks; a block whose source taps all lie clearly above (or
// at/below) the threshold in both of an output row's source rows is filled without arithmetic.
constexpr int kBlockWidth = 64;

enum BlockClass : int8_t { kMixed = 0, kAbove = 1, kBelow = -1 };

struct UpsampleThresholdJob {
  PlaneView<float> src;
  int width = 0, height = 0;  // output
  int row_begin = 0, row_end = 0;  // the output rows this job writes
  // per output column: element offsets of the two taps within a source row, and their weights
  const int32_t* col_off0 = nullptr;
  const int32_t* col_off1 = nullptr;
  const float* col_w0 = nullptr;
  const float* col_w1 = nullptr;
  // per output row: the two source rows and their weights
  const int32_t* row0 = nullptr;
  const int32_t* row1 = nullptr;
  const float* row_w0 = nullptr;
  const float* row_w1 = nullptr;
  int blocks = 0;                       // ceil(width / kBlockWidth)
  const int8_t* block_class = nullptr;  // [src.height][blocks]
  // The worker's scratch, kept across the chunks it runs in one call:
  float* cache = nullptr;               // 2 * width floats: source rows r % 2, horizontally interpolated
  int32_t* plan = nullptr;              // window_plan_ints(width) ints from a cache line: the column plan
  int32_t* cache_row = nullptr;         // [2][blocks]: the source row each slot holds there, -1 if none
  bool scratch_ready = false;           // plan and cache hold what an earlier chunk left there
  float threshold = 0.0f;
  uint8_t* out = nullptr;  // contiguous height x width
};

}  // namespace edgevision::sam2_kernels
