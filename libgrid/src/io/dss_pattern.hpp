// libgrid io (internal): the patterns of OpenDSS's BatchEdit (`BatchEdit Load..* vmaxpu=1.2`), matched
// in time linear in the name and the pattern, whatever the pattern.
//
// OpenDSS matches BatchEdit's pattern as a regular expression searched anywhere in the element's name,
// ignoring case. std::regex backtracks: a pattern such as `.**********x` took a fuzzer's input past its
// time limit on a two-letter name. Real scripts use a small part of the syntax (`Load..*`, `load.^k.*`,
// `line.(a|b)` is already rare), so this is that part, run as a Thompson NFA over the items: literals,
// `.`, classes `[a-z0-9_]` and `[^...]`, escapes (`\.`, `\d`, `\w`, `\s` and their negations), the
// quantifiers `*`, `+`, `?` (a lazy `*?` matches the same names), `^` and `$` at a branch's ends, and `|`
// between branches. Groups and counted repetition are refused with the reason.
#pragma once

#include <bitset>
#include <string_view>
#include <vector>

namespace libgrid::dss {

class Pattern {
public:
    /// Throws std::invalid_argument with the reason (e.g. "groups '(...)' are not supported").
    explicit Pattern(std::string_view text);
    /// Does the pattern match somewhere in `name` (ignoring ASCII case)?
    bool search(std::string_view name) const;

private:
    struct Item {
        std::bitset<256> set;   ///< the bytes the atom matches
        bool repeat = false;    ///< `*` (a `+` is the atom then the atom `*`)
        bool optional = false;  ///< `?` or `*`: may match nothing
    };
    struct Branch {
        bool anchored_begin = false;
        bool anchored_end = false;
        std::vector<Item> items;
    };
    std::vector<Branch> branches_;

    static bool search(const Branch& b, std::string_view name);
};

}  // namespace libgrid::dss
