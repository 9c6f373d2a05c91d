// libgrid io (internal): OpenDSS's script parser. See dss_lexer.hpp.
#include "dss_lexer.hpp"

#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

namespace libgrid::dss {
namespace {

constexpr std::string_view kBeginQuotes = "(\"'[{";
constexpr std::string_view kEndQuotes = ")\"']}";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_comment(std::string_view s, std::size_t pos) {
    return s[pos] == '!' || (s[pos] == '/' && pos + 1 < s.size() && s[pos + 1] == '/');
}

/// The token scanner of ParserDel.pas: `delims` are the delimiter characters beside whitespace.
class Scanner {
public:
    Scanner(std::string_view s, std::string_view delims) : s_(s), delims_(delims) { skip_space(); }
    bool done() const { return pos_ >= s_.size() || stop_; }
    /// Next token; `last_delim` is '=' when it ended on '=', etc.
    std::string next(bool& quoted, char& last_delim) {
        quoted = false;
        last_delim = ' ';
        std::string tok;
        if (done()) return tok;
        const std::size_t q = kBeginQuotes.find(s_[pos_]);
        if (q != std::string_view::npos) {
            const char end = kEndQuotes[q];
            const std::size_t start = ++pos_;
            while (pos_ < s_.size() && s_[pos_] != end) ++pos_;
            tok = std::string(s_.substr(start, pos_ - start));
            if (pos_ < s_.size()) ++pos_;
            quoted = true;
        } else {
            const std::size_t start = pos_;
            while (pos_ < s_.size()) {
                if (is_comment(s_, pos_)) {
                    stop_ = true;
                    break;
                }
                if (is_space(s_[pos_]) || delims_.find(s_[pos_]) != std::string_view::npos) break;
                ++pos_;
            }
            tok = std::string(s_.substr(start, pos_ - start));
            if (stop_) return tok;
        }
        skip_space();
        if (pos_ < s_.size() && delims_.find(s_[pos_]) != std::string_view::npos) {
            last_delim = s_[pos_];
            ++pos_;
        }
        skip_space();
        if (pos_ < s_.size() && is_comment(s_, pos_)) stop_ = true;
        return tok;
    }

private:
    void skip_space() {
        while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
    }
    std::string_view s_;
    std::string_view delims_;
    std::size_t pos_ = 0;
    bool stop_ = false;
};

bool plain_double(const std::string& t, double& out) {
    if (t.empty()) {
        out = 0.0;
        return true;
    }
    const char* b = t.c_str();
    char* e = nullptr;
    errno = 0;
    out = std::strtod(b, &e);
    if (e == b || *e != '\0') return false;
    // strtod accepts "nan", "inf" and hex; OpenDSS's Val does not
    for (char c : t)
        if (std::isalpha(static_cast<unsigned char>(c)) && c != 'e' && c != 'E') return false;
    return std::isfinite(out);
}

/// OpenDSS's RPN calculator (RPN.pas): a stack of registers, X on top.
class Rpn {
public:
    void push(double v) {
        for (std::size_t i = regs_.size() - 1; i > 0; --i) regs_[i] = regs_[i - 1];
        regs_[0] = v;
    }
    double pop() {
        const double v = regs_[0];
        for (std::size_t i = 0; i + 1 < regs_.size(); ++i) regs_[i] = regs_[i + 1];
        return v;
    }
    double x() const { return regs_[0]; }
    void command(const std::string& tok);

private:
    std::array<double, 10> regs_{};
};

void Rpn::command(const std::string& raw) {
    const std::string t = to_lower(raw);
    constexpr double kDeg = 3.14159265358979323846 / 180.0;
    double v = 0.0;
    if (plain_double(raw, v)) return push(v);
    if (t == "+" || t == "-" || t == "*" || t == "/" || t == "^" || t == "atan2") {
        const double xx = pop();
        const double yy = pop();
        if (t == "+") return push(yy + xx);
        if (t == "-") return push(yy - xx);
        if (t == "*") return push(yy * xx);
        if (t == "/") return push(yy / xx);
        if (t == "^") return push(std::pow(yy, xx));
        return push(std::atan2(yy, xx) / kDeg);
    }
    if (t == "swap") {
        const double xx = pop();
        const double yy = pop();
        push(xx);
        return push(yy);
    }
    if (t == "pi") return push(3.14159265358979323846);
    if (t == "rollup") return push(regs_[regs_.size() - 1]);
    if (t == "rolldn") {
        const double xx = pop();
        regs_[regs_.size() - 1] = xx;
        return;
    }
    const double xx = pop();
    if (t == "sqrt") return push(std::sqrt(xx));
    if (t == "sqr") return push(xx * xx);
    if (t == "inv") return push(1.0 / xx);
    if (t == "chs") return push(-xx);
    if (t == "ln") return push(std::log(xx));
    if (t == "exp") return push(std::exp(xx));
    if (t == "log10") return push(std::log10(xx));
    if (t == "sin") return push(std::sin(xx * kDeg));
    if (t == "cos") return push(std::cos(xx * kDeg));
    if (t == "tan") return push(std::tan(xx * kDeg));
    if (t == "asin") return push(std::asin(xx) / kDeg);
    if (t == "acos") return push(std::acos(xx) / kDeg);
    if (t == "atan") return push(std::atan(xx) / kDeg);
    throw ValueError{"'" + raw + "' is not a number or an RPN operator"};
}

double eval_rpn(const std::string& text) {
    Rpn rpn;
    Scanner sc(text, ",=");
    bool quoted = false;
    char d = ' ';
    while (!sc.done()) {
        const std::string tok = sc.next(quoted, d);
        if (tok.empty() && !quoted) continue;
        if (quoted) rpn.push(eval_rpn(tok));
        else rpn.command(tok);
    }
    return rpn.x();
}

}  // namespace

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::vector<Param> split_params(std::string_view line) {
    std::vector<Param> out;
    Scanner sc(line, ",=");
    while (!sc.done()) {
        Param p;
        char d = ' ';
        std::string tok = sc.next(p.quoted, d);
        if (d == '=') {
            p.name = tok;
            p.value = sc.next(p.quoted, d);
        } else {
            p.value = tok;
        }
        if (p.name.empty() && p.value.empty() && !p.quoted) continue;
        out.push_back(std::move(p));
    }
    return out;
}

double parse_double(const std::string& value, bool quoted) {
    double v = 0.0;
    if (quoted) {
        if (value.size() > 4096) throw ValueError{"expression too long"};
        v = eval_rpn(value);
        if (!std::isfinite(v)) throw ValueError{"'" + value + "' does not give a finite number"};
        return v;
    }
    if (!plain_double(value, v)) throw ValueError{"'" + value + "' is not a number"};
    return v;
}

int parse_int(const std::string& value, bool quoted) {
    const double v = parse_double(value, quoted);
    if (std::fabs(v) > 1e9) throw ValueError{"'" + value + "' is out of range for an integer"};
    return static_cast<int>(std::lround(v));
}

bool parse_bool(const std::string& value) {
    const std::string v = to_lower(value);
    if (v.empty()) return true;
    if (v[0] == 'y' || v[0] == 't') return true;
    if (v[0] == 'n' || v[0] == 'f') return false;
    throw ValueError{"'" + value + "' is not yes or no"};
}

std::vector<double> parse_vector(const std::string& value) {
    std::vector<double> out;
    Scanner sc(value, ",=|");
    bool quoted = false;
    char d = ' ';
    while (!sc.done()) {
        const std::string tok = sc.next(quoted, d);
        if (tok.empty() && !quoted) continue;
        out.push_back(parse_double(tok, quoted));
    }
    return out;
}

std::vector<std::string> parse_string_array(const std::string& value) {
    std::vector<std::string> out;
    Scanner sc(value, ",=");
    bool quoted = false;
    char d = ' ';
    while (!sc.done()) {
        std::string tok = sc.next(quoted, d);
        if (tok.empty() && !quoted) continue;
        out.push_back(std::move(tok));
    }
    return out;
}

std::vector<double> parse_sym_matrix(const std::string& value, int n) {
    if (n < 1 || n > 100) throw ValueError{"matrix order " + std::to_string(n) + " out of range"};
    const std::size_t un = static_cast<std::size_t>(n);
    std::vector<double> m(un * un, 0.0);
    std::size_t row = 0;
    std::size_t start = 0;
    while (start <= value.size() && row < un) {
        std::size_t bar = value.find('|', start);
        if (bar == std::string::npos) bar = value.size();
        const std::vector<double> vals = parse_vector(value.substr(start, bar - start));
        for (std::size_t j = 0; j < vals.size() && j <= row; ++j) {
            m[row * un + j] = vals[j];
            m[j * un + row] = vals[j];
        }
        ++row;
        start = bar + 1;
    }
    return m;
}

void parse_bus_spec(const std::string& spec, std::string& name, std::vector<int>& nodes) {
    nodes.clear();
    const std::size_t dot = spec.find('.');
    name = to_lower(spec.substr(0, dot));
    while (!name.empty() && is_space(name.back())) name.pop_back();
    if (dot == std::string::npos) return;
    std::size_t start = dot + 1;
    while (start <= spec.size()) {
        std::size_t next = spec.find('.', start);
        if (next == std::string::npos) next = spec.size();
        std::string tok = spec.substr(start, next - start);
        while (!tok.empty() && is_space(tok.back())) tok.pop_back();
        if (tok.empty()) break;  // "bus." : no more nodes, as OpenDSS stops on an empty token
        for (char c : tok)
            if (!std::isdigit(static_cast<unsigned char>(c)))
                throw ValueError{"node '" + tok + "' of bus '" + spec + "' is not a node number"};
        if (tok.size() > 6) throw ValueError{"node '" + tok + "' of bus '" + spec + "' is too large"};
        nodes.push_back(std::stoi(tok));
        start = next + 1;
    }
}

}  // namespace libgrid::dss
