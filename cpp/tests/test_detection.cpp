// Detection post-processing against naive loops written from the formulas (MediaPipe's
// SsdAnchors, TensorsToDetections, NonMaxSuppression, filters).
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "check.hpp"
#include "edgevision/anchors.hpp"
#include "edgevision/detections.hpp"
#include "edgevision/detector.hpp"
#include "edgevision/filters.hpp"
#include "edgevision/landmarks.hpp"
#include "edgevision/nms.hpp"
#include "edgevision/roi.hpp"

using namespace edgevision;

namespace {

AnchorOptions pose_anchors() {
  AnchorOptions o;
  o.input_size = {224, 224};
  o.strides = {8, 16, 32, 32, 32};
  return o;
}

// Detections with boxes drawn around a few centres (so clusters form) plus scattered ones.
struct OwnedDetections {
  std::vector<float> boxes, keypoints, scores;
  int k = 3;
  DetectionsView view() const {
    const int64_t n = static_cast<int64_t>(scores.size());
    DetectionsView v;
    v.boxes = {boxes.data(), n, 4, 4, 1};
    v.keypoints = {keypoints.data(), n, k, 2 * k, 2, 1};
    v.scores = {scores.data(), n, 1};
    return v;
  }
};

OwnedDetections random_detections(int n, uint32_t seed, bool quantised) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  OwnedDetections d;
  for (int i = 0; i < n; ++i) {
    float x = u(rng), y = u(rng), w = 0.4f * u(rng), h = 0.4f * u(rng), s = u(rng);
    if (quantised) x = std::round(x * 4) / 4, y = std::round(y * 4) / 4, s = std::round(s * 3) / 3;
    d.boxes.insert(d.boxes.end(), {x, y, x + w, y + h});
    for (int p = 0; p < 2 * d.k; ++p) d.keypoints.push_back(u(rng));
    d.scores.push_back(s);
  }
  return d;
}

// MediaPipe's Rectangle_f IoU in float (xmax = xmin + width).
float naive_iou(const float* a, const float* b) {
  const float ax1 = a[0] + (a[2] - a[0]), ay1 = a[1] + (a[3] - a[1]);
  const float bx1 = b[0] + (b[2] - b[0]), by1 = b[1] + (b[3] - b[1]);
  if (a[0] > ax1 || a[1] > ay1 || b[0] > bx1 || b[1] > by1) return 0.0f;
  if (bx1 < a[0] || ax1 < b[0] || by1 < a[1] || ay1 < b[1]) return 0.0f;
  const float inter = (std::min(ax1, bx1) - std::max(a[0], b[0])) * (std::min(ay1, by1) - std::max(a[1], b[1]));
  const float norm = (ax1 - a[0]) * (ay1 - a[1]) + (bx1 - b[0]) * (by1 - b[1]) - inter;
  return norm > 0.0f ? inter / norm : 0.0f;
}

std::vector<int> naive_order(const std::vector<float>& scores) {
  std::vector<int> order(scores.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  return order;
}

}  // namespace

TEST(anchor_counts) {
  CHECK(anchor_count(pose_anchors()) == 2254);
  AnchorOptions face;
  face.input_size = {128, 128};
  face.strides = {8, 16, 16, 16};
  CHECK(anchor_count(face) == 896);
  std::vector<float> a(4 * 896);
  ssd_anchors(face, a.data());
  CHECK(a[0] == 0.5f / 16 && a[4] == 0.5f / 16 && a[8] == 1.5f / 16);  // two anchors per cell, x fastest
  CHECK(a[4 * 512] == 0.5f / 8 && a[4 * 895 + 1] == 7.5f / 8);
  for (int i = 0; i < 896; ++i) CHECK(a[4 * i + 2] == 1.0f && a[4 * i + 3] == 1.0f);
}

TEST(hard_nms_matches_naive_loop) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    const OwnedDetections d = random_detections(5 + 37 * (seed % 7), seed, seed % 2 == 1);
    for (float threshold : {0.0f, 0.3f, 0.6f}) {
      std::vector<int> kept;
      for (int i : naive_order(d.scores)) {
        bool suppressed = false;
        for (int k : kept) suppressed |= naive_iou(&d.boxes[4 * k], &d.boxes[4 * i]) > threshold;
        if (!suppressed) kept.push_back(i);
      }
      NmsOptions o;
      o.method = NmsMethod::hard;
      o.iou_threshold = threshold;
      DetectionList out;
      std::vector<int64_t> seeds;
      non_max_suppression(d.view(), o, out, &seeds);
      CHECK(seeds.size() == kept.size());
      for (size_t j = 0; j < std::min(seeds.size(), kept.size()); ++j) CHECK(seeds[j] == kept[j]);
      for (size_t j = 0; j < kept.size() && j < static_cast<size_t>(out.size()); ++j)
        CHECK(std::equal(out.boxes.begin() + 4 * j, out.boxes.begin() + 4 * j + 4, d.boxes.begin() + 4 * kept[j]));
    }
  }
}

