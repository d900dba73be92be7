#include "edgevision/nms.hpp"

#include <algorithm>
#include <cstring>

namespace edgevision {

namespace {

constexpr int kBlock = 8;  // IoUs computed per step: a fixed trip count the compiler vectorises

// Descending-score sort key: 32 bits of score order above 32 bits of index.
uint64_t sort_key(float score, int64_t index) {
  uint32_t bits;
  std::memcpy(&bits, &score, sizeof bits);
  // Ascending order of floats as unsigned ints, then flipped for descending.
  uint32_t ascending = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
  uint32_t descending = ~ascending;
  if (score != score) descending = 0xFFFFFFFFu;  // NaN after everything
  return (uint64_t{descending} << 32) | static_cast<uint32_t>(index);
}

// Stable LSD radix sort on the upper 32 bits (the input comes in index order, so equal
// scores stay in index order); passes whose byte is the same for every key are skipped.
void radix_sort_keys(std::vector<uint64_t>& keys, std::vector<uint64_t>& scratch) {
  const size_t n = keys.size();
  scratch.resize(n);
  uint32_t counts[4][256] = {};
  for (uint64_t k : keys)
    for (int d = 0; d < 4; ++d) ++counts[d][(k >> (32 + 8 * d)) & 0xFF];
  for (int d = 0; d < 4; ++d) {
    const int shift = 32 + 8 * d;
    if (counts[d][(keys[0] >> shift) & 0xFF] == n) continue;
    uint32_t offset = 0;
    for (int b = 0; b < 256; ++b) {
      const uint32_t c = counts[d][b];
      counts[d][b] = offset;
      offset += c;
    }
    for (uint64_t k : keys) scratch[counts[d][(k >> shift) & 0xFF]++] = k;
    keys.swap(scratch);
  }
}

// Boxes as MediaPipe's Rectangle_f holds them: min corner, min + size, and the area.
struct BoxArrays {
  std::vector<float> x0, y0, x1, y1, area;

