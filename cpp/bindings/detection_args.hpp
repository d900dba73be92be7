// Argument checks shared by the detection, landmark and filter bindings: float32 arrays as
// strided views, numbers, points and rects, with messages naming the argument.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "edgevision/geometry.hpp"
#include "edgevision/views.hpp"

namespace edgevision::bindings {

namespace py = pybind11;

std::string repr_of(const py::handle& obj);
std::string type_name(const py::handle& obj);

// A real number (int, float, numpy scalar; not bool or str).
double real_number(const py::handle& obj, const char* name);
// A finite number in [lo, hi].
double number_in(const py::handle& obj, const char* name, double lo, double hi);
// A Python or numpy integer (not bool) in [lo, hi].
int64_t integer_in(const py::handle& obj, const char* name, int64_t lo, int64_t hi);

// float32 ndarray; TypeError otherwise.
py::array float32_array(const py::handle& obj, const char* name);

// [rows, cols] or [1, rows, cols] float32, any element-aligned strides. cols == -1: any.
MatrixView<float> rows_view(const py::handle& obj, const char* name, int64_t cols = -1);
// [n], [n, 1], [1, n] or [1, n, 1] float32: one value per row.
VectorView<float> column_view(const py::handle& obj, const char* name);
// [n, k, 2] float32.
PointsView<float> points_view(const py::handle& obj, const char* name);

// Two finite numbers (a sequence or an array of shape (2,)).
std::array<double, 2> number_pair(const py::handle& obj, const char* name);

Rect as_rect(const py::handle& obj, const char* name);
const Transform& as_transform(const py::handle& obj, const char* name);

// New C-contiguous float32 array of `shape`, or `out` checked to be exactly that.
py::array_t<float> float_output(const py::object& out, const std::vector<py::ssize_t>& shape);

}  // namespace edgevision::bindings
