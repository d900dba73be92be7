#include "edgevision/nms.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

namespace edgevision {

namespace {

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

// Sorts keys[0, n) ascending; `scratch` holds n. Up to a few hundred: std::sort. Otherwise a
// stable LSD radix sort on the upper 32 bits, 8 bits at a time, skipping bytes that are
// the same in every key (e.g. the exponent of scores that all lie in [0.5, 1)); the input
// is in index order, so equal scores stay in index order. The result may end in scratch:
// the returned pointer is where it is.
uint64_t* sort_keys(uint64_t* keys, uint64_t* scratch, size_t n) {
  if (n <= 256) {
    std::sort(keys, keys + n);
    return keys;
  }
  uint64_t any = 0, all = ~uint64_t{0};
  for (size_t i = 0; i < n; ++i) any |= keys[i], all &= keys[i];
  const uint64_t varying = (any ^ all) >> 32;
  int digits[4], count = 0;
  for (int d = 0; d < 4; ++d)
    if ((varying >> (8 * d)) & 0xFF) digits[count++] = d;
  uint32_t counts[4][256];
  std::memset(counts, 0, sizeof(uint32_t) * 256 * count);
  for (size_t i = 0; i < n; ++i)
    for (int j = 0; j < count; ++j) ++counts[j][(keys[i] >> (32 + 8 * digits[j])) & 0xFF];
  for (int j = 0; j < count; ++j) {
    const int shift = 32 + 8 * digits[j];
    uint32_t offset = 0;
    for (int b = 0; b < 256; ++b) {
      const uint32_t c = counts[j][b];
      counts[j][b] = offset;
      offset += c;
    }
    for (size_t i = 0; i < n; ++i) scratch[counts[j][(keys[i] >> shift) & 0xFF]++] = keys[i];
    std::swap(keys, scratch);
  }
  return keys;
}

struct Box {
  float x0, y0, x1, y1;
};

// Four floats as one value (GCC/Clang vector extension): element-wise IEEE arithmetic, so
// each lane rounds as the scalar code would.
typedef float Float4 __attribute__((vector_size(16)));


// Boxes in score order as MediaPipe's Rectangle_f holds them: the min corner and
// min + size (a Detection stores xmin and width), so the max corner is xmin + width.
struct SortedDetections {
  int64_t n = 0;
  std::vector<int64_t> index;  // input index of each position
  std::unique_ptr<float[]> storage;
  float *x0, *y0, *x1, *y1;

  SortedDetections(const DetectionsView& in, std::vector<int64_t>&& order)
      : n(static_cast<int64_t>(order.size())), index(std::move(order)) {
    storage.reset(new float[4 * n + 1]);
    x0 = storage.get(), y0 = x0 + n, x1 = y0 + n, y1 = x1 + n;
    for (int64_t r = 0; r < n; ++r) {
      const int64_t i = index[r];
      const float bx0 = in.boxes(i, 0), by0 = in.boxes(i, 1);
      x0[r] = bx0, y0[r] = by0, x1[r] = bx0 + (in.boxes(i, 2) - bx0), y1[r] = by0 + (in.boxes(i, 3) - by0);
    }
  }
};

// The detections still in play, compacted as they drop out: boxes (struct of arrays, so
// the overlap sweep vectorises) and where they came from.
struct Remaining {
  size_t size;
  std::unique_ptr<float[]> storage;
  float *x0, *y0, *x1, *y1;
  std::unique_ptr<uint32_t[]> pos;

