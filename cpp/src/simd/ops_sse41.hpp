// SSE4.1 lanes (4 floats) behind the interface of ScalarOps; compiled with -msse4.1 only.
#pragma once

#include <smmintrin.h>

#include <cstdint>

namespace edgevision::simd {
namespace {  // internal linkage: one private copy per ISA translation unit

struct Sse41Ops {
  static constexpr bool kPixelMajorNhwc = true;  // see sample_nhwc_rows
  static constexpr int kLanes = 4;
  using F = __m128;
  using I = __m128i;

  static F load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, F v) { _mm_storeu_ps(p, v); }
  static F set1(float v) { return _mm_set1_ps(v); }
  static F iota() { return _mm_setr_ps(0.f, 1.f, 2.f, 3.f); }
  static F add(F a, F b) { return _mm_add_ps(a, b); }
  static F sub(F a, F b) { return _mm_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm_mul_ps(a, b); }
  static F min(F a, F b) { return _mm_min_ps(a, b); }
  static F max(F a, F b) { return _mm_max_ps(a, b); }
  static F div(F a, F b) { return _mm_div_ps(a, b); }
  static F pow2i(I n) { return _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(n, _mm_set1_epi32(127)), 23)); }
  static F floor(F a) { return _mm_floor_ps(a); }
  static I to_int(F a) { return _mm_cvttps_epi32(a); }
  static F to_float(I a) { return _mm_cvtepi32_ps(a); }

  static I loadi(const int32_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
  static I seti(int32_t v) { return _mm_set1_epi32(v); }
  static I addi(I a, I b) { return _mm_add_epi32(a, b); }
  static I mulli(I a, I b) { return _mm_mullo_epi32(a, b); }
  static I mini(I a, I b) { return _mm_min_epi32(a, b); }
  static I maxi(I a, I b) { return _mm_max_epi32(a, b); }
  static I subi(I a, I b) { return _mm_sub_epi32(a, b); }
  static I andi(I a, I b) { return _mm_and_si128(a, b); }
  static I ori(I a, I b) { return _mm_or_si128(a, b); }
  static I cmpeqi(I a, I b) { return _mm_cmpeq_epi32(a, b); }
  static I slli16(I a) { return _mm_slli_epi32(a, 16); }
  static void storei(int32_t* p, I v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }
  static bool any_greater(I a, int32_t limit) {
    return _mm_movemask_epi8(_mm_cmpgt_epi32(a, _mm_set1_epi32(limit))) != 0;
  }
  // 0 <= x <= hi in every lane.
  static bool all_within(I x, I hi) {
    const I outside = _mm_or_si128(_mm_cmpgt_epi32(x, hi), _mm_cmpgt_epi32(_mm_setzero_si128(), x));
    return _mm_movemask_epi8(outside) == 0;
  }
  static I round_to_int(F a) { return _mm_cvtps_epi32(a); }
  static I keepi_if_within(I v, I x, I lo, I hi) {
    return _mm_andnot_si128(_mm_or_si128(_mm_cmplt_epi32(x, lo), _mm_cmpgt_epi32(x, hi)), v);
  }

  // Pixel pairs (see kernels/sample_image.inl). The pair's bytes are brought into one 8-byte
  // word (p0 at byte 0, p1 at byte `step`), shuffled into 16-bit [c0 of p0, c0 of p1, c1 .., c2 ..,
  // 0, 0] and multiplied by [a0, a1] pairs with pmaddwd: exact 32-bit sums.
  struct PixelShuffle {
    __m128i bytes_to_pairs;
    int pixel_stride;
    bool split;  // pixels further apart than 4 bytes: two 4-byte loads
  };
  static PixelShuffle pixel_shuffle(int pixel_stride, const int channel_byte[3]) {
    const bool split = pixel_stride > 4;
    const int step = split ? 4 : pixel_stride;
    alignas(16) int8_t m[16];
    for (int k = 0; k < 16; ++k) m[k] = -1;  // zero
    for (int c = 0; c < 3; ++c) {
      m[4 * c + 0] = static_cast<int8_t>(channel_byte[c]);
      m[4 * c + 2] = static_cast<int8_t>(step + channel_byte[c]);
    }
    return {_mm_load_si128(reinterpret_cast<const __m128i*>(m)), pixel_stride, split};
  }
  static int pair_read_bytes(int pixel_stride) { return pixel_stride > 4 ? pixel_stride + 4 : 8; }
  template <bool kSplit>
  static __m128i load_pair(const uint8_t* p, const PixelShuffle& s) {
    if (!kSplit) return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    int32_t w0, w1;
    __builtin_memcpy(&w0, p, 4);
    __builtin_memcpy(&w1, p + s.pixel_stride, 4);
    return _mm_unpacklo_epi32(_mm_cvtsi32_si128(w0), _mm_cvtsi32_si128(w1));
  }
  template <bool kSplit>
  static __m128i pair_sums(const uint8_t* p, __m128i weights, const PixelShuffle& s) {
    return _mm_madd_epi16(_mm_shuffle_epi8(load_pair<kSplit>(p, s), s.bytes_to_pairs), weights);
  }
  // [c0 c1 c2 x] of four pixels -> planar c0, c1, c2 as floats.
  static void planar_channels(__m128i p0, __m128i p1, __m128i p2, __m128i p3, F h[3]) {
    const __m128i c01_lo = _mm_unpacklo_epi32(p0, p1), c01_hi = _mm_unpacklo_epi32(p2, p3);
    const __m128i c2_lo = _mm_unpackhi_epi32(p0, p1), c2_hi = _mm_unpackhi_epi32(p2, p3);
    h[0] = _mm_cvtepi32_ps(_mm_unpacklo_epi64(c01_lo, c01_hi));
    h[1] = _mm_cvtepi32_ps(_mm_unpackhi_epi64(c01_lo, c01_hi));
    h[2] = _mm_cvtepi32_ps(_mm_unpacklo_epi64(c2_lo, c2_hi));
  }
  template <bool kSplit>
  static void horizontal_pairs_of(const uint8_t* base, const int32_t* off, I weights, const PixelShuffle& s,
                                  F h[3]) {
    planar_channels(pair_sums<kSplit>(base + off[0], _mm_shuffle_epi32(weights, 0x00), s),
                    pair_sums<kSplit>(base + off[1], _mm_shuffle_epi32(weights, 0x55), s),
                    pair_sums<kSplit>(base + off[2], _mm_shuffle_epi32(weights, 0xaa), s),
                    pair_sums<kSplit>(base + off[3], _mm_shuffle_epi32(weights, 0xff), s), h);
  }
  static void horizontal_pairs(const uint8_t* base, const int32_t* off, I weights, const PixelShuffle& s,
                               F h[3]) {
    if (s.split) horizontal_pairs_of<true>(base, off, weights, s, h);
    else horizontal_pairs_of<false>(base, off, weights, s, h);
  }

  // Pixel-major sampling into an NHWC float tensor, one sample's [c0 c1 c2 0] per vector from
  // the pair load to an overlapping 16-byte store (see Avx2Ops::sample_nhwc_rows): no channel
  // transposes. Pixels at most 4 bytes apart.
  static bool can_sample_nhwc(const PixelShuffle& s) { return !s.split; }
  static __m128i nhwc_shuffle(const PixelShuffle& s) { return s.bytes_to_pairs; }
  // Axis-aligned maps: pair weights from the table (each sample's weights four times).
  static void sample_nhwc_rows(const uint8_t* row0, const uint8_t* row1, const int32_t* off,
                               const int32_t* weights_x4, F wy0, F wy1, F scale, F offset, __m128i shuffle,
                               float* dst, bool exact_end) {
    for (int k = 0; k < 4; ++k) {
      const F v = sample_value(row0 + off[k], row1 + off[k], loadi(weights_x4 + 4 * k), wy0, wy1, scale, offset,
                               shuffle);
      store_sample(dst + 3 * k, v, k == 3 && exact_end);
    }
  }
  // General maps: every weight per sample, broadcast from its lane.
  static void sample_nhwc_lanes(const uint8_t* row0, const int32_t* off0, const uint8_t* row1, const int32_t* off1,
                                I weights, F wy0, F wy1, F scale, F offset, __m128i shuffle, float* dst,
                                bool exact_end) {
    nhwc_lane<0>(row0, off0, row1, off1, weights, wy0, wy1, scale, offset, shuffle, dst, false);
    nhwc_lane<1>(row0, off0, row1, off1, weights, wy0, wy1, scale, offset, shuffle, dst, false);
    nhwc_lane<2>(row0, off0, row1, off1, weights, wy0, wy1, scale, offset, shuffle, dst, false);
    nhwc_lane<3>(row0, off0, row1, off1, weights, wy0, wy1, scale, offset, shuffle, dst, exact_end);
  }
  template <int k>
  static void nhwc_lane(const uint8_t* row0, const int32_t* off0, const uint8_t* row1, const int32_t* off1,
                        I weights, F wy0, F wy1, F scale, F offset, __m128i shuffle, float* dst, bool exact) {
    constexpr int lane = k * 0x55;
    const F v = sample_value(row0 + off0[k], row1 + off1[k], _mm_shuffle_epi32(weights, lane),
                             _mm_shuffle_ps(wy0, wy0, lane), _mm_shuffle_ps(wy1, wy1, lane), scale, offset, shuffle);
    store_sample(dst + 3 * k, v, exact);
  }
  // One sample: pairs at p0 (row y0) and p1 (row y1), the formula of sample_image.inl.
  static F sample_value(const uint8_t* p0, const uint8_t* p1, __m128i weights, F wy0, F wy1, F scale, F offset,
                        __m128i shuffle) {
    const F h0 = _mm_cvtepi32_ps(_mm_madd_epi16(_mm_shuffle_epi8(load_8(p0), shuffle), weights));
    const F h1 = _mm_cvtepi32_ps(_mm_madd_epi16(_mm_shuffle_epi8(load_8(p1), shuffle), weights));
    return add(mul(add(mul(h0, wy0), mul(h1, wy1)), scale), offset);
  }
  static __m128i load_8(const uint8_t* p) { return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)); }
  // 16 bytes (the fourth float is the next sample's, written after), or exactly 12 at the end.
  static void store_sample(float* dst, F v, bool exact) {
    if (exact) {
      _mm_storel_pi(reinterpret_cast<__m64*>(dst), v);
      _mm_store_ss(dst + 2, _mm_movehl_ps(v, v));
    } else {
      _mm_storeu_ps(dst, v);
    }
  }

  static F keep_if_within(F v, I x, I lo, I hi) {
    const I outside = _mm_or_si128(_mm_cmplt_epi32(x, lo), _mm_cmpgt_epi32(x, hi));
    return _mm_andnot_ps(_mm_castsi128_ps(outside), v);
  }
  static F keep_if_within(F v, F x, F lo, F hi) {
    return _mm_and_ps(_mm_and_ps(_mm_cmpge_ps(x, lo), _mm_cmple_ps(x, hi)), v);
  }

  // Lane idx[k] of `window` for each lane k (idx in [0, 3]).
  static F permute(F window, I idx) {
    const I bytes = _mm_add_epi32(_mm_mullo_epi32(idx, _mm_set1_epi32(0x04040404)), _mm_set1_epi32(0x03020100));
    return _mm_castsi128_ps(_mm_shuffle_epi8(_mm_castps_si128(window), bytes));
  }
  static F gather_f32(const float* base, I off) {
    alignas(16) int32_t o[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(o), off);
    return _mm_setr_ps(base[o[0]], base[o[1]], base[o[2]], base[o[3]]);
  }
  static F load_u8(const uint8_t* p) {
    int32_t four;
    __builtin_memcpy(&four, p, 4);
    return _mm_cvtepi32_ps(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(four)));
  }

  static void store_interleaved3(float* dst, F a, F b, F c) {
    const F ab_lo = _mm_unpacklo_ps(a, b);  // a0 b0 a1 b1
    const F ab_hi = _mm_unpackhi_ps(a, b);  // a2 b2 a3 b3
    const F c0c0a1a1 = _mm_shuffle_ps(c, ab_lo, _MM_SHUFFLE(2, 2, 0, 0));
    const F b1b1c1c1 = _mm_shuffle_ps(ab_lo, c, _MM_SHUFFLE(1, 1, 3, 3));
    const F c2c2a3a3 = _mm_shuffle_ps(c, ab_hi, _MM_SHUFFLE(2, 2, 2, 2));
    const F b3b3c3c3 = _mm_shuffle_ps(ab_hi, c, _MM_SHUFFLE(3, 3, 3, 3));
    _mm_storeu_ps(dst, _mm_shuffle_ps(ab_lo, c0c0a1a1, _MM_SHUFFLE(2, 0, 1, 0)));
    _mm_storeu_ps(dst + 4, _mm_shuffle_ps(b1b1c1c1, ab_hi, _MM_SHUFFLE(1, 0, 2, 0)));
    _mm_storeu_ps(dst + 8, _mm_shuffle_ps(c2c2a3a3, b3b3c3c3, _MM_SHUFFLE(2, 0, 2, 0)));
  }
  // Clamp, round half to even (MXCSR default), pack to 4 bytes.
  static int32_t pack_u8(F v) {
    const I i = _mm_cvtps_epi32(max(min(v, set1(255.f)), set1(0.f)));
    const I w = _mm_packus_epi32(i, i);
    return _mm_cvtsi128_si32(_mm_packus_epi16(w, w));
  }
  static void store_u8(uint8_t* dst, F v) {
    const int32_t four = pack_u8(v);
    __builtin_memcpy(dst, &four, 4);
  }
  static void store_interleaved3_u8(uint8_t* dst, F a, F b, F c) {
    const int32_t pa = pack_u8(a), pb = pack_u8(b), pc = pack_u8(c);
    for (int k = 0; k < 4; ++k) {
      dst[3 * k + 0] = static_cast<uint8_t>(pa >> (8 * k));
      dst[3 * k + 1] = static_cast<uint8_t>(pb >> (8 * k));
      dst[3 * k + 2] = static_cast<uint8_t>(pc >> (8 * k));
    }
  }
  static void store_gt_u8(uint8_t* dst, F v, F t) {
    const I ones = _mm_and_si128(_mm_castps_si128(_mm_cmpgt_ps(v, t)), _mm_set1_epi32(1));
    const I w = _mm_packus_epi32(ones, ones);
    const int32_t four = _mm_cvtsi128_si32(_mm_packus_epi16(w, w));
    __builtin_memcpy(dst, &four, 4);
  }  // store_gt_u8 of four consecutive vectors: one 16-byte store.
  static void store_gt_u8_x4(uint8_t* dst, F v0, F v1, F v2, F v3, F t) {
    const I a = _mm_packs_epi32(_mm_castps_si128(_mm_cmpgt_ps(v0, t)), _mm_castps_si128(_mm_cmpgt_ps(v1, t)));
    const I b = _mm_packs_epi32(_mm_castps_si128(_mm_cmpgt_ps(v2, t)), _mm_castps_si128(_mm_cmpgt_ps(v3, t)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_and_si128(_mm_packs_epi16(a, b), _mm_set1_epi8(1)));
  }


  // Fixed-point lanes (see ScalarOps): 8 int16.
  static constexpr int kLanes16 = 8;
  using Q = __m128i;
  static Q load_q(const int16_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
  static void store_q(int16_t* p, Q v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }
  static Q setq(int16_t v) { return _mm_set1_epi16(v); }
  static Q addq(Q a, Q b) { return _mm_add_epi16(a, b); }
  static Q subq(Q a, Q b) { return _mm_sub_epi16(a, b); }
  static Q mulhrs(Q a, Q b) { return _mm_mulhrs_epi16(a, b); }
  static Q load_u8_q6(const uint8_t* p) {
    return _mm_slli_epi16(_mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))), 6);
  }
  static void store_u8_q6(uint8_t* p, Q v) {
    const Q r = _mm_srai_epi16(_mm_add_epi16(v, _mm_set1_epi16(32)), 6);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packus_epi16(r, r));
  }
  static Q q15_weights(const float* p) {
    const F one = set1(1.0f), zero = set1(0.0f), scale = set1(32768.0f);
    const I a = _mm_cvtps_epi32(mul(max(min(load(p), one), zero), scale));
    const I b = _mm_cvtps_epi32(mul(max(min(load(p + 4), one), zero), scale));
    return _mm_packs_epi32(a, b);
  }
  static Q q6_from_floats(const float* p) {
    const F scale = set1(64.0f);
    return _mm_packs_epi32(_mm_cvtps_epi32(mul(load(p), scale)), _mm_cvtps_epi32(mul(load(p + 4), scale)));
  }
  static void expand3_q(const int16_t* w, int16_t* out) {
    const Q v = load_q(w);
    store_q(out, _mm_shuffle_epi8(v, _mm_setr_epi8(0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 4, 5, 4, 5)));
    store_q(out + 8, _mm_shuffle_epi8(v, _mm_setr_epi8(4, 5, 6, 7, 6, 7, 6, 7, 8, 9, 8, 9, 8, 9, 10, 11)));
    store_q(out + 16, _mm_shuffle_epi8(v, _mm_setr_epi8(10, 11, 10, 11, 12, 13, 12, 13, 12, 13, 14, 15, 14, 15, 14, 15)));
  }
  static F above(F v, F t) { return _mm_and_ps(_mm_cmpgt_ps(v, t), set1(1.0f)); }
  static Q load_u8_i16(const uint8_t* p) { return _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))); }
  static F select(I mask, F a, F b) { return _mm_blendv_ps(b, a, _mm_castsi128_ps(mask)); }
};

}  // namespace
}  // namespace edgevision::simd
