// MATPOWER case files: reader and writer. See docs/matpower.md for the format subset and mapping.
//
// The reader is a hand-written scanner over the file text (no iostreams, no regex): it understands
// the literal subset of MATLAB that case files use - `function mpc = NAME`, `mpc.FIELD = VALUE;`
// with VALUE a number, a string, a matrix or a cell array, `%` / `#` comments, `%{ ... %}` block
// comments and `...` continuations - and rejects everything else with a ParseError naming the line.
#include <libgrid/core/input_file.hpp>
#include <libgrid/io/matpower.hpp>

#include <libgrid/core/errors.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace libgrid {
namespace {

constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53: larger doubles skip integers

// ---------------------------------------------------------------------------------------------
// Column layout of the three required matrices (MATPOWER's idx_bus / idx_gen / idx_brch).
// ---------------------------------------------------------------------------------------------

/// What a column may hold.
enum class Kind {
    BusNumber,  ///< positive integer <= 2^53
    Integer,    ///< integer that fits an int
    Finite,     ///< any finite number
    Limit,      ///< a number or +-Inf (not NaN)
};

struct Column {
    const char* name;
    Kind kind;
};

constexpr std::array<Column, 13> kBusColumns{{{"bus_i", Kind::BusNumber},
                                              {"type", Kind::Integer},
                                              {"Pd", Kind::Finite},
                                              {"Qd", Kind::Finite},
                                              {"Gs", Kind::Finite},
                                              {"Bs", Kind::Finite},
                                              {"area", Kind::Integer},
                                              {"Vm", Kind::Finite},
                                              {"Va", Kind::Finite},
                                              {"baseKV", Kind::Finite},
                                              {"zone", Kind::Integer},
                                              {"Vmax", Kind::Limit},
                                              {"Vmin", Kind::Limit}}};

constexpr std::array<Column, 10> kGenColumns{{{"bus", Kind::BusNumber},
                                              {"Pg", Kind::Finite},
                                              {"Qg", Kind::Finite},
                                              {"Qmax", Kind::Limit},
                                              {"Qmin", Kind::Limit},
                                              {"Vg", Kind::Finite},
                                              {"mBase", Kind::Finite},
                                              {"status", Kind::Finite},
                                              {"Pmax", Kind::Limit},
                                              {"Pmin", Kind::Limit}}};

constexpr std::array<Column, 13> kBranchColumns{{{"fbus", Kind::BusNumber},
                                                 {"tbus", Kind::BusNumber},
                                                 {"r", Kind::Finite},
                                                 {"x", Kind::Finite},
                                                 {"b", Kind::Finite},
                                                 {"rateA", Kind::Limit},
                                                 {"rateB", Kind::Limit},
                                                 {"rateC", Kind::Limit},
                                                 {"ratio", Kind::Finite},
                                                 {"angle", Kind::Finite},
                                                 {"status", Kind::Finite},
                                                 {"angmin", Kind::Limit},
                                                 {"angmax", Kind::Limit}}};

constexpr std::size_t kBusMinColumns = 13;
constexpr std::size_t kGenMinColumns = 10;
constexpr std::size_t kBranchMinColumns = 11;

// ---------------------------------------------------------------------------------------------
// Parsed (not yet validated) values.
// ---------------------------------------------------------------------------------------------

/// A numeric matrix, row-major, with the line of every element for error messages.
struct Matrix {
    bool present = false;
    long line = 0;  ///< line of the assignment
    std::size_t ncols = 0;
    std::vector<double> value;  ///< rows() * ncols values
    std::vector<long> element_line;
    std::vector<long> row_line;  ///< line of each row's first element

    std::size_t rows() const { return row_line.size(); }
    double at(std::size_t r, std::size_t c) const { return value[r * ncols + c]; }
    long line_of(std::size_t r, std::size_t c) const { return element_line[r * ncols + c]; }
};

struct StringList {
    bool present = false;
    long line = 0;
    std::vector<std::string> items;
};

std::string describe_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
    if (c == ' ') return "a space";
    if (c == '\t') return "a tab";
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02X", static_cast<unsigned>(u));
    return buf;
}

