#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>

#include "edgevision/detections.hpp"

namespace edgevision {

namespace {

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

// Four floats as one value: GCC/Clang vector extension, element-wise IEEE arithmetic
// (SSE on x86-64, NEON on arm64), so each lane rounds like the scalar code.
typedef float Float4 __attribute__((vector_size(16)));

inline Float4 load4(const float* p) {
  Float4 r;
  std::memcpy(&r, p, sizeof r);
  return r;
}

// One head row decoded: the box values (x, y, w, h in the row's order) into box[0, 4) and
// the keypoints as (x, y) pairs into keypoints[0, 2 * num_keypoints):
// value = raw / divisor * size (+ centre). The fast path needs contiguous values with the
// keypoints from column 4 (every AI Hub and MediaPipe detector); other layouts take the
// scalar loop.
void decode_row(const float* raw, int64_t col_stride, const DecodeOptions& o, float ax, float ay, float aw, float ah,
                float* box, float* keypoints) {
  const bool xy = o.format == BoxFormat::xywh;
  const int nk = o.num_keypoints;
  if (col_stride == 1 && o.keypoint_offset == 4) {
    const Float4 box_divisor = xy ? Float4{o.x_scale, o.y_scale, o.w_scale, o.h_scale}
                                  : Float4{o.y_scale, o.x_scale, o.h_scale, o.w_scale};
    const Float4 size = xy ? Float4{aw, ah, aw, ah} : Float4{ah, aw, ah, aw};
    const Float4 box_centre = xy ? Float4{ax, ay, -0.0f, -0.0f} : Float4{ay, ax, -0.0f, -0.0f};  // -0 adds nothing
    const Float4 b = load4(raw) / box_divisor * size + box_centre;
    std::memcpy(box, &b, sizeof b);
    const float* kp = raw + 4;
    int q = 0;
    if (xy) {  // pairs already (x, y): four values at a time straight to the output
      const Float4 divisor{o.x_scale, o.y_scale, o.x_scale, o.y_scale};
      const Float4 centre{ax, ay, ax, ay};
      for (; q + 2 <= nk; q += 2) {
        const Float4 r = load4(kp + 2 * q) / divisor * size + centre;
        std::memcpy(keypoints + 2 * q, &r, sizeof r);
      }
    }
    for (; q < nk; ++q) {
      const float rx = kp[2 * q + (xy ? 0 : 1)], ry = kp[2 * q + (xy ? 1 : 0)];
      keypoints[2 * q] = rx / o.x_scale * aw + ax;
      keypoints[2 * q + 1] = ry / o.y_scale * ah + ay;
    }
    return;
  }
  const auto at = [&](int64_t k) { return raw[k * col_stride]; };
  const int hx = xy ? 0 : 1, hy = 1 - hx;
  box[hx] = at(hx) / o.x_scale * aw + ax;
  box[hy] = at(hy) / o.y_scale * ah + ay;
  box[2 + hx] = at(2 + hx) / o.w_scale * aw;
  box[2 + hy] = at(2 + hy) / o.h_scale * ah;
  for (int q = 0; q < nk; ++q) {
    const int64_t c = o.keypoint_offset + 2 * q;
    keypoints[2 * q] = at(c + hx) / o.x_scale * aw + ax;
    keypoints[2 * q + 1] = at(c + hy) / o.y_scale * ah + ay;
  }
}

}  // namespace

void decode_detections(const HeadParts& boxes, const HeadParts& scores, const MatrixView<float>& anchors,
                       const DecodeOptions& o, DetectionList& out) {
  out.clear();
  out.num_keypoints = o.num_keypoints;
  const int64_t rows = scores.rows();
  const float floor = logit_floor(o.min_score);
  const float clip = o.clip_scores ? o.score_clip : std::numeric_limits<float>::infinity();

  // 1. Anchors whose clamped logit reaches the floor, without a branch per anchor (which
  //    would mispredict on every few hundredth-anchor pass). NaN fails the `>=`.
  std::unique_ptr<int32_t[]> picked(new int32_t[rows + 1]);  // anchor counts fit in int32 (checked by callers)
  std::unique_ptr<float[]> logits(new float[rows + 1]);
  int64_t count = 0;
  int32_t anchor = 0;
  const auto consider = [&](float s) {
    s = s < -clip ? -clip : s;
    s = s > clip ? clip : s;
    picked[count] = anchor;
    logits[count] = s;
    count += s >= floor;
  };
  constexpr int kBlock = 16;
  for (const auto& part : scores.parts) {
    const float* p = part.data;
    int64_t r = 0;
    // Most anchors are background: a vectorised any-reaches-the-floor test skips whole
    // blocks (valid when the floor is above -clip, so clamping cannot lift a logit over it).
    if (part.row_stride == 1 && floor > -clip) {
      for (; r + kBlock <= part.rows; r += kBlock) {
        int any = 0;
        for (int k = 0; k < kBlock; ++k) any |= p[r + k] >= floor;
        if (!any) {
          anchor += kBlock;
          continue;
        }
        for (int k = 0; k < kBlock; ++k, ++anchor) consider(p[r + k]);
      }
    }
    for (; r < part.rows; ++r, ++anchor) consider(p[r * part.row_stride]);
  }

  // 2. The exact score test, compacting in place (n <= count).
  int64_t n = 0;
  for (int64_t c = 0; c < count; ++c) {
    const float score = 1.0f / (1.0f + std::exp(-logits[c]));
    picked[n] = picked[c];
    logits[n] = score;
    n += score >= o.min_score;
  }

  // 3. Decode: x = raw / x_scale * aw + ax, w = raw / w_scale * aw, likewise y, h with
  //    ah, ay; keypoints like x, y. Every element is rounded exactly as MediaPipe's scalar
  //    formula, four at a time where the row layout allows.
  const int nk = o.num_keypoints;
  const int hx = o.format == BoxFormat::xywh ? 0 : 1, hy = 1 - hx;  // horizontal / vertical of a pair
  out.boxes.resize(4 * n);
  out.keypoints.resize(2 * nk * n);
  out.scores.resize(n);
  size_t part = 0;
  int64_t part_first = 0;  // anchor index of the first row of boxes.parts[part]
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t a = picked[i];
    while (a >= part_first + boxes.parts[part].rows) part_first += boxes.parts[part++].rows;
    const MatrixView<float>& head = boxes.parts[part];
    float v[4];
    decode_row(head.row(a - part_first), head.col_stride, o, anchors(a, 0), anchors(a, 1), anchors(a, 2),
               anchors(a, 3), v, out.keypoints.data() + 2 * nk * kept);
    const float x_center = v[hx], y_center = v[hy], w = v[2 + hx], h = v[2 + hy];
    const float ymin = y_center - h / 2.f, xmin = x_center - w / 2.f;
    const float ymax = y_center + h / 2.f, xmax = x_center + w / 2.f;
    float* b = out.boxes.data() + 4 * kept;
    b[0] = xmin, b[1] = ymin, b[2] = xmax, b[3] = ymax;
    out.scores[kept] = logits[i];
    // MediaPipe drops negative or NaN sizes (b/171391719): written, then not counted.
    kept += (xmax - xmin >= 0.0f) & (ymax - ymin >= 0.0f);
  }
  out.boxes.resize(4 * kept);
  out.keypoints.resize(2 * nk * kept);
  out.scores.resize(kept);
}

}  // namespace edgevision
