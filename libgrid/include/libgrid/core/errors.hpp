// libgrid: error types. Every error names where it came from (file and line, or component and field).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace libgrid {

/// Base of every libgrid error.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A file could not be parsed. what() reads "FILE:LINE: message".
class ParseError : public Error {
public:
    ParseError(const std::string& file, long line, const std::string& message)
        : Error(file + ":" + std::to_string(line) + ": " + message), file_(file), line_(line) {}
    const std::string& file() const noexcept { return file_; }
    long line() const noexcept { return line_; }

private:
    std::string file_;
    long line_;
};

/// A component refers to an id that does not exist, or ids collide.
class IdError : public Error {
public:
    using Error::Error;
};

/// A value is out of its domain: NaN, negative where impossible, no slack, ...
/// what() reads "<component> <id>: field '<field>': message".
class ValidationError : public Error {
public:
    using Error::Error;
};

/// The numerical core failed in a way that is not plain non-convergence (singular matrix etc.).
class SolverError : public Error {
public:
    using Error::Error;
};

}  // namespace libgrid
