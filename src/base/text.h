// Small text helpers shared by diagnostics and rendering.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace least {

// Edit distance (with neighbour swaps), for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate to `word`, if it is close enough to be a likely typo.
std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string_view> candidates);

std::string join(std::span<const std::string> parts, std::string_view sep);
bool contains(std::span<const std::string> items, std::string_view item);
// `path` is `dir` or lies beneath it, by whole components ("/" holds all).
bool path_beneath(std::string_view path, std::string_view dir);
std::vector<std::string> split_words(std::string_view text);  // on spaces, commas
// FNV-1a, 64 bits: a short stable name for some bytes (cache files, pins),
// not a defence against anyone choosing them.
uint64_t fnv1a(std::string_view bytes);

// errno names: "EPERM" <-> 1. Names come from glibc, so every errno is covered.
std::optional<int> errno_from_name(std::string_view name);
std::string errno_name(int value);
std::vector<std::string_view> all_errno_names();

}  // namespace least
