// AVX2 lanes (8 floats) behind the interface of ScalarOps; compiled with -mavx2 (no FMA:
// results must equal the scalar path bit for bit).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "ops_sse41.hpp"

namespace edgevision::simd {
namespace {  // internal linkage: one private copy per ISA translation unit

struct Avx2Ops {
  static constexpr int kLanes = 8;
  using F = __m256;
  using I = __m256i;

  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  // Lanes [0, count) of a, the rest of b.
  static F splice(F a, F b, int count) {
    const __m256i below = _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_blendv_ps(b, a, _mm256_castsi256_ps(below));
  }
  // Lanes [first, first + count) of v to dst[0 .. count); nothing else is written or read. The
  // vector's own start (dst - first) may lie outside the array: an address, not a pointer.
  static void store_lanes(float* dst, F v, int first, int count) {
    const auto start = reinterpret_cast<float*>(reinterpret_cast<uintptr_t>(dst) - uintptr_t(first) * sizeof(float));
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i inside = _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(first), lane),
                                               _mm256_cmpgt_epi32(_mm256_set1_epi32(first + count), lane));
    _mm256_maskstore_ps(start, inside, v);
  }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F iota() { return _mm256_setr_ps(0.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F pow2i(I n) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23)); }
  static F floor(F a) { return _mm256_floor_ps(a); }
  static I to_int(F a) { return _mm256_cvttps_epi32(a); }
  static F to_float(I a) { return _mm256_cvtepi32_ps(a); }

  static I loadi(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static I seti(int32_t v) { return _mm256_set1_epi32(v); }
  static I addi(I a, I b) { return _mm256_add_epi32(a, b); }
  static I mulli(I a, I b) { return _mm256_mullo_epi32(a, b); }
  static I mini(I a, I b) { return _mm256_min_epi32(a, b); }
  static I maxi(I a, I b) { return _mm256_max_epi32(a, b); }
  static I subi(I a, I b) { return _mm256_sub_epi32(a, b); }
  static I andi(I a, I b) { return _mm256_and_si256(a, b); }
  static I ori(I a, I b) { return _mm256_or_si256(a, b); }
  static I cmpeqi(I a, I b) { return _mm256_cmpeq_epi32(a, b); }
  static I slli16(I a) { return _mm256_slli_epi32(a, 16); }
  static void storei(int32_t* p, I v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static bool any_greater(I a, int32_t limit) {
    return _mm256_movemask_epi8(_mm256_cmpgt_epi32(a, _mm256_set1_epi32(limit))) != 0;
  }
  // 0 <= x <= hi in every lane.
  static bool all_within(I x, I hi) {
    const I outside = _mm256_or_si256(_mm256_cmpgt_epi32(x, hi), _mm256_cmpgt_epi32(_mm256_setzero_si256(), x));
    return _mm256_movemask_epi8(outside) == 0;
  }
  static I round_to_int(F a) { return _mm256_cvtps_epi32(a); }
  static I keepi_if_within(I v, I x, I lo, I hi) {
    return _mm256_andnot_si256(_mm256_or_si256(_mm256_cmpgt_epi32(lo, x), _mm256_cmpgt_epi32(x, hi)), v);
  }

  // Pixel pairs as in Sse41Ops, two pixels per instruction: lane k holds samples k and k + 4,
  // so the in-lane transpose leaves samples 0..7 in order.
  using PixelShuffle = Sse41Ops::PixelShuffle;
  static PixelShuffle pixel_shuffle(int pixel_stride, const int channel_byte[3]) {
    return Sse41Ops::pixel_shuffle(pixel_stride, channel_byte);
  }
  static int pair_read_bytes(int pixel_stride) { return Sse41Ops::pair_read_bytes(pixel_stride); }
  template <bool kSplit>
  static __m256i pair_sums(const uint8_t* lo, const uint8_t* hi, __m256i weights, __m256i shuffle,
                           const PixelShuffle& s) {
    const __m256i bytes = _mm256_inserti128_si256(_mm256_castsi128_si256(Sse41Ops::load_pair<kSplit>(lo, s)),
                                                  Sse41Ops::load_pair<kSplit>(hi, s), 1);
    return _mm256_madd_epi16(_mm256_shuffle_epi8(bytes, shuffle), weights);
  }
  static void horizontal_pairs(const uint8_t* base, const int32_t* off, I weights, const PixelShuffle& s,
                               F h[3]) {
    if (s.split) horizontal_pairs_of<true>(base, off, weights, s, h);
    else horizontal_pairs_of<false>(base, off, weights, s, h);
  }
  template <bool kSplit>
  static void horizontal_pairs_of(const uint8_t* base, const int32_t* off, I weights, const PixelShuffle& s,
                                  F h[3]) {
    const __m256i shuffle = _mm256_broadcastsi128_si256(s.bytes_to_pairs);
    __m256i p[4];
    for (int k = 0; k < 4; ++k) {
      const __m256i lanes = _mm256_setr_epi32(k, k, k, k, k + 4, k + 4, k + 4, k + 4);
      p[k] = pair_sums<kSplit>(base + off[k], base + off[k + 4], _mm256_permutevar8x32_epi32(weights, lanes), shuffle, s);
    }
    const __m256i c01_lo = _mm256_unpacklo_epi32(p[0], p[1]), c01_hi = _mm256_unpacklo_epi32(p[2], p[3]);
    const __m256i c2_lo = _mm256_unpackhi_epi32(p[0], p[1]), c2_hi = _mm256_unpackhi_epi32(p[2], p[3]);
    h[0] = _mm256_cvtepi32_ps(_mm256_unpacklo_epi64(c01_lo, c01_hi));
    h[1] = _mm256_cvtepi32_ps(_mm256_unpackhi_epi64(c01_lo, c01_hi));
    h[2] = _mm256_cvtepi32_ps(_mm256_unpacklo_epi64(c2_lo, c2_hi));
  }

  // Pixel-major sampling straight into an NHWC float tensor: each 128-bit lane carries one
  // sample's [c0 c1 c2 0] from the pair load to the store, so the channels are never
  // transposed (the shuffle port, not arithmetic, limited the planar path). Each 16-byte store
  // spills one float into the next sample, which overwrites it; the span's last sample
  // (`exact_end`) writes its three floats alone. Lane for lane the arithmetic of
  // horizontal_pairs, the vertical blend, scale and offset. Pixels at most 4 bytes apart (one
  // 8-byte load per pair).
  static constexpr bool kPixelMajorNhwc = true;
  static bool can_sample_nhwc(const PixelShuffle& s) { return !s.split; }
  static __m256i nhwc_shuffle(const PixelShuffle& s) { return _mm256_broadcastsi128_si256(s.bytes_to_pairs); }
  // Axis-aligned maps: both rows share the pair offsets and the row weights; the pair weights
  // come from a table that holds each sample's weights four times (no per-sample broadcast).
  static void sample_nhwc_rows(const uint8_t* row0, const uint8_t* row1, const int32_t* off,
                               const int32_t* weights_x4, F wy0, F wy1, F scale, F offset, __m256i shuffle,
                               float* dst, bool exact_end) {
    sample_nhwc_of(
        row0, off, row1, off, [&](int k) { return loadi(weights_x4 + 8 * k); },
        [&](int, F& y0, F& y1) { y0 = wy0, y1 = wy1; }, scale, offset, shuffle, dst, exact_end);
  }
  // General maps: every weight per sample, broadcast to its lane.
  static void sample_nhwc_lanes(const uint8_t* row0, const int32_t* off0, const uint8_t* row1, const int32_t* off1,
                                I weights, F wy0, F wy1, F scale, F offset, __m256i shuffle, float* dst,
                                bool exact_end) {
    sample_nhwc_of(
        row0, off0, row1, off1, [&](int k) { return _mm256_permutevar8x32_epi32(weights, sample_pair_lanes(k)); },
        [&](int k, F& y0, F& y1) {
          y0 = _mm256_permutevar8x32_ps(wy0, sample_pair_lanes(k));
          y1 = _mm256_permutevar8x32_ps(wy1, sample_pair_lanes(k));
        },
        scale, offset, shuffle, dst, exact_end);
  }
  static __m256i sample_pair_lanes(int k) {
    return _mm256_setr_epi32(2 * k, 2 * k, 2 * k, 2 * k, 2 * k + 1, 2 * k + 1, 2 * k + 1, 2 * k + 1);
  }
  template <class PairWeights, class RowWeights>
  [[gnu::always_inline]] static void sample_nhwc_of(const uint8_t* row0, const int32_t* off0, const uint8_t* row1,
                                                    const int32_t* off1, PairWeights pair_weights,
                                                    RowWeights row_weights, F scale, F offset, __m256i shuffle,
                                                    float* dst, bool exact_end) {
    for (int k = 0; k < 4; ++k) {
      const __m256i w = pair_weights(k);
      const F h0 = _mm256_cvtepi32_ps(
          _mm256_madd_epi16(_mm256_shuffle_epi8(two_pairs(row0 + off0[2 * k], row0 + off0[2 * k + 1]), shuffle), w));
      const F h1 = _mm256_cvtepi32_ps(
          _mm256_madd_epi16(_mm256_shuffle_epi8(two_pairs(row1 + off1[2 * k], row1 + off1[2 * k + 1]), shuffle), w));
      F y0, y1;
      row_weights(k, y0, y1);
      const F v = add(mul(add(mul(h0, y0), mul(h1, y1)), scale), offset);
      _mm_storeu_ps(dst + 6 * k, _mm256_castps256_ps128(v));
      const __m128 second = _mm256_extractf128_ps(v, 1);
      if (k == 3 && exact_end) {
        _mm_storel_pi(reinterpret_cast<__m64*>(dst + 21), second);
        _mm_store_ss(dst + 23, _mm_movehl_ps(second, second));
      } else {
        _mm_storeu_ps(dst + 6 * k + 3, second);
      }
    }
  }
  // The pairs at a (low lane) and b (high lane); broadcast + blend keeps the shuffle port free.
  static __m256i two_pairs(const uint8_t* a, const uint8_t* b) {
    int64_t high;
    __builtin_memcpy(&high, b, 8);
    return _mm256_blend_epi32(_mm256_castsi128_si256(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a))),
                              _mm256_set1_epi64x(high), 0xf0);
  }

  static F keep_if_within(F v, I x, I lo, I hi) {
    const I outside = _mm256_or_si256(_mm256_cmpgt_epi32(lo, x), _mm256_cmpgt_epi32(x, hi));
    return _mm256_andnot_ps(_mm256_castsi256_ps(outside), v);
  }
  static F keep_if_within(F v, F x, F lo, F hi) {
    const F inside = _mm256_and_ps(_mm256_cmp_ps(x, lo, _CMP_GE_OQ), _mm256_cmp_ps(x, hi, _CMP_LE_OQ));
    return _mm256_and_ps(inside, v);
  }

  // Lane idx[k] of `window` for each lane k (idx in [0, 7]).
  static F permute(F window, I idx) { return _mm256_permutevar8x32_ps(window, idx); }
  static F gather_f32(const float* base, I off) { return _mm256_i32gather_ps(base, off, 4); }
  static F load_u8(const uint8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }

  static void store_interleaved3(float* dst, F a, F b, F c) {
    Sse41Ops::store_interleaved3(dst, _mm256_castps256_ps128(a), _mm256_castps256_ps128(b),
                                 _mm256_castps256_ps128(c));
    Sse41Ops::store_interleaved3(dst + 12, _mm256_extractf128_ps(a, 1), _mm256_extractf128_ps(b, 1),
                                 _mm256_extractf128_ps(c, 1));
  }
  static int64_t pack_u8(F v) {
    const I i = _mm256_cvtps_epi32(max(min(v, set1(255.f)), set1(0.f)));
    const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
    return _mm_cvtsi128_si64(_mm_packus_epi16(w, w));
  }
  static void store_u8(uint8_t* dst, F v) {
    const int64_t eight = pack_u8(v);
    __builtin_memcpy(dst, &eight, 8);
  }
  static void store_interleaved3_u8(uint8_t* dst, F a, F b, F c) {
    const int64_t pa = pack_u8(a), pb = pack_u8(b), pc = pack_u8(c);
    for (int k = 0; k < 8; ++k) {
      dst[3 * k + 0] = static_cast<uint8_t>(pa >> (8 * k));
      dst[3 * k + 1] = static_cast<uint8_t>(pb >> (8 * k));
      dst[3 * k + 2] = static_cast<uint8_t>(pc >> (8 * k));
    }
  }
  static void store_gt_u8(uint8_t* dst, F v, F t) {
    const I ones = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(v, t, _CMP_GT_OQ)), _mm256_set1_epi32(1));
    const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(ones), _mm256_extracti128_si256(ones, 1));
    const int64_t eight = _mm_cvtsi128_si64(_mm_packus_epi16(w, w));
    __builtin_memcpy(dst, &eight, 8);
  }  // store_gt_u8 of four consecutive vectors: one 32-byte store (the packs work per 128-bit
  // lane, so the dwords are put back in order at the end).
  static void store_gt_u8_x4(uint8_t* dst, F v0, F v1, F v2, F v3, F t) {
    const I a = _mm256_packs_epi32(_mm256_castps_si256(_mm256_cmp_ps(v0, t, _CMP_GT_OQ)),
                                   _mm256_castps_si256(_mm256_cmp_ps(v1, t, _CMP_GT_OQ)));
    const I b = _mm256_packs_epi32(_mm256_castps_si256(_mm256_cmp_ps(v2, t, _CMP_GT_OQ)),
                                   _mm256_castps_si256(_mm256_cmp_ps(v3, t, _CMP_GT_OQ)));
    const I bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(a, b), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_and_si256(bytes, _mm256_set1_epi8(1)));
  }


  // Fixed-point lanes (see ScalarOps): 16 int16.
  static constexpr int kLanes16 = 16;
  using Q = __m256i;
  static Q load_q(const int16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store_q(int16_t* p, Q v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static Q setq(int16_t v) { return _mm256_set1_epi16(v); }
  static Q addq(Q a, Q b) { return _mm256_add_epi16(a, b); }
  static Q subq(Q a, Q b) { return _mm256_sub_epi16(a, b); }
  static Q mulhrs(Q a, Q b) { return _mm256_mulhrs_epi16(a, b); }
  static Q load_u8_q6(const uint8_t* p) {
    return _mm256_slli_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 6);
  }
  static void store_u8_q6(uint8_t* p, Q v) {
    const Q r = _mm256_srai_epi16(_mm256_add_epi16(v, _mm256_set1_epi16(32)), 6);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                     _mm_packus_epi16(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1)));
  }
  // packs works per 128-bit lane: put the quadwords back in order.
  static Q pack_q(I a, I b) { return _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8); }
  static Q q15_weights(const float* p) {
    const F one = set1(1.0f), zero = set1(0.0f), scale = set1(32768.0f);
    return pack_q(_mm256_cvtps_epi32(mul(max(min(load(p), one), zero), scale)),
                  _mm256_cvtps_epi32(mul(max(min(load(p + 8), one), zero), scale)));
  }
  static Q q6_from_floats(const float* p) {
    const F scale = set1(64.0f);
    return pack_q(_mm256_cvtps_epi32(mul(load(p), scale)), _mm256_cvtps_epi32(mul(load(p + 8), scale)));
  }
  static void expand3_q(const int16_t* w, int16_t* out) {
    Sse41Ops::expand3_q(w, out);
    Sse41Ops::expand3_q(w + 8, out + 24);
  }
  static F above(F v, F t) { return _mm256_and_ps(_mm256_cmp_ps(v, t, _CMP_GT_OQ), set1(1.0f)); }
  static Q load_u8_i16(const uint8_t* p) { return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static F select(I mask, F a, F b) { return _mm256_blendv_ps(b, a, _mm256_castsi256_ps(mask)); }
};

}  // namespace
}  // namespace edgevision::simd
