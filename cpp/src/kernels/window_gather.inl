// Two taps per lane from one float row, for upsampling passes where neighbouring outputs share
// source elements: when every tap of the chunk lies in the kLanes floats starting at the first
// lane's tap, one load and two in-register permutes replace the per-lane gathers.
#pragma once

#include <cstdint>

namespace edgevision::kernels {
namespace {

template <class V>
[[gnu::always_inline]] inline void gather_tap_pair(const float* row, int64_t row_elements, const int32_t* off0,
                                                   const int32_t* off1, typename V::F& a, typename V::F& b) {
  const auto o0 = V::loadi(off0), o1 = V::loadi(off1);
  const int32_t start = off0[0];
  const auto window_end = V::seti(V::kLanes - 1);
  const auto i0 = V::subi(o0, V::seti(start)), i1 = V::subi(o1, V::seti(start));
  if (start + V::kLanes <= row_elements && V::all_within(i0, window_end) && V::all_within(i1, window_end)) {
    const auto window = V::load(row + start);
    a = V::permute(window, i0);
    b = V::permute(window, i1);
  } else {
    a = V::gather_f32(row, o0);
    b = V::gather_f32(row, o1);
  }
}

}  // namespace
}  // namespace edgevision::kernels
