// Checks at the Python boundary: numpy arrays and arguments to kernel views, with messages
// that name the argument and say what was expected and what came.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <optional>
#include <string>

#include "edgevision/geometry.hpp"
#include "edgevision/types.hpp"

namespace edgevision::bindings {

namespace py = pybind11;

std::string describe_shape(const py::array& a);
std::string dtype_name(const py::array& a);

// The object must be a numpy.ndarray (no silent conversion of lists or other dtypes).
py::array require_ndarray(const py::handle& obj, const char* name);

// H x W x 3 or H x W x 4 uint8, positive strides, contiguous channels.
ImageView image_view(const py::handle& obj, const char* name);

// 2-D plane of T, accepting leading/trailing singleton axes ([1,h,w,1], [1,1,h,w], [h,w,1]).
template <class T>
PlaneView<T> plane_view(const py::handle& obj, const char* name);

// (width, height) of positive ints.
Size parse_size(const py::handle& obj, const char* name);

// None, or an invertible affine edgevision.Transform.
std::optional<Transform> optional_transform(const py::object& transform);

// Option strings; a non-string is a TypeError naming the argument.
Border parse_border(const py::handle& obj);
Layout parse_layout(const py::handle& obj);
ElementType parse_dtype(const py::handle& obj);
Sampling parse_sampling(const py::handle& obj);
bool parse_channel_order(const py::handle& obj);  // true for "bgr"
bool parse_flag(const py::handle& obj, const char* name);
// `threads`: a positive int (values above 64 count as 64).
int parse_threads(const py::handle& obj);

// `out` if given (checked: ndarray, dtype, exact shape, C-contiguous, writeable), else a new
// array of that shape. `name` is the argument's name in messages.
py::array output_array(const py::object& out, const std::vector<py::ssize_t>& shape, bool uint8,
                       const char* name = "out");

}  // namespace edgevision::bindings
