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
// (x - w/2, y - h/2, x + w/2, y + h/2). Constants are set up once per call. Contiguous
// rows (every AI Hub and MediaPipe detector) take vector loads; strided ones gather.
class RowDecoder {
 public:
  explicit RowDecoder(const DecodeOptions& o)
      : o_(o),
        xy_(o.format != BoxFormat::yxhw),
        box_divisor_{o.x_scale, o.y_scale, o.w_scale, o.h_scale},
        point_divisor_{o.x_scale, o.y_scale, o.x_scale, o.y_scale} {}

  // Writes box[4] and keypoints[2k]; returns whether the box has a non-negative, non-NaN
  // width and height (MediaPipe drops the others, b/171391719).
  bool decode(const float* raw, int64_t col_stride, Float4 anchor, float* box, float* keypoints) const {
    const Float4 size = EV_LANES(anchor, 2, 3, 2, 3), centre = EV_LANES(anchor, 0, 1, 0, 1);
    const bool packed = col_stride == 1;
    Float4 r = packed ? load4(raw) : Float4{raw[0], raw[col_stride], raw[2 * col_stride], raw[3 * col_stride]};
    if (!xy_) r = EV_LANES(r, 1, 0, 3, 2);
    Float4 corners;
    if (o_.format == BoxFormat::xyxy) {
      corners = r / point_divisor_ * size + centre;
    } else {
      if (o_.format == BoxFormat::ltrb)  // MediaPipe's XYXY: centre (-l + r) / 2, size r + l
        r = (EV_LANES(r, 2, 3, 2, 3) + EV_LANES(r, 0, 1, 0, 1) * kSigns) * Float4{0.5f, 0.5f, 1.0f, 1.0f};
      const Float4 box_centre{anchor[0], anchor[1], -0.0f, -0.0f};  // -0 adds nothing
      const Float4 b = r / box_divisor_ * size + box_centre;          // x_center, y_center, w, h
      // (x - w/2, y - h/2, x + w/2, y + h/2): halving and negating are exact.
      corners = EV_LANES(b, 0, 1, 0, 1) + EV_LANES(b, 2, 3, 2, 3) / 2.f * kSigns;
    }
    const int nk = o_.num_keypoints;
    const int hx = xy_ ? 0 : 1, hy = 1 - hx;
    const float* kp = raw + o_.keypoint_offset * col_stride;
    int q = 0;
    if (packed) {
      for (; q + 2 <= nk; q += 2) {  // two (x, y) pairs at a time straight to the output
        Float4 k = load4(kp + 2 * q);
        if (!xy_) k = EV_LANES(k, 1, 0, 3, 2);
        const Float4 v = k / point_divisor_ * size + centre;
        std::memcpy(keypoints + 2 * q, &v, sizeof v);
      }
    }
    for (; q < nk; ++q) {
      const float* p = kp + 2 * q * col_stride;
      keypoints[2 * q] = p[hx * col_stride] / o_.x_scale * anchor[2] + anchor[0];
      keypoints[2 * q + 1] = p[hy * col_stride] / o_.y_scale * anchor[3] + anchor[1];
    }
    std::memcpy(box, &corners, sizeof corners);
    const Float4 extent = corners - EV_LANES(corners, 2, 3, 0, 1);  // (xmin - xmax, ymin - ymax, w, h)
    return (extent[2] >= 0.0f) & (extent[3] >= 0.0f);
  }

 private:
  static constexpr Float4 kSigns = {-1.0f, -1.0f, 1.0f, 1.0f};

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
  const int64_t classes = scores.parts.empty() ? 1 : scores.parts[0].cols;
  // Probabilities are compared as they are; logits against the floor, then exactly.
  const float floor = o.sigmoid ? logit_floor(o.min_score) : o.min_score;
  const float clip = o.sigmoid && o.clip_scores ? o.score_clip : std::numeric_limits<float>::infinity();
  const auto clamp = [clip](float s) {
    s = s < -clip ? -clip : s;
    return s > clip ? clip : s;
  };
  const auto activate = [&o](float s) { return o.sigmoid ? 1.0f / (1.0f + std::exp(-s)) : s; };

