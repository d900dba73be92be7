// Detector heads to detections (MediaPipe's TensorsToDetectionsCalculator) and detections
// mapped back to the image (DetectionProjection / DetectionLetterboxRemoval).
//
// Precision: decoding is float32 in MediaPipe's order of operations, so it agrees with
// MediaPipe to the last bit; projection runs in double and rounds once to float32. (NMS:
// see nms.hpp.)
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "edgevision/geometry.hpp"
#include "edgevision/views.hpp"

namespace edgevision {

// Contiguous floats that grow without zero-filling: the kernels write every element they
// keep, so the fill would be wasted work on every frame.
class FloatBuffer {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  float& operator[](size_t i) { return data_[i]; }
  float operator[](size_t i) const { return data_[i]; }
  const float* begin() const { return data_.get(); }
  const float* end() const { return data_.get() + size_; }
  void clear() { size_ = 0; }
  void reserve(size_t n) {
    if (n <= capacity_) return;
    std::unique_ptr<float[]> bigger(new float[n]);
    std::copy(begin(), end(), bigger.get());
    data_ = std::move(bigger);
    capacity_ = n;
  }
  // Elements past the old size are uninitialised.
  void resize(size_t n) {
    reserve(n);
    size_ = n;
  }
  bool operator==(const FloatBuffer& o) const { return size_ == o.size_ && std::equal(begin(), end(), o.begin()); }

 private:
  std::unique_ptr<float[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Struct of arrays, contiguous: boxes [n,4] (xmin, ymin, xmax, ymax), keypoints [n,k,2],
// scores [n]. All normalised to the model input (or the image, after projection).
struct DetectionList {
  int num_keypoints = 0;
  FloatBuffer boxes;
  FloatBuffer keypoints;
  FloatBuffer scores;

  int64_t size() const { return static_cast<int64_t>(scores.size()); }
  void clear() {
    boxes.clear();
    keypoints.clear();
    scores.clear();
  }
};

// Read-only view of detections anywhere in memory (numpy arrays with any strides).
struct DetectionsView {
  MatrixView<float> boxes;     // [n, 4]
  PointsView<float> keypoints;  // [n, k, 2]
  VectorView<float> scores;     // [n]

  int64_t size() const { return scores.size; }
  int num_keypoints() const { return static_cast<int>(keypoints.points); }
};

enum class BoxFormat { xywh, yxhw };

struct DecodeOptions {
  float x_scale = 1.0f, y_scale = 1.0f, w_scale = 1.0f, h_scale = 1.0f;
  int num_keypoints = 0;
  int keypoint_offset = 4;  // column of the first keypoint value
  float min_score = 0.5f;   // kept when sigmoid(score) >= min_score
  bool clip_scores = true;
  float score_clip = 100.0f;  // logits clamped to [-score_clip, score_clip] before the sigmoid
  BoxFormat format = BoxFormat::xywh;
};

// A detector head may come in parts (AI Hub exports split it per feature map): the parts
// are read in order as one list of rows, matching the anchors row for row.
struct HeadParts {
  std::vector<MatrixView<float>> parts;

  int64_t rows() const {
    int64_t n = 0;
    for (const auto& p : parts) n += p.rows;
    return n;
  }
};

// Decodes every anchor whose score passes, in anchor order. `anchors` is [n,4]
// (x_center, y_center, width, height); boxes must have rows() == n and enough columns for
// the keypoints, scores rows() == n (column 0 is the score). Rows whose decoded width or
// height is negative or NaN are dropped, as are NaN scores. `out` is cleared first.
void decode_detections(const HeadParts& boxes, const HeadParts& scores, const MatrixView<float>& anchors,
                       const DecodeOptions& options, DetectionList& out);

// Maps normalised coordinates through `m` (a 3x3 row-major matrix from normalised source to
// normalised destination, e.g. Transform::normalized_matrix()): keypoints point by point,
// boxes as the bounding box of their four projected corners. Writes [n,4] and [n,k,2].
void project_detections(const DetectionsView& in, const Transform::Matrix& m, float* boxes, float* keypoints);

}  // namespace edgevision
