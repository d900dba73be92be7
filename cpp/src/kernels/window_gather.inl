// Two taps per lane from one float row, for upsampling passes where neighbouring outputs share
// source elements: when every tap of a chunk lies in the kLanes floats starting at the first
// lane's tap (slid back at the end of the row), one load and two in-register permutes replace
// the per-lane gathers. The tap tables are the same for every row, so the decision and the lane
// indices are planned once per call (WindowPlan) and each row only replays them. Used by the
// mask resampling, the composite's background and SAM 2's logit upsampling.
#pragma once

#include <cstdint>

#include "cache_line_scratch.hpp"
#include "edgevision/types.hpp"

namespace edgevision::kernels {
namespace {

// Per chunk of kLanes outputs: the window's first element, or -1 where the taps do not fit in
// one window (gather); per output: the two taps' lanes in the window (or their offsets).
struct WindowPlan {
  int32_t* start;  // count / kLanes
  int32_t* tap0;   // count
  int32_t* tap1;   // count
};

// A plan of up to `count` outputs in scratch of window_plan_ints(count) ints: its three arrays
// start on cache lines when the scratch does, so each vector load of taps reads one line.
constexpr int64_t window_plan_ints(int count) { return 3 * int64_t(cache_line_row<int32_t>(count)); }
inline WindowPlan window_plan_in(int32_t* scratch, int count) {
  const auto stride = static_cast<int64_t>(cache_line_row<int32_t>(count));
  return {scratch, scratch + stride, scratch + 2 * stride};
}

// Floats a row of `plane` holds from its first element to its last (plan_windows' row_elements).
inline int64_t readable_row_floats(const PlaneView<float>& plane) {
  return int64_t{plane.width - 1} * plane.col_stride + 1;
}

// Plans outputs [0, count) (a multiple of kLanes) with taps at off0/off1 in rows of
// `row_elements` readable floats.
template <class V>
void plan_windows(const int32_t* off0, const int32_t* off1, int count, int64_t row_elements, const WindowPlan& plan) {
  const auto window_end = V::seti(V::kLanes - 1);
  for (int k = 0; k < count; k += V::kLanes) {
    const auto o0 = V::loadi(off0 + k), o1 = V::loadi(off1 + k);
    int64_t first = off0[k];
    if (first + V::kLanes > row_elements) first = row_elements - V::kLanes;  // not past the row
    const int32_t start = static_cast<int32_t>(first);
    const auto i0 = V::subi(o0, V::seti(start)), i1 = V::subi(o1, V::seti(start));
    const bool fits = start >= 0 && V::all_within(i0, window_end) && V::all_within(i1, window_end);
    plan.start[k / V::kLanes] = fits ? start : -1;
    V::storei(plan.tap0 + k, fits ? i0 : o0);
    V::storei(plan.tap1 + k, fits ? i1 : o1);
  }
}

// The taps of outputs k .. k + kLanes of `row` as planned.
template <class V>
[[gnu::always_inline]] inline void planned_tap_pair(const float* row, const WindowPlan& plan, int k, typename V::F& a,
                                                    typename V::F& b) {
  const int32_t start = plan.start[k / V::kLanes];
  const auto i0 = V::loadi(plan.tap0 + k), i1 = V::loadi(plan.tap1 + k);
  if (start >= 0) {
    const auto window = V::load(row + start);
    a = V::permute(window, i0);
    b = V::permute(window, i1);
  } else {
    a = V::gather_f32(row, i0);
    b = V::gather_f32(row, i1);
  }
}

// The same taps from two rows (a band's two source rows), sharing the plan's loads.
template <class V>
[[gnu::always_inline]] inline void planned_tap_pairs(const float* row_a, const float* row_b, const WindowPlan& plan,
                                                     int k, typename V::F& a0, typename V::F& a1, typename V::F& b0,
                                                     typename V::F& b1) {
  const int32_t start = plan.start[k / V::kLanes];
  const auto i0 = V::loadi(plan.tap0 + k), i1 = V::loadi(plan.tap1 + k);
  if (start >= 0) {
    const auto window_a = V::load(row_a + start), window_b = V::load(row_b + start);
    a0 = V::permute(window_a, i0);
    a1 = V::permute(window_a, i1);
    b0 = V::permute(window_b, i0);
    b1 = V::permute(window_b, i1);
  } else {
    a0 = V::gather_f32(row_a, i0);
    a1 = V::gather_f32(row_a, i1);
    b0 = V::gather_f32(row_b, i0);
    b1 = V::gather_f32(row_b, i1);
  }
}

// Unplanned, for row tails in ScalarOps: the taps themselves.
template <class V>
[[gnu::always_inline]] inline void gather_tap_pair(const float* row, const int32_t* off0, const int32_t* off1,
                                                   typename V::F& a, typename V::F& b) {
  a = V::gather_f32(row, V::loadi(off0));
  b = V::gather_f32(row, V::loadi(off1));
}

}  // namespace
}  // namespace edgevision::kernels