  // 1. Anchors whose (best) clamped logit reaches the floor. Single class: the logit, kept
  //    without a branch per anchor (which would mispredict on every few hundredth-anchor
  //    pass); NaN fails the `>=`. Several classes: the best class and its score, exactly
  //    as MediaPipe picks them (sigmoid scores, strictly greater wins, NaN never).
  std::unique_ptr<int32_t[]> picked(new int32_t[rows + 1]);  // anchor counts fit in int32 (checked by callers)
  std::unique_ptr<float[]> values(new float[rows + 1]);
  std::unique_ptr<int32_t[]> labels(classes > 1 ? new int32_t[rows + 1] : nullptr);
  int64_t count = 0;
  int32_t anchor = 0;
  if (classes == 1) {
    const auto consider = [&](float s) {
      s = clamp(s);
      picked[count] = anchor;
      values[count] = s;
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
  } else {
    for (const auto& part : scores.parts) {
      for (int64_t r = 0; r < part.rows; ++r, ++anchor) {
        const float* row = part.row(r);
        float top = -std::numeric_limits<float>::infinity();
        for (int64_t c = 0; c < classes; ++c) {
          const float s = row[c * part.col_stride];
          top = s > top ? s : top;
        }
        if (!(clamp(top) >= floor)) continue;
        float best = -std::numeric_limits<float>::max();
        int32_t label = -1;
        for (int64_t c = 0; c < classes; ++c) {
          const float score = activate(clamp(row[c * part.col_stride]));
          if (best < score) best = score, label = static_cast<int32_t>(c);
        }
        picked[count] = anchor;
        values[count] = best;
        labels[count] = label;
        ++count;
      }
    }
  }

  // 2. The exact scores (independent calls, so they overlap), then the test, compacting in
  //    place (n <= count).
  if (classes == 1)
    for (int64_t c = 0; c < count; ++c) values[c] = activate(values[c]);
  int64_t n = 0;
  for (int64_t c = 0; c < count; ++c) {
    const float score = values[c];
    picked[n] = picked[c];
    values[n] = score;
    if (labels) labels[n] = labels[c];
    n += score >= o.min_score;
  }

  // 3. Decode, written straight into the output arrays, row i to slot i: the rows do not
  //    wait for each other. Rows with a bad box are squeezed out afterwards (rare).
  const int nk = o.num_keypoints;
  const RowDecoder row_decoder(o);
  out.boxes.resize(4 * n);
  out.keypoints.resize(2 * nk * n);
  out.scores.resize(n);
  out.class_ids.resize(n);
  const bool packed_anchors = anchors.col_stride == 1;
  float* boxes_out = out.boxes.data();
  float* keypoints_out = out.keypoints.data();
  uint32_t invalid = 0;
  int64_t i = 0, part_first = 0;  // anchor index of the part's first row
  for (const MatrixView<float>& head : boxes.parts) {
    const int64_t part_end = part_first + head.rows;
    for (; i < n && picked[i] < part_end; ++i) {  // picked is ascending
      const int64_t a = picked[i];
      const Float4 anchor =
          packed_anchors ? load4(anchors.row(a)) : Float4{anchors(a, 0), anchors(a, 1), anchors(a, 2), anchors(a, 3)};
      const bool valid = row_decoder.decode(head.row(a - part_first), head.col_stride, anchor, boxes_out + 4 * i,
                                            keypoints_out + 2 * nk * i);
      picked[i] = valid;
      invalid |= !valid;
    }
    part_first = part_end;
  }
  int64_t kept = n;
  if (invalid) {
    kept = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (!picked[i]) continue;
      std::copy_n(out.boxes.data() + 4 * i, 4, out.boxes.data() + 4 * kept);
      std::copy_n(out.keypoints.data() + 2 * nk * i, 2 * nk, out.keypoints.data() + 2 * nk * kept);
      values[kept] = values[i];
      if (labels) labels[kept] = labels[i];
      ++kept;
    }
  }
  std::copy_n(values.get(), kept, out.scores.data());
  if (labels) std::copy_n(labels.get(), kept, out.class_ids.data());
  else std::fill_n(out.class_ids.data(), kept, 0);
  out.boxes.resize(4 * kept);
  out.keypoints.resize(2 * nk * kept);
  out.scores.resize(kept);
  out.class_ids.resize(kept);
}

}  // namespace edgevision
