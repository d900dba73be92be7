// Scratch placed on cache lines (cache_line_scratch.hpp): the returned start is line-aligned
// and the requested elements lie inside the vector's storage, whatever malloc returned and
// however the vector was sized before; rows of cache_line_row elements start on lines too.
#include <cstdint>
#include <string>
#include <vector>

#include "cache_line_scratch.hpp"
#include "check.hpp"

using namespace edgevision;

namespace {

template <class T>
void check_scratch(std::vector<T>& storage, std::size_t count, const std::string& what) {
  T* start = cache_line_scratch(storage, count);
  const auto address = reinterpret_cast<std::uintptr_t>(start);
  CHECK_MSG(address % kCacheLineBytes == 0, what);
  CHECK_MSG(start >= storage.data() && start + count <= storage.data() + storage.size(), what);
}

}  // namespace

TEST(cache_line_scratch_is_aligned_and_inside_its_storage) {
  for (std::size_t count : {0, 1, 15, 16, 17, 255, 1280, 4097}) {
    std::vector<float> floats;
    std::vector<int16_t> shorts(3);  // a different malloc block each time
    check_scratch(floats, count, "float, fresh, " + std::to_string(count));
    check_scratch(shorts, count, "int16, resized, " + std::to_string(count));
    check_scratch(floats, count / 2, "float, shrunk, " + std::to_string(count));
    check_scratch(floats, 2 * count + 3, "float, grown, " + std::to_string(count));
  }
}

TEST(cache_line_rows_hold_their_elements_and_start_on_lines) {
  for (std::size_t count : {0, 1, 15, 16, 17, 1280, 1281}) {
    const std::size_t floats = cache_line_row<float>(count), shorts = cache_line_row<int16_t>(count);
    CHECK_MSG(floats >= count && floats < count + 16 && floats * sizeof(float) % kCacheLineBytes == 0,
              "float rows of " + std::to_string(count));
    CHECK_MSG(shorts >= count && shorts < count + 32 && shorts * sizeof(int16_t) % kCacheLineBytes == 0,
              "int16 rows of " + std::to_string(count));
  }
}
