// SAM 2's prompt encoder (PromptEncoder._embed_points + PositionEmbeddingRandom) for the image
// predictor's prompts. Float32 throughout, each step rounded where the reference rounds it, and
// sin/cos within ~1e-7 (sam2/fourier_features.inl), so the embeddings agree with PyTorch's to
// float32 precision.
#include <cmath>
#include <cstring>

#include "edgevision/sam2.hpp"
#include "sam2/kernel_table.hpp"

namespace edgevision {

namespace {

// Random Fourier features of a position already mapped to [-1, 1]: sin then cos (per ISA).
inline void fourier_features(float cx, float cy, const float* gaussian, float* out) {
  sam2_kernels::table_for(active_isa()).fourier_features(cx, cy, gaussian, out);
}

// Image pixel -> [-1, 1] of the 1024 input: x / W * 1024 (transform_coords), + 0.5 (pixel centre),
// / 1024 (forward_with_coords), 2c - 1 (_pe_encoding).
inline float to_unit(float v, float extent) {
  const float input = static_cast<float>(kSam2InputSize);
  const float scaled = v / extent * input + 0.5f;
  return 2.0f * (scaled / input) - 1.0f;
}

void encode_point(float x, float y, int label, Size image_size, const Sam2PromptParams& params, float* out) {
  if (label == -1) {  // the reference replaces the features by not_a_point_embed
    std::memcpy(out, params.not_a_point_embed, sizeof(float) * kSam2EmbedDim);
    return;
  }
  fourier_features(to_unit(x, static_cast<float>(image_size.width)), to_unit(y, static_cast<float>(image_size.height)),
                   params.gaussian_matrix, out);
  const float* embedding = params.point_embeddings + label * kSam2EmbedDim;
  for (int k = 0; k < kSam2EmbedDim; ++k) out[k] += embedding[k];
}

}  // namespace

void sam2_encode_prompt(const Sam2Prompt& prompt, Size image_size, const Sam2PromptParams& params, float* out) {
  for (int b = 0; b < prompt.num_boxes; ++b) {
    const float* box = prompt.boxes + 4 * b;
    encode_point(box[0], box[1], 2, image_size, params, out);
    encode_point(box[2], box[3], 3, image_size, params, out + kSam2EmbedDim);
    out += 2 * kSam2EmbedDim;
  }
  for (int p = 0; p < prompt.num_points; ++p, out += kSam2EmbedDim)
    encode_point(prompt.points[2 * p], prompt.points[2 * p + 1], prompt.labels[p], image_size, params, out);
  encode_point(0.0f, 0.0f, -1, image_size, params, out);
}

void sam2_dense_positional_encoding(const float* gaussian_matrix, Size grid, float* out) {
  const int64_t plane = int64_t{grid.width} * grid.height;
  float features[kSam2EmbedDim];
  for (int i = 0; i < grid.height; ++i) {
    const float cy = 2.0f * ((static_cast<float>(i) + 0.5f) / static_cast<float>(grid.height)) - 1.0f;
    for (int j = 0; j < grid.width; ++j) {
      const float cx = 2.0f * ((static_cast<float>(j) + 0.5f) / static_cast<float>(grid.width)) - 1.0f;
      fourier_features(cx, cy, gaussian_matrix, features);
      float* cell = out + int64_t{i} * grid.width + j;
      for (int k = 0; k < kSam2EmbedDim; ++k) cell[k * plane] = features[k];
    }
  }
}

}  // namespace edgevision