  // In score order; pos is the position in `sorted`.
  explicit Remaining(const SortedDetections& s) : Remaining(s.n) {
    std::copy(s.x0, s.x0 + s.n, x0), std::copy(s.y0, s.y0 + s.n, y0);
    std::copy(s.x1, s.x1 + s.n, x1), std::copy(s.y1, s.y1 + s.n, y1);
    for (int64_t r = 0; r < s.n; ++r) pos[r] = static_cast<uint32_t>(r);
  }
  // In input order; pos is the input index.
  explicit Remaining(const DetectionsView& in) : Remaining(in.size()) {
    const auto fill = [&](int64_t col_stride) {  // constant 1 for packed rows: plain loads
      for (int64_t i = 0; i < in.size(); ++i) {
        const float* box = in.boxes.row(i);
        const float bx0 = box[0], by0 = box[col_stride];
        x0[i] = bx0, y0[i] = by0;
        x1[i] = bx0 + (box[2 * col_stride] - bx0), y1[i] = by0 + (box[3 * col_stride] - by0);
        pos[i] = static_cast<uint32_t>(i);
      }
    };
    if (in.boxes.col_stride == 1) fill(1);
    else fill(in.boxes.col_stride);
  }
  explicit Remaining(int64_t n) : size(static_cast<size_t>(n)), pos(new uint32_t[n + 1]) {
    storage.reset(new float[4 * n + 1]);
    x0 = storage.get(), y0 = x0 + n, x1 = y0 + n, y1 = x1 + n;
  }
  void move(size_t from, size_t to) {
    x0[to] = x0[from], y0[to] = y0[from], x1[to] = x1[from], y1[to] = y1[from], pos[to] = pos[from];
  }
};

// Sets overlaps[j] where IoU(box j, seed) > threshold, j in [begin, end), and returns how
// many flags it newly set. IoU is MediaPipe's OverlapSimilarity: 0 unless the boxes
// intersect and the union is positive (empty and NaN boxes never overlap). Branch-free so
// the compiler vectorises it.
size_t mark_overlaps(const Remaining& b, size_t begin, size_t end, const Box& s, float threshold,
                     uint32_t* __restrict overlaps) {
  const float* __restrict x0 = b.x0;
  const float* __restrict y0 = b.y0;
  const float* __restrict x1 = b.x1;
  const float* __restrict y1 = b.y1;
  const float seed_area = (s.x1 - s.x0) * (s.y1 - s.y0);
  uint32_t newly = 0;
  for (size_t j = begin; j < end; ++j) {
    const float bx0 = x0[j], by0 = y0[j], bx1 = x1[j], by1 = y1[j];
    const float iw = (bx1 < s.x1 ? bx1 : s.x1) - (bx0 > s.x0 ? bx0 : s.x0);
    const float ih = (by1 < s.y1 ? by1 : s.y1) - (by0 > s.y0 ? by0 : s.y0);
    const float inter = iw * ih;
    const float norm = (bx1 - bx0) * (by1 - by0) + seed_area - inter;
    const float ratio = inter / norm;  // unconditional: a guarded division would not vectorise
    const bool valid = (iw >= 0.0f) & (ih >= 0.0f) & (norm > 0.0f);
    const float iou = valid ? ratio : 0.0f;
    const uint32_t hit = iou > threshold ? 1u : 0u;
    newly += hit & ~overlaps[j];
    overlaps[j] |= hit;
  }
  return newly;
}

// Writes outputs in place into a DetectionList sized for the most there can be.
struct Output {
  DetectionList& list;
  int64_t n = 0;

  Output(DetectionList& l, int64_t capacity) : list(l) {
    list.boxes.resize(4 * capacity);
    list.keypoints.resize(2 * list.num_keypoints * capacity);
    list.scores.resize(capacity);
    list.class_ids.resize(capacity);
  }
  float* box() { return list.boxes.data() + 4 * n; }
  float* keypoints() { return list.keypoints.data() + 2 * list.num_keypoints * n; }
  void finish(float score, int32_t class_id) {
    list.class_ids[n] = class_id;
    list.scores[n++] = score;
  }
  void copy(const DetectionsView& in, int64_t i) {
    float* b = box();
    for (int c = 0; c < 4; ++c) b[c] = in.boxes(i, c);
    float* k = keypoints();
    for (int p = 0; p < in.num_keypoints(); ++p) k[2 * p] = in.keypoints(i, p, 0), k[2 * p + 1] = in.keypoints(i, p, 1);
    finish(in.scores[i], in.class_id(i));
  }
  void shrink() {
    list.boxes.resize(4 * n);
    list.keypoints.resize(2 * list.num_keypoints * n);
    list.scores.resize(n);
    list.class_ids.resize(n);
  }
};

// Greedy NMS run seed by seed: each kept detection removes the later ones it overlaps, so
// a detection reached unremoved overlaps no kept one (the same result as checking each
// candidate against the kept list, but every IoU loop is a vectorisable sweep).
void hard_nms(const DetectionsView& in, const SortedDetections& sorted, const NmsOptions& o, Output& out,
              std::vector<int64_t>* seeds) {
  Remaining b(sorted);
  size_t m = b.size;
  std::vector<uint32_t> removed(m);
  size_t removed_since_compaction = 0;
  for (size_t pos = 0; pos < m; ++pos) {
    if (removed[pos]) continue;
    const int64_t i = sorted.index[b.pos[pos]];
    out.copy(in, i);
    if (seeds) seeds->push_back(i);
    if (o.max_detections >= 0 && out.n >= o.max_detections) break;
    const Box s{b.x0[pos], b.y0[pos], b.x1[pos], b.y1[pos]};
    removed_since_compaction += mark_overlaps(b, pos + 1, m, s, o.iou_threshold, removed.data());
    // Squeeze removed detections out once they are most of what is left to sweep.
    if (2 * removed_since_compaction > m - pos) {
      size_t kept = pos + 1;
      for (size_t j = pos + 1; j < m; ++j) {
        const uint32_t gone = removed[j];
        b.move(j, kept);
        removed[kept] = 0;
        kept += 1 - gone;
      }
      m = kept;
      removed_since_compaction = 0;
    }
  }
}

// Remaining detections in input order, their scores alongside (weighted NMS needs no full
// sort: the seed is the best remaining, and only a cluster's own members need ordering).
struct ScoredRemaining : Remaining {
  std::unique_ptr<float[]> score;

