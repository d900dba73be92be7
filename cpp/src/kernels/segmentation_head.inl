// The rows of segmentation_head over an Ops type (simd/ops_<isa>.hpp). Eight channels per pixel
// (one AVX2 vector, two SSE/NEON vectors); every output element is computed with the same
// operations in the same order on every path.
#pragma once

#include <cstring>

#include "edgevision/segmentation_head.hpp"
#include "kernels/jobs.hpp"

namespace edgevision::kernels {
namespace {

constexpr int kC = kHeadChannels;

template <class V>
inline typename V::F relu6(typename V::F v) {
  return V::min(V::max(v, V::set1(0.0f)), V::set1(6.0f));
}

// One output row of the 2x upsample: the two source rows blended (t = `top` * w_top + `bottom` *
// w_bottom, in_width pixels), then horizontally out[2j] = 0.25 t[j-1] + 0.75 t[j], out[2j+1] =
// 0.75 t[j] + 0.25 t[j+1], edges clamped. `blended`: in_width * 8 floats of scratch.
template <class V>
void upsample_row(const float* top, const float* bottom, float w_top, float w_bottom, int in_width, float* blended,
                  float* out) {
  const auto wt = V::set1(w_top), wb = V::set1(w_bottom);
  for (int k = 0; k < in_width * kC; k += V::kLanes)
    V::store(blended + k, V::add(V::mul(V::load(top + k), wt), V::mul(V::load(bottom + k), wb)));
  const auto quarter = V::set1(0.25f), three_quarters = V::set1(0.75f);
  for (int j = 0; j < in_width; ++j) {
    const float* left = blended + (j > 0 ? j - 1 : 0) * kC;
    const float* mid = blended + j * kC;
    const float* right = blended + (j + 1 < in_width ? j + 1 : j) * kC;
    for (int c = 0; c < kC; c += V::kLanes) {
      const auto m = V::mul(V::load(mid + c), three_quarters);
      V::store(out + 2 * j * kC + c, V::add(V::mul(V::load(left + c), quarter), m));
      V::store(out + (2 * j + 1) * kC + c, V::add(m, V::mul(V::load(right + c), quarter)));
    }
  }
}

// One row of a residual block: rows[0..2] are the block input's rows r-1, r, r+1, each with one
// zero pixel on either side (a zero row outside the plane); `out` gets relu6(input + 1x1(relu6(
// depthwise(input) + bias)) + bias) without padding. `pointwise_t`: the 1x1 weights transposed,
// [in][out]. `depthwise_row`: width * 8 floats of scratch.
template <class V>
void block_row(const float* const rows[3], const SegmentationHeadBlock& block, const float* pointwise_t, int width,
               float* depthwise_row, float* out) {
  for (int x = 0; x < width; ++x) {
    for (int c = 0; c < kC; c += V::kLanes) {
      auto acc = V::mul(V::load(rows[0] + x * kC + c), V::load(block.depthwise + c));
      for (int tap = 1; tap < 9; ++tap) {
        const int dy = tap / 3, dx = tap % 3;
        acc = V::add(acc, V::mul(V::load(rows[dy] + (x + dx) * kC + c), V::load(block.depthwise + tap * kC + c)));
      }
      V::store(depthwise_row + x * kC + c, relu6<V>(V::add(acc, V::load(block.depthwise_bias + c))));
    }
  }
  const float* input = rows[1] + kC;  // this row of the block's input, past its padding pixel
  for (int x = 0; x < width; ++x) {
    const float* d = depthwise_row + x * kC;
    for (int o = 0; o < kC; o += V::kLanes) {
      auto acc = V::mul(V::set1(d[0]), V::load(pointwise_t + o));
      for (int i = 1; i < kC; ++i) acc = V::add(acc, V::mul(V::set1(d[i]), V::load(pointwise_t + i * kC + o)));
      acc = V::add(acc, V::load(block.pointwise_bias + o));
      V::store(out + x * kC + o, relu6<V>(V::add(V::load(input + x * kC + o), acc)));
    }
  }
}

// One row of the 3x3 convolution to one channel (rows as for block_row): per pixel the eight
// channels' tap sums, then ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)) + bias.
template <class V>
void head_row(const float* const rows[3], const float* weights, float bias, int width, float* out) {
  alignas(32) float sums[kC];
  for (int x = 0; x < width; ++x) {
    for (int c = 0; c < kC; c += V::kLanes) {
      auto acc = V::mul(V::load(rows[0] + x * kC + c), V::load(weights + c));
      for (int tap = 1; tap < 9; ++tap) {
        const int dy = tap / 3, dx = tap % 3;
        acc = V::add(acc, V::mul(V::load(rows[dy] + (x + dx) * kC + c), V::load(weights + tap * kC + c)));
      }
      V::store(sums + c, acc);
    }
    out[x] = ((sums[0] + sums[4]) + (sums[2] + sums[6])) + ((sums[1] + sums[5]) + (sums[3] + sums[7])) + bias;
  }
}

// 1 / (1 + e^-x) with our own e^t (t = n ln 2 + r, |r| <= ln 2 / 2; e^r by Cephes expf's
// polynomial, 2^n from the exponent bits), the same operations on every path (libm's expf is
// scalar and differs between platforms). Within 2e-7 of the exact sigmoid. t = -x is clamped to
// [-87, 87] so that no step is subnormal: the result (>= 1.7e-38) is then the same whether or not
// denormals are flushed, or the compiler folds a constant case at build time.
template <class V>
inline typename V::F sigmoid(typename V::F x) {
  using F = typename V::F;
  const F t = V::min(V::max(V::sub(V::set1(0.0f), x), V::set1(-87.0f)), V::set1(87.0f));
  const F n = V::floor(V::add(V::mul(t, V::set1(1.44269504088896341f)), V::set1(0.5f)));
  F r = V::sub(t, V::mul(n, V::set1(0.693359375f)));
  r = V::sub(r, V::mul(n, V::set1(-2.12194440e-4f)));
  const F z = V::mul(r, r);
  F p = V::add(V::mul(V::set1(1.9875691500e-4f), r), V::set1(1.3981999507e-3f));
  p = V::add(V::mul(p, r), V::set1(8.3334519073e-3f));
  p = V::add(V::mul(p, r), V::set1(4.1665795894e-2f));
  p = V::add(V::mul(p, r), V::set1(1.6666665459e-1f));
  p = V::add(V::mul(p, r), V::set1(5.0000001201e-1f));
  const F e = V::mul(V::add(V::add(V::mul(p, z), r), V::set1(1.0f)), V::pow2i(V::to_int(n)));
  return V::div(V::set1(1.0f), V::add(V::set1(1.0f), e));
}

template <class V>
void sigmoid_row(float* row, int width) {
  using S = simd::ScalarOps;
  int x = 0;
  for (; x + V::kLanes <= width; x += V::kLanes) V::store(row + x, sigmoid<V>(V::load(row + x)));
  for (; x < width; ++x) row[x] = sigmoid<S>(row[x]);
}

// Output rows [row_begin, row_end) of the job: each stage's rows are made when the next stage
// needs them, into rings of three padded rows (the first rows of the range recompute the halo
// the rows above it need).
template <class V>
void segmentation_head_rows(const SegmentationHeadJob& job) {
  const int stages = job.stages;
  const HeadStage* stage = job.stage;
  auto slot = [&](int s, int row) { return job.rings + stage[s].ring_offset + (row % 3) * stage[s].padded; };
  // Per stage, the next row it makes: the rows above the range its consumer reads first.
  int next[kHeadMaxStages];
  int first = job.row_begin;  // the first row the consumer of stage s reads, then of s - 1, ...
  for (int s = stages - 1; s >= 0; --s) {
    const bool consumer_upsamples = s + 1 < stages && stage[s + 1].kind == HeadStage::kUpsample;
    first = consumer_upsamples ? first / 2 - 1 : first - 1;
    next[s] = first > 0 ? first : 0;
  }
  auto three_rows = [&](int s, int row, const float* rows[3]) {
    for (int k = 0; k < 3; ++k) {
      const int r = row - 1 + k;
      rows[k] = r < 0 || r >= stage[s].height ? job.zero_row : slot(s, r);
    }
  };
  // The row of stage s - 1 (or of the input, s == 0) that row r of stage s reads, unpadded.
  auto source_row = [&](int s, int r) -> const float* {
    return s == 0 ? job.features + r * job.row_stride : slot(s - 1, r) + kC;
  };
  // Makes stage s's rows up to `row` (and, first, the rows of stage s - 1 they read).
  auto make = [&](auto&& self, int s, int row) -> void {
    const HeadStage& st = stage[s];
    for (; next[s] <= row; ++next[s]) {
      const int r = next[s];
      float* dst = slot(s, r) + kC;  // past the left padding pixel
      if (st.kind == HeadStage::kCopy) {
        std::memcpy(dst, source_row(s, r), sizeof(float) * st.width * kC);
      } else if (st.kind == HeadStage::kUpsample) {
        // Half-pixel 2x: output row r reads source row r / 2 and its neighbour above (even r) or
        // below (odd r), weights 0.25 / 0.75, clamped at the edges.
        const int y = r / 2, source_height = (st.height + 1) / 2;
        const int other = r % 2 == 0 ? (y > 0 ? y - 1 : 0) : (y + 1 < source_height ? y + 1 : y);
        if (s > 0) self(self, s - 1, y + 1 < source_height ? y + 1 : source_height - 1);
        const float* mid = source_row(s, y);
        const float* near = source_row(s, other);
        if (r % 2 == 0) upsample_row<V>(near, mid, 0.25f, 0.75f, st.width / 2, job.scratch, dst);
        else upsample_row<V>(mid, near, 0.75f, 0.25f, st.width / 2, job.scratch, dst);
        if (st.skip != nullptr) {  // (upsampled) + skip, as the model's ADD
          const float* skip = st.skip + r * st.skip_row_stride;
          for (int k = 0; k < st.width * kC; k += V::kLanes) V::store(dst + k, V::add(V::load(dst + k), V::load(skip + k)));
        }
      } else {
        self(self, s - 1, r + 1 < st.height ? r + 1 : st.height - 1);
        const float* rows[3];
        three_rows(s - 1, r, rows);
        block_row<V>(rows, *st.block, st.pointwise_t, st.width, job.scratch, dst);
      }
    }
  };
  const int last = stages - 1, height = stage[last].height;
  for (int r = job.row_begin; r < job.row_end; ++r) {
    make(make, last, r + 1 < height ? r + 1 : height - 1);
    const float* rows[3];
    three_rows(last, r, rows);
    float* out = job.out + r * job.out_row_stride;
    head_row<V>(rows, job.head->head, job.head->head_bias, stage[last].width, out);
    if (job.sigmoid) sigmoid_row<V>(out, stage[last].width);
  }
}

}  // namespace
}  // namespace edgevision::kernels