TEST(weighted_nms_matches_naive_loop) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    const OwnedDetections d = random_detections(3 + 29 * (seed % 5), 100 + seed, seed % 3 == 0);
    const int k = d.k;
    std::vector<int> remaining = naive_order(d.scores);
    std::vector<float> want_boxes, want_kps;
    std::vector<int> want_seeds;
    while (!remaining.empty()) {
      const int seed_i = remaining[0];
      std::vector<int> cluster, rest;
      for (int r : remaining) (naive_iou(&d.boxes[4 * r], &d.boxes[4 * seed_i]) > 0.3f ? cluster : rest).push_back(r);
      want_seeds.push_back(seed_i);
      if (cluster.empty()) {
        want_boxes.insert(want_boxes.end(), d.boxes.begin() + 4 * seed_i, d.boxes.begin() + 4 * seed_i + 4);
        want_kps.insert(want_kps.end(), d.keypoints.begin() + 2 * k * seed_i, d.keypoints.begin() + 2 * k * (seed_i + 1));
        break;
      }
      float total = 0, b[4] = {0, 0, 0, 0};
      std::vector<float> kp(2 * k, 0.0f);
      for (int c : cluster) {
        const float w = d.scores[c], *box = &d.boxes[4 * c];
        total += w;
        b[0] += box[0] * w, b[1] += box[1] * w;
        b[2] += (box[0] + (box[2] - box[0])) * w, b[3] += (box[1] + (box[3] - box[1])) * w;
        for (int p = 0; p < 2 * k; ++p) kp[p] += d.keypoints[2 * k * c + p] * w;
      }
      for (float v : b) want_boxes.push_back(v / total);
      for (float v : kp) want_kps.push_back(v / total);
      remaining = rest;
    }
    DetectionList out;
    std::vector<int64_t> seeds;
    non_max_suppression(d.view(), NmsOptions{}, out, &seeds);
    CHECK(seeds.size() == want_seeds.size());
    for (size_t j = 0; j < std::min(seeds.size(), want_seeds.size()); ++j) CHECK(seeds[j] == want_seeds[j]);
    CHECK(out.boxes.size() == want_boxes.size() && out.keypoints.size() == want_kps.size());
    // Float32 sums in another order (the kernel adds members by index, MediaPipe by score).
    const auto same = [](float a, float b) {
      return std::fabs(a - b) <= 2e-6f * std::fmax(1.0f, std::fabs(b)) || (std::isnan(a) && std::isnan(b));
    };
    for (size_t j = 0; j < std::min(out.boxes.size(), want_boxes.size()); ++j) CHECK(same(out.boxes[j], want_boxes[j]));
    for (size_t j = 0; j < std::min(out.keypoints.size(), want_kps.size()); ++j) CHECK(same(out.keypoints[j], want_kps[j]));
  }
}

TEST(decode_matches_formula_and_decoder) {
  const AnchorOptions ao = pose_anchors();
  std::vector<float> anchors(4 * 2254);
  ssd_anchors(ao, anchors.data());
  std::mt19937 rng(7);
  std::normal_distribution<float> n(0.0f, 20.0f);
  std::vector<float> raw(2254 * 12), logits(2254);
  for (auto& v : raw) v = n(rng);
  for (auto& v : logits) v = n(rng) / 10;
  HeadParts boxes, scores;
  boxes.parts.push_back({raw.data(), 2254, 12, 12, 1});
  scores.parts.push_back({logits.data(), 2254, 1, 1, 1});
  DecodeOptions o;
  o.x_scale = o.y_scale = o.w_scale = o.h_scale = 224.0f;
  o.num_keypoints = 4;
  const MatrixView<float> av{anchors.data(), 2254, 4, 4, 1};
  DetectionList out;
  decode_detections(boxes, scores, av, o, out);
  int64_t j = 0;
  for (int i = 0; i < 2254; ++i) {
    const float score = 1.0f / (1.0f + std::exp(-logits[i]));
    const float* r = &raw[12 * i];
    const float* a = &anchors[4 * i];
    const float xc = r[0] / 224.0f * a[2] + a[0], yc = r[1] / 224.0f * a[3] + a[1];
    const float w = r[2] / 224.0f * a[2], h = r[3] / 224.0f * a[3];
    if (!(score >= 0.5f) || !(w >= 0) || !(h >= 0)) continue;
    if (j >= out.size()) break;
    CHECK(out.scores[j] == score);
    CHECK(out.boxes[4 * j] == xc - w / 2.f && out.boxes[4 * j + 3] == yc + h / 2.f);
    CHECK(out.keypoints[8 * j + 6] == r[10] / 224.0f * a[2] + a[0]);
    ++j;
  }
  CHECK(j == out.size() && j > 100);

  NmsOptions nms;
  const DetectionDecoder decoder(av, o, nms);
  DetectionList fused, separate;
  decoder.run(boxes, scores, fused);
  DetectionsView v;
  v.boxes = {out.boxes.data(), out.size(), 4, 4, 1};
  v.keypoints = {out.keypoints.data(), out.size(), 4, 8, 2, 1};
  v.scores = {out.scores.data(), out.size(), 1};
  non_max_suppression(v, nms, separate);
  CHECK(fused.boxes == separate.boxes && fused.keypoints == separate.keypoints && fused.scores == separate.scores);
}

TEST(roi_rotation_normalised) {
  CHECK(normalize_radians(M_PI) == -M_PI);
  CHECK(std::fabs(normalize_radians(3 * M_PI / 2) + M_PI / 2) < 1e-12);
  const Rect r = rect_from_keypoints({0.5, 0.5}, {0.5, 0.25}, {200, 100}, M_PI / 2, RoiScaling{1.25, 1.25, true});
  CHECK(r.rotation == 0.0 && r.width == 1.25 * 2 * 25 && r.x_center == 100 && r.y_center == 50);
}

TEST(one_euro_first_sample_passes_and_lags_after) {
  OneEuroFilterBank f(OneEuroOptions{30.0, 0.05, 80.0, 1.0});
  double v[2] = {1.0, 2.0};
  f.apply(0, 1.0, v, 2);
  CHECK(v[0] == 1.0 && v[1] == 2.0);
  double w[2] = {2.0, 2.0};
  f.apply(33333000, 0.01, w, 2);
  CHECK(w[0] > 1.0 && w[0] < 2.0 && w[1] == 2.0f);
}
