#include <cmath>
#include <limits>

#include "edgevision/detections.hpp"

namespace edgevision {

namespace {

struct Candidate {
  int64_t anchor;
  float score;
};

// A logit below which sigmoid(logit) in float32 cannot reach `min_score`, so the exp is
// only paid for anchors that may pass. The margin covers float32 rounding of the sigmoid
// (a few ulps of the score, i.e. ~1e-7 / (1 - p) in logit units); the exact test follows.
float logit_floor(float min_score) {
  if (!(min_score > 0.0f)) return -std::numeric_limits<float>::infinity();
  if (min_score >= 1.0f) return 15.0f;  // sigmoid(15) rounds below 1 in float32
  const double p = min_score;
  const double logit = std::log(p / (1.0 - p));
  return static_cast<float>(logit - 1e-5 - 1e-5 / (1.0 - p));
}

// Scores of all parts in anchor order; appends the anchors that pass.
void select_scores(const HeadParts& scores, const DecodeOptions& o, std::vector<Candidate>& out) {
  const float floor = logit_floor(o.min_score);
  const float clip = o.clip_scores ? o.score_clip : std::numeric_limits<float>::infinity();
  int64_t anchor = 0;
  for (const auto& part : scores.parts) {
    const float* p = part.data;
    const int64_t stride = part.row_stride;
    for (int64_t r = 0; r < part.rows; ++r, ++anchor) {
      float s = p[r * stride];
      // NaN falls through both clamps and fails the `>=` tests below.
      s = s < -clip ? -clip : s;
      s = s > clip ? clip : s;
      if (!(s >= floor)) continue;
      const float score = 1.0f / (1.0f + std::exp(-s));
      if (score >= o.min_score) out.push_back({anchor, score});
    }
  }
}

}  // namespace

void decode_detections(const HeadParts& boxes, const HeadParts& scores, const MatrixView<float>& anchors,
                       const DecodeOptions& o, DetectionList& out) {
  out.clear();
  out.num_keypoints = o.num_keypoints;
  std::vector<Candidate> candidates;
  candidates.reserve(static_cast<size_t>(scores.rows()));  // one allocation, not one per anchor
  select_scores(scores, o, candidates);
  out.reserve(static_cast<int64_t>(candidates.size()));

  const bool xywh = o.format == BoxFormat::xywh;
  const int kx = xywh ? 0 : 1, ky = 1 - kx;  // keypoints follow the box's x/y order
  size_t part = 0;
  int64_t part_first = 0;  // anchor index of the first row of boxes.parts[part]
  for (const Candidate& c : candidates) {
    while (c.anchor >= part_first + boxes.parts[part].rows) part_first += boxes.parts[part++].rows;
    const MatrixView<float>& head = boxes.parts[part];
    const int64_t row = c.anchor - part_first;
    const auto raw = [&](int64_t col) { return head(row, col); };
    const float ax = anchors(c.anchor, 0), ay = anchors(c.anchor, 1);
    const float aw = anchors(c.anchor, 2), ah = anchors(c.anchor, 3);

    const float rx = xywh ? raw(0) : raw(1), ry = xywh ? raw(1) : raw(0);
    const float rw = xywh ? raw(2) : raw(3), rh = xywh ? raw(3) : raw(2);
    const float x_center = rx / o.x_scale * aw + ax;
    const float y_center = ry / o.y_scale * ah + ay;
    const float h = rh / o.h_scale * ah;
    const float w = rw / o.w_scale * aw;
    const float ymin = y_center - h / 2.f, xmin = x_center - w / 2.f;
    const float ymax = y_center + h / 2.f, xmax = x_center + w / 2.f;
    // MediaPipe drops negative or NaN sizes (b/171391719).
    if (!(xmax - xmin >= 0.0f) || !(ymax - ymin >= 0.0f)) continue;

    out.boxes.insert(out.boxes.end(), {xmin, ymin, xmax, ymax});
    for (int k = 0; k < o.num_keypoints; ++k) {
      const int64_t col = o.keypoint_offset + 2 * k;
      out.keypoints.push_back(raw(col + kx) / o.x_scale * aw + ax);
      out.keypoints.push_back(raw(col + ky) / o.y_scale * ah + ay);
    }
    out.scores.push_back(c.score);
  }
}

}  // namespace edgevision
