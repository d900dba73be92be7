// facemap_3dmm decode against the formulas worked by hand.
#include <cmath>
#include <vector>

#include "check.hpp"
#include "edgevision/face_3dmm.hpp"

using namespace edgevision;

TEST(face_3dmm_pose_only) {
  // Two landmarks, one identity and one expression column that the parameters switch off.
  const std::vector<float> mean = {10, 20, 5, -30, 4, 7};
  const std::vector<float> shape = {1, 1, 1, 1, 1, 1}, blend = {2, 2, 2, 2, 2, 2};
  const Face3dmmModel model(mean.data(), shape.data(), blend.data(), 2, 1, 1, Face3dmmScaling{});
  CHECK(model.num_parameters() == 8);
  // identity 0, expression -1 (0.5 * -1 + 0.5 = 0), no rotation, tx 0.25 (15), ty 0, focal 1 (600)
  const float params[9] = {0, -1, 0, 0, 0, 0.25f, 0, 1, 0.7f};
  float parameters[8], landmarks[4];
  model.decode({params, 9, 1}, PixelBox{10, 20, 265, 147}, parameters, landmarks);
  CHECK(parameters[1] == 0.0f && parameters[5] == 15.0f && parameters[7] == 600.0f);
  // R = Rx(-pi) = diag(1, -1, -1): x = (vx + 15) * 600/500, y = -vy * 600/500; box 256 x 128
  const double x0 = (10 + 15) * 1.2, y0 = -20 * 1.2, x1 = (-30 + 15) * 1.2, y1 = -4 * 1.2;
  CHECK(std::fabs(landmarks[0] - ((x0 + 64) * 2 + 10)) < 1e-4 && std::fabs(landmarks[1] - ((y0 + 64) + 20)) < 1e-4);
  CHECK(std::fabs(landmarks[2] - ((x1 + 64) * 2 + 10)) < 1e-4 && std::fabs(landmarks[3] - ((y1 + 64) + 20)) < 1e-4);
}

TEST(face_3dmm_basis_combination) {
  // V = mean + 3 * p_id * S + (0.5 p_exp + 0.5) * E, read back through a zero pose at focal 500.
  const std::vector<float> mean = {1, 2, 3}, shape = {1, 0, 0, 1, 2, 0}, blend = {4, 0, 8};
  const Face3dmmModel model(mean.data(), shape.data(), blend.data(), 1, 2, 1, Face3dmmScaling{});
  const float params[9] = {0.5f, -1, 1, 0, 0, 0, 0, 0, 1.0f / 3};  // id (1.5, -3), exp 1, focal 500
  float parameters[9], landmarks[2];
  model.decode({params, 9, 1}, PixelBox{0, 0, 127, 127}, parameters, landmarks);
  // x = 1 + 1.5 * 1 + 4 = 6.5; y = 2 + 1.5 * 0 - 3 * 1 + 0 = -1 -> flipped to 1
  CHECK(std::fabs(landmarks[0] - (64 + 6.5)) < 1e-4 && std::fabs(landmarks[1] - (64 + 1.0)) < 1e-4);
}