  // Slots past `used` hold an empty box, which never overlaps anything.
  void reset(size_t n) {
    x0.assign(n, 1.0f), y0.assign(n, 1.0f), x1.assign(n, -1.0f), y1.assign(n, -1.0f), area.assign(n, 0.0f);
  }
  void set(size_t k, float bx0, float by0, float bx1, float by1) {
    // Detection stores (xmin, width); the rectangle's max corner is xmin + width.
    const float xr = bx0 + (bx1 - bx0), yr = by0 + (by1 - by0);
    x0[k] = bx0, y0[k] = by0, x1[k] = xr, y1[k] = yr, area[k] = (xr - bx0) * (yr - by0);
  }
};

struct Box {
  float x0, y0, x1, y1, area;
};

// IoU(rect, seed) > threshold for slots [first, first + kBlock): MediaPipe's
// OverlapSimilarity with `rect` first, so the normalisation is area_rect + area_seed - inter.
inline bool block_overlaps(const BoxArrays& b, size_t first, const Box& s, float threshold, uint8_t* flags) {
  int any = 0;
  for (int k = 0; k < kBlock; ++k) {
    const size_t j = first + k;
    const float iw = std::min(b.x1[j], s.x1) - std::max(b.x0[j], s.x0);
    const float ih = std::min(b.y1[j], s.y1) - std::max(b.y0[j], s.y0);
    const float inter = iw * ih;
    const float norm = b.area[j] + s.area - inter;
    const bool valid = iw >= 0.0f && ih >= 0.0f && norm > 0.0f;  // NaN fails too
    const float iou = valid ? inter / norm : 0.0f;
    const int hit = iou > threshold;
    flags[k] = static_cast<uint8_t>(hit);
    any |= hit;
  }
  return any != 0;
}

void append_copy(const DetectionsView& in, int64_t i, DetectionList& out) {
  out.boxes.insert(out.boxes.end(), {in.boxes(i, 0), in.boxes(i, 1), in.boxes(i, 2), in.boxes(i, 3)});
  for (int p = 0; p < in.num_keypoints(); ++p) {
    out.keypoints.push_back(in.keypoints(i, p, 0));
    out.keypoints.push_back(in.keypoints(i, p, 1));
  }
  out.scores.push_back(in.scores[i]);
}

void hard_nms(const DetectionsView& in, const std::vector<int64_t>& order, const NmsOptions& o, DetectionList& out,
              std::vector<int64_t>* seeds) {
  const size_t n = order.size();
  BoxArrays kept;
  kept.reset(n + kBlock);
  size_t used = 0;
  uint8_t flags[kBlock];
  for (int64_t i : order) {
    const float bx0 = in.boxes(i, 0), by0 = in.boxes(i, 1), bx1 = in.boxes(i, 2), by1 = in.boxes(i, 3);
    const float xr = bx0 + (bx1 - bx0), yr = by0 + (by1 - by0);
    const Box c{bx0, by0, xr, yr, (xr - bx0) * (yr - by0)};
    bool suppressed = false;
    for (size_t first = 0; first < used && !suppressed; first += kBlock)
      suppressed = block_overlaps(kept, first, c, o.iou_threshold, flags);
    if (suppressed) continue;
    kept.set(used++, bx0, by0, bx1, by1);
    append_copy(in, i, out);
    if (seeds) seeds->push_back(i);
    if (o.max_detections >= 0 && out.size() >= o.max_detections) break;
  }
}

void weighted_nms(const DetectionsView& in, const std::vector<int64_t>& order, const NmsOptions& o,
                  DetectionList& out, std::vector<int64_t>* seeds) {
  const size_t n = order.size();
  const int nk = in.num_keypoints();
  // The remaining detections in score order, compacted after every seed.
  BoxArrays rest;
  rest.reset(n + kBlock);
  std::vector<int64_t> index(order);
  std::vector<float> score(n);
  for (size_t r = 0; r < n; ++r) {
    const int64_t i = order[r];
    rest.set(r, in.boxes(i, 0), in.boxes(i, 1), in.boxes(i, 2), in.boxes(i, 3));
    score[r] = in.scores[i];
  }
  std::vector<uint8_t> overlaps(n + kBlock);
  std::vector<float> kp_sum(2 * static_cast<size_t>(nk));
  size_t m = n;
  while (m > 0) {
    if (o.max_detections >= 0 && out.size() >= o.max_detections) break;
    const int64_t seed = index[0];
    const Box s{rest.x0[0], rest.y0[0], rest.x1[0], rest.y1[0], rest.area[0]};
    for (size_t first = 0; first < m; first += kBlock)
      block_overlaps(rest, first, s, o.iou_threshold, overlaps.data() + first);

    float total = 0.0f, wx0 = 0.0f, wy0 = 0.0f, wx1 = 0.0f, wy1 = 0.0f;
    std::fill(kp_sum.begin(), kp_sum.end(), 0.0f);
    size_t kept = 0;
    for (size_t r = 0; r < m; ++r) {
      if (!overlaps[r]) {  // stays for a later seed; keep the order
        rest.x0[kept] = rest.x0[r], rest.y0[kept] = rest.y0[r], rest.x1[kept] = rest.x1[r];
        rest.y1[kept] = rest.y1[r], rest.area[kept] = rest.area[r];
        index[kept] = index[r], score[kept] = score[r];
        ++kept;
        continue;
      }
      const float w = score[r];
      total += w;
      wx0 += rest.x0[r] * w, wy0 += rest.y0[r] * w;
      wx1 += rest.x1[r] * w, wy1 += rest.y1[r] * w;
      for (int p = 0; p < nk; ++p) {
        kp_sum[2 * p] += in.keypoints(index[r], p, 0) * w;
        kp_sum[2 * p + 1] += in.keypoints(index[r], p, 1) * w;
      }
    }
    if (kept == m) {  // the seed does not overlap itself: emit it as is and stop
      append_copy(in, seed, out);
    } else {
      out.boxes.insert(out.boxes.end(), {wx0 / total, wy0 / total, wx1 / total, wy1 / total});
      for (int p = 0; p < 2 * nk; ++p) out.keypoints.push_back(kp_sum[p] / total);
      out.scores.push_back(in.scores[seed]);
    }
    if (seeds) seeds->push_back(seed);
    if (kept == m) break;
    m = kept;  // flags computed for stale slots past m are never read
  }
}

}  // namespace

void order_by_score(const VectorView<float>& scores, std::vector<int64_t>& order) {
  const int64_t n = scores.size;
  std::vector<uint64_t> keys(static_cast<size_t>(n)), scratch;
  for (int64_t i = 0; i < n; ++i) keys[i] = sort_key(scores[i], i);
  if (n > 256) radix_sort_keys(keys, scratch);
  else std::sort(keys.begin(), keys.end());
  order.resize(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) order[r] = static_cast<int64_t>(keys[r] & 0xFFFFFFFFu);
}

void non_max_suppression(const DetectionsView& in, const NmsOptions& o, DetectionList& out,
                         std::vector<int64_t>* seeds) {
  out.clear();
  out.num_keypoints = in.num_keypoints();
  if (seeds) seeds->clear();
  if (in.size() == 0 || o.max_detections == 0) return;
  std::vector<int64_t> order;
  order_by_score(in.scores, order);
  out.reserve(o.max_detections >= 0 ? std::min(o.max_detections, in.size()) : in.size());
  if (o.method == NmsMethod::hard) hard_nms(in, order, o, out, seeds);
  else weighted_nms(in, order, o, out, seeds);
}

}  // namespace edgevision
