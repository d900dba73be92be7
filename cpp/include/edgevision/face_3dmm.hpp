// Qualcomm AI Hub's facemap_3dmm head: 3DMM parameters to 2D landmarks in image pixels.
//
// The model predicts normalised parameters for one face crop (a box of the image stretched
// to crop_size x crop_size). With real = value * scale + offset per group:
//   V = mean + S * identity + E * expression              (n vertices, x y z interleaved)
//   R = Ry(-yaw) Rx(-pitch) Rx(-pi) Rz(-roll)
//   p = (R V + (tx, ty, tz))_xy * focal / tz               (scaled orthographic, about the crop centre)
//   landmark = (p + crop_size / 2) * (box size + 1) / crop_size + box min corner
// (aihub_and_sam2.md §4). The basis is copied once, coefficient-major, so the combination
// is one contiguous multiply-add sweep per coefficient.
#pragma once

#include <cstdint>
#include <vector>

#include "edgevision/views.hpp"

namespace edgevision {

// De-normalisation of each parameter group: real = value * scale + offset.
struct Face3dmmScaling {
  float identity_scale = 3.0f, identity_offset = 0.0f;
  float expression_scale = 0.5f, expression_offset = 0.5f;
  float angle_scale = 1.57079632679489662f;  // pitch, yaw, roll in radians
  float translation_scale = 60.0f;           // tx, ty
  float focal_scale = 150.0f, focal_offset = 450.0f;
  float tz = 500.0f;
  int crop_size = 128;
};

// A face box in image pixels, (x0, y0) to (x1, y1) inclusive.
struct PixelBox {
  double x0 = 0.0, y0 = 0.0, x1 = 0.0, y1 = 0.0;
};

class Face3dmmModel {
 public:
  // mean [3n], shape_basis [3n x identity] and blend_shape [3n x expression], row-major.
  Face3dmmModel(const float* mean, const float* shape_basis, const float* blend_shape, int num_landmarks,
                int num_identity, int num_expression, const Face3dmmScaling& scaling);

  int num_landmarks() const { return num_landmarks_; }
  int num_identity() const { return num_identity_; }
  int num_expression() const { return num_expression_; }
  // identity, expression, pitch, yaw, roll, tx, ty, focal.
  int num_parameters() const { return num_identity_ + num_expression_ + 6; }
  const Face3dmmScaling& scaling() const { return scaling_; }

  // `params` holds at least num_parameters() model outputs. Writes the de-normalised
  // parameters [num_parameters()] and the landmarks [n, 2] (x, y pixels). Thread-safe;
  // no allocation.
  void decode(const VectorView<float>& params, const PixelBox& box, float* parameters, float* landmarks) const;

 private:
  int num_landmarks_, num_identity_, num_expression_;
  Face3dmmScaling scaling_;
  std::vector<float> mean_;   // [3n]
  std::vector<float> basis_;  // [identity + expression][3n]: one column of S or E per row
};

}  // namespace edgevision
