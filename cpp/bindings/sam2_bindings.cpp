// SAM 2 kernels: argument checks, output allocation, and the kernel calls with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "edgevision/sam2.hpp"

namespace edgevision::bindings {

namespace {

constexpr int64_t kMaxOffset = std::numeric_limits<int32_t>::max() - 16;

std::string repr_of(const py::handle& obj) { return py::repr(obj).cast<std::string>(); }

double finite_number(const py::handle& obj, const char* name) {
  const std::string expected = std::string(name) + " must be a finite number, got " + repr_of(obj);
  if (py::isinstance<py::str>(obj) || py::isinstance<py::bool_>(obj) || !PyNumber_Check(obj.ptr()))
    throw py::type_error(expected);
  double v;
  try {
    v = py::float_(py::reinterpret_borrow<py::object>(obj)).cast<double>();
  } catch (const py::error_already_set&) {
    throw py::type_error(expected);
  }
  if (!std::isfinite(v)) throw py::value_error(expected);
  return v;
}

bool is_real_dtype(const py::array& a) {
  const char kind = a.dtype().kind();
  return kind == 'f' || kind == 'i' || kind == 'u';
}

// A small real array of shape (rows, cols) (or (cols,) when `allow_vector`) converted to
// contiguous float32, as torch.as_tensor(..., dtype=torch.float) does. Non-finite values are a
// ValueError naming the row.
int read_coordinates(const py::handle& obj, const char* name, int cols, bool allow_vector, std::vector<float>& out) {
  const py::array a = require_ndarray(obj, name);
  const std::string n = name;
  const std::string shape_text = allow_vector ? "(" + std::to_string(cols) + ",) or (N, " + std::to_string(cols) + ")"
                                              : "(N, " + std::to_string(cols) + ")";
  if (!is_real_dtype(a)) throw py::type_error(n + " must be a real-valued array, got dtype " + dtype_name(a));
  const bool vector = allow_vector && a.ndim() == 1;
  if (!(vector ? a.shape(0) == cols : a.ndim() == 2 && a.shape(1) == cols))
    throw py::value_error(n + " must have shape " + shape_text + ", got " + describe_shape(a));
  const py::ssize_t rows = vector ? 1 : a.shape(0);
  if (rows > (1 << 20)) throw py::value_error(n + " is too large: shape " + describe_shape(a));
  py::array values = a;
  const char kind = a.dtype().kind();
  if (!(kind == 'f' && (a.itemsize() == 4 || a.itemsize() == 8)))
    values = py::array_t<float, py::array::forcecast>::ensure(a);  // integers, float16: numpy converts
  out.resize(size_t(rows) * cols);
  const char* base = static_cast<const char*>(values.data());
  const py::ssize_t row_stride = vector ? 0 : values.strides(0), col_stride = values.strides(vector ? 0 : 1);
  const bool is_double = values.dtype().kind() == 'f' && values.itemsize() == 8;
  for (py::ssize_t r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const char* p = base + r * row_stride + c * col_stride;
      const float v = is_double ? static_cast<float>(*reinterpret_cast<const double*>(p)) : *reinterpret_cast<const float*>(p);
      if (!std::isfinite(v))
        throw py::value_error(n + " must be finite, got " + std::to_string(v) + " in row " + std::to_string(r));
      out[size_t(r) * cols + c] = v;
    }
  }
  return static_cast<int>(rows);
}

void read_labels(const py::handle& obj, int count, std::vector<int32_t>& out) {
  const py::array a = require_ndarray(obj, "labels");
  const char kind = a.dtype().kind();
  if (kind != 'i' && kind != 'u') throw py::type_error("labels must be an integer array, got dtype " + dtype_name(a));
  if (a.ndim() != 1 || a.shape(0) != count)
    throw py::value_error("labels must have shape (" + std::to_string(count) + ",) like points, got " + describe_shape(a));
  const py::array values = py::array_t<int64_t, py::array::forcecast>::ensure(a);
  out.resize(size_t(count));
  for (int k = 0; k < count; ++k) {
    const int64_t label = *reinterpret_cast<const int64_t*>(static_cast<const char*>(values.data()) + k * values.strides(0));
    if (label < -1 || label > 3)
      throw py::value_error("labels must be -1 (padding), 0 (negative), 1 (positive), 2 (box top-left) or 3 "
                            "(box bottom-right), got " + std::to_string(label) + " at index " + std::to_string(k));
    out[size_t(k)] = static_cast<int32_t>(label);
  }
}

// params[key] as a C-contiguous float32 array of `elements` values in one of the given shapes.
const float* param_array(const py::handle& params, const char* key, py::ssize_t elements, const std::string& shapes,
                         std::vector<py::object>& keep) {
  py::object item;
  try {
    item = params.attr("__getitem__")(key);
  } catch (const py::error_already_set& e) {
    if (e.matches(PyExc_KeyError) || e.matches(PyExc_IndexError))
      throw py::value_error(std::string("params is missing '") + key +
                            "' (expected the SAM 2 prompt encoder parameters, e.g. the exported .npz)");
    throw;
  }
  const std::string n = std::string("params['") + key + "']";
  if (!py::isinstance<py::array>(item))
    throw py::type_error(n + " must be a numpy.ndarray, got " + py::str(py::type::of(item).attr("__name__")).cast<std::string>());
  const py::array a = py::reinterpret_borrow<py::array>(item);
  if (!a.dtype().is(py::dtype::of<float>())) throw py::type_error(n + " must be float32, got dtype " + dtype_name(a));
  if (a.size() != elements) throw py::value_error(n + " must have shape " + shapes + ", got " + describe_shape(a));
  if (!(a.flags() & py::array::c_style)) throw py::value_error(n + " must be C-contiguous");
  keep.push_back(item);
  return static_cast<const float*>(a.data());
}

Sam2PromptParams prompt_params(const py::handle& params, std::vector<py::object>& keep) {
  if (py::isinstance<py::str>(params) || !py::hasattr(params, "__getitem__"))
    throw py::type_error("params must be a mapping of arrays (dict or the loaded .npz), got " +
                         py::str(py::type::of(params).attr("__name__")).cast<std::string>());
  Sam2PromptParams p;
  p.gaussian_matrix = param_array(params, "gaussian_matrix", 2 * kSam2Frequencies, "(2, 128)", keep);
  p.point_embeddings = param_array(params, "point_embeddings", 4 * kSam2EmbedDim, "(4, 256)", keep);
  p.not_a_point_embed = param_array(params, "not_a_point_embed", kSam2EmbedDim, "(256,)", keep);
  return p;
}

py::array prompt_encode_py(const py::handle& points, const py::handle& labels, const py::handle& boxes,
                           const py::handle& image_size, const py::handle& params) {
  thread_local std::vector<float> point_values, box_values;
  thread_local std::vector<int32_t> label_values;
  Sam2Prompt prompt;
  const Size size = parse_size(image_size, "image_size");
  if (points.is_none() != labels.is_none())
    throw py::value_error(points.is_none() ? "labels given without points" : "points given without labels");
  if (!points.is_none()) {
    prompt.num_points = read_coordinates(points, "points", 2, false, point_values);
    read_labels(labels, prompt.num_points, label_values);
    prompt.points = point_values.data();
    prompt.labels = label_values.data();
  }
  if (!boxes.is_none()) {
    prompt.num_boxes = read_coordinates(boxes, "boxes", 4, true, box_values);
    prompt.boxes = box_values.data();
  }
  if (prompt.num_points == 0 && prompt.num_boxes == 0)
    throw py::value_error("empty prompt: give at least one point (with its label) or a box");
  std::vector<py::object> keep;
  const Sam2PromptParams p = prompt_params(params, keep);
  py::array_t<float> result({static_cast<py::ssize_t>(sam2_token_count(prompt)), static_cast<py::ssize_t>(kSam2EmbedDim)});
  float* data = result.mutable_data();
  {
    py::gil_scoped_release release;
    sam2_encode_prompt(prompt, size, p, data);
  }
  return std::move(result);
}

py::array dense_pe_py(const py::handle& gaussian, const py::handle& size_obj) {
  const py::array a = require_ndarray(gaussian, "gaussian_matrix");
  if (!a.dtype().is(py::dtype::of<float>()))
    throw py::type_error("gaussian_matrix must be float32, got dtype " + dtype_name(a));
  if (a.ndim() != 2 || a.shape(0) != 2 || a.shape(1) != kSam2Frequencies)
    throw py::value_error("gaussian_matrix must have shape (2, 128), got " + describe_shape(a));
  if (!(a.flags() & py::array::c_style)) throw py::value_error("gaussian_matrix must be C-contiguous");
  const Size size = parse_size(size_obj, "size");
  if (int64_t{size.width} * size.height > (1 << 20)) throw py::value_error("size is too large for a positional grid");
  py::array_t<float> result({static_cast<py::ssize_t>(kSam2EmbedDim), static_cast<py::ssize_t>(size.height),
                             static_cast<py::ssize_t>(size.width)});
  const float* g = static_cast<const float*>(a.data());
  float* data = result.mutable_data();
  {
    py::gil_scoped_release release;
    sam2_dense_positional_encoding(g, size, data);
  }
  return std::move(result);
}

py::array image_tensor_py(const py::handle& image, const py::handle& size_obj, const py::handle& channel_order,
                          const py::object& out) {
  const ImageView view = image_view(image, "image");
  const Size size = parse_size(size_obj, "size");
  const bool bgr = parse_channel_order(channel_order);
  py::array result = output_array(out, {1, 3, size.height, size.width}, false);
  float* data = static_cast<float*>(result.mutable_data());
  {
    py::gil_scoped_release release;
    sam2_image_tensor(view, size, bgr, data);
  }
  return result;
}

Sam2MaskStack mask_stack(const py::handle& obj) {
  const py::array a = require_ndarray(obj, "low_res_logits");
  if (!a.dtype().is(py::dtype::of<float>()))
    throw py::type_error("low_res_logits must be a float32 array, got dtype " + dtype_name(a));
  int token_axis = -1, row_axis, col_axis;
  if (a.ndim() == 4 && a.shape(0) == 1) token_axis = 1, row_axis = 2, col_axis = 3;
  else if (a.ndim() == 3) token_axis = 0, row_axis = 1, col_axis = 2;
  else if (a.ndim() == 2) row_axis = 0, col_axis = 1;
  else
    throw py::value_error("low_res_logits must have shape (1, K, h, w), (K, h, w) or (h, w), got " + describe_shape(a));
  if (a.size() == 0) throw py::value_error("low_res_logits is empty: shape " + describe_shape(a));
  Sam2MaskStack m;
  m.data = static_cast<const float*>(a.data());
  m.count = token_axis < 0 ? 1 : static_cast<int>(a.shape(token_axis));
  m.height = static_cast<int>(a.shape(row_axis));
  m.width = static_cast<int>(a.shape(col_axis));
  const py::ssize_t ts = token_axis < 0 ? 0 : a.strides(token_axis), rs = a.strides(row_axis), cs = a.strides(col_axis);
  if ((m.count > 1 && ts <= 0) || rs <= 0 || cs <= 0 || ts % 4 || rs % 4 || cs % 4)
    throw py::value_error("low_res_logits must have positive, element-aligned strides; pass "
                          "np.ascontiguousarray(low_res_logits)");
  m.token_stride = ts / 4;
  m.row_stride = rs / 4;
  m.col_stride = cs / 4;
  if ((m.height - 1) * m.row_stride + (m.width - 1) * m.col_stride + 1 > kMaxOffset || m.count > 64)
    throw py::value_error("low_res_logits is too large: shape " + describe_shape(a));
  return m;
}

py::tuple postprocess_py(const py::handle& logits, const py::handle& iou_obj, const py::handle& image_size,
                         const py::handle& multimask, const py::handle& threshold_obj, const py::handle& delta_obj,
                         const py::handle& stability_threshold_obj, const py::handle& threads_obj,
                         const py::object& out) {
  const Sam2MaskStack stack = mask_stack(logits);
  const py::array iou = require_ndarray(iou_obj, "iou");
  if (!iou.dtype().is(py::dtype::of<float>())) throw py::type_error("iou must be a float32 array, got dtype " + dtype_name(iou));
  const bool iou_shape_ok = (iou.ndim() == 1 && iou.shape(0) == stack.count) ||
                            (iou.ndim() == 2 && iou.shape(0) == 1 && iou.shape(1) == stack.count);
  if (!iou_shape_ok)
    throw py::value_error("iou must have shape (" + std::to_string(stack.count) + ",) or (1, " +
                          std::to_string(stack.count) + "), one value per mask token, got " + describe_shape(iou));
  const py::ssize_t iou_bytes = iou.strides(iou.ndim() - 1);
  if (iou_bytes % 4) throw py::value_error("iou must have element-aligned strides");
  const float* iou_data = static_cast<const float*>(iou.data());
  for (int k = 0; k < stack.count; ++k)
    if (!std::isfinite(iou_data[k * (iou_bytes / 4)]))
      throw py::value_error("iou must be finite, got " + std::to_string(iou_data[k * (iou_bytes / 4)]) + " for token " +
                            std::to_string(k));
  const Size size = parse_size(image_size, "image_size");
  Sam2SelectOptions options;
  options.multimask = parse_flag(multimask, "multimask");
  const float threshold = static_cast<float>(finite_number(threshold_obj, "threshold"));
  const double delta = finite_number(delta_obj, "stability_delta");
  if (delta < 0) throw py::value_error("stability_delta must be >= 0, got " + repr_of(delta_obj));
  options.stability_delta = static_cast<float>(delta);
  options.stability_threshold = static_cast<float>(finite_number(stability_threshold_obj, "stability_threshold"));
  const int threads = parse_threads(threads_obj);

  py::array mask;
  if (out.is_none()) {
    mask = py::array(py::dtype::of<bool>(), std::vector<py::ssize_t>{size.height, size.width});
  } else {
    const py::array o = require_ndarray(out, "out");
    if (!o.dtype().is(py::dtype::of<bool>()) && !o.dtype().is(py::dtype::of<uint8_t>()))
      throw py::type_error("out must have dtype bool or uint8, got " + dtype_name(o));
    if (o.ndim() != 2 || o.shape(0) != size.height || o.shape(1) != size.width)
      throw py::value_error("out must have shape (" + std::to_string(size.height) + ", " + std::to_string(size.width) +
                            "), got " + describe_shape(o));
    if (!(o.flags() & py::array::c_style)) throw py::value_error("out must be C-contiguous");
    if (!o.writeable()) throw py::value_error("out must be writeable (got a read-only array)");
    mask = o;
  }
  py::array_t<float> low_res({static_cast<py::ssize_t>(stack.height), static_cast<py::ssize_t>(stack.width)});
  uint8_t* mask_data = static_cast<uint8_t*>(mask.mutable_data());
  float* low_data = low_res.mutable_data();
  Sam2Selection chosen;
  {
    py::gil_scoped_release release;
    chosen = sam2_select_mask(stack, iou_data, iou_bytes / 4, options);
    const PlaneView<float> plane = stack.plane(chosen.token);
    sam2_upsample_threshold(plane, size, threshold, mask_data, threads);
    // The official predictor clamps the returned low-res logits to [-32, 32] for reuse as mask input.
    for (int i = 0; i < plane.height; ++i) {
      const float* row = plane.data + i * plane.row_stride;
      float* dst = low_data + int64_t{i} * plane.width;
      if (plane.col_stride == 1) {
        for (int j = 0; j < plane.width; ++j) dst[j] = row[j] < -32.0f ? -32.0f : row[j] > 32.0f ? 32.0f : row[j];
      } else {
        for (int j = 0; j < plane.width; ++j) {
          const float v = row[j * plane.col_stride];
          dst[j] = v < -32.0f ? -32.0f : v > 32.0f ? 32.0f : v;
        }
      }
    }
  }
  return py::make_tuple(mask, chosen.token, chosen.score, chosen.stability, low_res);
}

}  // namespace

void bind_sam2(py::module_& m) {
  m.def("sam2_prompt_encode", &prompt_encode_py);
  m.def("sam2_dense_positional_encoding", &dense_pe_py);
  m.def("sam2_image_tensor", &image_tensor_py);
  m.def("sam2_postprocess", &postprocess_py);
}

}  // namespace edgevision::bindings
