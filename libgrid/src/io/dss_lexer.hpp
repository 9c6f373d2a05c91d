// libgrid io (internal): OpenDSS's script parser (Parser/ParserDel.pas, RPN.pas) - the tokens of
// one command line, numbers with in-line RPN, vectors, symmetric matrices and bus specifications.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace libgrid::dss {

/// One `name=value` or positional `value` of a command line.
struct Param {
    std::string name;   ///< as written ("" when positional)
    std::string value;  ///< without its quotes
    bool quoted = false;  ///< was in () [] {} "" or ''
};

/// Splits a command line as OpenDSS's parser does: whitespace, ',' and '=' delimit; (), [], {},
/// "" and '' quote; '!' and '//' outside quotes end the line.
std::vector<Param> split_params(std::string_view line);

/// Thrown by the value parsers below; the reader turns it into a ParseError with file and line.
struct ValueError {
    std::string message;
};

/// A number: plain (the whole token must be one) or, when quoted, in-line RPN ("(8 1000 /)").
/// An empty value is 0, as in OpenDSS.
double parse_double(const std::string& value, bool quoted);
int parse_int(const std::string& value, bool quoted);
/// OpenDSS's yes/no: y, yes, t, true (case-insensitive) are true; n, no, f, false are false.
bool parse_bool(const std::string& value);

/// A vector "[1 2, 3]": elements split on whitespace, ',' and '|'; each element may be quoted RPN.
std::vector<double> parse_vector(const std::string& value);
/// Strings of an array "[wye wye]" or "'wye wye'" (whitespace or ',' separated; elements may be quoted).
std::vector<std::string> parse_string_array(const std::string& value);
/// Symmetric matrix of order n from its lower triangle, rows separated by '|' (row-major out).
std::vector<double> parse_sym_matrix(const std::string& value, int n);

/// "650.1.2" -> name "650" and nodes {1, 2}. Throws ValueError on a node that is not a
/// non-negative integer.
void parse_bus_spec(const std::string& spec, std::string& name, std::vector<int>& nodes);

std::string to_lower(std::string_view s);

}  // namespace libgrid::dss