std::string number_text(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "Inf" : "-Inf";
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

bool is_ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident_char(char c) {
    return is_ident_start(c) || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

/// MATLAB's reserved words (iskeyword), which cannot name a function.
bool is_keyword(std::string_view w) {
    static constexpr std::array<std::string_view, 20> kKeywords{
        "break",      "case",   "catch",    "classdef", "continue", "else",      "elseif",
        "end",        "for",    "function", "global",   "if",       "otherwise", "parfor",
        "persistent", "return", "spmd",     "switch",   "try",      "while"};
    for (const std::string_view k : kKeywords)
        if (w == k) return true;
    return false;
}

/// Lowest-level scanner: position, line counting, blanks, comments, continuations.
class Scanner {
public:
    Scanner(std::string_view text, const std::string& file) : s_(text), file_(file) {
        if (s_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = line_start_ = 3;  // UTF-8 byte order mark
    }

    [[noreturn]] void fail(long line, const std::string& message) const {
        throw ParseError(file_, line, message);
    }
    [[noreturn]] void fail(const std::string& message) const { fail(line_, message); }

    bool eof() const { return pos_ >= s_.size(); }
    char peek(std::size_t k = 0) const { return pos_ + k < s_.size() ? s_[pos_ + k] : '\0'; }
    long line() const { return line_; }
    std::size_t pos() const { return pos_; }
    void advance(std::size_t n = 1) { pos_ += n; }
    std::string_view text() const { return s_; }

    bool at_newline() const { return !eof() && (s_[pos_] == '\n' || s_[pos_] == '\r'); }
    void consume_newline() {  // "\n", "\r\n" or a lone "\r"
        if (s_[pos_] == '\r' && peek(1) == '\n') ++pos_;
        ++pos_;
        ++line_;
        line_start_ = pos_;
    }
    bool at_comment() const { return !eof() && (s_[pos_] == '%' || s_[pos_] == '#'); }
    bool at_continuation() const { return peek() == '.' && peek(1) == '.' && peek(2) == '.'; }

    void skip_blanks() {
        while (!eof() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\f' || s_[pos_] == '\v'))
            ++pos_;
    }

    /// At '%' or '#': skip a line comment (up to, not including, the newline) or a block comment.
    void skip_comment() {
        if (line_is_only_marker('{')) {
            skip_block_comment();
            return;
        }
        while (!eof() && !at_newline())
            ++pos_;
    }

    /// At "...": the rest of the line is a comment and the line break does not count.
    void skip_continuation() {
        while (!eof() && !at_newline())
            ++pos_;
        if (!eof()) consume_newline();
    }

    /// Skip blanks, comments and continuations, stopping at a newline or other character.
    void skip_inline() {
        for (;;) {
            skip_blanks();
            if (at_comment()) {
                skip_comment();
            } else if (at_continuation()) {
                skip_continuation();
            } else {
                return;
            }
        }
    }

    std::string_view read_identifier() {
        const std::size_t start = pos_;
        while (!eof() && is_ident_char(s_[pos_]))
            ++pos_;
        return s_.substr(start, pos_ - start);
    }

    /// At a quote: read a MATLAB string literal ('it''s' or "say ""hi""").
    std::string read_string() {
        const char quote = s_[pos_];
        const long open_line = line_;
        ++pos_;
        std::string out;
        for (;;) {
            if (eof() || at_newline())
                fail(open_line,
                     std::string("unterminated string: expected the closing ") + quote + " on the same line");
            const char c = s_[pos_];
            if (c == quote) {
                if (peek(1) == quote) {
                    out.push_back(quote);
                    pos_ += 2;
                    continue;
                }
                ++pos_;
                return out;
            }
            const auto u = static_cast<unsigned char>(c);
            if ((u < 0x20 && c != '\t') || u == 0x7f)
                fail("unexpected " + describe_char(c) + " inside a string");
            out.push_back(c);
            ++pos_;
        }
    }

private:
    /// Is the current '%'/'#' followed by `brace` the only thing on its line (block comment)?
    bool line_is_only_marker(char brace) const {
        if (peek(1) != brace) return false;
        for (std::size_t i = line_start_; i < pos_; ++i)
            if (s_[i] != ' ' && s_[i] != '\t') return false;
        for (std::size_t i = pos_ + 2; i < s_.size() && s_[i] != '\n' && s_[i] != '\r'; ++i)
            if (s_[i] != ' ' && s_[i] != '\t') return false;
        return true;
    }

    void skip_block_comment() {  // at "%{" alone on its line; MATLAB block comments nest
        const long open_line = line_;
        int depth = 0;
        for (;;) {
            skip_blanks();
            if (at_comment() && line_is_only_marker('{')) {
                ++depth;
            } else if (at_comment() && line_is_only_marker('}')) {
                if (--depth == 0) {
                    while (!eof() && !at_newline())
                        ++pos_;
                    return;
                }
            }
            while (!eof() && !at_newline())
                ++pos_;
            if (eof()) fail(open_line, "unterminated block comment: expected a line holding only '%}'");
            consume_newline();
        }
    }

    std::string_view s_;
    const std::string& file_;
    std::size_t pos_ = 0;
    std::size_t line_start_ = 0;
    long line_ = 1;
};

/// The case-file parser: statements and values.
class Parser {
public:
    Parser(std::string_view text, const std::string& file) : sc_(text, file) {}

    Network parse();

private:
    // -- statements --
    void parse_function_header();
    void parse_assignment();
    void expect_statement_end(const std::string& what);
    void skip_value(const std::string& what);

    // -- values --
    double parse_number(const std::string& field, std::size_t row = 0);
    double parse_scalar(const std::string& what);
    void parse_matrix(const std::string& what, std::size_t min_cols, Matrix& m);
    void parse_string_cell(const std::string& what, StringList& list);

    // -- validation and mapping --
    [[noreturn]] void fail_cell(const Matrix& m, const char* field, std::size_t r, std::size_t c,
                                const char* column, const std::string& message) const;
    void check_columns(const Matrix& m, const char* field, const Column* columns,
                       std::size_t n_columns) const;
    Network build() const;
    using BusRows = std::unordered_map<Id, std::size_t>;
    BusRows build_buses(Network& net) const;
    void build_bus_injections(Network& net) const;
    Id known_bus(const BusRows& rows, const Matrix& m, const char* field, std::size_t r, std::size_t c,
                 const char* column) const;
    void build_gens(Network& net, const BusRows& rows) const;
    void build_branches(Network& net, const BusRows& rows) const;

    Scanner sc_;
    std::string name_;
    std::string var_ = "mpc";
    bool first_statement_ = true;
    bool returned_ = false;
    long base_mva_line_ = 0;
    double base_mva_ = 0.0;
    Matrix bus_, gen_, branch_;
    StringList bus_name_;
    std::unordered_map<std::string, long> assigned_;  ///< field -> line of its assignment
};

double Parser::parse_number(const std::string& field, std::size_t row) {
    // the context for error messages, built only when one is thrown
    const auto what = [&] { return row ? field + " row " + std::to_string(row) : field; };
    const std::string_view s = sc_.text();
    const long line = sc_.line();
    bool negative = false;
    if (sc_.peek() == '+' || sc_.peek() == '-') {
        negative = sc_.peek() == '-';
        sc_.advance();
        const char c = sc_.peek();
        if (!(is_digit(c) || c == '.' || is_ident_start(c)))
            sc_.fail(what() + ": expected a number after the sign, found " +
                     (sc_.eof() ? std::string("the end of the file") : describe_char(c)) +
                     " (expressions are not supported)");
    }
    double value = 0.0;
    const std::size_t start = sc_.pos();
    if (is_ident_start(sc_.peek())) {
        const std::string_view word = sc_.read_identifier();
        if (word == "Inf" || word == "inf") {
            value = kInf;
        } else if (word == "NaN" || word == "nan") {
            value = kNaN;
        } else {
            sc_.fail(what() + ": expected a number, found '" + std::string(word) + "'");
        }
    } else {
        // decimal literal: digits [. digits] [(e|E) [+-] digits]
        std::size_t p = start;
        std::size_t mantissa_digits = 0;
        while (p < s.size() && is_digit(s[p]))
            ++p, ++mantissa_digits;
        if (p < s.size() && s[p] == '.' && !(p + 2 < s.size() && s[p + 1] == '.' && s[p + 2] == '.')) {
            ++p;
            while (p < s.size() && is_digit(s[p]))
                ++p, ++mantissa_digits;
        }
        if (mantissa_digits == 0)
            sc_.fail(what() + ": expected a number, found " +
                     (start < s.size() ? describe_char(s[start]) : std::string("the end of the file")));
        const std::size_t mantissa_end = p;
        long exponent = 0;
        if (p < s.size() && (s[p] == 'e' || s[p] == 'E')) {
            ++p;
            bool exp_negative = false;
            if (p < s.size() && (s[p] == '+' || s[p] == '-')) exp_negative = s[p++] == '-';
            if (p >= s.size() || !is_digit(s[p]))
                sc_.fail(what() + ": malformed number '" + std::string(s.substr(start, p - start)) +
                         "': expected digits in the exponent");
            while (p < s.size() && is_digit(s[p])) {
                if (exponent < 100000000) exponent = exponent * 10 + (s[p] - '0');
                ++p;
            }
            if (exp_negative) exponent = -exponent;
        }
        const auto [ptr, ec] =
            std::from_chars(s.data() + start, s.data() + p, value, std::chars_format::general);
        if (ec == std::errc::result_out_of_range) {
            // Underflow (|value| below the smallest subnormal) reads as 0, as in MATLAB; overflow is an
            // error. The decimal exponent of the leading significant digit tells which one it was.
            long int_digits = 0;
            while (start + int_digits < mantissa_end && s[start + int_digits] != '.')
                ++int_digits;
            long lead = 0;
            bool found = false;
            for (long k = 0; k < int_digits && !found; ++k)
                if (s[start + k] != '0') lead = int_digits - 1 - k, found = true;
            for (std::size_t j = start + int_digits + 1, k = 1; j < mantissa_end && !found; ++j, ++k)
                if (s[j] != '0') lead = -static_cast<long>(k), found = true;
            if (lead + exponent > 0)
                sc_.fail(what() + ": number '" + std::string(s.substr(start, p - start)) +
                         "' is too large for a double");
            value = 0.0;
        } else if (ec != std::errc() || ptr != s.data() + p) {
            sc_.fail(what() + ": malformed number '" + std::string(s.substr(start, p - start)) + "'");
        }
        sc_.advance(p - start);
    }
    // A number must be followed by a delimiter: anything else would be an expression or garbage.
    const char c = sc_.peek();
    if (!(sc_.eof() || c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\n' || c == '\r' ||
          c == ',' || c == ';' || c == ']' || c == '}' || c == '%' || c == '#' || sc_.at_continuation())) {
        sc_.fail(line, what() + ": unexpected " + describe_char(c) + " after the number '" +
                           std::string(s.substr(start, sc_.pos() - start)) +
                           "' (only literal numbers are supported, not expressions)");
    }
    return negative ? -value : value;
}

double Parser::parse_scalar(const std::string& what) {
    sc_.skip_inline();
    if (sc_.peek() == '[') {
        Matrix m;
        parse_matrix(what, 1, m);
        if (m.rows() != 1 || m.ncols != 1)
            sc_.fail(m.line, what + ": expected a single number, found a " + std::to_string(m.rows()) +
                                 " x " + std::to_string(m.ncols) + " matrix");
        return m.value[0];
    }
    if (sc_.eof() || sc_.at_newline() || sc_.peek() == ';') sc_.fail(what + ": expected a number after '='");
    return parse_number(what);
}

void Parser::parse_matrix(const std::string& what, std::size_t min_cols, Matrix& m) {
    sc_.skip_inline();
    if (sc_.peek() != '[')
        sc_.fail(what + ": expected '[' to start a matrix, found " +
                 (sc_.eof() ? std::string("the end of the file") : describe_char(sc_.peek())));
    const long open_line = sc_.line();
    m.present = true;
    m.line = open_line;
    sc_.advance();

    std::size_t n_in_row = 0;
    long row_line = 0;
    bool after_comma = false;
    auto end_row = [&]() {
        if (n_in_row == 0) return;
        const std::size_t r = m.rows() + 1;
        if (n_in_row < min_cols)
            sc_.fail(row_line, what + " row " + std::to_string(r) + ": expected at least " +
                                   std::to_string(min_cols) + " columns, found " + std::to_string(n_in_row));
        if (r == 1) {
            m.ncols = n_in_row;
        } else if (n_in_row != m.ncols) {
            sc_.fail(row_line, what + " row " + std::to_string(r) + ": expected " + std::to_string(m.ncols) +
                                   " columns as in row 1, found " + std::to_string(n_in_row));
        }
        m.row_line.push_back(row_line);
        n_in_row = 0;
        after_comma = false;
    };

    for (;;) {
        sc_.skip_blanks();
        if (sc_.eof())
            sc_.fail(open_line, what +
                                    ": the matrix opened here is never closed: expected ']' before the "
                                    "end of the file");
        const char c = sc_.peek();
        if (sc_.at_comment()) {
            sc_.skip_comment();
        } else if (sc_.at_continuation()) {
            sc_.skip_continuation();
        } else if (c == '\n' || c == '\r') {
            end_row();
            sc_.consume_newline();
        } else if (c == ';') {
            end_row();
            sc_.advance();
        } else if (c == ',') {
            if (n_in_row == 0 || after_comma)
                sc_.fail(what + " row " + std::to_string(m.rows() + 1) + ": unexpected ',' (missing number)");
            after_comma = true;
            sc_.advance();
        } else if (c == ']') {
            end_row();
            sc_.advance();
            return;
        } else if (is_digit(c) || c == '.' || c == '+' || c == '-' || is_ident_start(c)) {
            if (n_in_row == 0) row_line = sc_.line();
            if (is_ident_start(c)) {
                // A word other than Inf/NaN here most likely means a missing ']' before the next statement.
                const std::string_view rest = sc_.text().substr(sc_.pos());
                std::size_t n = 0;
                while (n < rest.size() && is_ident_char(rest[n]))
                    ++n;
                const std::string_view word = rest.substr(0, n);
                if (!(word == "Inf" || word == "inf" || word == "NaN" || word == "nan"))
                    sc_.fail(what + " row " + std::to_string(m.rows() + 1) +
                             ": expected a number, ';' or ']', "
                             "found '" +
                             std::string(word) + "' (is the ']' closing the matrix opened at line " +
                             std::to_string(open_line) + " missing?)");
            }
            const long line = sc_.line();
            const double v = parse_number(what, m.rows() + 1);
            m.value.push_back(v);
            m.element_line.push_back(line);
            ++n_in_row;
            after_comma = false;
        } else {
            sc_.fail(what + " row " + std::to_string(m.rows() + 1) +
                     ": expected a number, ';' or ']', found " + describe_char(c));
        }
    }
}

void Parser::parse_string_cell(const std::string& what, StringList& list) {
    sc_.skip_inline();
    if (sc_.peek() != '{')
        sc_.fail(what + ": expected '{' to start a cell array of strings, found " +
                 (sc_.eof() ? std::string("the end of the file") : describe_char(sc_.peek())));
    const long open_line = sc_.line();
    list.present = true;
    list.line = open_line;
    sc_.advance();
    std::size_t n_rows = 0, n_in_row = 0, max_in_row = 0;
    auto end_row = [&]() {
        if (n_in_row == 0) return;
        ++n_rows;
        if (n_in_row > max_in_row) max_in_row = n_in_row;
        n_in_row = 0;
    };
    for (;;) {
        sc_.skip_blanks();
        if (sc_.eof())
            sc_.fail(open_line, what +
                                    ": the cell array opened here is never closed: expected '}' before "
                                    "the end of the file");
        const char c = sc_.peek();
        if (sc_.at_comment()) {
            sc_.skip_comment();
        } else if (sc_.at_continuation()) {
            sc_.skip_continuation();
        } else if (c == '\n' || c == '\r') {
            end_row();
            sc_.consume_newline();
        } else if (c == ';') {
            end_row();
            sc_.advance();
        } else if (c == ',') {
            sc_.advance();
        } else if (c == '}') {
            end_row();
            sc_.advance();
            break;
        } else if (c == '\'' || c == '"') {
            list.items.push_back(sc_.read_string());
            ++n_in_row;
            const char d = sc_.peek();
            if (!(sc_.eof() || d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == ',' || d == ';' ||
                  d == '}' || d == '%' || d == '#' || sc_.at_continuation()))
                sc_.fail(what + " entry " + std::to_string(list.items.size()) + ": unexpected " +
                         describe_char(d) + " after the string");
        } else {
            sc_.fail(what + " entry " + std::to_string(list.items.size() + 1) +
                     ": expected a quoted string, ';' or '}', found " + describe_char(c));
        }
    }
    if (n_rows > 1 && max_in_row > 1)
        sc_.fail(open_line, what + ": expected a column of strings (one per row), found " +
                                std::to_string(n_rows) + " rows with up to " + std::to_string(max_in_row) +
                                " entries");
}

/// Skip the value of a field libgrid does not use, respecting brackets, strings and comments.
void Parser::skip_value(const std::string& what) {
    std::vector<std::pair<char, long>> open;  // bracket, line
    const std::string_view s = sc_.text();
    for (;;) {
        if (sc_.eof()) {
            if (open.empty()) return;
            sc_.fail(open.back().second, what + ": the '" + std::string(1, open.back().first) +
                                             "' opened here is never closed before the end of the file");
        }
        const char c = sc_.peek();
        const auto u = static_cast<unsigned char>(c);
        if (c == ' ' || c == '\t' || c == '\f' || c == '\v') {
            sc_.advance();
        } else if (c == '\n' || c == '\r') {
            if (open.empty()) return;
            sc_.consume_newline();
        } else if (sc_.at_comment()) {
            sc_.skip_comment();
        } else if (sc_.at_continuation()) {
            sc_.skip_continuation();
        } else if (c == ';' || c == ',') {
            if (open.empty()) return;
            sc_.advance();
        } else if (c == '(' || c == '[' || c == '{') {
            open.emplace_back(c, sc_.line());
            sc_.advance();
        } else if (c == ')' || c == ']' || c == '}') {
            const char want = c == ')' ? '(' : c == ']' ? '[' : '{';
            if (open.empty() || open.back().first != want)
                sc_.fail(what + ": unexpected '" + std::string(1, c) + "'" +
                         (open.empty() ? std::string()
                                       : " (the '" + std::string(1, open.back().first) + "' opened at line " +
                                             std::to_string(open.back().second) + " is still open)"));
            open.pop_back();
            sc_.advance();
        } else if (c == '"') {
            sc_.read_string();
        } else if (c == '\'') {
            // MATLAB: a quote right after a value is the transpose operator, else it opens a string.
            const char prev = sc_.pos() > 0 ? s[sc_.pos() - 1] : ' ';
            if (is_ident_char(prev) || prev == ')' || prev == ']' || prev == '}' || prev == '.' ||
                prev == '\'')
                sc_.advance();
            else
                sc_.read_string();
        } else if ((u < 0x20) || u >= 0x7f) {
            sc_.fail(what + ": unexpected " + describe_char(c));
        } else {
            sc_.advance();
        }
    }
}

void Parser::expect_statement_end(const std::string& what) {
    sc_.skip_inline();
    if (sc_.eof() || sc_.at_newline()) return;
    const char c = sc_.peek();
    if (c == ';' || c == ',') {
        sc_.advance();
        return;
    }
    sc_.fail("expected ';' or the end of the line after " + what + ", found " + describe_char(c));
}

void Parser::parse_function_header() {
    // function mpc = NAME | function [mpc] = NAME, optionally NAME()
    sc_.skip_inline();
    std::string out;
    if (sc_.peek() == '[') {
        sc_.advance();
        sc_.skip_inline();
        out = std::string(sc_.read_identifier());
        sc_.skip_inline();
        if (sc_.peek() == ',')
            sc_.fail(
                "a function with several outputs (MATPOWER case format version 1) is not supported: "
                "expected 'function mpc = NAME' (convert the case with MATPOWER's savecase)");
        if (sc_.peek() != ']') sc_.fail("malformed function line: expected ']' after the output name");
        sc_.advance();
    } else {
        out = std::string(sc_.read_identifier());
    }
    if (out.empty()) sc_.fail("malformed function line: expected 'function mpc = NAME'");
    sc_.skip_inline();
    if (sc_.peek() != '=')
        sc_.fail("a case file function must return its case struct: expected 'function " + out + " = NAME'");
    sc_.advance();
    sc_.skip_inline();
    const std::string_view name = sc_.read_identifier();
    if (name.empty() || !is_ident_start(name[0]))
        sc_.fail("malformed function line: expected a function name after '='");
    if (is_keyword(name) || is_keyword(out))
        sc_.fail("malformed function line: '" + std::string(is_keyword(name) ? name : std::string_view(out)) +
                 "' is a MATLAB keyword and cannot be a name");
    sc_.skip_inline();
    if (sc_.peek() == '(') {
        sc_.advance();
        sc_.skip_inline();
        if (sc_.peek() != ')') sc_.fail("a case file function takes no arguments: expected ')'");
        sc_.advance();
    }
    var_ = out;
    name_ = std::string(name);
    expect_statement_end("the function line");
}

void Parser::parse_assignment() {
    // at `var.` : read the field path
    const long line = sc_.line();
    std::string field;
    while (sc_.peek() == '.') {
        sc_.advance();
        const std::string_view part = sc_.read_identifier();
        if (part.empty() || !is_ident_start(part[0]))
            sc_.fail("expected a field name after '" + var_ + "." + field + "'");
        if (!field.empty()) field += '.';
        field += part;
    }
    const std::string what = var_ + "." + field;
    const bool used = field == "baseMVA" || field == "bus" || field == "gen" || field == "branch" ||
                      field == "bus_name" || field == "version";
    sc_.skip_inline();
    if (sc_.peek() == '(' || sc_.peek() == '{') {
        if (used)
            sc_.fail("indexed assignment to " + what +
                     " is not supported: only literal case data is "
                     "(a case file that computes its data must be evaluated by MATLAB/Octave and saved)");
        skip_value(what);
        expect_statement_end(what);
        return;
    }
    if (sc_.peek() != '=' || sc_.peek(1) == '=')
        sc_.fail("expected '=' after " + what + ", found " +
                 (sc_.eof() ? std::string("the end of the file") : describe_char(sc_.peek())));
    sc_.advance();
    const auto [it, inserted] = assigned_.emplace(field, line);
    if (!inserted)
        sc_.fail(line,
                 what + " is assigned a second time (first at line " + std::to_string(it->second) + ")");

    if (field == "baseMVA") {
        base_mva_line_ = line;
        base_mva_ = parse_scalar(what);
        if (!(std::isfinite(base_mva_) && base_mva_ > 0.0))
            sc_.fail(line, what + ": expected a positive finite number, found " + number_text(base_mva_));
    } else if (field == "bus") {
        parse_matrix(what, kBusMinColumns, bus_);
    } else if (field == "gen") {
        parse_matrix(what, kGenMinColumns, gen_);
    } else if (field == "branch") {
        parse_matrix(what, kBranchMinColumns, branch_);
    } else if (field == "bus_name") {
        parse_string_cell(what, bus_name_);
    } else if (field == "version") {
        sc_.skip_inline();
        std::string version;
        if (sc_.peek() == '\'' || sc_.peek() == '"') {
            version = sc_.read_string();
        } else {
            const double v = parse_scalar(what);
            version = v == 1.0 ? "1" : v == 2.0 ? "2" : "?";
        }
        if (version != "2" && version != "1")
            sc_.fail(line,
                     what + ": unsupported MATPOWER case format version '" + version + "', expected '2'");
    } else {
        skip_value(what);
    }
    expect_statement_end(what);
}

Network Parser::parse() {
    for (;;) {
        // between statements: blanks, comments, empty statements
        for (;;) {
            sc_.skip_inline();
            if (sc_.at_newline()) {
                sc_.consume_newline();
            } else if (sc_.peek() == ';' || sc_.peek() == ',') {
                sc_.advance();
            } else {
                break;
            }
        }
        if (sc_.eof()) break;
        const char c = sc_.peek();
        if (!is_ident_start(c))
            sc_.fail("unexpected " + describe_char(c) + ": expected a statement such as '" + var_ +
                     ".bus = [ ... ];'");
        const std::string_view word = sc_.read_identifier();
        if (word == "function") {
            if (!first_statement_)
                sc_.fail("unexpected 'function': a case file holds exactly one function, at its start");
            parse_function_header();
        } else if (word == "end" || word == "endfunction") {
            expect_statement_end("'" + std::string(word) + "'");
        } else if (word == "return") {
            returned_ = true;  // MATLAB would ignore what follows: allow only comments and 'end' there
            expect_statement_end("'return'");
        } else if (returned_) {
            sc_.fail("unexpected '" + std::string(word) +
                     "' after 'return': statements after 'return' are "
                     "not supported");
        } else if (word == var_ && sc_.peek() == '.') {
            parse_assignment();
        } else {
            sc_.fail("unexpected '" + std::string(word) + "': expected a statement such as '" + var_ +
                     ".bus = [ ... ];' (only literal case data is supported)");
        }
        first_statement_ = false;
    }

    std::string missing;
    for (const char* f : {"baseMVA", "bus", "gen", "branch"}) {
        if (!assigned_.count(f)) missing += (missing.empty() ? "" : ", ") + var_ + "." + f;
    }
    // the last line of the file (a final line break does not start another line)
    const std::string_view text = sc_.text();
    const long last_line = sc_.line() > 1 && !text.empty() && (text.back() == '\n' || text.back() == '\r')
                               ? sc_.line() - 1
                               : sc_.line();
    if (!missing.empty())
        sc_.fail(last_line, "missing " + missing + " (a MATPOWER case needs " + var_ + ".baseMVA, " + var_ +
                                ".bus, " + var_ + ".gen and " + var_ + ".branch)");
    return build();
}

void Parser::fail_cell(const Matrix& m, const char* field, std::size_t r, std::size_t c, const char* column,
                       const std::string& message) const {
    sc_.fail(m.line_of(r, c), var_ + "." + field + " row " + std::to_string(r + 1) + ", column " +
                                  std::to_string(c + 1) + " (" + column + "): " + message);
}

void Parser::check_columns(const Matrix& m, const char* field, const Column* columns,
                           std::size_t n_columns) const {
    const std::size_t nc = std::min(n_columns, m.ncols);
    for (std::size_t r = 0; r < m.rows(); ++r) {
        for (std::size_t c = 0; c < nc; ++c) {
            const double v = m.at(r, c);
            const Column& col = columns[c];
            switch (col.kind) {
                case Kind::Limit:
                    if (std::isnan(v))
                        fail_cell(m, field, r, c, col.name, "expected a number or +-Inf, found NaN");
                    break;
                case Kind::Finite:
                    if (!std::isfinite(v))
                        fail_cell(m, field, r, c, col.name,
                                  "expected a finite number, found " + number_text(v));
                    break;
                case Kind::Integer:
                    if (!(std::isfinite(v) && v == std::floor(v) && std::fabs(v) <= 2147483647.0))
                        fail_cell(m, field, r, c, col.name, "expected an integer, found " + number_text(v));
                    break;
                case Kind::BusNumber:
                    if (!(std::isfinite(v) && v == std::floor(v) && v >= 1.0 && v <= kMaxExactInteger))
                        fail_cell(m, field, r, c, col.name,
                                  "expected a bus number (a positive integer), found " + number_text(v));
                    break;
            }
        }
    }
}

Network Parser::build() const {
    check_columns(bus_, "bus", kBusColumns.data(), kBusColumns.size());
    check_columns(gen_, "gen", kGenColumns.data(), kGenColumns.size());
    check_columns(branch_, "branch", kBranchColumns.data(), kBranchColumns.size());
    if (bus_.rows() == 0) sc_.fail(bus_.line, var_ + ".bus is empty: expected at least one bus");

    Network net;
    net.name = name_;
    net.sn_mva = base_mva_;
    const BusRows row_of_bus = build_buses(net);
    build_bus_injections(net);
    build_gens(net, row_of_bus);
    build_branches(net, row_of_bus);
    return net;
}

/// Buses (with their names); returns the row of each bus number.
Parser::BusRows Parser::build_buses(Network& net) const {
    const std::size_t nb = bus_.rows();
    BusRows row_of_bus;
    row_of_bus.reserve(nb * 2);
    net.buses.reserve(nb);
    for (std::size_t r = 0; r < nb; ++r) {
        const Id id = static_cast<Id>(bus_.at(r, 0));
        const auto [it, inserted] = row_of_bus.emplace(id, r);
        if (!inserted)
            sc_.fail(bus_.row_line[r], var_ + ".bus row " + std::to_string(r + 1) +
                                           ": duplicate bus number " + std::to_string(id) + " (also in row " +
                                           std::to_string(it->second + 1) + ")");
        const double type = bus_.at(r, 1);
        if (type < 1.0 || type > 4.0)
            fail_cell(bus_, "bus", r, 1, "type",
                      "expected 1 (PQ), 2 (PV), 3 (reference) or 4 (isolated), found " + number_text(type));
        const double base_kv = bus_.at(r, 9);
        if (base_kv < 0.0)
            fail_cell(bus_, "bus", r, 9, "baseKV",
                      "expected a voltage >= 0 kV (0 = unknown), found " + number_text(base_kv));
        Bus b;
        b.id = id;
        b.type = static_cast<BusType>(static_cast<int>(type));
        b.vm_pu = bus_.at(r, 7);
        b.va_deg = bus_.at(r, 8);
        b.vn_kv = base_kv;
        b.area = static_cast<int>(bus_.at(r, 6));
        b.zone = static_cast<int>(bus_.at(r, 10));
        b.vmax_pu = bus_.at(r, 11);
        b.vmin_pu = bus_.at(r, 12);
        net.buses.push_back(std::move(b));
    }
    if (bus_name_.present) {
        if (bus_name_.items.size() != nb)
            sc_.fail(bus_name_.line, var_ + ".bus_name: expected one name per bus (" + std::to_string(nb) +
                                         "), found " + std::to_string(bus_name_.items.size()));
        for (std::size_t r = 0; r < nb; ++r)
            net.buses[r].name = bus_name_.items[r];
    }
    return row_of_bus;
}

/// Loads from Pd, Qd and shunts from Gs, Bs, one per bus that has them (id = bus number).
void Parser::build_bus_injections(Network& net) const {
    const std::size_t nb = bus_.rows();
    for (std::size_t r = 0; r < nb; ++r) {
        const double pd = bus_.at(r, 2), qd = bus_.at(r, 3);
        if (pd != 0.0 || qd != 0.0) {
            Load l;
            l.id = net.buses[r].id;
            l.bus = net.buses[r].id;
            l.p_mw = pd;
            l.q_mvar = qd;
            net.loads.push_back(std::move(l));
        }
    }
    for (std::size_t r = 0; r < nb; ++r) {
        const double gs = bus_.at(r, 4), bs = bus_.at(r, 5);
        if (gs != 0.0 || bs != 0.0) {
            Shunt sh;
            sh.id = net.buses[r].id;
            sh.bus = net.buses[r].id;
            sh.p_mw = gs;
            sh.q_mvar = -bs;  // Bs > 0 is a capacitor, which draws negative Q
            net.shunts.push_back(sh);
        }
    }
}

Id Parser::known_bus(const BusRows& rows, const Matrix& m, const char* field, std::size_t r, std::size_t c,
                     const char* column) const {
    const Id id = static_cast<Id>(m.at(r, c));
    if (!rows.count(id))
        fail_cell(m, field, r, c, column, "bus " + std::to_string(id) + " is not in " + var_ + ".bus");
    return id;
}

void Parser::build_gens(Network& net, const BusRows& rows) const {
    net.gens.reserve(gen_.rows());
    for (std::size_t r = 0; r < gen_.rows(); ++r) {
        Gen g;
        g.id = static_cast<Id>(r + 1);
        g.bus = known_bus(rows, gen_, "gen", r, 0, "bus");
        g.p_mw = gen_.at(r, 1);
        g.q_mvar = gen_.at(r, 2);
        g.max_q_mvar = gen_.at(r, 3);
        g.min_q_mvar = gen_.at(r, 4);
        g.vm_pu = gen_.at(r, 5);
        g.mbase_mva = gen_.at(r, 6);
        g.in_service = gen_.at(r, 7) > 0.0;
        g.max_p_mw = gen_.at(r, 8);
        g.min_p_mw = gen_.at(r, 9);
        net.gens.push_back(g);
    }
}

void Parser::build_branches(Network& net, const BusRows& rows) const {
    net.branches.reserve(branch_.rows());
    for (std::size_t r = 0; r < branch_.rows(); ++r) {
        Branch br;
        br.id = static_cast<Id>(r + 1);
        br.from_bus = known_bus(rows, branch_, "branch", r, 0, "fbus");
        br.to_bus = known_bus(rows, branch_, "branch", r, 1, "tbus");
        br.r_pu = branch_.at(r, 2);
        br.x_pu = branch_.at(r, 3);
        br.b_pu = branch_.at(r, 4);
        br.rate_a_mva = branch_.at(r, 5);
        br.rate_b_mva = branch_.at(r, 6);
        br.rate_c_mva = branch_.at(r, 7);
        br.ratio = branch_.at(r, 8);
        br.shift_deg = branch_.at(r, 9);
        br.in_service = branch_.at(r, 10) > 0.0;
        if (branch_.ncols >= 13) {
            br.angmin_deg = branch_.at(r, 11);
            br.angmax_deg = branch_.at(r, 12);
        } else if (branch_.ncols == 12) {
            br.angmin_deg = branch_.at(r, 11);
        }
        net.branches.push_back(br);
    }
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

void append_number(std::string& out, double v) {
    if (std::isinf(v)) {
        out += v > 0 ? "Inf" : "-Inf";
        return;
    }
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back exactly
    out.append(buf, r.ptr);
}

void append_integer(std::string& out, long long v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

[[noreturn]] void invalid(const std::string& component, Id id, const std::string& field,
                          const std::string& msg) {
    throw ValidationError(component + " " + std::to_string(id) + ": field '" + field + "': " + msg);
}

void require_finite(const std::string& component, Id id, const char* field, double v) {
    if (!std::isfinite(v))
        invalid(component, id, field, "MATPOWER needs a finite number here, found " + number_text(v));
}

void require_not_nan(const std::string& component, Id id, const char* field, double v) {
    if (std::isnan(v)) invalid(component, id, field, "NaN cannot be written to a MATPOWER case");
}

void require_writable_text(const std::string& component, Id id, const char* field, const std::string& s) {
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f)
            invalid(component, id, field,
                    "contains " + describe_char(c) + ", which a MATPOWER string cannot hold");
    }
}

/// A valid MATLAB function name from `name` (letters, digits, '_', starting with a letter).
std::string function_name(const std::string& name) {
    std::string id;
    for (const char c : name)
        id += is_ident_char(c) ? c : '_';
    if (id.empty()) return "libgrid_case";
    if (!is_ident_start(id[0]) || id[0] == '_') id = "case_" + id;
    if (is_keyword(id)) id = "case_" + id;
    if (id.size() > 63) id.resize(63);  // MATLAB's namelengthmax
    return id;
}

void append_quoted(std::string& out, const std::string& s) {
    out += '\'';
    for (const char c : s) {
        if (c == '\'') out += '\'';
        out += c;
    }
    out += '\'';
}

[[noreturn]] void reject(const char* what, Id id, const char* why) {
    throw ValidationError(std::string(what) + " " + std::to_string(id) + ": cannot be written as MATPOWER (" + why + ")");
}

/// Elements MATPOWER cannot express, and the base power.
void reject_non_matpower(const Network& net) {
    if (!net.lines.empty())
        reject("line", net.lines.front().id, "MATPOWER has no Line element; convert it to a per-unit Branch");
    if (!net.transformers.empty())
        reject("transformer", net.transformers.front().id,
               "MATPOWER has no Transformer element; convert it to a per-unit Branch");
    if (!net.switches.empty()) reject("switch", net.switches.front().id, "MATPOWER has no switches");
    if (!net.sgens.empty())
        reject("sgen", net.sgens.front().id,
               "MATPOWER has no static generator; use a negative load or a Gen");
    if (!net.storage.empty()) reject("storage", net.storage.front().id, "MATPOWER has no storage element");
    if (!net.ext_grids.empty())
        reject("ext_grid", net.ext_grids.front().id,
               "MATPOWER has no external grid; use a Gen at a reference (type 3) bus");

    if (!(std::isfinite(net.sn_mva) && net.sn_mva > 0.0))
        throw ValidationError("network: field 'sn_mva': expected a positive finite base power, found " +
                              number_text(net.sn_mva));
}

/// What the bus table needs: the row of each bus id, whether any bus has a name, and Pd, Qd,
/// Gs, Bs per bus summed in table order.
struct MatpowerBuses {
    std::unordered_map<Id, std::size_t> index;
    bool any_name = false;
    std::vector<double> pd, qd, gs, bs;

    std::size_t row(const char* component, Id id, const char* field, Id bus) const {
        const auto it = index.find(bus);
        if (it == index.end())
            throw IdError(std::string(component) + " " + std::to_string(id) + ": field '" + field + "': bus " +
                          std::to_string(bus) + " does not exist");
        return it->second;
    }
};

MatpowerBuses check_buses(const Network& net) {
    const std::size_t nb = net.buses.size();
    MatpowerBuses mb;
    mb.index.reserve(nb * 2);
    for (std::size_t i = 0; i < nb; ++i) {
        const Bus& b = net.buses[i];
        if (b.id < 1 || static_cast<double>(b.id) > kMaxExactInteger)
            throw IdError("bus " + std::to_string(b.id) +
                          ": field 'id': MATPOWER bus numbers are positive "
                          "integers up to 2^53");
        if (!mb.index.emplace(b.id, i).second)
            throw IdError("bus " + std::to_string(b.id) + ": duplicate bus id");
        const int type = static_cast<int>(b.type);
        if (type < 1 || type > 4)
            invalid("bus", b.id, "type", "expected 1..4, found " + std::to_string(type));
        require_finite("bus", b.id, "vn_kv", b.vn_kv);
        if (b.vn_kv < 0.0) invalid("bus", b.id, "vn_kv", "expected >= 0 kV, found " + number_text(b.vn_kv));
        require_finite("bus", b.id, "vm_pu", b.vm_pu);
        require_finite("bus", b.id, "va_deg", b.va_deg);
        require_not_nan("bus", b.id, "vmax_pu", b.vmax_pu);
        require_not_nan("bus", b.id, "vmin_pu", b.vmin_pu);
        require_writable_text("bus", b.id, "name", b.name);
        if (!b.name.empty()) mb.any_name = true;
    }
    mb.pd.assign(nb, 0.0);
    mb.qd.assign(nb, 0.0);
    mb.gs.assign(nb, 0.0);
    mb.bs.assign(nb, 0.0);
    return mb;
}

void sum_bus_injections(const Network& net, MatpowerBuses& mb) {
    for (const Load& l : net.loads) {
        const std::size_t i = mb.row("load", l.id, "bus", l.bus);
        if (!l.in_service) continue;
        if (l.const_z_p_percent != 0.0 || l.const_i_p_percent != 0.0 || l.const_z_q_percent != 0.0 ||
            l.const_i_q_percent != 0.0)
            reject("load", l.id, "it is a ZIP load; MATPOWER loads are constant power");
        const double p = l.p_mw * l.scaling, q = l.q_mvar * l.scaling;
        require_finite("load", l.id, "p_mw", p);
        require_finite("load", l.id, "q_mvar", q);
        mb.pd[i] += p;
        mb.qd[i] += q;
    }
    for (const Shunt& sh : net.shunts) {
        const std::size_t i = mb.row("shunt", sh.id, "bus", sh.bus);
        if (!sh.in_service) continue;
        const double g = sh.p_mw * sh.step, b = -sh.q_mvar * sh.step;
        require_finite("shunt", sh.id, "p_mw", g);
        require_finite("shunt", sh.id, "q_mvar", b);
        mb.gs[i] += g;
        mb.bs[i] += b;
    }
}

void check_gens_and_branches(const Network& net, const MatpowerBuses& mb) {
    for (const Gen& g : net.gens) {
        mb.row("gen", g.id, "bus", g.bus);
        require_finite("gen", g.id, "p_mw", g.p_mw);
        require_finite("gen", g.id, "q_mvar", g.q_mvar);
        require_finite("gen", g.id, "vm_pu", g.vm_pu);
        require_finite("gen", g.id, "mbase_mva", g.mbase_mva);
        require_not_nan("gen", g.id, "max_q_mvar", g.max_q_mvar);
        require_not_nan("gen", g.id, "min_q_mvar", g.min_q_mvar);
        require_not_nan("gen", g.id, "max_p_mw", g.max_p_mw);
        require_not_nan("gen", g.id, "min_p_mw", g.min_p_mw);
    }
    for (const Branch& br : net.branches) {
        mb.row("branch", br.id, "from_bus", br.from_bus);
        mb.row("branch", br.id, "to_bus", br.to_bus);
        require_finite("branch", br.id, "r_pu", br.r_pu);
        require_finite("branch", br.id, "x_pu", br.x_pu);
        require_finite("branch", br.id, "b_pu", br.b_pu);
        require_not_nan("branch", br.id, "rate_a_mva", br.rate_a_mva);
        require_not_nan("branch", br.id, "rate_b_mva", br.rate_b_mva);
        require_not_nan("branch", br.id, "rate_c_mva", br.rate_c_mva);
        require_finite("branch", br.id, "ratio", br.ratio);
        require_finite("branch", br.id, "shift_deg", br.shift_deg);
        require_not_nan("branch", br.id, "angmin_deg", br.angmin_deg);
        require_not_nan("branch", br.id, "angmax_deg", br.angmax_deg);
    }
}

void append_numbers(std::string& out, std::initializer_list<double> values) {
    for (const double v : values) {
        out += '\t';
        append_number(out, v);
    }
}

void write_bus_rows(std::string& out, const Network& net, const MatpowerBuses& mb) {
    for (std::size_t i = 0; i < net.buses.size(); ++i) {
        const Bus& b = net.buses[i];
        out += '\t';
        append_integer(out, b.id);
        out += '\t';
        append_integer(out, b.in_service ? static_cast<int>(b.type) : static_cast<int>(BusType::Isolated));
        append_numbers(out, {mb.pd[i], mb.qd[i], mb.gs[i], mb.bs[i]});
        out += '\t';
        append_integer(out, b.area);
        append_numbers(out, {b.vm_pu, b.va_deg, b.vn_kv});
        out += '\t';
        append_integer(out, b.zone);
        append_numbers(out, {b.vmax_pu, b.vmin_pu});
        out += ";\n";
    }
}

void write_gen_rows(std::string& out, const Network& net) {
    for (const Gen& g : net.gens) {
        out += '\t';
        append_integer(out, g.bus);
        append_numbers(out, {g.p_mw, g.q_mvar, g.max_q_mvar, g.min_q_mvar, g.vm_pu, g.mbase_mva});
        out += g.in_service ? "\t1" : "\t0";
        append_numbers(out, {g.max_p_mw, g.min_p_mw});
        out += "\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0;\n";
    }
}

void write_branch_rows(std::string& out, const Network& net) {
    for (const Branch& br : net.branches) {
        out += '\t';
        append_integer(out, br.from_bus);
        out += '\t';
        append_integer(out, br.to_bus);
        append_numbers(out, {br.r_pu, br.x_pu, br.b_pu, br.rate_a_mva, br.rate_b_mva, br.rate_c_mva, br.ratio,
                             br.shift_deg});
        out += br.in_service ? "\t1" : "\t0";
        append_numbers(out, {br.angmin_deg, br.angmax_deg});
        out += ";\n";
    }
}

std::string to_matpower_named(const Network& net, const std::string& fname) {
    reject_non_matpower(net);
    MatpowerBuses mb = check_buses(net);
    sum_bus_injections(net, mb);
    check_gens_and_branches(net, mb);

    const std::size_t nb = net.buses.size();
    std::string out;
    out.reserve(256 + nb * 120 + net.gens.size() * 140 + net.branches.size() * 120);
    out += "function mpc = " + fname + "\n";
    out += "%" + fname + "  MATPOWER case written by libgrid.\n";
    out += "%   Loads and shunts are aggregated per bus into Pd, Qd, Gs, Bs; buses out of service\n";
    out += "%   are written as isolated (type 4).\n\n";
    out += "%% MATPOWER Case Format : Version 2\nmpc.version = '2';\n\n";
    out += "%%-----  Power Flow Data  -----%%\n%% system MVA base\nmpc.baseMVA = ";
    append_number(out, net.sn_mva);
    out +=
        ";\n\n%% bus data\n%\tbus_i\ttype\tPd\tQd\tGs\tBs\tarea\tVm\tVa\tbaseKV\tzone\tVmax\tVmin\nmpc.bus = "
        "[\n";
    write_bus_rows(out, net, mb);
    out +=
        "];\n\n%% generator data\n%\tbus\tPg\tQg\tQmax\tQmin\tVg\tmBase\tstatus\tPmax\tPmin\tPc1\tPc2\t"
        "Qc1min\tQc1max\tQc2min\tQc2max\tramp_agc\tramp_10\tramp_30\tramp_q\tapf\nmpc.gen = [\n";
    write_gen_rows(out, net);
    out +=
        "];\n\n%% branch "
        "data\n%\tfbus\ttbus\tr\tx\tb\trateA\trateB\trateC\tratio\tangle\tstatus\tangmin\tangmax\n"
        "mpc.branch = [\n";
    write_branch_rows(out, net);
    out += "];\n";
    if (mb.any_name) {
        out += "\n%% bus names\nmpc.bus_name = {\n";
        for (const Bus& b : net.buses) {
            out += '\t';
            append_quoted(out, b.name);
            out += ";\n";
        }
        out += "};\n";
    }
    return out;
}

}  // namespace

Network parse_matpower(const std::string& text, const std::string& filename) {
    return Parser(text, filename).parse();
}

Network read_matpower(const std::string& path) {
    // Regular files only, at most kMaxInputFileBytes (io/input_file.hpp).
    return parse_matpower(read_input_file(path), path);
}

std::string to_matpower(const Network& net) {
    return to_matpower_named(net, function_name(net.name));
}

void write_matpower(const Network& net, const std::string& path) {
    std::string name = net.name;
    if (name.empty()) {  // name the function after the file, as MATLAB calls it by its file name
        const std::size_t slash = path.find_last_of("/\\");
        name = path.substr(slash == std::string::npos ? 0 : slash + 1);
        if (name.size() > 2 && name.compare(name.size() - 2, 2, ".m") == 0) name.resize(name.size() - 2);
    }
    const std::string text = to_matpower_named(net, function_name(name));
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path + ": cannot open the file for writing: " + std::strerror(errno));
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) throw Error(path + ": error while writing the file");
}

}  // namespace libgrid
