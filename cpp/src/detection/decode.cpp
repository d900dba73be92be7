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

// Lanes of v in a fixed order (one shuffle instruction; GCC >= 12 and Clang).
#define EV_LANES(v, a, b, c, d) __builtin_shufflevector(v, v, a, b, c, d)

// Decodes one head row against its anchor (x, y, w, h): value = raw / divisor * size
// (+ centre), each lane rounded exactly as MediaPipe's scalar formula, then the box
// (x - w/2, y - h/2, x + w/2, y + h/2). Constants are set up once per call. The vector path
// needs contiguous values with the keypoints from column 4 (every AI Hub and MediaPipe
// detector); other layouts take the scalar path.
class RowDecoder {
 public:
  explicit RowDecoder(const DecodeOptions& o)
      : o_(o),
        xy_(o.format == BoxFormat::xywh),
        box_divisor_{o.x_scale, o.y_scale, o.w_scale, o.h_scale},
        point_divisor_{o.x_scale, o.y_scale, o.x_scale, o.y_scale} {}

  // Writes box[4] and keypoints[2k]; returns whether the box has a non-negative, non-NaN
  // width and height (MediaPipe drops the others, b/171391719).
  bool decode(const float* raw, int64_t col_stride, Float4 anchor, float* box, float* keypoints) const {
    const Float4 size = EV_LANES(anchor, 2, 3, 2, 3), centre = EV_LANES(anchor, 0, 1, 0, 1);
    const int nk = o_.num_keypoints;
    Float4 b;  // x_center, y_center, w, h
    if (col_stride == 1 && o_.keypoint_offset == 4) {
      Float4 r = load4(raw);
      if (!xy_) r = EV_LANES(r, 1, 0, 3, 2);
      const Float4 box_centre{anchor[0], anchor[1], -0.0f, -0.0f};  // -0 adds nothing
      b = r / box_divisor_ * size + box_centre;
      const float* kp = raw + 4;
      int q = 0;
      for (; q + 2 <= nk; q += 2) {  // two (x, y) pairs at a time straight to the output
        Float4 k = load4(kp + 2 * q);
        if (!xy_) k = EV_LANES(k, 1, 0, 3, 2);
        const Float4 v = k / point_divisor_ * size + centre;
        std::memcpy(keypoints + 2 * q, &v, sizeof v);
      }
      for (; q < nk; ++q) point(kp[2 * q + (xy_ ? 0 : 1)], kp[2 * q + (xy_ ? 1 : 0)], anchor, keypoints + 2 * q);
    } else {
      const auto at = [&](int64_t k) { return raw[k * col_stride]; };
      const int hx = xy_ ? 0 : 1, hy = 1 - hx;
      b = Float4{at(hx) / o_.x_scale * anchor[2] + anchor[0], at(hy) / o_.y_scale * anchor[3] + anchor[1],
                 at(2 + hx) / o_.w_scale * anchor[2], at(2 + hy) / o_.h_scale * anchor[3]};
      for (int q = 0; q < nk; ++q) {
        const int64_t c = o_.keypoint_offset + 2 * q;
        point(at(c + hx), at(c + hy), anchor, keypoints + 2 * q);
      }
    }
    // (x - w/2, y - h/2, x + w/2, y + h/2): halving and negating are exact.
    const Float4 corners = EV_LANES(b, 0, 1, 0, 1) + EV_LANES(b, 2, 3, 2, 3) / 2.f * Float4{-1.0f, -1.0f, 1.0f, 1.0f};
    std::memcpy(box, &corners, sizeof corners);
    const Float4 extent = corners - EV_LANES(corners, 2, 3, 0, 1);  // (xmin - xmax, ymin - ymax, w, h)
    return (extent[2] >= 0.0f) & (extent[3] >= 0.0f);
  }

 private:
  void point(float rx, float ry, Float4 anchor, float* out) const {
    out[0] = rx / o_.x_scale * anchor[2] + anchor[0];
    out[1] = ry / o_.y_scale * anchor[3] + anchor[1];
  }

  DecodeOptions o_;
  bool xy_;
  Float4 box_divisor_;
  Float4 point_divisor_;
};

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
        // Lane-wise max of four vectors, then of the lanes (NaN never passes: max may skip it).
        Float4 m = load4(p + r);
        for (int k = 4; k < kBlock; k += 4) {
          const Float4 v = load4(p + r + k);
          m = v > m ? v : m;
        }
        const float top = std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
        if (!(top >= floor)) {
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

  // 3. Decode, written straight into the output arrays.
  const int nk = o.num_keypoints;
  const RowDecoder row_decoder(o);
  out.boxes.resize(4 * n);
  out.keypoints.resize(2 * nk * n);
  out.scores.resize(n);
  const bool packed_anchors = anchors.col_stride == 1;
  size_t part = 0;
  int64_t part_first = 0;  // anchor index of the first row of boxes.parts[part]
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t a = picked[i];
    while (a >= part_first + boxes.parts[part].rows) part_first += boxes.parts[part++].rows;
    const MatrixView<float>& head = boxes.parts[part];
    const Float4 anchor =
        packed_anchors ? load4(anchors.row(a)) : Float4{anchors(a, 0), anchors(a, 1), anchors(a, 2), anchors(a, 3)};
    const bool valid = row_decoder.decode(head.row(a - part_first), head.col_stride, anchor,
                                          out.boxes.data() + 4 * kept, out.keypoints.data() + 2 * nk * kept);
    out.scores[kept] = logits[i];
    kept += valid;  // rows that fail are overwritten by the next
  }
  out.boxes.resize(4 * kept);
  out.keypoints.resize(2 * nk * kept);
  out.scores.resize(kept);
}

}  // namespace edgevision
