// Bilinear resampling of a float plane: a separable path (axis-aligned maps, row-cached, taps
// from tables computed in double precision like cv2.resize) and an affine path (rotated ROIs,
// positions per pixel in float32).
#pragma once

#include <algorithm>
#include <cmath>

#include "kernels/jobs.hpp"
#include "kernels/row_cache.hpp"
#include "kernels/store_alignment.hpp"
#include "kernels/window_gather.inl"
#include "kernels/float_taps.inl"
#include "kernels/smooth_mask.inl"

namespace edgevision::kernels {
namespace {

template <class V>
inline void store_mask_values(const ResampleMaskJob& job, int64_t index, typename V::F v) {
  if (job.thresholded) {
    V::store_gt_u8(static_cast<uint8_t*>(job.out) + index, v, V::set1(job.threshold));
  } else {
    V::store(static_cast<float*>(job.out) + index, v);
  }
}

// Row src_row interpolated horizontally: planned windows for the vector part, the scalar tail
// through plain taps.
template <class V>
void resample_row_horizontal(const ResampleMaskJob& job, const WindowPlan& plan, const float* src_row, float* dst) {
  using S = simd::ScalarOps;
  const int vector_end = job.width - job.width % V::kLanes;
  // Locals, not fields: the stores through dst could alias the job and the plan.
  const WindowPlan local_plan = plan;
  const float* const w0 = job.col_w0;
  const float* const w1 = job.col_w1;
  for (int j = 0; j < vector_end; j += V::kLanes) {
    typename V::F a, b;
    planned_tap_pair<V>(src_row, local_plan, j, a, b);
    V::store(dst + j, V::add(V::mul(a, V::load(w0 + j)), V::mul(b, V::load(w1 + j))));
  }
  for (int j = vector_end; j < job.width; ++j) {
    float a, b;
    gather_tap_pair<S>(src_row, job.col_off0 + j, job.col_off1 + j, a, b);
    dst[j] = S::add(S::mul(a, job.col_w0[j]), S::mul(b, job.col_w1[j]));
  }
}

// The window plan of a separable job's columns from `phase` on (whole vectors), in its scratch
// (planned unless it already is).
template <class V>
WindowPlan plan_columns(const ResampleMaskJob& job, int phase = 0) {
  const WindowPlan plan = window_plan_in(job.window_plan, job.width);
  if (!job.window_planned)
    plan_windows<V>(job.col_off0 + phase, job.col_off1 + phase, (job.width - phase) - (job.width - phase) % V::kLanes,
                    readable_row_floats(job.src), plan);
  return plan;
}

// dst[j] = top[j] * w0 + bottom[j] * w1: output row i of a separable job, as floats.
template <class V>
void interpolate_rows(const ResampleMaskJob& job, const float* top, const float* bottom, int i, float* dst,
                      int j_begin, int j_end) {
  const auto w0 = V::set1(job.row_w0[i]), w1 = V::set1(job.row_w1[i]);
#pragma GCC unroll 4
  for (int j = j_begin; j < j_end; j += V::kLanes)
    V::store(dst + j, V::add(V::mul(V::load(top + j), w0), V::mul(V::load(bottom + j), w1)));
}

template <class V>
void resample_row_vertical(const ResampleMaskJob& job, const float* top, const float* bottom, int i,
                           int j_begin, int j_end) {
  const auto w0 = V::set1(job.row_w0[i]), w1 = V::set1(job.row_w1[i]);
  const int64_t row = int64_t{i} * job.width;
  // Locals, not job fields, in the loops: stores through `out` could alias the job.
  if (job.thresholded) {
    uint8_t* out = static_cast<uint8_t*>(job.out) + row;
    const auto threshold = V::set1(job.threshold);
    auto value = [&](int j) { return V::add(V::mul(V::load(top + j), w0), V::mul(V::load(bottom + j), w1)); };
    int j = j_begin;
    for (; j + 4 * V::kLanes <= j_end; j += 4 * V::kLanes) {
      V::store_gt_u8_x4(out + j, value(j), value(j + V::kLanes), value(j + 2 * V::kLanes), value(j + 3 * V::kLanes),
                        threshold);
    }
    for (; j < j_end; j += V::kLanes) {
      V::store_gt_u8(out + j, V::add(V::mul(V::load(top + j), w0), V::mul(V::load(bottom + j), w1)), threshold);
    }
  } else {
    interpolate_rows<V>(job, top, bottom, i, static_cast<float*>(job.out) + row, j_begin, j_end);
  }
}

// Fused segmentation smoothing of output row i, while the row is still in cache.
template <class V>
inline void smooth_output_row(const ResampleMaskJob& job, int i) {
  if (job.previous == nullptr) return;
  float* row = static_cast<float*>(job.out) + int64_t{i} * job.width;
  smooth_row<V>(row, job.previous + i * job.previous_row_stride, row, job.width, job.smoothing_ratio);
}

// Output elements of row i before its first vector-aligned store (see store_alignment.hpp).
template <class V>
int output_row_head(const ResampleMaskJob& job, int i) {
  constexpr int kVectorBytes = V::kLanes * static_cast<int>(sizeof(float));  // u8 rows: the x4 store
  const int64_t row = int64_t{i} * job.width;
  return job.thresholded
             ? elements_before_alignment(static_cast<const uint8_t*>(job.out) + row, kVectorBytes, job.width)
             : elements_before_alignment(static_cast<const float*>(job.out) + row, kVectorBytes, job.width);
}

// Where rows do not start on a vector boundary, the last columns of row r (its tail) and the
// first of row r + 1 (its head) share one vector-aligned line: it is stored whole, as one vector
// spliced from both rows (tail_lanes lanes of row r, then row r + 1), when the band that holds
// row r + 1 starts. Only a job's first head and last tail are masked stores of their own lanes.
// Stored as two unaligned vectors per row instead, the edges cost 7 us on a 1280x720 output
// (half-written lines, each straddling store touching two). Lane l of the head vector holds
// column l - tail_lanes, of the tail vector column width - tail_lanes + l (clamped into the row
// in the lanes a row does not own); their taps and weights are gathered here once per job.
template <class V>
struct RowEdges {
  alignas(64) int32_t off0[2 * V::kLanes], off1[2 * V::kLanes];
  alignas(64) int32_t tap0[2 * V::kLanes], tap1[2 * V::kLanes];
  alignas(64) float w0[2 * V::kLanes], w1[2 * V::kLanes];  // head lanes, then tail lanes
  int32_t start[2];
  int tail_lanes;  // 0 for rows on vector boundaries; the head's lanes are kLanes - tail_lanes

