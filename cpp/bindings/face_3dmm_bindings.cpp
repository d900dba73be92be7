// facemap_3dmm: the basis object (built once from the three basis arrays) and the per-face
// decode, with argument checks; the decode runs with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <memory>

#include "arrays.hpp"
#include "detection_args.hpp"
#include "edgevision/face_3dmm.hpp"

namespace edgevision::bindings {

namespace {

constexpr int64_t kMaxLandmarks = 1024;  // Face3dmmModel's vertex buffer
constexpr int64_t kMaxCoefficients = 1 << 16;

// A C-contiguous float32 array of any shape, read as a flat vector.
const float* flat_floats(const py::handle& obj, const char* name, int64_t* size) {
  const py::array a = float32_array(obj, name);
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(name) + " must be C-contiguous; pass np.ascontiguousarray(" + name + ")");
  *size = a.size();
  const float* data = static_cast<const float*>(a.data());
  for (int64_t k = 0; k < *size; ++k)
    if (!std::isfinite(data[k])) throw py::value_error(std::string(name) + " must hold finite values");
  return data;
}

float scaling_value(const py::handle& obj, const char* name, bool positive) {
  const double v = real_number(obj, name);
  if (!std::isfinite(v) || (positive && !(v > 0)))
    throw py::value_error(std::string(name) + " must be a " + (positive ? "positive" : "finite") + " number, got " +
                          repr_of(obj));
  return static_cast<float>(v);
}

std::unique_ptr<Face3dmmModel> make_model(const py::handle& mean_obj, const py::handle& shape_obj,
                                          const py::handle& blend_obj, const py::dict& scaling) {
  int64_t mean_size = 0, shape_size = 0, blend_size = 0;
  const float* mean = flat_floats(mean_obj, "mean_face", &mean_size);
  const float* shape = flat_floats(shape_obj, "shape_basis", &shape_size);
  const float* blend = flat_floats(blend_obj, "blend_shape", &blend_size);
  if (mean_size == 0 || mean_size % 3 != 0 || mean_size / 3 > kMaxLandmarks)
    throw py::value_error("mean_face must hold 3 values (x, y, z) per landmark, at most " +
                          std::to_string(kMaxLandmarks) + " landmarks; got " + std::to_string(mean_size) + " values");
  const auto columns = [&](int64_t size, const char* name) {
    if (size == 0 || size % mean_size != 0 || size / mean_size > kMaxCoefficients)
      throw py::value_error(std::string(name) + " must hold a multiple of mean_face's " + std::to_string(mean_size) +
                            " values (one column per coefficient), got " + std::to_string(size));
    return static_cast<int>(size / mean_size);
  };
  const int identity = columns(shape_size, "shape_basis"), expression = columns(blend_size, "blend_shape");
  Face3dmmScaling s;
  const auto set = [&](const char* key, float* field, bool positive) {
    if (scaling.contains(key)) *field = scaling_value(scaling[key], key, positive);
  };
  set("identity_scale", &s.identity_scale, false);
  set("identity_offset", &s.identity_offset, false);
  set("expression_scale", &s.expression_scale, false);
  set("expression_offset", &s.expression_offset, false);
  set("angle_scale", &s.angle_scale, false);
  set("translation_scale", &s.translation_scale, false);
  set("focal_scale", &s.focal_scale, false);
  set("focal_offset", &s.focal_offset, false);
  set("tz", &s.tz, true);
  if (scaling.contains("crop_size")) s.crop_size = static_cast<int>(integer_in(scaling["crop_size"], "crop_size", 1, 1 << 15));
  for (const auto& item : scaling) {
    static const char* kKeys[] = {"identity_scale",    "identity_offset", "expression_scale", "expression_offset",
                                  "angle_scale",       "translation_scale", "focal_scale",    "focal_offset",
                                  "tz",                "crop_size"};
    const std::string key = py::str(item.first);
    bool known = false;
    for (const char* k : kKeys) known |= key == k;
    if (!known) throw py::type_error("unexpected scaling option '" + key + "'");
  }
  return std::make_unique<Face3dmmModel>(mean, shape, blend, static_cast<int>(mean_size / 3), identity, expression, s);
}

PixelBox pixel_box(const py::handle& obj) {
  const auto expected = [&] {
    return "box must be (x0, y0, x1, y1): four finite pixel coordinates, inclusive, x1 >= x0 and y1 >= y0; got " +
           repr_of(obj);
  };
  if (py::isinstance<py::str>(obj) || (!py::isinstance<py::sequence>(obj) && !py::isinstance<py::array>(obj)))
    throw py::type_error(expected());
  if (py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).ndim() != 1)
    throw py::value_error(expected());
  if (py::len(obj) != 4) throw py::value_error(expected());
  double v[4];
  for (int k = 0; k < 4; ++k) {
    v[k] = real_number(obj[py::int_(k)], "box");
    if (!std::isfinite(v[k])) throw py::value_error(expected());
  }
  if (!(v[2] >= v[0] && v[3] >= v[1])) throw py::value_error(expected());
  return {v[0], v[1], v[2], v[3]};
}

