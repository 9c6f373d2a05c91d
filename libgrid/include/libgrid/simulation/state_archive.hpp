// libgrid layer 7: a binary archive for checkpoints of a run's state (engine and devices).
//
// One function per stateful type, `template <class Ar> void state(Ar& ar, T& x)`, lists what must be
// saved; the same function saves (StateOut) and restores (StateIn). Values are stored as their bytes
// (this machine's representation): a checkpoint resumes on the machine kind that wrote it, and its
// header says which (see checkpoint.cpp). StateIn never trusts the bytes: every length is checked
// against what is left and against the size the restoring object already has, and a mismatch is a
// libgrid::Error naming the field.
#pragma once

#include <libgrid/core/errors.hpp>

#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace libgrid::detail {

template <class T>
concept Bytes = std::is_trivially_copyable_v<T> && !std::is_pointer_v<T>;

class StateOut {
public:
    static constexpr bool saving = true;
    std::vector<unsigned char> bytes;

    template <Bytes T>
    void pod(const char*, const T& x) {
        const auto* p = reinterpret_cast<const unsigned char*>(&x);
        bytes.insert(bytes.end(), p, p + sizeof(T));
    }
    template <Bytes T>
    void vec(const char* field, const std::vector<T>& v) {
        pod(field, std::uint64_t(v.size()));
        const auto* p = reinterpret_cast<const unsigned char*>(v.data());
        bytes.insert(bytes.end(), p, p + v.size() * sizeof(T));
    }
    /// A vector whose length the restoring side knows already (it must be equal there).
    template <Bytes T>
    void fixed(const char* field, const std::vector<T>& v) { vec(field, v); }
    void str(const char* field, const std::string& s) {
        pod(field, std::uint64_t(s.size()));
        bytes.insert(bytes.end(), s.begin(), s.end());
    }
    void flag(const char* field, const std::vector<char>& v) { vec(field, v); }
};

class StateIn {
public:
    static constexpr bool saving = false;
    StateIn(const unsigned char* data, std::size_t size, std::string where) : p_(data), left_(size), where_(std::move(where)) {}

    template <Bytes T>
    void pod(const char* field, T& x) {
        need(field, sizeof(T));
        std::memcpy(&x, p_, sizeof(T));
        take(sizeof(T));
    }
    void pod(const char* field, bool& b) {
        unsigned char c = 0;
        pod(field, c);
        if (c > 1) bad(field, "not a boolean (" + std::to_string(int(c)) + ")");
        b = c != 0;
    }
    /// A vector of any length up to what is left (bounded by the archive's size).
    template <Bytes T>
    void vec(const char* field, std::vector<T>& v) {
        std::uint64_t n = 0;
        pod(field, n);
        if (n > left_ / (sizeof(T) ? sizeof(T) : 1)) bad(field, "length " + std::to_string(n) + " runs past the end");
        v.resize(std::size_t(n));
        if (n) std::memcpy(v.data(), p_, std::size_t(n) * sizeof(T));
        take(std::size_t(n) * sizeof(T));
    }
    /// A vector that must keep its present length (the model restoring it is already sized).
    template <Bytes T>
    void fixed(const char* field, std::vector<T>& v) {
        std::uint64_t n = 0;
        pod(field, n);
        if (n != v.size()) bad(field, "holds " + std::to_string(n) + " values, the run has " + std::to_string(v.size()));
        need(field, v.size() * sizeof(T));
        if (n) std::memcpy(v.data(), p_, v.size() * sizeof(T));
        take(v.size() * sizeof(T));
    }
    void str(const char* field, std::string& s) {
        std::uint64_t n = 0;
        pod(field, n);
        if (n > left_) bad(field, "length " + std::to_string(n) + " runs past the end");
        s.assign(reinterpret_cast<const char*>(p_), std::size_t(n));
        take(std::size_t(n));
    }
    void flag(const char* field, std::vector<char>& v) { fixed(field, v); }

    std::size_t left() const { return left_; }
    [[noreturn]] void bad(const char* field, const std::string& msg) const {
        throw Error(where_ + ": field '" + field + "': " + msg);
    }

private:
    void need(const char* field, std::size_t n) const {
        if (n > left_) bad(field, "truncated (" + std::to_string(left_) + " bytes left, " + std::to_string(n) + " needed)");
    }
    void take(std::size_t n) {
        p_ += n;
        left_ -= n;
    }
    const unsigned char* p_;
    std::size_t left_;
    std::string where_;
};

/// A bool-like field (a bool, a char flag) through the archive as a bool: the one helper every
/// group's and grid's `state()` uses.
template <class Ar, class S>
void state_bool(Ar& ar, const char* f, S& x) {
    bool b = x;
    ar.pod(f, b);
    x = b;
}

}  // namespace libgrid::detail
