// libgrid io: BatchEdit patterns (dss_pattern.hpp).
#include "dss_pattern.hpp"

#include <cctype>
#include <optional>
#include <stdexcept>
#include <string>

namespace libgrid::dss {
namespace {

using Set = std::bitset<256>;

unsigned char byte(char c) { return static_cast<unsigned char>(c); }

void add_char(Set& s, unsigned char c) {  // both cases: the match ignores ASCII case
    s.set(c);
    s.set(byte(static_cast<char>(std::tolower(c))));
    s.set(byte(static_cast<char>(std::toupper(c))));
}

/// `\d`, `\w`, `\s` and their negations `\D`, `\W`, `\S`; nothing for any other escape (a literal).
std::optional<Set> class_escape(char e) {
    Set s;
    switch (std::tolower(byte(e))) {
        case 'd': for (int c = '0'; c <= '9'; ++c) s.set(std::size_t(c)); break;
        case 'w':
            for (int c = 0; c < 256; ++c) s.set(std::size_t(c), std::isalnum(c) != 0 || c == '_');
            break;
        case 's': for (int c = 0; c < 256; ++c) s.set(std::size_t(c), std::isspace(c) != 0); break;
        default: return std::nullopt;
    }
    if (std::isupper(byte(e))) s.flip();
    return s;
}

/// `[...]` from just after the '['; `i` ends after the ']'.
Set parse_class(std::string_view t, std::size_t& i) {
    Set s;
    bool negate = false;
    if (i < t.size() && t[i] == '^') negate = true, ++i;
    bool first = true;
    while (true) {
        if (i >= t.size()) throw std::invalid_argument("a class '[' without its ']'");
        char c = t[i];
        if (c == ']' && !first) { ++i; break; }
        first = false;
        ++i;
        if (c == '\\') {
            if (i >= t.size()) throw std::invalid_argument("a '\\' at the end");
            if (const auto e = class_escape(t[i])) { s |= *e; ++i; continue; }
            c = t[i++];
        }
        if (i + 1 < t.size() && t[i] == '-' && t[i + 1] != ']') {  // a range a-z
            char hi = t[i + 1];
            i += 2;
            if (hi == '\\') {
                if (i >= t.size()) throw std::invalid_argument("a '\\' at the end");
                hi = t[i++];
            }
            if (byte(hi) < byte(c)) throw std::invalid_argument(std::string("the range '") + c + "-" + hi + "' is backwards");
            for (int x = byte(c); x <= byte(hi); ++x) add_char(s, static_cast<unsigned char>(x));
        } else {
            add_char(s, byte(c));
        }
    }
    if (negate) s.flip();
    return s;
}

}  // namespace

Pattern::Pattern(std::string_view t) {
    branches_.emplace_back();
    bool can_repeat = false;        // the last token is an atom (a quantifier may follow)
    bool after_quantifier = false;  // the last token is a quantifier (a '?' makes it lazy)
    for (std::size_t i = 0; i < t.size();) {
        Branch& b = branches_.back();
        const char c = t[i];
        const bool at_begin = b.items.empty() && !b.anchored_begin;
        if (c != '*' && c != '+' && c != '?') after_quantifier = false;
        switch (c) {
            case '|': branches_.emplace_back(); can_repeat = false; ++i; continue;
            case '(': case ')': throw std::invalid_argument("groups '(...)' are not supported");
            case '{': throw std::invalid_argument("counted repetition '{m,n}' is not supported");
            case '^':
                if (!at_begin) throw std::invalid_argument("'^' only at the start of the pattern or after '|'");
                b.anchored_begin = true;
                can_repeat = false;
                ++i;
                continue;
            case '$':
                if (i + 1 < t.size() && t[i + 1] != '|') throw std::invalid_argument("'$' only at the end of the pattern or before '|'");
                b.anchored_end = true;
                can_repeat = false;
                ++i;
                continue;
            case '*': case '+': case '?': {
                if (c == '?' && after_quantifier) {  // a lazy quantifier: the same names match
                    after_quantifier = false;
                    ++i;
                    continue;
                }
                if (!can_repeat) throw std::invalid_argument(std::string("nothing to repeat before '") + c + "'");
                Item& last = b.items.back();
                if (c == '*') last.repeat = last.optional = true;
                else if (c == '?') last.optional = true;
                else b.items.push_back(Item{last.set, true, true});  // x+ = x x*
                can_repeat = false;
                after_quantifier = true;
                ++i;
                continue;
            }
            default: break;
        }
        Item it;
        if (c == '.') {
            it.set.set();
            ++i;
        } else if (c == '[') {
            ++i;
            it.set = parse_class(t, i);
        } else if (c == '\\') {
            if (i + 1 >= t.size()) throw std::invalid_argument("a '\\' at the end");
            if (const auto e = class_escape(t[i + 1])) it.set = *e;
            else add_char(it.set, byte(t[i + 1]));
            i += 2;
        } else {
            add_char(it.set, byte(c));
            ++i;
        }
        b.items.push_back(it);
        can_repeat = true;
    }
}

bool Pattern::search(const Branch& b, std::string_view name) {
    const std::size_t m = b.items.size();
    std::vector<char> cur(m + 1, 0), next(m + 1, 0);
    auto add = [&](std::vector<char>& v, std::size_t i) {  // state i and what it reaches by skipping
        while (true) {
            v[i] = 1;
            if (i == m || !b.items[i].optional) return;
            ++i;
        }
    };
    add(cur, 0);
    for (std::size_t pos = 0;; ++pos) {
        if (cur[m] && (!b.anchored_end || pos == name.size())) return true;
        if (pos == name.size()) return false;
        std::fill(next.begin(), next.end(), 0);
        const unsigned char ch = byte(name[pos]);
        for (std::size_t i = 0; i < m; ++i)
            if (cur[i] && b.items[i].set.test(ch)) add(next, b.items[i].repeat ? i : i + 1);
        if (!b.anchored_begin) add(next, 0);  // a match may start at the next character
        cur.swap(next);
    }
}

bool Pattern::search(std::string_view name) const {
    for (const Branch& b : branches_)
        if (search(b, name)) return true;
    return false;
}

}  // namespace libgrid::dss