py::tuple decode_py(const py::handle& params_obj, const py::handle& model_obj, const py::handle& box_obj,
                    const py::object& out, const py::object& parameters_out) {
  if (!py::isinstance<Face3dmmModel>(model_obj))
    throw py::type_error("basis must be an edgevision.kernels.FaceMap3DMMBasis, got " + type_name(model_obj));
  const Face3dmmModel& model = model_obj.cast<const Face3dmmModel&>();
  const py::array p = float32_array(params_obj, "params");
  const int64_t need = model.num_parameters();
  // [P] or [1, P]; P may carry the model's unused last value.
  const int axis = p.ndim() - 1;
  if (p.ndim() < 1 || p.ndim() > 2 || (p.ndim() == 2 && p.shape(0) != 1) || p.shape(axis) < need ||
      p.shape(axis) > need + 1)
    throw py::value_error("params must have shape [" + std::to_string(need) + "] or [1, " + std::to_string(need + 1) +
                          "] (the model output " + std::to_string(need + 1) + " values), got " + describe_shape(p));
  if (p.strides(axis) % static_cast<py::ssize_t>(sizeof(float)) != 0)
    throw py::value_error("params must have element-aligned strides");
  const VectorView<float> params{static_cast<const float*>(p.data()), p.shape(axis),
                                 p.strides(axis) / static_cast<py::ssize_t>(sizeof(float))};
  const PixelBox box = pixel_box(box_obj);
  py::array landmarks = output_array(out, {model.num_landmarks(), 2}, false);
  py::array parameters = output_array(parameters_out, {need}, false, "parameters_out");
  float* l = static_cast<float*>(landmarks.mutable_data());
  float* q = static_cast<float*>(parameters.mutable_data());
  {
    py::gil_scoped_release release;
    model.decode(params, box, q, l);
  }
  return py::make_tuple(landmarks, parameters);
}

}  // namespace

void bind_face_3dmm(py::module_& m) {
  py::class_<Face3dmmModel>(m, "_FaceMap3DMMBasis")
      .def(py::init(&make_model))
      .def_property_readonly("num_landmarks", &Face3dmmModel::num_landmarks)
      .def_property_readonly("num_identity", &Face3dmmModel::num_identity)
      .def_property_readonly("num_expression", &Face3dmmModel::num_expression)
      .def_property_readonly("num_parameters", &Face3dmmModel::num_parameters)
      .def_property_readonly("crop_size", [](const Face3dmmModel& f) { return f.scaling().crop_size; })
      .def_property_readonly("scaling", [](const Face3dmmModel& f) {
        const Face3dmmScaling& s = f.scaling();
        py::dict d;
        d["identity_scale"] = s.identity_scale, d["identity_offset"] = s.identity_offset;
        d["expression_scale"] = s.expression_scale, d["expression_offset"] = s.expression_offset;
        d["angle_scale"] = s.angle_scale, d["translation_scale"] = s.translation_scale;
        d["focal_scale"] = s.focal_scale, d["focal_offset"] = s.focal_offset;
        d["tz"] = s.tz, d["crop_size"] = s.crop_size;
        return d;
      });
  m.def("facemap_3dmm_decode", &decode_py);
}

}  // namespace edgevision::bindings
