#include "edgevision/detector.hpp"

namespace edgevision {

MatrixView<float> identity_anchors(int64_t rows) {
  static const float kIdentity[4] = {0.0f, 0.0f, 1.0f, 1.0f};
  return {kIdentity, rows, 4, 0, 1};
}

DetectionDecoder::DetectionDecoder(const MatrixView<float>& anchors, const DecodeOptions& decode,
                                   std::optional<NmsOptions> nms)
    : anchors_(anchors.data ? static_cast<size_t>(4 * anchors.rows) : 0),
      has_anchors_(anchors.data != nullptr),
      decode_(decode),
      nms_(nms) {
  for (int64_t i = 0; has_anchors_ && i < anchors.rows; ++i)
    for (int c = 0; c < 4; ++c) anchors_[4 * i + c] = anchors(i, c);
}

void DetectionDecoder::run(const HeadParts& boxes, const HeadParts& scores, DetectionList& out) const {
  const MatrixView<float> a = has_anchors_ ? anchors() : identity_anchors(scores.rows());
  if (!nms_) {
    decode_detections(boxes, scores, a, decode_, out);
    return;
  }
  DetectionList decoded;
  decode_detections(boxes, scores, a, decode_, decoded);
  const int64_t n = decoded.size();
  const int k = decoded.num_keypoints;
  DetectionsView view;
  view.boxes = {decoded.boxes.data(), n, 4, 4, 1};
  view.keypoints = {decoded.keypoints.data(), n, k, 2 * k, 2, 1};
  view.scores = {decoded.scores.data(), n, 1};
  view.class_ids = {decoded.class_ids.data(), n, 1};
  non_max_suppression(view, *nms_, out);
}

}  // namespace edgevision
