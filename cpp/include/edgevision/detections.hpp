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

// Contiguous plain values that grow without zero-filling: the kernels write every element
// they keep, so the fill would be wasted work on every frame.
template <class T>
class PodBuffer {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  T& operator[](size_t i) { return data_[i]; }
  T operator[](size_t i) const { return data_[i]; }
  const T* begin() const { return data_.get(); }
  const T* end() const { return data_.get() + size_; }
  void clear() { size_ = 0; }
  void reserve(size_t n) {
    if (n <= capacity_) return;
    std::unique_ptr<T[]> bigger(new T[n]);
    std::copy(begin(), end(), bigger.get());
    data_ = std::move(bigger);
    capacity_ = n;
  }
  // Elements past the old size are uninitialised.
  void resize(size_t n) {
    reserve(n);
    size_ = n;
  }
  bool operator==(const PodBuffer& o) const { return size_ == o.size_ && std::equal(begin(), end(), o.begin()); }

 private:
  std::unique_ptr<T[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

using FloatBuffer = PodBuffer<float>;
using IntBuffer = PodBuffer<int32_t>;

// Struct of arrays, contiguous: boxes [n,4] (xmin, ymin, xmax, ymax), keypoints [n,k,2],
// scores [n], class_ids [n] (0 for single-class detectors). All normalised to the model
// input (or the image, after projection).
struct DetectionList {
  int num_keypoints = 0;
  FloatBuffer boxes;
  FloatBuffer keypoints;
  FloatBuffer scores;
  IntBuffer class_ids;

  int64_t size() const { return static_cast<int64_t>(scores.size()); }
  void clear() {
    boxes.clear();
    keypoints.clear();
    scores.clear();
    class_ids.clear();
  }
};

// Read-only view of detections anywhere in memory (numpy arrays with any strides).
struct DetectionsView {
  MatrixView<float> boxes;      // [n, 4]
  PointsView<float> keypoints;  // [n, k, 2]
  VectorView<float> scores;     // [n]
  VectorView<int32_t> class_ids;  // [n]; no data: every detection is class 0

  int64_t size() const { return scores.size; }
  int num_keypoints() const { return static_cast<int>(keypoints.points); }
  int32_t class_id(int64_t i) const { return class_ids.data ? class_ids[i] : 0; }
};

// How the first four values of a head row describe the box (keypoints are (x, y) pairs
// except in yxhw):
//   xywh, yxhw: centre offset and size (MediaPipe's XYWH and YXHW);
//   ltrb: distances from the anchor centre to the left, top, right and bottom edges
//         (MediaPipe's box_format XYXY);
//   xyxy: the corners (xmin, ymin, xmax, ymax), mapped like keypoints (AI Hub's exports
//         with built-in post-processing, whose values are already decoded pixels).
enum class BoxFormat { xywh, yxhw, ltrb, xyxy };

struct DecodeOptions {
  float x_scale = 1.0f, y_scale = 1.0f, w_scale = 1.0f, h_scale = 1.0f;
  int num_keypoints = 0;
  int keypoint_offset = 4;  // column of the first keypoint value
  float min_score = 0.5f;   // kept when the score >= min_score
  bool sigmoid = true;      // scores are logits (else probabilities, used as they are)
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
// (x_center, y_center, width, height) (a view with row_stride 0 gives every row the same
// anchor); boxes must have rows() == n and enough columns for the keypoints, scores
// rows() == n with one column per class, every part the same number. With several classes
// the score is the best class's (the first on ties, NaN never) and class_ids records it,
// as MediaPipe's TensorsToDetections does. Rows whose decoded width or height is negative
// or NaN are dropped, as are NaN scores. `out` is cleared first.
void decode_detections(const HeadParts& boxes, const HeadParts& scores, const MatrixView<float>& anchors,
                       const DecodeOptions& options, DetectionList& out);

// Maps normalised coordinates through `m` (a 3x3 row-major matrix from normalised source to
// normalised destination, e.g. Transform::normalized_matrix()): keypoints point by point,
// boxes as the bounding box of their four projected corners. Writes [n,4] and [n,k,2].
void project_detections(const DetectionsView& in, const Transform::Matrix& m, float* boxes, float* keypoints);

}  // namespace edgevision
