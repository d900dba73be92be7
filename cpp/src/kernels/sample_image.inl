// Bilinear sampling of an interleaved uint8 image through an affine map into a tensor.
// Included by each cpp/src/simd/table_<isa>.cpp after its Ops header.
//
// The formula (every path computes exactly this, tests compare them bit for bit):
//   x taps: the two horizontal weights are quantised to 14 bits (a0 + a1 = 16384) and moved onto
//     one pair of adjacent columns (b, b + 1), so a row's contribution is an exact integer,
//     h = p(b) * a0 + p(b + 1) * a1 (what pmaddwd computes from one 8-byte load);
//   y taps: float weights wy0, wy1 on rows y0, y1 (clamped, or zeroed outside for Border::zero),
//     divided by 16384 once per sample (a power of two: exact, as if the sum were divided);
//   value = (float(h_y0) * (wy0 / 16384) + float(h_y1) * (wy1 / 16384)) * scale + offset
//     (float tensors; uint8 ones take the blend as it is: scale 1 and offset 0 change nothing).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/float_taps.inl"
#include "kernels/jobs.hpp"
#include "simd/ops_scalar.hpp"

namespace edgevision::kernels {
namespace {

constexpr int kWeightOne = 1 << 14;
constexpr float kRowWeightScale = 1.0f / kWeightOne;
constexpr int kPrefetchRows = 2;  // output rows of look-ahead for cold source frames
constexpr int kPrefetchToL2 = 2;  // __builtin_prefetch locality: prefetcht1, L2 and outer levels
constexpr int32_t kCacheLineBytes = 64;
constexpr int32_t kPairBytes = 8;  // a pair's two pixels: at most 8 bytes

// Horizontal taps of kLanes samples: byte offset of the pair's first pixel within a row, and
// the pair's weights packed as a0 | a1 << 16.
template <class V>
struct PairTaps {
  typename V::I x_offset;
  typename V::I weights;
};

// Positions are clamped to [-2, size + 1] first: past that, every tap is outside the image
// either way, and the float-to-int conversion stays defined.
template <class V>
[[gnu::always_inline]] inline PairTaps<V> pair_taps(typename V::F pos, int width, int32_t pixel_stride, Border border) {
  using I = typename V::I;
  pos = V::min(V::max(pos, V::set1(-2.0f)), V::set1(static_cast<float>(width) + 1.0f));
  const auto floor_pos = V::floor(pos);
  const I x0 = V::to_int(floor_pos);
  const I x1 = V::addi(x0, V::seti(1));
  I w1 = V::round_to_int(V::mul(V::sub(pos, floor_pos), V::set1(static_cast<float>(kWeightOne))));
  I w0 = V::subi(V::seti(kWeightOne), w1);
  const I lo = V::seti(0), hi = V::seti(width - 1);
  if (border == Border::zero) {
    w0 = V::keepi_if_within(w0, x0, lo, hi);
    w1 = V::keepi_if_within(w1, x1, lo, hi);
  }
  const I c0 = V::mini(V::maxi(x0, lo), hi);
  const I c1 = V::mini(V::maxi(x1, lo), hi);
  const I b = V::mini(V::maxi(x0, lo), V::seti(width >= 2 ? width - 2 : 0));
  const I b1 = V::addi(b, V::seti(1));
  // Every clamped tap is b or b + 1, so its weight lands on one of the pair.
  const I a0 = V::addi(V::andi(V::cmpeqi(c0, b), w0), V::andi(V::cmpeqi(c1, b), w1));
  const I a1 = V::addi(V::andi(V::cmpeqi(c0, b1), w0), V::andi(V::cmpeqi(c1, b1), w1));
  return {V::mulli(b, V::seti(pixel_stride)), V::ori(a0, V::slli16(a1))};
}

// Writes kLanes tensor pixels (j .. j + kLanes - 1 of row i) from vertically weighted sums.
template <class V>
[[gnu::always_inline]] inline void store_tensor_pixels(const SampleImageJob& job, int i, int j, typename V::F value[3],
                                                       float scale, float offset) {
  const int64_t pixel = int64_t{i} * job.width + j;
  const int64_t plane = int64_t{job.width} * job.height;
  if (job.type == ElementType::float32) {
    for (int c = 0; c < 3; ++c) value[c] = V::add(V::mul(value[c], V::set1(scale)), V::set1(offset));
    float* out = static_cast<float*>(job.out);
    if (job.layout == Layout::nhwc) {
      V::store_interleaved3(out + 3 * pixel, value[0], value[1], value[2]);
    } else {
      for (int c = 0; c < 3; ++c) V::store(out + c * plane + pixel, value[c]);
    }
  } else {
    uint8_t* out = static_cast<uint8_t*>(job.out);
    if (job.layout == Layout::nhwc) {
      V::store_interleaved3_u8(out + 3 * pixel, value[0], value[1], value[2]);
    } else {
      for (int c = 0; c < 3; ++c) V::store_u8(out + c * plane + pixel, value[c]);
    }
  }
}

// Per-call constants shared by every chunk.
template <class V>
struct SampleContext {
  typename V::PixelShuffle shuffle;
  typename simd::ScalarOps::PixelShuffle scalar_shuffle;
  int32_t last_safe_offset;  // pair offsets above this take the byte-by-byte path
  float scale, offset;  // float tensors
  int32_t max_column_offset;  // separable maps: of the column table
  // Pixel-major NHWC float (V::sample_nhwc_*): the pair shuffle, scale and offset as vectors.
  typename V::I nhwc_shuffle;
  typename V::F scale_v, offset_v;
};

// kLanes samples whose taps are known: pairs at row0 + off0[k] and row1 + off1[k].
template <class V>
[[gnu::always_inline]] inline void sample_chunk(const SampleImageJob& job, const SampleContext<V>& ctx, int i,
                                                int j, const uint8_t* row0, const int32_t* off0, const uint8_t* row1,
                                                const int32_t* off1, typename V::I weights, typename V::F wy0,
                                                typename V::F wy1) {
  typename V::F h0[3], h1[3], value[3];
  V::horizontal_pairs(row0, off0, weights, ctx.shuffle, h0);
  V::horizontal_pairs(row1, off1, weights, ctx.shuffle, h1);
  for (int c = 0; c < 3; ++c) value[c] = V::add(V::mul(h0[c], wy0), V::mul(h1[c], wy1));
  store_tensor_pixels<V>(job, i, j, value, ctx.scale, ctx.offset);
}

// The same chunk one sample at a time through ScalarOps, which reads exactly the bytes it uses
// (for pairs near the end of the buffer, where a wide load would pass it).
template <class V>
[[gnu::noinline, gnu::cold]] void sample_chunk_bytewise(const SampleImageJob& job, const SampleContext<V>& ctx,
                                                        int i, int j, const uint8_t* row0, const int32_t* off0,
                                                        const uint8_t* row1, const int32_t* off1,
                                                        typename V::I weights, typename V::F wy0,
                                                        typename V::F wy1) {
  using S = simd::ScalarOps;
  alignas(32) int32_t w[V::kLanes];
  alignas(32) float y0[V::kLanes], y1[V::kLanes];
  V::storei(w, weights);
  V::store(y0, wy0);
  V::store(y1, wy1);
  const SampleContext<S> scalar{ctx.scalar_shuffle, ctx.scalar_shuffle, ctx.last_safe_offset, ctx.scale,
                                ctx.offset, ctx.max_column_offset, 0, ctx.scale, ctx.offset};
  for (int k = 0; k < V::kLanes; ++k) {
    sample_chunk<S>(job, scalar, i, j + k, row0, off0 + k, row1, off1 + k, w[k], y0[k], y1[k]);
  }
}

// Axis-aligned maps (letterbox): column taps once per call, row taps once per row.
// kPixelMajor: float NHWC through V::sample_nhwc.
template <class V, bool kPixelMajor>
void sample_separable_span(const SampleImageJob& job, const SampleContext<V>& ctx, int i, int j_begin,
                           int j_end) {
  using S = simd::ScalarOps;
  const float* m = job.map.m;
  S::I y0, y1;
  S::F wy0, wy1;
  axis_taps<S>(m[4] * static_cast<float>(i) + m[5], job.src.height, job.border, y0, y1, wy0, wy1);
  wy0 *= kRowWeightScale;
  wy1 *= kRowWeightScale;
  const int64_t row0_offset = y0 * job.src.row_stride, row1_offset = y1 * job.src.row_stride;
  const uint8_t* row0 = job.src.data + row0_offset;
  const uint8_t* row1 = job.src.data + row1_offset;
  const int32_t lower_row = static_cast<int32_t>(std::max(row0_offset, row1_offset));
  const bool near_end = lower_row + ctx.max_column_offset > ctx.last_safe_offset;
  const int x0 = job.content.x0;
  // Locals, not job fields: the vector stores may alias anything, so fields would be reloaded.
  const int32_t* const column_offset = job.column_offset;
  const int32_t* const column_weights = job.column_weights;
  const int32_t* const column_weights_x4 = job.column_weights_x4;
  float* const out_row = kPixelMajor ? static_cast<float*>(job.out) + 3 * int64_t{i} * job.width : nullptr;
  // Frames arrive cold: ask for the source lines of the row kPrefetchRows ahead while this one
  // computes (the hardware prefetcher restarts on every new row): every line under the chunk's
  // pairs, into L2 only. L2's queue keeps more misses in flight than L1's fill buffers, and a
  // cold 720p frame keeps them all busy (a quarter less time on one thread than prefetching into
  // L1 every other line).
  S::I ahead_y0, ahead_y1;
  S::F unused0, unused1;
  axis_taps<S>(m[4] * static_cast<float>(i + kPrefetchRows) + m[5], job.src.height, job.border, ahead_y0, ahead_y1,
               unused0, unused1);
  const uint8_t* ahead0 = job.src.data + ahead_y0 * job.src.row_stride;
  const uint8_t* ahead1 = job.src.data + ahead_y1 * job.src.row_stride;
  const auto wy0v = V::set1(wy0), wy1v = V::set1(wy1);
  // Two copies of the loop: rows far from the end of the buffer skip the per-chunk check.
  auto chunks = [&](auto check_end) {
    for (int j = j_begin; j < j_end; j += V::kLanes) {
      const int32_t* off = column_offset + (j - x0);
      if constexpr (V::kLanes > 1) {
        const int32_t first = std::min(off[0], off[V::kLanes - 1]);  // columns may run backwards
        const int32_t end = std::max(off[0], off[V::kLanes - 1]) + kPairBytes;
        for (int32_t line = first; line < end; line += kCacheLineBytes) {
          __builtin_prefetch(ahead0 + line, 0, kPrefetchToL2);
          __builtin_prefetch(ahead1 + line, 0, kPrefetchToL2);
        }
      }
      if (decltype(check_end)::value &&
          V::any_greater(V::addi(V::loadi(off), V::seti(lower_row)), ctx.last_safe_offset)) {
        sample_chunk_bytewise<V>(job, ctx, i, j, row0, off, row1, off, V::loadi(column_weights + (j - x0)), wy0v,
                                 wy1v);
      } else if constexpr (kPixelMajor) {
        V::sample_nhwc_rows(row0, row1, off, column_weights_x4 + 4 * (j - x0), wy0v, wy1v, ctx.scale_v,
                            ctx.offset_v, ctx.nhwc_shuffle, out_row + 3 * j, j + V::kLanes >= j_end);
      } else {
        sample_chunk<V>(job, ctx, i, j, row0, off, row1, off, V::loadi(column_weights + (j - x0)), wy0v, wy1v);
      }
    }
  };
  if (near_end) chunks(std::true_type{});
  else chunks(std::false_type{});
}

template <class V>
void column_taps_span(const SampleImageJob& job, int j_begin, int j_end) {
  const float* m = job.map.m;
  const int x0 = job.content.x0;
  for (int j = j_begin; j < j_end; j += V::kLanes) {
    const auto fj = V::add(V::set1(static_cast<float>(j)), V::iota());
    const PairTaps<V> t = pair_taps<V>(V::add(V::mul(V::set1(m[0]), fj), V::set1(m[2])), job.src.width,
                                       static_cast<int32_t>(job.src.pixel_stride), job.border);
    V::storei(job.column_offset + (j - x0), t.x_offset);
    V::storei(job.column_weights + (j - x0), t.weights);
  }
}

// First j in [lo, hi) where `reached(j)` holds (hi if none); reached is false, then true, along
// j. The search starts from `guess` and walks: from a good guess, a step or two.
template <class Pred>
int first_reached(int lo, int hi, double guess, Pred reached) {
  int j = guess >= lo ? static_cast<int>(std::min(guess, static_cast<double>(hi))) : lo;  // NaN: lo
  while (j < hi && !reached(j)) ++j;
  while (j > lo && reached(j - 1)) --j;
  return j;
}

struct SampleInterval {
  int begin, end;
};

// Samples j in [begin, end) whose pair's first tap floor(step * j + start) lies in [0, last],
// computed as the spans compute positions (float multiply, then add). Rounding is monotone, so
// the floors are monotone in j and the samples inside form one interval; its ends are first
// estimated from the line, then settled on the float positions themselves.
inline SampleInterval interior_samples(float step, float start, int last, int begin, int end) {
  const auto floor_at = [&](int j) { return std::floor(step * static_cast<float>(j) + start); };
  const float highest = static_cast<float>(last);
  if (step == 0.0f) {  // one position for the whole span
    const float position = floor_at(begin);
    return position >= 0.0f && position <= highest ? SampleInterval{begin, end} : SampleInterval{begin, begin};
  }
  // Where the line crosses 0 and last + 1, in samples.
  const double at_zero = -static_cast<double>(start) / step;
  const double past_last = (static_cast<double>(last) + 1.0 - start) / step;
  if (step > 0.0f) {
    return {first_reached(begin, end, at_zero, [&](int j) { return floor_at(j) >= 0.0f; }),
            first_reached(begin, end, past_last, [&](int j) { return floor_at(j) > highest; })};
  }
  return {first_reached(begin, end, past_last, [&](int j) { return floor_at(j) <= highest; }),
          first_reached(begin, end, at_zero, [&](int j) { return floor_at(j) < 0.0f; })};
}

// General affine maps (rotated ROIs): taps per sample, in blocks of kAffineBlock samples and
// two passes per block, the taps (stored) and then the samples: the chain from position to tap
// to pair load is long, and within one pass neighbouring chunks are independent.
// kPixelMajor: float NHWC through V::sample_nhwc_lanes.
constexpr int kAffineBlock = 64;

template <class V, bool kPixelMajor>
void sample_affine_span(const SampleImageJob& job, const SampleContext<V>& ctx, int i, int j_begin, int j_end) {
  using F = typename V::F;
  using I = typename V::I;
  static_assert(kAffineBlock % V::kLanes == 0);
  if (j_begin >= j_end) return;  // (the row's empty tails: the intervals below cost a little)
  const float* m = job.map.m;
  const float fi = static_cast<float>(i);
  const float start_x = m[1] * fi + m[2], start_y = m[4] * fi + m[5];
  const F bx = V::set1(start_x), by = V::set1(start_y);
  const F m0 = V::set1(m[0]), m3 = V::set1(m[3]);
  const I row_stride = V::seti(static_cast<int32_t>(job.src.row_stride));
  const I pixel_stride = V::seti(static_cast<int32_t>(job.src.pixel_stride));
  const uint8_t* base = job.src.data;
  const uint8_t* next_row = base + job.src.row_stride;
  float* const out_row = kPixelMajor ? static_cast<float*>(job.out) + 3 * int64_t{i} * job.width : nullptr;
  // Interior chunks (both taps of both axes inside for every sample) take their taps without
  // clamping: they equal what pair_taps and axis_taps give. Their positions are >= 0, so
  // truncation is their floor.
  const SampleInterval along_x = interior_samples(m[0], start_x, job.src.width - 2, j_begin, j_end);
  const SampleInterval along_y = interior_samples(m[3], start_y, job.src.height - 2, j_begin, j_end);
  const int interior_begin = std::max(along_x.begin, along_y.begin);
  const int interior_end = std::min(along_x.end, along_y.end);
  auto interior = [&](int j) { return j >= interior_begin && j + V::kLanes <= interior_end; };
  // Frames arrive cold (a new one per call, and inference ran in between): ask for the source
  // lines of the row kPrefetchRows ahead, at this row's taps moved by that many rows' step
  // (rounded to whole pixels: positions only, no effect on the values). Every fourth sample:
  // neighbours share lines, and each prefetch costs issue slots.
  // (Integer address arithmetic: the moved taps may lie outside the image, and prefetches of
  // any address are harmless.)
  const uintptr_t ahead = reinterpret_cast<uintptr_t>(base) +
                          static_cast<uintptr_t>(std::lround(kPrefetchRows * m[4]) * job.src.row_stride +
                                                 std::lround(kPrefetchRows * m[1]) * job.src.pixel_stride);
  constexpr int kPrefetchStep = 4;
  alignas(64) int32_t off0_block[kAffineBlock], off1_block[kAffineBlock], weights_block[kAffineBlock];
  alignas(64) float wy0_block[kAffineBlock], wy1_block[kAffineBlock];
  F fj = V::add(V::set1(static_cast<float>(j_begin)), V::iota());  // integers: exact
  const F lanes = V::set1(static_cast<float>(V::kLanes));
  for (int block = j_begin; block < j_end; block += kAffineBlock) {
    const int block_end = std::min(block + kAffineBlock, j_end);
    I highest_offset = V::seti(0);
    for (int j = block; j < block_end; j += V::kLanes, fj = V::add(fj, lanes)) {
      const F sx = V::add(V::mul(m0, fj), bx), sy = V::add(V::mul(m3, fj), by);
      I off0, off1, weights;
      F wy0, wy1;
      if (interior(j)) {
        const I x0 = V::to_int(sx), y0 = V::to_int(sy);
        const I w1 = V::round_to_int(V::mul(V::sub(sx, V::to_float(x0)), V::set1(static_cast<float>(kWeightOne))));
        weights = V::ori(V::subi(V::seti(kWeightOne), w1), V::slli16(w1));
        wy1 = V::sub(sy, V::to_float(y0));
        wy0 = V::sub(V::set1(1.0f), wy1);
        off0 = V::addi(V::mulli(y0, row_stride), V::mulli(x0, pixel_stride));
        off1 = V::addi(off0, row_stride);  // not stored: the sampling pass reads next_row + off0
      } else {  // pair_taps and axis_taps clamp first
        const PairTaps<V> t =
            pair_taps<V>(sx, job.src.width, static_cast<int32_t>(job.src.pixel_stride), job.border);
        I r0, r1;
        axis_taps<V>(sy, job.src.height, job.border, r0, r1, wy0, wy1);
        weights = t.weights;
        off0 = V::addi(V::mulli(r0, row_stride), t.x_offset);
        off1 = V::addi(V::mulli(r1, row_stride), t.x_offset);
        V::storei(off1_block + (j - block), off1);
      }
      const int k = j - block;
      V::storei(off0_block + k, off0);
      V::storei(weights_block + k, weights);
      V::store(wy0_block + k, V::mul(wy0, V::set1(kRowWeightScale)));
      V::store(wy1_block + k, V::mul(wy1, V::set1(kRowWeightScale)));
      highest_offset = V::maxi(highest_offset, V::maxi(off0, off1));
    }
    for (int k = 0; k < block_end - block; k += kPrefetchStep) {
      const uintptr_t pair = ahead + static_cast<uintptr_t>(off0_block[k]);
      __builtin_prefetch(reinterpret_cast<const void*>(pair));
      __builtin_prefetch(reinterpret_cast<const void*>(pair + static_cast<uintptr_t>(job.src.row_stride)));
    }
    const bool near_end = V::any_greater(highest_offset, ctx.last_safe_offset);
    auto reads_past_safe_end = [&](const int32_t* off0, const uint8_t* row1, const int32_t* off1) {
      const I second = V::addi(V::loadi(off1), V::seti(static_cast<int32_t>(row1 - base)));
      return V::any_greater(V::maxi(V::loadi(off0), second), ctx.last_safe_offset);
    };
    for (int j = block; j < block_end; j += V::kLanes) {
      const int k = j - block;
      // Interior chunks: the second row's pairs lie one row below the first's.
      const uint8_t* const row1 = interior(j) ? next_row : base;
      const int32_t* const off1 = interior(j) ? off0_block + k : off1_block + k;
      const I weights = V::loadi(weights_block + k);
      const F wy0 = V::load(wy0_block + k), wy1 = V::load(wy1_block + k);
      if (near_end && reads_past_safe_end(off0_block + k, row1, off1)) {
        sample_chunk_bytewise<V>(job, ctx, i, j, base, off0_block + k, row1, off1, weights, wy0, wy1);
      } else if constexpr (kPixelMajor) {
        V::sample_nhwc_lanes(base, off0_block + k, row1, off1, weights, wy0, wy1, ctx.scale_v, ctx.offset_v,
                             ctx.nhwc_shuffle, out_row + 3 * j, j + V::kLanes >= j_end);
      } else {
        sample_chunk<V>(job, ctx, i, j, base, off0_block + k, row1, off1, weights, wy0, wy1);
      }
    }
  }
}

// VWide: wider lanes for the rows of a rotated crop into a pixel-major float tensor (the
// instruction-bound case; Avx512Ops under the avx512 table), which V then finishes.
template <class V, class VWide = V>
void sample_image(const SampleImageJob& job) {
  using S = simd::ScalarOps;
  const PixelRect& c = job.content;
  const int count = c.x1 - c.x0;
  const int vector_end = c.x0 + count - count % V::kLanes;
  const int pixel_stride = static_cast<int>(job.src.pixel_stride);
  int channel_byte[3];
  for (int ch = 0; ch < 3; ++ch) channel_byte[ch] = job.channel_shift[ch] / 8;
  const bool to_float = job.type == ElementType::float32;
  const float scale = to_float ? job.scale : 1.0f;
  const float offset = to_float ? job.offset : 0.0f;
  const int32_t last_safe = static_cast<int32_t>(job.src.span() - V::pair_read_bytes(pixel_stride));

  const bool separable = job.map.m[1] == 0.0f && job.map.m[3] == 0.0f;
  if (separable) {
    column_taps_span<V>(job, c.x0, vector_end);
    column_taps_span<S>(job, vector_end, c.x1);
  }
  const int32_t max_column_offset =
      separable && count > 0 ? *std::max_element(job.column_offset, job.column_offset + count) : 0;
  SampleContext<V> ctx{V::pixel_shuffle(pixel_stride, channel_byte),
                       S::pixel_shuffle(pixel_stride, channel_byte),
                       last_safe,
                       scale,
                       offset,
                       max_column_offset,
                       {},
                       V::set1(scale),
                       V::set1(offset)};
  bool pixel_major = false;
  if constexpr (V::kPixelMajorNhwc) {
    pixel_major = to_float && job.layout == Layout::nhwc && V::can_sample_nhwc(ctx.shuffle);
    ctx.nhwc_shuffle = V::nhwc_shuffle(ctx.shuffle);
  }
  if (pixel_major && separable) {
    for (int k = 0; k < count; ++k) std::fill_n(job.column_weights_x4 + 4 * k, 4, job.column_weights[k]);
  }
  const SampleContext<S> scalar_ctx{ctx.scalar_shuffle, ctx.scalar_shuffle, last_safe, scale, offset,
                                    max_column_offset, 0, scale, offset};
  constexpr bool kWide = !std::is_same_v<VWide, V>;
  const int wide_end = kWide && pixel_major && !separable ? c.x0 + count - count % VWide::kLanes : c.x0;
  const SampleContext<VWide> wide_ctx = [&] {
    if constexpr (kWide) {
      const typename VWide::PixelShuffle shuffle = VWide::pixel_shuffle(pixel_stride, channel_byte);
      return SampleContext<VWide>{shuffle,   ctx.scalar_shuffle,         last_safe,         scale,
                                  offset,    max_column_offset,          VWide::nhwc_shuffle(shuffle),
                                  VWide::set1(scale), VWide::set1(offset)};
    } else {
      return ctx;
    }
  }();
  for (int i = c.y0; i < c.y1; ++i) {
    if (separable) {
      if (pixel_major) sample_separable_span<V, V::kPixelMajorNhwc>(job, ctx, i, c.x0, vector_end);
      else sample_separable_span<V, false>(job, ctx, i, c.x0, vector_end);
      sample_separable_span<S, false>(job, scalar_ctx, i, vector_end, c.x1);
    } else {
      if constexpr (kWide) {
        if (pixel_major) sample_affine_span<VWide, true>(job, wide_ctx, i, c.x0, wide_end);
      }
      if (pixel_major) sample_affine_span<V, V::kPixelMajorNhwc>(job, ctx, i, wide_end, vector_end);
      else sample_affine_span<V, false>(job, ctx, i, c.x0, vector_end);
      sample_affine_span<S, false>(job, scalar_ctx, i, vector_end, c.x1);
    }
  }
}

}  // namespace
}  // namespace edgevision::kernels
