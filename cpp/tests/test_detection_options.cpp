// Decode options beyond MediaPipe's XYWH logits, RectTransformation's shift and heatmap
// presence, against naive loops written from the formulas.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "check.hpp"
#include "edgevision/detections.hpp"
#include "edgevision/detector.hpp"
#include "edgevision/landmarks.hpp"
#include "edgevision/nms.hpp"
#include "edgevision/roi.hpp"

using namespace edgevision;

TEST(decode_ltrb_is_mediapipe_xyxy) {
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.0f, 20.0f);
  const int rows = 64;
  std::vector<float> raw(rows * 6), logits(rows, 5.0f), anchors;
  for (auto& v : raw) v = std::fabs(n(rng));
  for (int i = 0; i < rows; ++i) anchors.insert(anchors.end(), {0.01f * i, 0.02f * i, 1.0f, 0.5f});
  HeadParts boxes, scores;
  boxes.parts.push_back({raw.data(), rows, 6, 6, 1});
  scores.parts.push_back({logits.data(), rows, 1, 1, 1});
  DecodeOptions o;
  o.x_scale = o.y_scale = 128.0f, o.w_scale = o.h_scale = 64.0f;
  o.num_keypoints = 1;
  o.format = BoxFormat::ltrb;
  DetectionList out;
  decode_detections(boxes, scores, {anchors.data(), rows, 4, 4, 1}, o, out);
  CHECK(out.size() == rows);
  for (int i = 0; i < rows && i < out.size(); ++i) {
    const float* r = &raw[6 * i];
    const float* a = &anchors[4 * i];
    float xc = (-r[0] + r[2]) / 2, yc = (-r[1] + r[3]) / 2, w = r[2] + r[0], h = r[3] + r[1];
    xc = xc / 128.0f * a[2] + a[0], yc = yc / 128.0f * a[3] + a[1];
    w = w / 64.0f * a[2], h = h / 64.0f * a[3];
    CHECK(out.boxes[4 * i] == xc - w / 2.f && out.boxes[4 * i + 1] == yc - h / 2.f);
    CHECK(out.boxes[4 * i + 2] == xc + w / 2.f && out.boxes[4 * i + 3] == yc + h / 2.f);
    CHECK(out.keypoints[2 * i] == r[4] / 128.0f * a[2] + a[0]);
    CHECK(out.class_ids[i] == 0);
  }
}

TEST(decode_multiclass_picks_the_first_best) {
  // 3 anchors x 3 classes: a tie (class 0), saturation (30 and 40 both sigmoid to 1: class 0),
  // NaN ignored (class 2); identity anchors, corner boxes, probabilities unclipped.
  const float logits[9] = {1, 1, 0, 30, 40, 0, NAN, 0.5f, 2};
  const float raw[12] = {0, 0, 1, 1, 0, 0, 2, 2, 0, 0, 3, 3};
  HeadParts boxes, scores;
  boxes.parts.push_back({raw, 3, 4, 4, 1});
  scores.parts.push_back({logits, 3, 3, 3, 1});
  DecodeOptions o;
  o.format = BoxFormat::xyxy;
  DetectionList out;
  decode_detections(boxes, scores, identity_anchors(3), o, out);
  CHECK(out.size() == 3);
  CHECK(out.class_ids[0] == 0 && out.class_ids[1] == 0 && out.class_ids[2] == 2);
  CHECK(out.scores[1] == 1.0f && out.boxes[4 * 2 + 2] == 3.0f);
  NmsOptions nms;
  DetectionsView v;
  v.boxes = {out.boxes.data(), 3, 4, 4, 1};
  v.keypoints = {out.keypoints.data(), 3, 0, 0, 2, 1};
  v.scores = {out.scores.data(), 3, 1};
  v.class_ids = {out.class_ids.data(), 3, 1};
  DetectionList merged;
  non_max_suppression(v, nms, merged);
  CHECK(merged.size() >= 1 && merged.class_ids[0] == out.class_ids[1]);  // seed: the top score
}

TEST(transform_rect_shifts_in_the_rotated_frame) {
  RoiScaling s;
  s.scale_x = s.scale_y = 2.0, s.square_long = true, s.shift_x = 0.25, s.shift_y = -0.5;
  const Rect r = transform_rect(Rect{100, 50, 40, 20, M_PI / 2}, s);
  // shift (0.25 * 40, -0.5 * 20) = (10, -10) turned a quarter clockwise: (10, 10)
  CHECK(std::fabs(r.x_center - 110.0) < 1e-9 && std::fabs(r.y_center - 60.0) < 1e-9);
  CHECK(r.width == 80.0 && r.height == 80.0 && r.rotation == M_PI / 2);
}

TEST(heatmap_lowers_presence_to_the_peak) {
  std::vector<float> heatmap(16 * 16 * 2, -2.0f);  // sigmoid(-2) everywhere
  const float lm[10] = {0.5f, 0.5f, 0.0f, 0.9f, 0.8f, 2.0f, 0.5f, 0.0f, 0.9f, 0.8f};
  HeatmapView h{heatmap.data(), 16, 16, 2, 32, 2, 1};
  float out[10];
  refine_from_heatmap({lm, 2, 5, 5, 1}, h, 7, 0.5f, out, true, true);
  const float peak = 1.0f / (1.0f + std::exp(2.0f));
  CHECK(out[0] == 0.5f && out[3] == peak && out[4] == peak);            // not refined, lowered
  CHECK(out[5] == 2.0f && out[8] == 0.9f && out[9] == 0.8f);            // outside the map: unchanged
}
