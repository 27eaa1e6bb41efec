// fmt's compiled part, once for the whole program. With FMT_HEADER_ONLY every
// translation unit compiled it again (about 5 s each, most of a build); the
// library stays static, so `least` still resolves no fmt symbol at start-up.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
// The templates the header declares for char and leaves to the library.
template auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl<char>(locale_ref) -> char;
}  // namespace detail
FMT_END_NAMESPACE
