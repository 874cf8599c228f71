// Small text helpers shared by every binary (reactord's flags and token files, reactorctl's
// tables and credentials, the duration/size grammar). Standard library only. Any thread.
#pragma once

#include <string_view>

namespace reactord::text {

// `s` without leading and trailing white space (space, tab, CR, LF, VT, FF).
std::string_view trim(std::string_view s);

}  // namespace reactord::text
