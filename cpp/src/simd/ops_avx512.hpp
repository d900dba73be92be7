// AVX-512 lanes (16 floats) for the passes where twice the lanes of AVX2 pay: the rotated crop
// (sample_image.inl's general-affine, pixel-major span, bound by instructions and the shuffle
// port) and the axis-aligned mask upsampling (resample_mask.inl: its bands, horizontal pass and
// thresholded rows). Only the operations those need; table_avx512.cpp runs everything else
// through Avx2Ops. Compiled with
// -mavx512f/bw/vl/dq, no FMA contraction: results equal the scalar path bit for bit.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "ops_avx2.hpp"

namespace edgevision::simd {
namespace {  // internal linkage: one private copy per ISA translation unit

struct Avx512Ops {
  static constexpr int kLanes = 16;
  using F = __m512;
  using I = __m512i;
  using M = __mmask16;

  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  // Lanes [first, first + count) of v to dst[0 .. count); nothing else is written or read. The
  // vector's own start (dst - first) may lie outside the array: an address, not a pointer.
  static void store_lanes(float* dst, F v, int first, int count) {
    const auto start = reinterpret_cast<float*>(reinterpret_cast<uintptr_t>(dst) - uintptr_t(first) * sizeof(float));
    _mm512_mask_storeu_ps(start, static_cast<__mmask16>(((1u << count) - 1) << first), v);
  }
  // Lanes [0, count) of a, the rest of b.
  static F splice(F a, F b, int count) { return _mm512_mask_blend_ps(static_cast<__mmask16>((1u << count) - 1), b, a); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F iota() {
    return _mm512_setr_ps(0.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, 8.f, 9.f, 10.f, 11.f, 12.f, 13.f, 14.f, 15.f);
  }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F floor(F a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static I to_int(F a) { return _mm512_cvttps_epi32(a); }  // out of range: INT_MIN, as AVX2
  static F to_float(I a) { return _mm512_cvtepi32_ps(a); }
  static I round_to_int(F a) { return _mm512_cvtps_epi32(a); }

  // 1 where v > t (NaN: 0), as bytes: 16 of them, or 64 from four consecutive vectors.
  static void store_gt_u8(uint8_t* dst, F v, F t) {
    const __mmask16 above = _mm512_cmp_ps_mask(v, t, _CMP_GT_OQ);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_maskz_mov_epi8(above, _mm_set1_epi8(1)));
  }
  static void store_gt_u8_x4(uint8_t* dst, F v0, F v1, F v2, F v3, F t) {
    const auto above = [t](F v, int shift) { return uint64_t{_mm512_cmp_ps_mask(v, t, _CMP_GT_OQ)} << shift; };
    const __mmask64 bytes = above(v0, 0) | above(v1, 16) | above(v2, 32) | above(v3, 48);
    _mm512_storeu_si512(dst, _mm512_maskz_mov_epi8(bytes, _mm512_set1_epi8(1)));
  }

  static I loadi(const int32_t* p) { return _mm512_loadu_si512(p); }
  static void storei(int32_t* p, I v) { _mm512_storeu_si512(p, v); }
  static I seti(int32_t v) { return _mm512_set1_epi32(v); }
  static I addi(I a, I b) { return _mm512_add_epi32(a, b); }
  static I subi(I a, I b) { return _mm512_sub_epi32(a, b); }
  static I mulli(I a, I b) { return _mm512_mullo_epi32(a, b); }
  static I mini(I a, I b) { return _mm512_min_epi32(a, b); }
  static I maxi(I a, I b) { return _mm512_max_epi32(a, b); }
  static I andi(I a, I b) { return _mm512_and_si512(a, b); }
  static I ori(I a, I b) { return _mm512_or_si512(a, b); }
  static I cmpeqi(I a, I b) { return _mm512_movm_epi32(_mm512_cmpeq_epi32_mask(a, b)); }
  static I slli16(I a) { return _mm512_slli_epi32(a, 16); }
  static bool any_greater(I a, int32_t limit) { return _mm512_cmpgt_epi32_mask(a, _mm512_set1_epi32(limit)) != 0; }
  static M within(I x, I lo, I hi) { return _mm512_cmpge_epi32_mask(x, lo) & _mm512_cmple_epi32_mask(x, hi); }
  // 0 <= x <= hi in every lane.
  static bool all_within(I x, I hi) { return within(x, _mm512_setzero_si512(), hi) == 0xFFFF; }
  // Lane idx[k] of `window` for each lane k (idx in [0, 15]); gathers for the rest.
  static F permute(F window, I idx) { return _mm512_permutexvar_ps(idx, window); }
  static F gather_f32(const float* base, I off) { return _mm512_i32gather_ps(off, base, 4); }
  static F keep_if_within(F v, I x, I lo, I hi) { return _mm512_maskz_mov_ps(within(x, lo, hi), v); }
  static I keepi_if_within(I v, I x, I lo, I hi) { return _mm512_maskz_mov_epi32(within(x, lo, hi), v); }

  // Pixel pairs and their shuffle as in Sse41Ops; pixel-major NHWC float only, where the AVX2
  // path is pixel-major too (sample_image decides by Avx2Ops, and reads the same 8-byte pairs):
  // each 128-bit lane carries one sample's [c0 c1 c2 0], as in Avx2Ops::sample_nhwc_of.
  using PixelShuffle = Sse41Ops::PixelShuffle;
  static PixelShuffle pixel_shuffle(int pixel_stride, const int channel_byte[3]) {
    return Sse41Ops::pixel_shuffle(pixel_stride, channel_byte);
  }
  static __m512i nhwc_shuffle(const PixelShuffle& s) { return _mm512_broadcast_i32x4(s.bytes_to_pairs); }

  // General maps: every weight per sample, broadcast to its lane; four samples per vector,
  // then the four vectors' [c0 c1 c2 0] lanes packed into three full stores (48 floats: the
  // span's end needs no care).
  static void sample_nhwc_lanes(const uint8_t* row0, const int32_t* off0, const uint8_t* row1, const int32_t* off1,
                                I weights, F wy0, F wy1, F scale, F offset, __m512i shuffle, float* dst,
                                bool /*exact_end*/) {
    F v[4];
    for (int g = 0; g < 4; ++g) {
      const __m512i lanes = sample_lanes(g);
      const __m512i w = _mm512_permutexvar_epi32(lanes, weights);
      const F h0 = _mm512_cvtepi32_ps(
          _mm512_madd_epi16(_mm512_shuffle_epi8(four_pairs(row0, off0 + 4 * g), shuffle), w));
      const F h1 = _mm512_cvtepi32_ps(
          _mm512_madd_epi16(_mm512_shuffle_epi8(four_pairs(row1, off1 + 4 * g), shuffle), w));
      const F y0 = _mm512_permutexvar_ps(lanes, wy0), y1 = _mm512_permutexvar_ps(lanes, wy1);
      v[g] = add(mul(add(mul(h0, y0), mul(h1, y1)), scale), offset);
    }
    // Float k of the 48 is float k % 3 of sample k / 3: lane 4 * (k / 3) + k % 3 of the
    // concatenated vectors; each store draws on two neighbours (vpermt2ps indices 0-31).
    _mm512_storeu_ps(dst, _mm512_permutex2var_ps(v[0], packed_lanes(0), v[1]));
    _mm512_storeu_ps(dst + 16, _mm512_permutex2var_ps(v[1], packed_lanes(1), v[2]));
    _mm512_storeu_ps(dst + 32, _mm512_permutex2var_ps(v[2], packed_lanes(2), v[3]));
  }
  // For output vector q (floats 16q .. 16q + 15): float k of the 48 is channel k % 3 of
  // sample k / 3, lane 4 * (k / 3) + k % 3 of v[0..3]; indices relative to v[q] (v[q + 1]: 16+).
  static __m512i packed_lanes(int q) {
    static constexpr int32_t kLanesOf[3][16] = {
        {0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 16, 17, 18, 20},
        {5, 6, 8, 9, 10, 12, 13, 14, 16, 17, 18, 20, 21, 22, 24, 25},
        {10, 12, 13, 14, 16, 17, 18, 20, 21, 22, 24, 25, 26, 28, 29, 30}};
    return _mm512_loadu_si512(kLanesOf[q]);
  }
  // Lanes 4g .. 4g + 3, each four times.
  static __m512i sample_lanes(int g) {
    const int a = 4 * g;
    return _mm512_setr_epi32(a, a, a, a, a + 1, a + 1, a + 1, a + 1, a + 2, a + 2, a + 2, a + 2, a + 3, a + 3, a + 3,
                             a + 3);
  }
  // The pairs of four samples, one per 128-bit lane (low 8 bytes).
  static __m512i four_pairs(const uint8_t* row, const int32_t* off) {
    const __m256i low = Avx2Ops::two_pairs(row + off[0], row + off[1]);
    const __m256i high = Avx2Ops::two_pairs(row + off[2], row + off[3]);
    return _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
  }
};

}  // namespace
}  // namespace edgevision::simd
