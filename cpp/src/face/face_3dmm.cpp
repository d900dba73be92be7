#include "edgevision/face_3dmm.hpp"

#include <cmath>

namespace edgevision {

namespace {

constexpr int kMaxVertexValues = 3 * 1024;  // the stack buffer below; the binding checks it

using Matrix3 = double[3][3];

void multiply(const Matrix3 a, const Matrix3 b, Matrix3 out) {
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) out[r][c] = a[r][0] * b[0][c] + a[r][1] * b[1][c] + a[r][2] * b[2][c];
}

// R = Ry(-yaw) Rx(-pitch) Rx(-pi) Rz(-roll); Rx(-pi) is diag(1, -1, -1) (y up to y down).
void rotation(double pitch, double yaw, double roll, Matrix3 out) {
  const double cy = std::cos(-yaw), sy = std::sin(-yaw);
  const double cp = std::cos(-pitch), sp = std::sin(-pitch);
  const double cr = std::cos(-roll), sr = std::sin(-roll);
  const Matrix3 ry = {{cy, 0, sy}, {0, 1, 0}, {-sy, 0, cy}};
  const Matrix3 rx_flip = {{1, 0, 0}, {0, -cp, sp}, {0, -sp, -cp}};  // Rx(-pitch) diag(1, -1, -1)
  const Matrix3 rz = {{cr, -sr, 0}, {sr, cr, 0}, {0, 0, 1}};
  Matrix3 upper;
  multiply(ry, rx_flip, upper);
  multiply(upper, rz, out);
}

}  // namespace

Face3dmmModel::Face3dmmModel(const float* mean, const float* shape_basis, const float* blend_shape, int num_landmarks,
                             int num_identity, int num_expression, const Face3dmmScaling& scaling)
    : num_landmarks_(num_landmarks),
      num_identity_(num_identity),
      num_expression_(num_expression),
      scaling_(scaling),
      mean_(mean, mean + 3 * num_landmarks),
      basis_(static_cast<size_t>(num_identity + num_expression) * 3 * num_landmarks) {
  const int values = 3 * num_landmarks;
  for (int v = 0; v < values; ++v) {
    for (int j = 0; j < num_identity; ++j) basis_[static_cast<size_t>(j) * values + v] = shape_basis[v * num_identity + j];
    for (int j = 0; j < num_expression; ++j)
      basis_[static_cast<size_t>(num_identity + j) * values + v] = blend_shape[v * num_expression + j];
  }
}

void Face3dmmModel::decode(const VectorView<float>& params, const PixelBox& box, float* parameters,
                           float* landmarks) const {
  const Face3dmmScaling& s = scaling_;
  const int identity = num_identity_, coefficients = num_identity_ + num_expression_;
  for (int j = 0; j < coefficients; ++j)
    parameters[j] = j < identity ? params[j] * s.identity_scale + s.identity_offset
                                 : params[j] * s.expression_scale + s.expression_offset;
  const float* pose = &parameters[coefficients];
  for (int k = 0; k < 3; ++k) parameters[coefficients + k] = params[coefficients + k] * s.angle_scale;
  for (int k = 3; k < 5; ++k) parameters[coefficients + k] = params[coefficients + k] * s.translation_scale;
  parameters[coefficients + 5] = params[coefficients + 5] * s.focal_scale + s.focal_offset;

  // V = mean + sum_j alpha_j * column_j, float32 in coefficient order.
  const int values = 3 * num_landmarks_;
  float vertices[kMaxVertexValues];
  float* __restrict v = vertices;
  for (int k = 0; k < values; ++k) v[k] = mean_[k];
  const float* columns = basis_.data();
  int j = 0;
  for (; j + 4 <= coefficients; j += 4) {  // four columns per sweep: the same sums, a quarter of the v traffic
    const float a0 = parameters[j], a1 = parameters[j + 1], a2 = parameters[j + 2], a3 = parameters[j + 3];
    const float* __restrict c0 = columns + static_cast<size_t>(j) * values;
    const float* __restrict c1 = c0 + values;
    const float* __restrict c2 = c1 + values;
    const float* __restrict c3 = c2 + values;
    for (int k = 0; k < values; ++k) v[k] = (((v[k] + a0 * c0[k]) + a1 * c1[k]) + a2 * c2[k]) + a3 * c3[k];
  }
  for (; j < coefficients; ++j) {
    const float alpha = parameters[j];
    const float* __restrict column = columns + static_cast<size_t>(j) * values;
    for (int k = 0; k < values; ++k) v[k] += alpha * column[k];
  }

  Matrix3 r;
  rotation(pose[0], pose[1], pose[2], r);
  const double focal = pose[5] / static_cast<double>(s.tz), half = 0.5 * s.crop_size;
  const double sx = (box.x1 - box.x0 + 1.0) / s.crop_size, sy = (box.y1 - box.y0 + 1.0) / s.crop_size;
  for (int i = 0; i < num_landmarks_; ++i) {
    const double x = v[3 * i], y = v[3 * i + 1], z = v[3 * i + 2];
    const double px = (r[0][0] * x + r[0][1] * y + r[0][2] * z + pose[3]) * focal;
    const double py = (r[1][0] * x + r[1][1] * y + r[1][2] * z + pose[4]) * focal;
    landmarks[2 * i] = static_cast<float>((px + half) * sx + box.x0);
    landmarks[2 * i + 1] = static_cast<float>((py + half) * sy + box.y0);
  }
}

}  // namespace edgevision
