#include "detection_args.hpp"

#include <cmath>
#include <limits>

#include "arrays.hpp"

namespace edgevision::bindings {

std::string repr_of(const py::handle& obj) { return py::repr(obj).cast<std::string>(); }

std::string type_name(const py::handle& obj) { return py::str(py::type::of(obj).attr("__name__")).cast<std::string>(); }

double real_number(const py::handle& obj, const char* name) {
  if (PyFloat_CheckExact(obj.ptr())) return PyFloat_AS_DOUBLE(obj.ptr());  // the common case, fast
  const auto bad = [&] { return py::type_error(std::string(name) + " must be a number, got " + repr_of(obj)); };
  if (py::isinstance<py::bool_>(obj) || py::isinstance<py::str>(obj) || py::isinstance<py::bytes>(obj) ||
      !PyNumber_Check(obj.ptr()))
    throw bad();
  const double v = PyFloat_AsDouble(obj.ptr());
  if (v == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    throw bad();
  }
  return v;
}

double number_in(const py::handle& obj, const char* name, double lo, double hi) {
  const double v = real_number(obj, name);
  if (!(v >= lo && v <= hi) || std::isnan(v))
    throw py::value_error(std::string(name) + " must be a number in [" + py::repr(py::float_(lo)).cast<std::string>() +
                          ", " + py::repr(py::float_(hi)).cast<std::string>() + "], got " + repr_of(obj));
  return v;
}

int64_t integer_in(const py::handle& obj, const char* name, int64_t lo, int64_t hi) {
  const auto expected = [&] {
    return std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
           "], got " + repr_of(obj);
  };
  PyObject* index = py::isinstance<py::bool_>(obj) ? nullptr : PyNumber_Index(obj.ptr());
  if (index == nullptr) {
    PyErr_Clear();
    throw py::type_error(expected());
  }
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(index, &overflow);
  Py_DECREF(index);
  if (overflow != 0 || v < lo || v > hi) throw py::value_error(expected());
  return v;
}

py::array float32_array(const py::handle& obj, const char* name) {
  const py::array a = require_ndarray(obj, name);
  if (!a.dtype().is(py::dtype::of<float>()))
    throw py::type_error(std::string(name) + " must be a float32 array, got dtype " + dtype_name(a));
  return a;
}

namespace {
int64_t element_stride(const py::array& a, int axis, const char* name) {
  const py::ssize_t s = a.strides(axis);
  if (s % static_cast<py::ssize_t>(sizeof(float)) != 0)
    throw py::value_error(std::string(name) + " must have element-aligned strides; pass np.ascontiguousarray(" +
                          name + ")");
  return s / static_cast<py::ssize_t>(sizeof(float));
}
}  // namespace

MatrixView<float> rows_view(const py::handle& obj, const char* name, int64_t cols) {
  const py::array a = float32_array(obj, name);
  const int lead = a.ndim() == 3 && a.shape(0) == 1 ? 1 : 0;
  if (a.ndim() - lead != 2 || (cols >= 0 && a.shape(lead + 1) != cols)) {
    const std::string c = cols < 0 ? "c" : std::to_string(cols);
    throw py::value_error(std::string(name) + " must have shape [n, " + c + "] or [1, n, " + c + "], got " +
                          describe_shape(a));
  }
  MatrixView<float> v;
  v.data = static_cast<const float*>(a.data());
  v.rows = a.shape(lead);
  v.cols = a.shape(lead + 1);
  v.row_stride = element_stride(a, lead, name);
  v.col_stride = element_stride(a, lead + 1, name);
  return v;
}

VectorView<float> column_view(const py::handle& obj, const char* name) {
  const py::array a = float32_array(obj, name);
  // The one axis longer than 1 (or the last one) holds the values.
  int axis = -1;
  bool ok = a.ndim() >= 1 && a.ndim() <= 3;
  for (int k = 0; ok && k < a.ndim(); ++k) {
    if (a.shape(k) == 1) continue;
    if (axis >= 0) ok = false;
    axis = k;
  }
  if (ok && axis < 0) axis = a.ndim() == 3 ? 1 : 0;  // a single value
  if (ok && a.ndim() == 3 && axis != 1) ok = false;
  if (!ok)
    throw py::value_error(std::string(name) + " must hold one value per row: shape [n], [n, 1], [1, n] or [1, n, 1], got " +
                          describe_shape(a));
  VectorView<float> v;
  v.data = static_cast<const float*>(a.data());
  v.size = a.shape(axis);
  v.stride = element_stride(a, axis, name);
  return v;
}

PointsView<float> points_view(const py::handle& obj, const char* name) {
  const py::array a = float32_array(obj, name);
  if (a.ndim() != 3 || a.shape(2) != 2)
    throw py::value_error(std::string(name) + " must have shape [n, k, 2], got " + describe_shape(a));
  PointsView<float> v;
  v.data = static_cast<const float*>(a.data());
  v.count = a.shape(0);
  v.points = a.shape(1);
  v.stride0 = element_stride(a, 0, name);
  v.stride1 = element_stride(a, 1, name);
  v.stride2 = element_stride(a, 2, name);
  return v;
}

std::array<double, 2> number_pair(const py::handle& obj, const char* name) {
  const auto expected = [&] { return std::string(name) + " must be two finite numbers (x, y), got " + repr_of(obj); };
  if (py::isinstance<py::str>(obj) || !py::isinstance<py::sequence>(obj) && !py::isinstance<py::array>(obj))
    throw py::type_error(expected());
  if (py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).ndim() != 1)
    throw py::value_error(expected());
  if (py::len(obj) != 2) throw py::value_error(expected());
  std::array<double, 2> v;
  for (int k = 0; k < 2; ++k) {
    v[k] = real_number(obj[py::int_(k)], name);
    if (!std::isfinite(v[k])) throw py::value_error(expected());
  }
  return v;
}

Rect as_rect(const py::handle& obj, const char* name) {
  if (!py::isinstance<Rect>(obj))
    throw py::type_error(std::string(name) + " must be an edgevision.Rect, got " + type_name(obj));
  return obj.cast<Rect>();
}

const Transform& as_transform(const py::handle& obj, const char* name) {
  if (!py::isinstance<Transform>(obj))
    throw py::type_error(std::string(name) + " must be an edgevision.Transform, got " + type_name(obj));
  return obj.cast<const Transform&>();
}

py::array_t<float> float_output(const py::object& out, const std::vector<py::ssize_t>& shape) {
  return py::array_t<float>(output_array(out, shape, false));
}

}  // namespace edgevision::bindings
