// Bilinear upsample fused with thresholding, over an Ops type (simd/ops_<isa>.hpp). Every path
// computes (s00 w0 + s01 w1) wy0 + (s10 w0 + s11 w1) wy1 > t with the same roundings as the
// scalar one, so all ISAs agree bit for bit.
#pragma once

#include <cstring>

#include "kernels/window_gather.inl"
#include "sam2/upsample_job.hpp"

namespace edgevision::sam2_kernels {
namespace {

// How each vector of output columns reads a source row, planned once per call (the taps are
// the same for every row): see window_gather.inl.
template <class V>
kernels::WindowPlan plan_columns(const UpsampleThresholdJob& job) {
  const kernels::WindowPlan plan = kernels::window_plan_in(job.plan, job.width);
  if (!job.scratch_ready)
    kernels::plan_windows<V>(job.col_off0, job.col_off1, job.width - job.width % V::kLanes,
                             kernels::readable_row_floats(job.src), plan);
  return plan;
}

// Horizontal pass of one source row over output columns [j0, j1) (j0 a multiple of kLanes).
template <class V>
void interpolate_columns(const UpsampleThresholdJob& job, const kernels::WindowPlan& plan, const float* row,
                         float* dst, int j0, int j1) {
  const float* w0 = job.col_w0;
  const float* w1 = job.col_w1;
  int j = j0;
  for (; j + V::kLanes <= j1; j += V::kLanes) {
    typename V::F a, b;
    kernels::planned_tap_pair<V>(row, plan, j, a, b);
    V::store(dst + j, V::add(V::mul(a, V::load(w0 + j)), V::mul(b, V::load(w1 + j))));
  }
  for (; j < j1; ++j) dst[j] = row[job.col_off0[j]] * w0[j] + row[job.col_off1[j]] * w1[j];
}

// Vertical pass and threshold of output row `i` over columns [j0, j1).
template <class V>
void blend_rows(const float* top, const float* bottom, float w0, float w1, float threshold, uint8_t* out, int j0,
                int j1) {
  const auto vw0 = V::set1(w0), vw1 = V::set1(w1), t = V::set1(threshold);
  auto value = [&](int j) { return V::add(V::mul(V::load(top + j), vw0), V::mul(V::load(bottom + j), vw1)); };
  int j = j0;
  for (; j + 4 * V::kLanes <= j1; j += 4 * V::kLanes)
    V::store_gt_u8_x4(out + j, value(j), value(j + V::kLanes), value(j + 2 * V::kLanes), value(j + 3 * V::kLanes), t);
  for (; j + V::kLanes <= j1; j += V::kLanes) V::store_gt_u8(out + j, value(j), t);
  for (; j < j1; ++j) out[j] = top[j] * w0 + bottom[j] * w1 > threshold ? 1 : 0;
}

template <class V>
void upsample_threshold(const UpsampleThresholdJob& job) {
  const int W = job.width, B = job.blocks;
  // Source row r is kept in slot r % 2: an output row's two rows (r, r + 1) never share a slot,
  // and the next pair finds its top row already there. Per block, which row a slot holds.
  float* slot_data[2] = {job.cache, job.cache + W};
  int32_t* slot_row[2] = {job.cache_row, job.cache_row + B};
  if (!job.scratch_ready)
    for (int k = 0; k < 2 * B; ++k) job.cache_row[k] = -1;
  int32_t whole_row[2] = {-1, -1};  // the row a slot holds over every block, if any
  const kernels::WindowPlan plan = plan_columns<V>(job);
  auto ensure = [&](int r, int b0, int b1) {  // row r's horizontal pass over blocks [b0, b1)
    const int s = r & 1;
    if (whole_row[s] == r) return;
    whole_row[s] = b0 == 0 && b1 == B ? r : -1;
    const float* row = job.src.data + r * job.src.row_stride;
    for (int b = b0; b < b1;) {
      if (slot_row[s][b] == r) {
        ++b;
        continue;
      }
      int e = b;
      while (e < b1 && slot_row[s][e] != r) slot_row[s][e++] = r;
      interpolate_columns<V>(job, plan, row, slot_data[s], b * kBlockWidth, e * kBlockWidth < W ? e * kBlockWidth : W);
      b = e;
    }
  };

  for (int i = job.row_begin; i < job.row_end; ++i) {
    const int r0 = job.row0[i], r1 = job.row1[i];
    const int8_t* class0 = job.block_class + int64_t{r0} * B;
    const int8_t* class1 = job.block_class + int64_t{r1} * B;
    uint8_t* out = job.out + int64_t{i} * W;
    for (int b = 0; b < B;) {
      const int8_t c = class0[b];
      const bool uniform = c != kMixed && c == class1[b];
      // A run of blocks: all uniform with the same class (one fill), or all needing arithmetic.
      int e = b + 1;
      if (uniform) {
        while (e < B && class0[e] == c && class1[e] == c) ++e;
      } else {
        while (e < B && !(class0[e] != kMixed && class0[e] == class1[e])) ++e;
      }
      const int j0 = b * kBlockWidth, j1 = e * kBlockWidth < W ? e * kBlockWidth : W;
      if (uniform) {
        std::memset(out + j0, c == kAbove ? 1 : 0, static_cast<size_t>(j1 - j0));
      } else {
        ensure(r0, b, e);
        ensure(r1, b, e);
        blend_rows<V>(slot_data[r0 & 1], slot_data[r1 & 1], job.row_w0[i], job.row_w1[i], job.threshold, out, j0, j1);
      }
      b = e;
    }
  }
}

}  // namespace
}  // namespace edgevision::sam2_kernels