  RowEdges(const ResampleMaskJob& job, int phase, int vector_end) : tail_lanes(phase == 0 ? 0 : V::kLanes - phase) {
    for (int l = 0; l < V::kLanes; ++l) {
      const int head = std::max(0, l - tail_lanes), tail = std::min(job.width - 1, vector_end + l);
      off0[l] = job.col_off0[head], off1[l] = job.col_off1[head], w0[l] = job.col_w0[head], w1[l] = job.col_w1[head];
      const int k = V::kLanes + l;
      off0[k] = job.col_off0[tail], off1[k] = job.col_off1[tail], w0[k] = job.col_w0[tail], w1[k] = job.col_w1[tail];
    }
    plan_windows<V>(off0, off1, 2 * V::kLanes, readable_row_floats(job.src), plan());
  }
  WindowPlan plan() { return {start, tap0, tap1}; }
};

// Both source rows' horizontal taps at the columns `plan` gives for outputs k .. k + kLanes.
template <class V>
[[gnu::always_inline]] inline void horizontal_pair(const float* top, const float* bottom, const WindowPlan& plan,
                                                   int k, const float* w0, const float* w1, typename V::F& upper,
                                                   typename V::F& lower) {
  typename V::F a0, a1, b0, b1;
  planned_tap_pairs<V>(top, bottom, plan, k, a0, a1, b0, b1);
  const auto c0 = V::load(w0), c1 = V::load(w1);
  upper = V::add(V::mul(a0, c0), V::mul(a1, c1));
  lower = V::add(V::mul(b0, c0), V::mul(b1, c1));
}

// Output rows [first, end) that share their two source rows (a band of an upsampling), as
// floats: per group of columns both rows' horizontal taps are computed in registers and blended
// into every row of the band. Nothing but the output is stored: on outputs larger than L2 the
// output's line transfers bound the kernel, and scratch stores in the same store buffer slow
// them. Same values as the row-cached path (the same operations per element).
template <class V>
void resample_band(const ResampleMaskJob& job, const WindowPlan& plan, RowEdges<V>& edges, int phase,
                   int vector_end, int first, int end) {
  using F = typename V::F;
  constexpr int kGroup = 4;  // columns per group: kGroup vectors, in registers for both rows
  const int width = job.width, rows = end - first;
  const float* top = job.src.data + int64_t{job.row0[first]} * job.src.row_stride;
  const float* bottom = job.src.data + int64_t{job.row1[first]} * job.src.row_stride;
  // Locals, not job fields: the stores through `out` could alias the job and its tables.
  float* const out = static_cast<float*>(job.out) + int64_t{first} * width;
  const float* const row_w0 = job.row_w0 + first;
  const float* const row_w1 = job.row_w1 + first;
  const auto blend = [](F upper, F lower, F w0, F w1) { return V::add(V::mul(upper, w0), V::mul(lower, w1)); };

  if (edges.tail_lanes > 0) {  // the heads of the band's rows, spliced with the rows before
    const WindowPlan edge_plan = edges.plan();
    const int t = edges.tail_lanes;
    F head_upper, head_lower, tail_upper, tail_lower;
    horizontal_pair<V>(top, bottom, edge_plan, 0, edges.w0, edges.w1, head_upper, head_lower);
    horizontal_pair<V>(top, bottom, edge_plan, V::kLanes, edges.w0 + V::kLanes, edges.w1 + V::kLanes, tail_upper,
                       tail_lower);
    for (int r = 0; r < rows; ++r) {
      float* row = out + int64_t{r} * width;
      const F w0 = V::set1(row_w0[r]), w1 = V::set1(row_w1[r]);
      if (first + r == job.row_begin) {
        V::store_lanes(row, blend(head_upper, head_lower, w0, w1), t, V::kLanes - t);
        continue;
      }
      F upper = tail_upper, lower = tail_lower;  // the row before: in this band, or the last of the one before
      if (r == 0) {
        const float* before_top = job.src.data + int64_t{job.row0[first - 1]} * job.src.row_stride;
        const float* before_bottom = job.src.data + int64_t{job.row1[first - 1]} * job.src.row_stride;
        horizontal_pair<V>(before_top, before_bottom, edge_plan, V::kLanes, edges.w0 + V::kLanes,
                           edges.w1 + V::kLanes, upper, lower);
      }
      const F before_w0 = V::set1(job.row_w0[first + r - 1]), before_w1 = V::set1(job.row_w1[first + r - 1]);
      V::store(row - t, V::splice(blend(upper, lower, before_w0, before_w1), blend(head_upper, head_lower, w0, w1), t));
    }
    if (end == job.row_end) {
      const F w0 = V::set1(row_w0[rows - 1]), w1 = V::set1(row_w1[rows - 1]);
      V::store_lanes(out + int64_t{rows - 1} * width + vector_end, blend(tail_upper, tail_lower, w0, w1), 0, t);
    }
  }

  const WindowPlan local_plan = plan;
  const auto vector_columns = [&](auto group, int j) {
    constexpr int n = decltype(group)::value;
    F upper[n], lower[n];
    for (int c = 0; c < n; ++c) {
      const int k = j + c * V::kLanes;
      horizontal_pair<V>(top, bottom, local_plan, k - phase, job.col_w0 + k, job.col_w1 + k, upper[c], lower[c]);
    }
    for (int r = 0; r < rows; ++r) {
      const F w0 = V::set1(row_w0[r]), w1 = V::set1(row_w1[r]);
      float* dst = out + int64_t{r} * width + j;
      for (int c = 0; c < n; ++c) V::store(dst + c * V::kLanes, blend(upper[c], lower[c], w0, w1));
    }
  };
  int j = phase;
  for (; j + kGroup * V::kLanes <= vector_end; j += kGroup * V::kLanes)
    vector_columns(std::integral_constant<int, kGroup>{}, j);
  for (; j < vector_end; j += V::kLanes) vector_columns(std::integral_constant<int, 1>{}, j);
}

// Float output whose rows all start at the same vector alignment: bands of rows sharing their
// source rows (at most kMaxBandRows, so a band's rows stay a few streams), with the column plan
// in the rows' alignment phase so every vector store is aligned.
template <class V>
void resample_mask_bands(const ResampleMaskJob& job) {
  constexpr int kMaxBandRows = 8;
  const int phase = output_row_head<V>(job, job.row_begin);
  const int vector_end = job.width - (job.width - phase) % V::kLanes;
  const WindowPlan plan = plan_columns<V>(job, phase);
  RowEdges<V> edges(job, phase, vector_end);
  int smoothed = job.row_begin;
  for (int i = job.row_begin; i < job.row_end;) {
    int end = i + 1;
    while (end < job.row_end && end - i < kMaxBandRows && job.row0[end] == job.row0[i] && job.row1[end] == job.row1[i])
      ++end;
    resample_band<V>(job, plan, edges, phase, vector_end, i, end);
    // A band's last row is whole once the next band has stored its tail.
    const int whole = end == job.row_end || edges.tail_lanes == 0 ? end : end - 1;
    for (; smoothed < whole; ++smoothed) smooth_output_row<V>(job, smoothed);
    i = end;
  }
}

// Row by row: each source row interpolated horizontally once into the job's two-row cache,
// each output row blended from two cached rows.
template <class V>
void resample_mask_rows(const ResampleMaskJob& job) {
  using S = simd::ScalarOps;
  const int width = job.width;
  RowPairCache<float> cache(job.cache, job.cache + job.cache_row_stride);
  const WindowPlan plan = plan_columns<V>(job);
  auto interpolate = [&](int src_row, float* dst) {
    resample_row_horizontal<V>(job, plan, job.src.data + src_row * job.src.row_stride, dst);
  };
  for (int i = job.row_begin; i < job.row_end; ++i) {
    const float *top, *bottom;
    cache.get(job.row0[i], job.row1[i], top, bottom, interpolate);
    const int head = output_row_head<V>(job, i);
    const int vector_end = width - (width - head) % V::kLanes;
    resample_row_vertical<S>(job, top, bottom, i, 0, head);
    resample_row_vertical<V>(job, top, bottom, i, head, vector_end);
    resample_row_vertical<S>(job, top, bottom, i, vector_end, width);
    smooth_output_row<V>(job, i);
  }
}

// Axis-aligned maps. Float outputs whose rows all start at the same vector alignment go by
// bands on 8 or more lanes; on 4 (SSE4.1, NEON) recomputing both source rows per band costs
// more than the stores it saves (1280x720 on SSE4.1: 0.186 -> 0.202 ms). Thresholded outputs
// (bound by arithmetic, not stores), other widths and the scalar reference go row by row, so
// the SIMD-against-scalar tests also check the two orders against each other.
template <class V>
void resample_mask_separable(const ResampleMaskJob& job) {
  if constexpr (V::kLanes >= 8) {
    if (!job.thresholded && job.width % V::kLanes == 0) {
      resample_mask_bands<V>(job);
      return;
    }
  }
  resample_mask_rows<V>(job);
}

// Rotated maps: positions per sample. Two shortcuts give exactly the general path's values:
// chunks whose samples all lie in the zero border store zeros without reading the plane, and
// chunks whose taps all sit on one pair of rows within kLanes consecutive floats read them with
// two window loads and permutes instead of four gathers (masks are upsampled, so neighbouring
// samples share taps).
template <class V>
void resample_mask_affine_span(const ResampleMaskJob& job, int i, int j_begin, int j_end) {
  using F = typename V::F;
  using I = typename V::I;
  const float* m = job.map.m;
  const float fi = static_cast<float>(i);
  const F bx = V::set1(m[1] * fi + m[2]);
  const F by = V::set1(m[4] * fi + m[5]);
  const F m0 = V::set1(m[0]), m3 = V::set1(m[3]);
  const I col_stride = V::seti(static_cast<int32_t>(job.src.col_stride));
  const I row_stride = V::seti(static_cast<int32_t>(job.src.row_stride));
  const int nx = job.tap_x1 - job.tap_x0 + 1, ny = job.tap_y1 - job.tap_y0 + 1;
  const bool zero_border = job.border == Border::zero;
  const bool windowed = V::kLanes > 1 && job.src.col_stride == 1;
  const int window_lane = m[0] >= 0.0f ? 0 : V::kLanes - 1;  // the leftmost sample of a chunk
  const float* base = job.src.data;
  alignas(32) int32_t lanes_x[V::kLanes], lanes_y[V::kLanes];
  for (int j = j_begin; j < j_end; j += V::kLanes) {
    const F fj = V::add(V::set1(static_cast<float>(j)), V::iota());
    const F sx = V::add(V::mul(m0, fj), bx);
    const F sy = V::add(V::mul(m3, fj), by);
    Taps<V> t;
    I x0, x1, y0, y1;
    // Taps are confined to the content window: shift it to the origin for axis_taps.
    axis_taps<V>(V::sub(sx, V::set1(static_cast<float>(job.tap_x0))), nx, job.border, x0, x1, t.wx0, t.wx1);
    axis_taps<V>(V::sub(sy, V::set1(static_cast<float>(job.tap_y0))), ny, job.border, y0, y1, t.wy0, t.wy1);
    // Zero border: lanes without a tap inside the window are +0 on every path (a zero weight
    // times a negative value would give -0 on some). axis_taps clamped x0/y0, so recompute.
    I first_x = V::seti(0), first_y = V::seti(0);
    if (zero_border) {
      first_x = V::addi(V::to_int(V::floor(V::min(V::max(V::sub(sx, V::set1(static_cast<float>(job.tap_x0))),
                                                         V::set1(-2.0f)), V::set1(nx + 1.0f)))), V::seti(1));
      first_y = V::addi(V::to_int(V::floor(V::min(V::max(V::sub(sy, V::set1(static_cast<float>(job.tap_y0))),
                                                         V::set1(-2.0f)), V::set1(ny + 1.0f)))), V::seti(1));
      const I touches = V::andi(V::keepi_if_within(V::seti(1), first_x, V::seti(0), V::seti(nx)),
                                V::keepi_if_within(V::seti(1), first_y, V::seti(0), V::seti(ny)));
      if (!V::any_greater(touches, 0)) {
        store_mask_values<V>(job, int64_t{i} * job.width + j, V::set1(0.0f));
        continue;
      }
    }
    if (job.border == Border::replicate) {
      t.wy0 = V::keep_if_within(t.wy0, sx, V::set1(job.valid_x0), V::set1(job.valid_x1));
      t.wy1 = V::keep_if_within(t.wy1, sx, V::set1(job.valid_x0), V::set1(job.valid_x1));
      t.wy0 = V::keep_if_within(t.wy0, sy, V::set1(job.valid_y0), V::set1(job.valid_y1));
      t.wy1 = V::keep_if_within(t.wy1, sy, V::set1(job.valid_y0), V::set1(job.valid_y1));
    }
    F value;
    bool done = false;
    if (windowed) {
      V::storei(lanes_x, x0);
      V::storei(lanes_y, y0);
      const int32_t start = lanes_x[window_lane], row = lanes_y[0];
      const I i0 = V::subi(x0, V::seti(start)), i1 = V::subi(x1, V::seti(start));
      if (job.tap_x0 + start + V::kLanes <= job.src.width && V::all_within(V::subi(y0, V::seti(row)), V::seti(0)) &&
          V::all_within(V::subi(y1, V::seti(row + 1)), V::seti(0)) && V::all_within(i0, V::seti(V::kLanes - 1)) &&
          V::all_within(i1, V::seti(V::kLanes - 1))) {
        const float* top = base + int64_t{job.tap_y0 + row} * job.src.row_stride + job.tap_x0 + start;
        const F upper = V::load(top), lower = V::load(top + job.src.row_stride);
        value = bilinear<V>(V::permute(upper, i0), V::permute(upper, i1), V::permute(lower, i0),
                            V::permute(lower, i1), t);
        done = true;
      }
    }
    if (!done) {
      x0 = V::mulli(V::addi(x0, V::seti(job.tap_x0)), col_stride);
      x1 = V::mulli(V::addi(x1, V::seti(job.tap_x0)), col_stride);
      y0 = V::mulli(V::addi(y0, V::seti(job.tap_y0)), row_stride);
      y1 = V::mulli(V::addi(y1, V::seti(job.tap_y0)), row_stride);
      value = bilinear<V>(V::gather_f32(base, V::addi(y0, x0)), V::gather_f32(base, V::addi(y0, x1)),
                          V::gather_f32(base, V::addi(y1, x0)), V::gather_f32(base, V::addi(y1, x1)), t);
    }
    if (zero_border) {
      value = V::keep_if_within(V::keep_if_within(value, first_x, V::seti(0), V::seti(nx)), first_y, V::seti(0),
                                V::seti(ny));
    }
    store_mask_values<V>(job, int64_t{i} * job.width + j, value);
  }
}

// Columns of row i as an interval of j, from the map in double precision. `inside`: where
// every sample's taps lie in the plane's content window; otherwise where a sample may touch it
// (the zero border's support). Both keep a margin of a few columns, far above float32's position
// error, so the chunk code that runs inside them decides exactly.
inline void column_interval(const ResampleMaskJob& job, int i, bool inside, int& begin, int& end) {
  const float* m = job.map.m;
  double lo = 0.0, hi = job.width;
  const auto clip = [&](double slope, double intercept, double first, double last) {
    if (first > last || std::abs(slope) < 1e-9) {
      if (intercept < first || intercept > last) hi = lo;
      return;
    }
    double a = (first - intercept) / slope, b = (last - intercept) / slope;
    if (a > b) std::swap(a, b);
    lo = std::max(lo, inside ? std::ceil(a) + 2.0 : std::floor(a) - 2.0);
    hi = std::min(hi, inside ? std::floor(b) - 2.0 : std::ceil(b) + 3.0);
  };
  const double x_intercept = double(m[1]) * i + m[2], y_intercept = double(m[4]) * i + m[5];
  if (inside) {  // tap0 <= position and position + 1 <= tap1
    clip(m[0], x_intercept, job.tap_x0 + 0.25, job.tap_x1 - 1.25);
    clip(m[3], y_intercept, job.tap_y0 + 0.25, job.tap_y1 - 1.25);
  } else {  // tap0 - 1 <= position < tap1 + 1
    clip(m[0], x_intercept, job.tap_x0 - 1.5, job.tap_x1 + 1.5);
    clip(m[3], y_intercept, job.tap_y0 - 1.5, job.tap_y1 + 1.5);
  }
  begin = static_cast<int>(std::clamp(lo, 0.0, double(job.width)));
  end = std::max(begin, static_cast<int>(std::clamp(hi, 0.0, double(job.width))));
}

template <class V>
void fill_mask_zeros(const ResampleMaskJob& job, int i, int j_begin, int j_end) {
  for (int j = j_begin; j < j_end; j += V::kLanes) store_mask_values<V>(job, int64_t{i} * job.width + j, V::set1(0.0f));
}

// Samples whose taps all lie inside the content window: axis_taps' clamps and the borders'
// masks do nothing there, so this is the general path's arithmetic without them.
template <class V>
void resample_mask_interior_span(const ResampleMaskJob& job, int i, int j_begin, int j_end) {
  using F = typename V::F;
  using I = typename V::I;
  const float* m = job.map.m;
  const float fi = static_cast<float>(i);
  const F bx = V::set1(m[1] * fi + m[2]), by = V::set1(m[4] * fi + m[5]);
  const F m0 = V::set1(m[0]), m3 = V::set1(m[3]);
  const F tx = V::set1(static_cast<float>(job.tap_x0)), ty = V::set1(static_cast<float>(job.tap_y0));
  const I row_stride = V::seti(static_cast<int32_t>(job.src.row_stride));
  const I col_stride = V::seti(static_cast<int32_t>(job.src.col_stride));
  const float* origin = job.src.data + int64_t{job.tap_y0} * job.src.row_stride + int64_t{job.tap_x0} * job.src.col_stride;
  const bool windowed = V::kLanes > 1 && job.src.col_stride == 1;
  const int window_limit = job.src.width - job.tap_x0 - V::kLanes;  // last window start inside the row
  const int64_t stride = job.src.row_stride;
  alignas(32) int32_t lanes_x[V::kLanes], lanes_y[V::kLanes];
  for (int j = j_begin; j < j_end; j += V::kLanes) {
    const F fj = V::add(V::set1(static_cast<float>(j)), V::iota());
    const F px = V::sub(V::add(V::mul(m0, fj), bx), tx);
    const F py = V::sub(V::add(V::mul(m3, fj), by), ty);
    const F floor_x = V::floor(px), floor_y = V::floor(py);
    Taps<V> t;
    t.wx1 = V::sub(px, floor_x);
    t.wx0 = V::sub(V::set1(1.0f), t.wx1);
    t.wy1 = V::sub(py, floor_y);
    t.wy0 = V::sub(V::set1(1.0f), t.wy1);
    const I x0 = V::to_int(floor_x), y0 = V::to_int(floor_y);
    F value;
    bool done = false;
    if (windowed) {
      // Positions are monotonic along a row: the end lanes bound every lane's taps.
      V::storei(lanes_x, x0);
      V::storei(lanes_y, y0);
      const int xa = lanes_x[0], xb = lanes_x[V::kLanes - 1], ya = lanes_y[0], yb = lanes_y[V::kLanes - 1];
      const int start = std::min(xa, xb), row = std::min(ya, yb), rows = std::abs(yb - ya);
      // Every lane's taps lie inside the content window (interior), so rows row .. row +
      // rows + 1 exist; a leaning row crosses up to two source rows within the chunk.
      if (std::abs(xb - xa) <= V::kLanes - 2 && start <= window_limit && rows <= 2) {
        const I k0 = V::subi(x0, V::seti(start)), k1 = V::addi(k0, V::seti(1));
        const float* top = origin + int64_t{row} * stride + start;
        const F r0 = V::load(top), r1 = V::load(top + stride);
        F p00 = V::permute(r0, k0), p01 = V::permute(r0, k1);
        F p10 = V::permute(r1, k0), p11 = V::permute(r1, k1);
        F below = r1;
        for (int r = 1; r <= rows; ++r) {  // lanes on row + r take that row's pair
          const F next = V::load(top + (r + 1) * stride);
          const I on_row = V::cmpeqi(y0, V::seti(row + r));
          p00 = V::select(on_row, V::permute(below, k0), p00);
          p01 = V::select(on_row, V::permute(below, k1), p01);
          p10 = V::select(on_row, V::permute(next, k0), p10);
          p11 = V::select(on_row, V::permute(next, k1), p11);
          below = next;
        }
        value = bilinear<V>(p00, p01, p10, p11, t);
        done = true;
      }
    }
    if (!done) {
      const I o00 = V::addi(V::mulli(y0, row_stride), V::mulli(x0, col_stride));
      const I o01 = V::addi(o00, col_stride), o10 = V::addi(o00, row_stride);
      value = bilinear<V>(V::gather_f32(origin, o00), V::gather_f32(origin, o01), V::gather_f32(origin, o10),
                          V::gather_f32(origin, V::addi(o10, col_stride)), t);
    }
    store_mask_values<V>(job, int64_t{i} * job.width + j, value);
  }
}

template <class V>
void resample_mask_affine(const ResampleMaskJob& job) {
  using S = simd::ScalarOps;
  const int lanes = V::kLanes;
  const int vector_end = job.width - job.width % lanes;
  const auto down = [&](int c) { return std::min(c - c % lanes, vector_end); };
  const auto up = [&](int c) { return std::min(c + (lanes - c % lanes) % lanes, vector_end); };
  for (int i = job.row_begin; i < job.row_end; ++i) {
    // Whole chunks of the vector part: zeros | general | interior | general | zeros, then the
    // scalar tail through the general path. Each part gives the general path's values.
    int touch_begin = 0, touch_end = job.width, inner_begin, inner_end;
    if (job.border == Border::zero) column_interval(job, i, false, touch_begin, touch_end);
    column_interval(job, i, true, inner_begin, inner_end);
    const int a = down(touch_begin), d = std::max(a, up(touch_end));
    const int b = std::clamp(up(inner_begin), a, d), c = std::clamp(down(inner_end), b, d);
    fill_mask_zeros<V>(job, i, 0, a);
    resample_mask_affine_span<V>(job, i, a, b);
    resample_mask_interior_span<V>(job, i, b, c);
    resample_mask_affine_span<V>(job, i, c, d);
    fill_mask_zeros<V>(job, i, d, vector_end);
    resample_mask_affine_span<S>(job, i, vector_end, job.width);
    smooth_output_row<V>(job, i);
  }
}

}  // namespace
}  // namespace edgevision::kernels
