// libgrid scenario layer, private: short texts shared by the reader, the builders and the run checks.
#pragma once

#include <libgrid/scenario/scenario.hpp>

#include <cstdint>
#include <cstdio>
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

namespace libgrid::scenario_text {

/// 900 -> "15min", 3600 -> "1h", 45 -> "45s".
inline std::string step_text(std::int64_t s) {
    if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
    if (s % 60 == 0) return std::to_string(s / 60) + "min";
    return std::to_string(s) + "s";
}

/// "12.3 GB" (GB = 1e9 bytes), 3 significant digits.
inline std::string gb_text(double bytes) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3g GB", bytes / 1e9);
    return buf;
}

/// "2.92e+07" style counts as "29.2 million" (or the plain number below a million).
inline std::string count_text(double n) {
    char buf[64];
    if (n >= 1e6) std::snprintf(buf, sizeof buf, "%.3g million", n / 1e6);
    else std::snprintf(buf, sizeof buf, "%.0f", n);
    return buf;
}

/// "96 steps of 15min" or "1y (35040 steps of 15min)".
inline std::string horizon_text(const ScenarioHorizon& h) {
    const std::string steps = std::to_string(h.n_steps) + " steps of " + step_text(h.step_s);
    return h.by_steps ? steps : h.duration + " (" + steps + ")";
}

inline std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> d(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) d[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = d[0];
        d[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = d[j];
            d[j] = std::min({d[j] + 1, d[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return d[b.size()];
}

/// " (did you mean 'x'?)" for the closest allowed word within a small edit distance, else "".
inline std::string did_you_mean(const std::string& word, const std::vector<std::string>& allowed) {
    std::size_t best = std::numeric_limits<std::size_t>::max();
    std::string pick;
    for (const auto& a : allowed) {
        const std::size_t d = edit_distance(word, a);
        if (d < best) best = d, pick = a;
    }
    const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
    return (!pick.empty() && best <= limit) ? " (did you mean '" + pick + "'?)" : "";
}

}  // namespace libgrid::scenario_text
