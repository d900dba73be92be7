// ssd_anchors, decode_detections, nms, project_detections: argument checks, then the kernel
// with the GIL released. Detections cross the boundary as (boxes, keypoints, scores) arrays.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "arrays.hpp"
#include "detection_args.hpp"
#include "edgevision/anchors.hpp"
#include "edgevision/detections.hpp"
#include "edgevision/detector.hpp"
#include "edgevision/nms.hpp"

namespace edgevision::bindings {

namespace {

constexpr int64_t kMaxAnchors = int64_t{1} << 24;  // far above any detector; keeps sizes in int32
constexpr int64_t kMaxKeypoints = 1 << 16;

py::tuple to_python(const DetectionList& d) {
  const py::ssize_t n = d.size(), k = d.num_keypoints;
  py::array_t<float> boxes({n, py::ssize_t{4}}), keypoints({n, k, py::ssize_t{2}}), scores(std::vector<py::ssize_t>{n});
  py::array_t<int32_t> class_ids(std::vector<py::ssize_t>{n});
  if (n > 0) {
    std::memcpy(boxes.mutable_data(), d.boxes.data(), d.boxes.size() * sizeof(float));
    if (!d.keypoints.empty()) std::memcpy(keypoints.mutable_data(), d.keypoints.data(), d.keypoints.size() * sizeof(float));
    std::memcpy(scores.mutable_data(), d.scores.data(), d.scores.size() * sizeof(float));
    std::memcpy(class_ids.mutable_data(), d.class_ids.data(), d.class_ids.size() * sizeof(int32_t));
  }
  return py::make_tuple(boxes, keypoints, scores, class_ids);
}

// ---------------------------------------------------------------------------- anchors

std::vector<double> number_list(const py::handle& obj, const char* name) {
  if (py::isinstance<py::str>(obj) || (!py::isinstance<py::sequence>(obj) && !py::isinstance<py::array>(obj)))
    throw py::type_error(std::string(name) + " must be a sequence of numbers, got " + repr_of(obj));
  std::vector<double> v;
  for (const py::handle item : py::iter(obj)) v.push_back(real_number(item, name));
  return v;
}

py::array ssd_anchors_py(const py::handle& input_size, const py::handle& strides, const py::handle& num_layers,
                         const py::handle& min_scale, const py::handle& max_scale, const py::handle& aspect_ratios,
                         const py::handle& anchor_offset, const py::handle& fixed_anchor_size,
                         const py::handle& interpolated_scale_aspect_ratio,
                         const py::handle& reduce_boxes_in_lowest_layer) {
  AnchorOptions o;
  o.input_size = parse_size(input_size, "input_size");
  if (py::isinstance<py::str>(strides) || !py::isinstance<py::sequence>(strides))
    throw py::type_error("strides must be a sequence of positive integers, got " + repr_of(strides));
  for (const py::handle s : py::iter(strides)) o.strides.push_back(static_cast<int>(integer_in(s, "strides", 1, 1 << 15)));
  if (o.strides.empty()) throw py::value_error("strides must not be empty");
  const int64_t layers = integer_in(num_layers, "num_layers", 1, 64);
  if (static_cast<int64_t>(o.strides.size()) != layers)
    throw py::value_error("strides must have num_layers = " + std::to_string(layers) + " entries, got " +
                          std::to_string(o.strides.size()));
  o.min_scale = static_cast<float>(number_in(min_scale, "min_scale", 0.0, 1e6));
  o.max_scale = static_cast<float>(number_in(max_scale, "max_scale", 0.0, 1e6));
  o.aspect_ratios.clear();
  for (double r : number_list(aspect_ratios, "aspect_ratios")) {
    if (!(r > 0) || !std::isfinite(r))
      throw py::value_error("aspect_ratios must be positive finite numbers, got " + repr_of(aspect_ratios));
    o.aspect_ratios.push_back(static_cast<float>(r));
  }
  if (o.aspect_ratios.empty()) throw py::value_error("aspect_ratios must not be empty");
  const auto offset = number_pair(anchor_offset, "anchor_offset");
  o.offset_x = static_cast<float>(offset[0]);
  o.offset_y = static_cast<float>(offset[1]);
  o.fixed_anchor_size = parse_flag(fixed_anchor_size, "fixed_anchor_size");
  o.interpolated_scale_aspect_ratio = static_cast<float>(
      number_in(interpolated_scale_aspect_ratio, "interpolated_scale_aspect_ratio", -1e6, 1e6));
  o.reduce_boxes_in_lowest_layer = parse_flag(reduce_boxes_in_lowest_layer, "reduce_boxes_in_lowest_layer");
  const int64_t n = anchor_count(o);
  if (n > kMaxAnchors) throw py::value_error("these options give " + std::to_string(n) + " anchors, too many");
  py::array_t<float> out({static_cast<py::ssize_t>(n), py::ssize_t{4}});
  ssd_anchors(o, out.mutable_data());
  return out;
}

// ----------------------------------------------------------------------------- decode

// Scores of n anchors: [n], [n, 1], [1, n] or [1, n, 1] (one class), [n, c] (n > 1) or
// [1, n, c] (c classes).
MatrixView<float> score_rows(const py::handle& obj, const char* name) {
  const py::array a = float32_array(obj, name);
  const auto stride = [&](int axis) {
    if (a.strides(axis) % static_cast<py::ssize_t>(sizeof(float)) != 0)
      throw py::value_error(std::string(name) + " must have element-aligned strides; pass np.ascontiguousarray(" +
                            name + ")");
    return static_cast<int64_t>(a.strides(axis) / static_cast<py::ssize_t>(sizeof(float)));
  };
  MatrixView<float> m;
  m.data = static_cast<const float*>(a.data());
  if (a.ndim() == 1) {
    m.rows = a.shape(0), m.cols = 1, m.row_stride = stride(0);
  } else if (a.ndim() == 2 && (a.shape(1) == 1 || a.shape(0) == 1)) {
    const int axis = a.shape(1) == 1 ? 0 : 1;  // the values run along the other axis
    m.rows = a.shape(axis), m.cols = 1, m.row_stride = stride(axis);
  } else if (a.ndim() == 2 || (a.ndim() == 3 && a.shape(0) == 1)) {
    const int lead = a.ndim() - 2;
    m.rows = a.shape(lead), m.cols = a.shape(lead + 1), m.row_stride = stride(lead), m.col_stride = stride(lead + 1);
  } else {
    m.cols = -1;
  }
  if (m.cols < 1)
    throw py::value_error(std::string(name) + " must have shape [n], [n, classes] or [1, n, classes], got " +
                          describe_shape(a));
  return m;
}

// One array, or a list/tuple of arrays read one after the other (split detector heads).
HeadParts head_parts(const py::handle& obj, const char* name, bool scores, std::vector<py::object>& keep) {
  HeadParts h;
  const auto add = [&](const py::handle& part, const std::string& label) {
    keep.push_back(py::reinterpret_borrow<py::object>(part));
    h.parts.push_back(scores ? score_rows(part, label.c_str()) : rows_view(part, label.c_str()));
  };
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {
    const py::sequence seq = py::reinterpret_borrow<py::sequence>(obj);
    if (py::len(seq) == 0) throw py::value_error(std::string(name) + " must not be an empty sequence");
    for (size_t k = 0; k < py::len(seq); ++k) add(seq[k], std::string(name) + "[" + std::to_string(k) + "]");
  } else {
    add(obj, name);
  }
  return h;
}

std::array<float, 4> decode_scale(const py::handle& obj) {
  const auto expected = [&] {
    return "scale must be a positive number or (x_scale, y_scale, w_scale, h_scale), got " + repr_of(obj);
  };
  std::array<double, 4> v;
  if (py::isinstance<py::sequence>(obj) && !py::isinstance<py::str>(obj)) {
    if (py::len(obj) != 4) throw py::value_error(expected());
    for (int k = 0; k < 4; ++k) v[k] = real_number(obj[py::int_(k)], "scale");
  } else {
    v.fill(real_number(obj, "scale"));
  }
  std::array<float, 4> s;
  for (int k = 0; k < 4; ++k) {
    if (!(v[k] > 0) || !std::isfinite(v[k])) throw py::value_error(expected());
    s[k] = static_cast<float>(v[k]);
  }
  return s;
}

DecodeOptions decode_options(const py::handle& scale, const py::handle& num_keypoints, const py::handle& min_score,
                             const py::handle& score_clip, const py::handle& keypoint_offset,
                             const py::handle& box_format, const py::handle& score_activation) {
  DecodeOptions o;
  const auto s = decode_scale(scale);
  o.x_scale = s[0], o.y_scale = s[1], o.w_scale = s[2], o.h_scale = s[3];
  o.num_keypoints = static_cast<int>(integer_in(num_keypoints, "num_keypoints", 0, kMaxKeypoints));
  o.keypoint_offset = static_cast<int>(integer_in(keypoint_offset, "keypoint_offset", 0, 1 << 20));
  o.min_score = static_cast<float>(number_in(min_score, "min_score", 0.0, 1.0));
  if (score_clip.is_none()) {
    o.clip_scores = false;
  } else {
    const double clip = real_number(score_clip, "score_clip");
    if (!(clip >= 0)) throw py::value_error("score_clip must be a non-negative number or None, got " + repr_of(score_clip));
    o.score_clip = static_cast<float>(std::min(clip, double(std::numeric_limits<float>::infinity())));
  }
  static const char* kFormats = "box_format must be one of 'xywh', 'yxhw', 'ltrb', 'xyxy', got ";
  if (!py::isinstance<py::str>(box_format)) throw py::type_error(kFormats + repr_of(box_format));
  const std::string format = box_format.cast<std::string>();
  if (format == "xywh") o.format = BoxFormat::xywh;
  else if (format == "yxhw") o.format = BoxFormat::yxhw;
  else if (format == "ltrb") o.format = BoxFormat::ltrb;
  else if (format == "xyxy") o.format = BoxFormat::xyxy;
  else throw py::value_error(kFormats + ("'" + format + "'"));
  static const char* kActivations = "score_activation must be 'sigmoid' or 'none', got ";
  if (!py::isinstance<py::str>(score_activation)) throw py::type_error(kActivations + repr_of(score_activation));
  const std::string activation = score_activation.cast<std::string>();
  if (activation != "sigmoid" && activation != "none") throw py::value_error(kActivations + ("'" + activation + "'"));
  o.sigmoid = activation == "sigmoid";
  return o;
}

// The heads must cover the anchors row for row (each other's, without anchors: anchors < 0),
// hold the keypoints the options ask for, and give every part of the scores the same classes.
void check_heads(const HeadParts& boxes, const HeadParts& scores, int64_t anchors, const DecodeOptions& o) {
  for (const auto& part : scores.parts)
    if (part.cols != scores.parts[0].cols)
      throw py::value_error("raw_scores parts must have the same number of classes, got " +
                            std::to_string(scores.parts[0].cols) + " and " + std::to_string(part.cols));
  const int64_t need_cols = std::max<int64_t>(4, o.keypoint_offset + 2 * int64_t{o.num_keypoints});
  for (size_t k = 0; k < boxes.parts.size(); ++k) {
    const int64_t cols = boxes.parts[k].cols;
    if (cols != boxes.parts[0].cols)
      throw py::value_error("raw_boxes parts must have the same number of columns, got " +
                            std::to_string(boxes.parts[0].cols) + " and " + std::to_string(cols));
    if (cols < need_cols)
      throw py::value_error("raw_boxes has " + std::to_string(cols) + " values per anchor, too few for num_keypoints=" +
                            std::to_string(o.num_keypoints) + " at keypoint_offset=" + std::to_string(o.keypoint_offset) +
                            " (needs " + std::to_string(need_cols) + ")");
  }
  if (anchors < 0) {
    if (boxes.rows() != scores.rows())
      throw py::value_error("raw_boxes has " + std::to_string(boxes.rows()) + " rows but raw_scores has " +
                            std::to_string(scores.rows()));
    if (boxes.rows() > kMaxAnchors) throw py::value_error("raw_boxes has too many rows");
    return;
  }
  if (boxes.rows() != anchors)
    throw py::value_error("raw_boxes has " + std::to_string(boxes.rows()) + " rows but there are " +
                          std::to_string(anchors) + " anchors");
  if (scores.rows() != anchors)
    throw py::value_error("raw_scores has " + std::to_string(scores.rows()) + " rows but there are " +
                          std::to_string(anchors) + " anchors");
}

// [n, 4] anchors, or None (no data: the identity anchor for every row).
MatrixView<float> anchors_view(const py::handle& obj) {
  if (obj.is_none()) return {};
  const MatrixView<float> anchors = rows_view(obj, "anchors", 4);
  if (anchors.rows > kMaxAnchors) throw py::value_error("anchors has too many rows");
  return anchors;
}

py::tuple decode_detections_py(const py::handle& raw_boxes, const py::handle& raw_scores, const py::handle& anchors_obj,
                               const py::handle& scale, const py::handle& num_keypoints, const py::handle& min_score,
                               const py::handle& score_clip, const py::handle& keypoint_offset,
                               const py::handle& box_format, const py::handle& score_activation) {
  std::vector<py::object> keep;  // the arrays the views point into
  const HeadParts boxes = head_parts(raw_boxes, "raw_boxes", false, keep);
  const HeadParts scores = head_parts(raw_scores, "raw_scores", true, keep);
  MatrixView<float> anchors = anchors_view(anchors_obj);
  const DecodeOptions o =
      decode_options(scale, num_keypoints, min_score, score_clip, keypoint_offset, box_format, score_activation);
  check_heads(boxes, scores, anchors.data ? anchors.rows : -1, o);
  if (!anchors.data) anchors = identity_anchors(scores.rows());
  DetectionList out;
  {
    py::gil_scoped_release release;
    decode_detections(boxes, scores, anchors, o, out);
  }
  return to_python(out);
}

// -------------------------------------------------------------------- nms, projection

DetectionsView detections_view(const py::handle& boxes, const py::handle& keypoints, const py::handle& scores,
                               const py::handle& class_ids = py::none()) {
  DetectionsView v;
  v.boxes = rows_view(boxes, "boxes", 4);
  if (require_ndarray(boxes, "boxes").ndim() != 2)
    throw py::value_error("boxes must have shape [n, 4], got " + describe_shape(py::reinterpret_borrow<py::array>(boxes)));
  v.keypoints = points_view(keypoints, "keypoints");
  const py::array s = float32_array(scores, "scores");
  if (s.ndim() != 1) throw py::value_error("scores must have shape [n], got " + describe_shape(s));
  v.scores = column_view(scores, "scores");
  v.scores.size = s.shape(0);
  if (v.boxes.rows != v.size() || v.keypoints.count != v.size())
    throw py::value_error("boxes, keypoints and scores must have the same length, got " + std::to_string(v.boxes.rows) +
                          ", " + std::to_string(v.keypoints.count) + " and " + std::to_string(v.size()));
  if (v.size() >= (int64_t{1} << 31)) throw py::value_error("too many detections");
  if (!class_ids.is_none()) {
    const py::array c = require_ndarray(class_ids, "class_ids");
    if (!c.dtype().is(py::dtype::of<int32_t>()))
      throw py::type_error("class_ids must be an int32 array, got dtype " + dtype_name(c));
    if (c.ndim() != 1 || c.shape(0) != v.size())
      throw py::value_error("class_ids must have shape [" + std::to_string(v.size()) + "], got " + describe_shape(c));
    if (c.strides(0) % static_cast<py::ssize_t>(sizeof(int32_t)) != 0)
      throw py::value_error("class_ids must have element-aligned strides");
    v.class_ids = {static_cast<const int32_t*>(c.data()), v.size(), c.strides(0) / static_cast<py::ssize_t>(sizeof(int32_t))};
  }
  return v;
}

NmsOptions nms_options(const py::handle& iou_threshold, const py::handle& method, const py::handle& max_detections) {
  NmsOptions o;
  o.iou_threshold = static_cast<float>(number_in(iou_threshold, "iou_threshold", 0.0, 1.0));
  if (!py::isinstance<py::str>(method))
    throw py::type_error("method must be one of 'weighted', 'hard', got " + repr_of(method));
  const std::string m = method.cast<std::string>();
  if (m == "weighted") o.method = NmsMethod::weighted;
  else if (m == "hard") o.method = NmsMethod::hard;
  else throw py::value_error("method must be one of 'weighted', 'hard', got '" + m + "'");
  o.max_detections = max_detections.is_none()
                         ? -1
                         : integer_in(max_detections, "max_detections", 0, std::numeric_limits<int64_t>::max());
  return o;
}

py::tuple nms_py(const py::handle& boxes, const py::handle& keypoints, const py::handle& scores,
                 const py::handle& class_ids, const py::handle& iou_threshold, const py::handle& method,
                 const py::handle& max_detections) {
  const DetectionsView in = detections_view(boxes, keypoints, scores, class_ids);
  const NmsOptions o = nms_options(iou_threshold, method, max_detections);
  DetectionList out;
  {
    py::gil_scoped_release release;
    non_max_suppression(in, o, out);
  }
  return to_python(out);
}

py::tuple project_detections_py(const py::handle& boxes, const py::handle& keypoints, const py::handle& scores,
                                const py::handle& transform) {
  const DetectionsView in = detections_view(boxes, keypoints, scores);
  const Transform::Matrix m = as_transform(transform, "transform").normalized_matrix();
  const py::ssize_t n = in.size(), k = in.num_keypoints();
  py::array_t<float> out_boxes({n, py::ssize_t{4}}), out_keypoints({n, k, py::ssize_t{2}});
  float* b = out_boxes.mutable_data();
  float* p = out_keypoints.mutable_data();
  {
    py::gil_scoped_release release;
    project_detections(in, m, b, p);
  }
  return py::make_tuple(out_boxes, out_keypoints);
}

DetectionDecoder make_decoder(const py::handle& anchors_obj, const py::handle& scale, const py::handle& num_keypoints,
                              const py::handle& min_score, const py::handle& score_clip,
                              const py::handle& keypoint_offset, const py::handle& box_format,
                              const py::handle& score_activation, const py::handle& nms,
                              const py::handle& iou_threshold, const py::handle& max_detections) {
  const MatrixView<float> anchors = anchors_view(anchors_obj);
  const DecodeOptions o =
      decode_options(scale, num_keypoints, min_score, score_clip, keypoint_offset, box_format, score_activation);
  std::optional<NmsOptions> n;
  if (!nms.is_none()) n = nms_options(iou_threshold, nms, max_detections);
  else if (!max_detections.is_none())
    throw py::value_error("max_detections needs nms='weighted' or 'hard'");
  return DetectionDecoder(anchors, o, n);
}

py::tuple run_decoder(const DetectionDecoder& d, const py::handle& raw_boxes, const py::handle& raw_scores) {
  std::vector<py::object> keep;
  const HeadParts boxes = head_parts(raw_boxes, "raw_boxes", false, keep);
  const HeadParts scores = head_parts(raw_scores, "raw_scores", true, keep);
  check_heads(boxes, scores, d.num_anchors(), d.decode_options());
  DetectionList out;
  {
    py::gil_scoped_release release;
    d.run(boxes, scores, out);
  }
  return to_python(out);
}

}  // namespace

void bind_detection(py::module_& m) {
  py::class_<DetectionDecoder>(m, "_DetectionDecoder")
      .def(py::init(&make_decoder))
      .def("run", &run_decoder)
      .def_property_readonly("num_anchors", &DetectionDecoder::num_anchors)
      .def_property_readonly("anchors", [](const DetectionDecoder& d) -> py::object {
        if (!d.has_anchors()) return py::none();
        const size_t count = static_cast<size_t>(d.num_anchors());  // unsigned: GCC 12 warns on int
        py::array_t<float> a({static_cast<py::ssize_t>(count), py::ssize_t{4}});
        std::copy_n(d.anchors().data, 4 * count, a.mutable_data());
        return a;
      });

  m.def("ssd_anchors", &ssd_anchors_py);
  m.def("decode_detections", &decode_detections_py);
  m.def("nms", &nms_py);
  m.def("project_detections", &project_detections_py);
}

}  // namespace edgevision::bindings
