// A detector's post-processing configured once and run per frame: decode against the
// anchors, then (optionally) non-maximum suppression, with no intermediate copies.
#pragma once

#include <optional>
#include <vector>

#include "edgevision/detections.hpp"
#include "edgevision/nms.hpp"

namespace edgevision {

// The anchor (0, 0, 1, 1) for every row: heads that are already decoded (AI Hub's exports
// with built-in post-processing) map through it unchanged apart from the scales.
MatrixView<float> identity_anchors(int64_t rows);

class DetectionDecoder {
 public:
  // `anchors` [n,4] is copied; without data (anchors.data == nullptr) every row uses the
  // identity anchor and heads of any length are accepted.
  DetectionDecoder(const MatrixView<float>& anchors, const DecodeOptions& decode, std::optional<NmsOptions> nms);

  bool has_anchors() const { return has_anchors_; }
  // -1 without anchors.
  int64_t num_anchors() const { return has_anchors_ ? static_cast<int64_t>(anchors_.size() / 4) : -1; }
  const DecodeOptions& decode_options() const { return decode_; }
  const std::optional<NmsOptions>& nms_options() const { return nms_; }
  MatrixView<float> anchors() const { return {anchors_.data(), num_anchors(), 4, 4, 1}; }

  // Heads as for decode_detections (rows() == num_anchors()). Thread-safe: no shared state.
  void run(const HeadParts& boxes, const HeadParts& scores, DetectionList& out) const;

 private:
  std::vector<float> anchors_;
  bool has_anchors_;
  DecodeOptions decode_;
  std::optional<NmsOptions> nms_;
};

}  // namespace edgevision