  explicit ScoredRemaining(const DetectionsView& in) : Remaining(in), score(new float[in.size() + 1]) {
    if (in.scores.stride == 1) std::copy(in.scores.data, in.scores.data + in.size(), score.get());
    else for (int64_t i = 0; i < in.size(); ++i) score[i] = in.scores[i];
  }
  void move(size_t from, size_t to) {
    Remaining::move(from, to);
    score[to] = score[from];
  }
  // The best remaining position: highest score, the earliest on ties; NaN only when
  // nothing else is left (it sorts last).
  size_t best(size_t m) const {
    // Four running maxima (max is exact, so the order does not matter; NaN never wins).
    const float lowest = -std::numeric_limits<float>::infinity();
    Float4 top4 = {lowest, lowest, lowest, lowest};
    size_t r = 0;
    for (; r + 4 <= m; r += 4) {
      Float4 v;
      std::memcpy(&v, score.get() + r, sizeof v);
      top4 = v > top4 ? v : top4;
    }
    float top = std::max(std::max(top4[0], top4[1]), std::max(top4[2], top4[3]));
    for (; r < m; ++r) top = score[r] > top ? score[r] : top;
    for (r = 0; r < m; ++r)
      if (score[r] == top) return r;
    return 0;  // all NaN
  }
};

// A cluster's sums: its scores, and each box corner and keypoint coordinate times its
// score, float32, added in member order.
struct ClusterSums {
  float total = 0.0f;
  Float4 box = {0.0f, 0.0f, 0.0f, 0.0f};  // xmin, ymin, xmax, ymax
};

// NK >= 0: keypoints stored as contiguous (x, y) pairs, NK of them, summed in registers;
// NK < 0: any layout and count, summed in `kp_sum`. Either way kp_sum receives the sums.
template <int NK>
ClusterSums accumulate(const DetectionsView& in, const uint32_t* members, size_t count, float* kp_sum) {
  constexpr int kValues = NK > 0 ? 2 * NK : 0, kVectors = kValues / 4, kTail = kValues % 4;
  Float4 acc[kVectors > 0 ? kVectors : 1] = {};
  float tail[2] = {0.0f, 0.0f};
  const int nk = in.num_keypoints();
  if (NK < 0) std::fill(kp_sum, kp_sum + 2 * nk, 0.0f);
  ClusterSums sums;
  const int64_t c = in.boxes.col_stride;
  for (size_t t = 0; t < count; ++t) {
    const int64_t i = members[t];
    const float w = in.scores[i];
    const float* box = in.boxes.row(i);
    // Detection stores xmin and width: the max corner MediaPipe adds is xmin + width.
    Float4 corners;
    if (c == 1) {  // packed: (x0, y0, x0 + (x1 - x0), y0 + (y1 - y0)) with two shuffles
      Float4 b;
      std::memcpy(&b, box, sizeof b);
      const Float4 min_corner = __builtin_shufflevector(b, b, 0, 1, 0, 1);
      corners = __builtin_shufflevector(b, min_corner + (b - min_corner), 0, 1, 6, 7);
    } else {
      const float bx0 = box[0], by0 = box[c];
      corners = Float4{bx0, by0, bx0 + (box[2 * c] - bx0), by0 + (box[3 * c] - by0)};
    }
    sums.total += w;
    sums.box += corners * w;
    if (NK >= 0) {
      const float* k = in.keypoints.data + i * in.keypoints.stride0;
      for (int v = 0; v < kVectors; ++v) {
        Float4 x;
        std::memcpy(&x, k + 4 * v, sizeof x);
        acc[v] += x * w;
      }
      if (kTail) tail[0] += k[4 * kVectors] * w, tail[1] += k[4 * kVectors + 1] * w;
    } else {
      for (int p = 0; p < nk; ++p) {
        kp_sum[2 * p] += in.keypoints(i, p, 0) * w;
        kp_sum[2 * p + 1] += in.keypoints(i, p, 1) * w;
      }
    }
  }
  if (NK >= 0) {
    for (int v = 0; v < kVectors; ++v) std::memcpy(kp_sum + 4 * v, &acc[v], sizeof acc[v]);
    if (kTail) kp_sum[4 * kVectors] = tail[0], kp_sum[4 * kVectors + 1] = tail[1];
  }
  return sums;
}

ClusterSums cluster_sums(const DetectionsView& in, const uint32_t* members, size_t count, float* kp_sum) {
  const bool pairs = in.keypoints.stride2 == 1 && in.keypoints.stride1 == 2;
  switch (pairs ? in.num_keypoints() : -1) {
    case 0: return accumulate<0>(in, members, count, kp_sum);
    case 1: return accumulate<1>(in, members, count, kp_sum);
    case 2: return accumulate<2>(in, members, count, kp_sum);
    case 3: return accumulate<3>(in, members, count, kp_sum);
    case 4: return accumulate<4>(in, members, count, kp_sum);  // MediaPipe pose
    case 5: return accumulate<5>(in, members, count, kp_sum);
    case 6: return accumulate<6>(in, members, count, kp_sum);  // BlazeFace
    case 7: return accumulate<7>(in, members, count, kp_sum);
    case 8: return accumulate<8>(in, members, count, kp_sum);
    default: return accumulate<-1>(in, members, count, kp_sum);
  }
}

void weighted_nms(const DetectionsView& in, const NmsOptions& o, Output& out, std::vector<int64_t>* seeds) {
  const int nk = in.num_keypoints();
  ScoredRemaining rest(in);
  std::unique_ptr<uint32_t[]> overlaps(new uint32_t[rest.size + 1]), cluster(new uint32_t[rest.size + 1]);
  std::vector<float> kp_sum(2 * static_cast<size_t>(nk) + 1);
  size_t m = rest.size;
  while (m > 0) {
    if (o.max_detections >= 0 && out.n >= o.max_detections) break;
    const size_t at = rest.best(m);
    const int64_t seed = rest.pos[at];
    std::fill(overlaps.get(), overlaps.get() + m, 0u);
    mark_overlaps(rest, 0, m, {rest.x0[at], rest.y0[at], rest.x1[at], rest.y1[at]}, o.iou_threshold,
                  overlaps.get());

    // Split into the cluster and the rest without branching on the (unpredictable) flags:
    // each row is written to both lists and only the matching count advances.
    size_t kept = 0, taken = 0;
    for (size_t r = 0; r < m; ++r) {
      const uint32_t hit = overlaps[r];
      cluster[taken] = rest.pos[r];
      taken += hit;
      rest.move(r, kept);  // kept <= r: rows move toward the front only
      kept += 1 - hit;
    }
    if (taken == 0) {  // the seed does not overlap itself (zero area): emit it as is and stop
      out.copy(in, seed);
      if (seeds) seeds->push_back(seed);
      break;
    }
    // The cluster's score-weighted means, summed in float32 like MediaPipe but in index
    // order rather than score order (no sort): the same to float32 rounding, and
    // independent of how equal scores are ordered.
    const ClusterSums sums = cluster_sums(in, cluster.get(), taken, kp_sum.data());
    const float total = sums.total;
    const Float4 mean = sums.box / total;
    std::memcpy(out.box(), &mean, sizeof mean);
    float* k = out.keypoints();
    for (int p = 0; p < 2 * nk; ++p) k[p] = kp_sum[p] / total;
    out.finish(in.scores[seed], in.class_id(seed));
    if (seeds) seeds->push_back(seed);
    m = kept;
  }
}

}  // namespace

void order_by_score(const VectorView<float>& scores, std::vector<int64_t>& order) {
  const int64_t n = scores.size;
  std::unique_ptr<uint64_t[]> keys(new uint64_t[n + 1]), scratch(new uint64_t[n + 1]);
  for (int64_t i = 0; i < n; ++i) keys[i] = sort_key(scores[i], i);
  const uint64_t* sorted = sort_keys(keys.get(), scratch.get(), static_cast<size_t>(n));
  order.resize(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) order[r] = static_cast<int64_t>(sorted[r] & 0xFFFFFFFFu);
}

void non_max_suppression(const DetectionsView& in, const NmsOptions& o, DetectionList& out,
                         std::vector<int64_t>* seeds) {
  out.clear();
  out.num_keypoints = in.num_keypoints();
  if (seeds) seeds->clear();
  if (in.size() == 0 || o.max_detections == 0) return;
  Output writer(out, o.max_detections >= 0 ? std::min(o.max_detections, in.size()) : in.size());
  if (o.method == NmsMethod::hard) {
    std::vector<int64_t> order;
    order_by_score(in.scores, order);
    hard_nms(in, SortedDetections(in, std::move(order)), o, writer, seeds);
  } else {
    weighted_nms(in, o, writer, seeds);
  }
  writer.shrink();
}

}  // namespace edgevision
