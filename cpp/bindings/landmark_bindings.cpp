// ROIs, landmark decoding/projection and heatmap refinement: argument checks, then the
// kernel (with the GIL released where there is an array to walk).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>

#include "arrays.hpp"
#include "detection_args.hpp"
#include "edgevision/landmarks.hpp"
#include "edgevision/roi.hpp"

namespace edgevision::bindings {

namespace {

constexpr int64_t kMaxLandmarks = 1 << 20;

Point2 point(const py::handle& obj, const char* name) {
  const auto v = number_pair(obj, name);
  return {v[0], v[1]};
}

RoiScaling roi_scaling(const py::handle& scale, const py::handle& square_long, const py::handle& shift) {
  RoiScaling s;
  if (py::isinstance<py::sequence>(scale) && !py::isinstance<py::str>(scale)) {
    const auto v = number_pair(scale, "scale");
    s.scale_x = v[0], s.scale_y = v[1];
  } else {
    s.scale_x = s.scale_y = real_number(scale, "scale");
  }
  if (!(s.scale_x > 0) || !(s.scale_y > 0) || !std::isfinite(s.scale_x) || !std::isfinite(s.scale_y))
    throw py::value_error("scale must be a positive number or (scale_x, scale_y), got " + repr_of(scale));
  s.square_long = parse_flag(square_long, "square_long");
  const auto v = number_pair(shift, "shift");
  s.shift_x = v[0], s.shift_y = v[1];
  return s;
}

double finite(const py::handle& obj, const char* name) {
  const double v = real_number(obj, name);
  if (!std::isfinite(v)) throw py::value_error(std::string(name) + " must be finite, got " + repr_of(obj));
  return v;
}

Rect rect_from_keypoints_py(const py::handle& center, const py::handle& scale_point, const py::handle& image_size,
                            const py::handle& target_angle, const py::handle& scale, const py::handle& square_long,
                            const py::handle& shift) {
  const Point2 c = point(center, "center"), p = point(scale_point, "scale_point");
  const Size size = parse_size(image_size, "image_size");
  return rect_from_keypoints(c, p, size, finite(target_angle, "target_angle"), roi_scaling(scale, square_long, shift));
}

Rect transform_rect_py(const py::handle& rect, const py::handle& scale, const py::handle& square_long,
                       const py::handle& shift) {
  return transform_rect(as_rect(rect, "rect"), roi_scaling(scale, square_long, shift));
}

Rect rect_from_box_py(const py::handle& box_obj, const py::handle& image_size, const py::handle& rotation_points,
                      const py::handle& target_angle, const py::handle& scale, const py::handle& square_long,
                      const py::handle& shift) {
  const auto expected = [&] {
    return "box must be (xmin, ymin, xmax, ymax): four finite numbers, got " + repr_of(box_obj);
  };
  if (py::isinstance<py::str>(box_obj) || (!py::isinstance<py::sequence>(box_obj) && !py::isinstance<py::array>(box_obj)))
    throw py::type_error(expected());
  std::array<double, 4> box;
  int k = 0;
  for (const py::handle item : py::iter(box_obj)) {
    if (k == 4) throw py::value_error(expected());
    box[k] = real_number(item, "box");
    if (!std::isfinite(box[k])) throw py::value_error(expected());
    ++k;
  }
  if (k != 4) throw py::value_error(expected());
  const Size size = parse_size(image_size, "image_size");
  std::array<Point2, 2> points;
  const bool rotate = !rotation_points.is_none();
  if (rotate) {
    if (py::isinstance<py::str>(rotation_points) ||
        (!py::isinstance<py::sequence>(rotation_points) && !py::isinstance<py::array>(rotation_points)) ||
        py::len(rotation_points) != 2)
      throw py::type_error("rotation_points must be None or two points ((x0, y0), (x1, y1)), got " +
                           repr_of(rotation_points));
    points[0] = point(rotation_points[py::int_(0)], "rotation_points");
    points[1] = point(rotation_points[py::int_(1)], "rotation_points");
  }
  return rect_from_box(box, size, rotate ? &points : nullptr, finite(target_angle, "target_angle"),
                       roi_scaling(scale, square_long, shift));
}

MatrixView<float> landmarks_view(const py::handle& obj, const char* name, int64_t min_cols) {
  const MatrixView<float> v = rows_view(obj, name);
  if (require_ndarray(obj, name).ndim() != 2 || v.cols < min_cols)
    throw py::value_error(std::string(name) + " must have shape [n, d] with d >= " + std::to_string(min_cols) +
                          " (x, y, z, visibility, presence), got " +
                          describe_shape(py::reinterpret_borrow<py::array>(obj)));
  if (v.rows > kMaxLandmarks) throw py::value_error(std::string(name) + " has too many rows");
  return v;
}

py::array landmarks_box_py(const py::handle& landmarks) {
  const MatrixView<float> lm = landmarks_view(landmarks, "landmarks", 2);
  const auto box = landmarks_box(lm);
  py::array_t<float> out(std::vector<py::ssize_t>{4});
  std::copy(box.begin(), box.end(), out.mutable_data());
  return out;
}

Activation parse_activation(const py::handle& obj, const char* name) {
  if (!py::isinstance<py::str>(obj)) throw py::type_error(std::string(name) + " must be 'sigmoid' or 'none', got " + repr_of(obj));
  const std::string s = obj.cast<std::string>();
  if (s == "sigmoid") return Activation::sigmoid;
  if (s == "none") return Activation::none;
  throw py::value_error(std::string(name) + " must be 'sigmoid' or 'none', got '" + s + "'");
}

py::array decode_landmarks_py(const py::handle& raw_obj, const py::handle& num_landmarks, const py::handle& input_size,
                              const py::handle& normalize_z, const py::handle& visibility,
                              const py::handle& presence) {
  const py::array raw = float32_array(raw_obj, "raw");
  if (!(raw.flags() & py::array::c_style))
    throw py::value_error("raw must be C-contiguous (a model output); pass np.ascontiguousarray(raw)");
  LandmarkDecoding o;
  o.num_landmarks = static_cast<int>(integer_in(num_landmarks, "num_landmarks", 1, kMaxLandmarks));
  if (raw.size() == 0 || raw.size() % o.num_landmarks != 0)
    throw py::value_error("raw has " + std::to_string(raw.size()) + " values, not a multiple of num_landmarks = " +
                          std::to_string(o.num_landmarks));
  o.dims = static_cast<int>(raw.size() / o.num_landmarks);
  o.normalize = !input_size.is_none();
  if (o.normalize) o.input_size = parse_size(input_size, "input_size");
  o.normalize_z = static_cast<float>(real_number(normalize_z, "normalize_z"));
  if (!(o.normalize_z > 0) || !std::isfinite(o.normalize_z))
    throw py::value_error("normalize_z must be a positive number, got " + repr_of(normalize_z));
  o.visibility = parse_activation(visibility, "visibility_activation");
  o.presence = parse_activation(presence, "presence_activation");
  const int cols = std::min(o.dims, 5);
  py::array_t<float> out({static_cast<py::ssize_t>(o.num_landmarks), static_cast<py::ssize_t>(cols)});
  const float* in = static_cast<const float*>(raw.data());
  float* d = out.mutable_data();
  {
    py::gil_scoped_release release;
    decode_landmarks(in, o, d);
  }
  return out;
}

py::array project_landmarks_py(const py::handle& landmarks, const py::handle& rect_obj, const py::handle& image_size,
                               const py::object& out) {
  const MatrixView<float> lm = landmarks_view(landmarks, "landmarks", 2);
  const Rect rect = as_rect(rect_obj, "rect");
  const Size size = parse_size(image_size, "image_size");
  py::array_t<float> result = float_output(out, {static_cast<py::ssize_t>(lm.rows), static_cast<py::ssize_t>(lm.cols)});
  float* d = result.mutable_data();
  {
    py::gil_scoped_release release;
    project_landmarks(lm, rect, size, d);
  }
  return result;
}

py::array project_world_landmarks_py(const py::handle& landmarks, const py::handle& rotation_obj,
                                     const py::object& out) {
  const MatrixView<float> lm = landmarks_view(landmarks, "landmarks", 2);
  const double rotation = py::isinstance<Rect>(rotation_obj) ? rotation_obj.cast<Rect>().rotation
                                                             : finite(rotation_obj, "rect");
  py::array_t<float> result = float_output(out, {static_cast<py::ssize_t>(lm.rows), static_cast<py::ssize_t>(lm.cols)});
  float* d = result.mutable_data();
  {
    py::gil_scoped_release release;
    project_world_landmarks(lm, rotation, d);
  }
  return result;
}

py::array refine_from_heatmap_py(const py::handle& landmarks, const py::handle& heatmap_obj,
                                 const py::handle& kernel_size, const py::handle& min_confidence,
                                 const py::handle& refine_presence, const py::handle& refine_visibility,
                                 const py::object& out) {
  const bool presence = parse_flag(refine_presence, "refine_presence");
  const bool visibility = parse_flag(refine_visibility, "refine_visibility");
  const MatrixView<float> lm = landmarks_view(landmarks, "landmarks", 2);
  // Columns: x, y, z, visibility, presence.
  if (presence && lm.cols < 5)
    throw py::value_error("refine_presence needs landmarks with a presence column ([n, 5]), got " +
                          std::to_string(lm.cols) + " columns");
  if (visibility && lm.cols < 4)
    throw py::value_error("refine_visibility needs landmarks with a visibility column ([n, >= 4]), got " +
                          std::to_string(lm.cols) + " columns");
  const py::array hm = float32_array(heatmap_obj, "heatmap");
  const int lead = hm.ndim() == 4 && hm.shape(0) == 1 ? 1 : 0;
  if (hm.ndim() - lead != 3 || hm.shape(lead) < 1 || hm.shape(lead + 1) < 1)
    throw py::value_error("heatmap must have shape [h, w, n] or [1, h, w, n] (one channel per landmark), got " +
                          describe_shape(hm));
  if (hm.shape(lead + 2) != lm.rows)
    throw py::value_error("heatmap has " + std::to_string(hm.shape(lead + 2)) + " channels but there are " +
                          std::to_string(lm.rows) + " landmarks");
  HeatmapView view;
  view.data = static_cast<const float*>(hm.data());
  view.height = static_cast<int>(std::min<py::ssize_t>(hm.shape(lead), 1 << 15));
  view.width = static_cast<int>(std::min<py::ssize_t>(hm.shape(lead + 1), 1 << 15));
  if (view.height != hm.shape(lead) || view.width != hm.shape(lead + 1))
    throw py::value_error("heatmap is too large: " + describe_shape(hm));
  view.channels = static_cast<int>(lm.rows);
  for (int k = 0; k < 3; ++k)
    if (hm.strides(lead + k) % static_cast<py::ssize_t>(sizeof(float)) != 0)
      throw py::value_error("heatmap must have element-aligned strides");
  view.row_stride = hm.strides(lead) / 4, view.col_stride = hm.strides(lead + 1) / 4;
  view.channel_stride = hm.strides(lead + 2) / 4;
  const int k = static_cast<int>(integer_in(kernel_size, "kernel_size", 1, 1 << 15));
  if (k % 2 == 0) throw py::value_error("kernel_size must be odd, got " + std::to_string(k));
  const float min_conf = static_cast<float>(number_in(min_confidence, "min_confidence", 0.0, 1.0));
  py::array_t<float> result = float_output(out, {static_cast<py::ssize_t>(lm.rows), static_cast<py::ssize_t>(lm.cols)});
  float* d = result.mutable_data();
  {
    py::gil_scoped_release release;
    refine_from_heatmap(lm, view, k, min_conf, d, presence, visibility);
  }
  return result;
}

}  // namespace

void bind_landmarks(py::module_& m) {
  m.def("rect_from_keypoints", &rect_from_keypoints_py);
  m.def("rect_from_box", &rect_from_box_py);
  m.def("transform_rect", &transform_rect_py);
  m.def("landmarks_box", &landmarks_box_py);
  m.def("decode_landmarks", &decode_landmarks_py);
  m.def("project_landmarks", &project_landmarks_py);
  m.def("project_world_landmarks", &project_world_landmarks_py);
  m.def("refine_from_heatmap", &refine_from_heatmap_py);
  m.def("normalize_radians", [](const py::handle& a) { return normalize_radians(real_number(a, "angle")); });
}

}  // namespace edgevision::bindings
