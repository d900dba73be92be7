// Bilinear upsample fused with thresholding, over an Ops type (simd/ops_<isa>.hpp). Every path
// computes (s00 w0 + s01 w1) wy0 + (s10 w0 + s11 w1) wy1 > t with the same roundings as the
// scalar one, so all ISAs agree bit for bit.
#pragma once

#include <cstring>

#include "sam2/upsample_job.hpp"

namespace edgevision::sam2_kernels {
namespace {

// Horizontal pass of one source row over output columns [j0, j1).
template <class V>
void interpolate_columns(const UpsampleThresholdJob& job, const float* row, float* dst, int j0, int j1) {
  const int64_t row_elements = (job.src.width - 1) * job.src.col_stride + 1;
  int j = j0;
  for (; j + V::kLanes <= j1; j += V::kLanes) {
    const auto o0 = V::loadi(job.col_off0 + j), o1 = V::loadi(job.col_off1 + j);
    typename V::F a, b;
    // Upsampling: the lanes' taps usually sit within one vector of the first, so one load
    // and two permutes replace the gathers.
    const int32_t start = job.col_off0[j];
    const auto last = V::seti(V::kLanes - 1);
    const auto i0 = V::subi(o0, V::seti(start)), i1 = V::subi(o1, V::seti(start));
    if (start + V::kLanes <= row_elements && V::all_within(i0, last) && V::all_within(i1, last)) {
      const auto window = V::load(row + start);
      a = V::permute(window, i0);
      b = V::permute(window, i1);
    } else {
      a = V::gather_f32(row, o0);
      b = V::gather_f32(row, o1);
    }
    V::store(dst + j, V::add(V::mul(a, V::load(job.col_w0 + j)), V::mul(b, V::load(job.col_w1 + j))));
  }
  for (; j < j1; ++j) dst[j] = row[job.col_off0[j]] * job.col_w0[j] + row[job.col_off1[j]] * job.col_w1[j];
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
  float* slot_data[2] = {job.cache, job.cache + W};
  int32_t* slot_row[2] = {job.cache_row, job.cache_row + B};
  for (int k = 0; k < 2 * B; ++k) job.cache_row[k] = -1;

  // The horizontally interpolated columns [j0, j1) of source row r, kept per block while the
  // output rows advance (each source row feeds several consecutive output rows).
  auto cached = [&](int b, int r, int keep, int j0, int j1) -> const float* {
    for (int s = 0; s < 2; ++s)
      if (slot_row[s][b] == r) return slot_data[s];
    const int s = slot_row[0][b] == keep ? 1 : 0;
    interpolate_columns<V>(job, job.src.data + r * job.src.row_stride, slot_data[s], j0, j1);
    slot_row[s][b] = r;
    return slot_data[s];
  };

  for (int i = 0; i < job.height; ++i) {
    const int r0 = job.row0[i], r1 = job.row1[i];
    const int8_t* class0 = job.block_class + int64_t{r0} * B;
    const int8_t* class1 = job.block_class + int64_t{r1} * B;
    uint8_t* out = job.out + int64_t{i} * W;
    for (int b = 0; b < B;) {
      const int j0 = b * kBlockWidth;
      if (class0[b] != kMixed && class0[b] == class1[b]) {
        // A run of uniform blocks of one class: one fill.
        int e = b + 1;
        while (e < B && class0[e] == class0[b] && class1[e] == class0[b]) ++e;
        const int j1 = e * kBlockWidth < W ? e * kBlockWidth : W;
        std::memset(out + j0, class0[b] == kAbove ? 1 : 0, static_cast<size_t>(j1 - j0));
        b = e;
        continue;
      }
      const int j1 = j0 + kBlockWidth < W ? j0 + kBlockWidth : W;
      const float* top = cached(b, r0, r1, j0, j1);
      const float* bottom = cached(b, r1, r0, j0, j1);
      blend_rows<V>(top, bottom, job.row_w0[i], job.row_w1[i], job.threshold, out, j0, j1);
      ++b;
    }
  }
}

}  // namespace
}  // namespace edgevision::sam2_kernels
