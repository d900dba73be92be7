// SAM 2 outside its ONNX graphs, as facebookresearch/sam2's SAM2ImagePredictor computes it:
// the image tensor, the prompt encoder (points, boxes, the dense positional grid) and the
// choice and upsampling of the decoder's low-resolution masks.
#pragma once

#include <cstdint>

#include "edgevision/types.hpp"

namespace edgevision {

constexpr int kSam2EmbedDim = 256;
constexpr int kSam2Frequencies = kSam2EmbedDim / 2;
constexpr int kSam2InputSize = 1024;  // the encoder's square input; prompts are encoded in its pixels

// ------------------------------------------------------------------------------ image

// `image` stretched to `size` (aspect not kept) as RGB float32 planes [3][h][w] in [0, 1]:
// ToTensor (p / 255) then torch's bilinear interpolate with antialias=True (torchvision's
// Resize on tensors), i.e. a triangle filter widened by the scale factor when downscaling.
void sam2_image_tensor(const ImageView& image, Size size, bool bgr_input, float* out);

// ---------------------------------------------------------------------------- prompts

struct Sam2PromptParams {
  const float* gaussian_matrix = nullptr;    // [2][128] random Fourier frequencies
  const float* point_embeddings = nullptr;   // [4][256]: labels 0 (negative), 1 (positive), 2, 3 (box corners)
  const float* not_a_point_embed = nullptr;  // [256]: label -1 (padding)
};

struct Sam2Prompt {
  const float* points = nullptr;    // [num_points][2] (x, y) in image pixels
  const int32_t* labels = nullptr;  // [num_points], each in {-1, 0, 1, 2, 3}
  int num_points = 0;
  const float* boxes = nullptr;  // [num_boxes][4] (x0, y0, x1, y1) in image pixels
  int num_boxes = 0;
};

// Box corners (labels 2, 3) first, then the points, then the padding point (label -1) that
// the image predictor always appends.
inline int sam2_token_count(const Sam2Prompt& prompt) { return 2 * prompt.num_boxes + prompt.num_points + 1; }

// Sparse embeddings, sam2_token_count(prompt) x 256 floats: pixel coordinates scaled to the
// 1024 input, +0.5 pixel-centre shift, sin/cos random Fourier features plus the label's
// embedding. Float32 arithmetic in the reference's order.
void sam2_encode_prompt(const Sam2Prompt& prompt, Size image_size, const Sam2PromptParams& params, float* out);

// The positional encoding of the grid cell centres ((j + 0.5) / w, (i + 0.5) / h), as
// [256][grid.height][grid.width] floats (the decoder's image_pe).
void sam2_dense_positional_encoding(const float* gaussian_matrix, Size grid, float* out);

// ------------------------------------------------------------------------------ masks

// The decoder's mask logits: `count` planes of width x height; strides in elements.
struct Sam2MaskStack {
  const float* data = nullptr;
  int count = 0;
  int width = 0;
  int height = 0;
  int64_t token_stride = 0;
  int64_t row_stride = 0;
  int64_t col_stride = 0;

  PlaneView<float> plane(int token) const {
    return {data + token * token_stride, width, height, row_stride, col_stride};
  }
};

struct Sam2SelectOptions {
  bool multimask = true;
  float stability_delta = 0.05f;     // build_sam2(apply_postprocessing=True)
  float stability_threshold = 0.98f;
};

struct Sam2Selection {
  int token = 0;
  float score = 0.0f;      // the predicted IoU of `token`
  float stability = 1.0f;  // sam2_stability_score of `token`
};

// #(logit > delta) / #(logit > -delta), 1 when nothing exceeds -delta.
float sam2_stability_score(const PlaneView<float>& logits, float delta);

// With one token: that token. Otherwise token 0 is the single-mask output and 1.. the
// multimask outputs: `multimask` picks the multimask output with the highest predicted IoU
// (the first on ties); without it token 0 is kept unless its stability score is below the
// threshold, when that same best multimask output replaces it. `iou`: count values, `iou_stride`
// elements apart.
Sam2Selection sam2_select_mask(const Sam2MaskStack& logits, const float* iou, int64_t iou_stride,
                               const Sam2SelectOptions& options);

// out (size.height x size.width bytes, contiguous) = 1 where the bilinear upsample of
// `logits` to `size` (PyTorch's interpolate, align_corners=False: half-pixel centres, source
// positions in float32, clamped at the edges) is > threshold, else 0. `threads` > 1 lets up to
// that many threads (the caller and shared helpers; at most 4 and the cores) share a large
// output's rows; the result is the same.
void sam2_upsample_threshold(const PlaneView<float>& logits, Size size, float threshold, uint8_t* out,
                             int threads = 1);

}  // namespace edgevision
