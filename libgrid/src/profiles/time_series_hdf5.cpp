// libgrid profiles: reading and writing a TimeSeries as an HDF5 dataset (HDF5 C API).
//
// Layout: a 1-D numeric dataset; attribute `start` = ISO 8601 local time string (or integer seconds,
// LocalTime), attribute `step_s` = integer seconds > 0.
#include <libgrid/profiles/time_series.hpp>

#include <libgrid/core/errors.hpp>
#include <libgrid/core/input_file.hpp>

#include <hdf5.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "fp.hpp"  // last: no FMA contraction below (determinism)

namespace libgrid {

namespace {

// Silences HDF5's automatic error-stack printing while alive (we report our own errors).
class QuietHdf5 {
public:
    QuietHdf5() {
        H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
    ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
    QuietHdf5(const QuietHdf5&) = delete;
    QuietHdf5& operator=(const QuietHdf5&) = delete;

private:
    H5E_auto2_t func_ = nullptr;
    void* data_ = nullptr;
};

// Owns one HDF5 identifier.
class Handle {
public:
    using Closer = herr_t (*)(hid_t);
    Handle(hid_t id, Closer close) : id_(id), close_(close) {}
    ~Handle() {
        if (id_ >= 0) close_(id_);
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    hid_t get() const { return id_; }
    bool ok() const { return id_ >= 0; }

private:
    hid_t id_;
    Closer close_;
};

[[noreturn]] void fail(const std::string& path, const std::string& dataset, const std::string& msg) {
    throw ValidationError("HDF5 " + path + ":" + dataset + ": " + msg);
}

bool file_exists(const std::string& path) {
    std::ifstream f(path);
    return static_cast<bool>(f);
}

// Number of elements of an attribute's dataspace (scalar = 1).
hssize_t attribute_points(hid_t attr) {
    Handle space(H5Aget_space(attr), H5Sclose);
    if (!space.ok()) return -1;
    return H5Sget_simple_extent_npoints(space.get());
}

// Reads attribute `name` as either a string or an integral number. Returns true for a string.
bool read_string_or_integer(hid_t obj, const char* name, const std::string& path, const std::string& dataset,
                            std::string& text, std::int64_t& number) {
    const htri_t exists = H5Aexists(obj, name);
    if (exists <= 0) fail(path, dataset, std::string("attribute '") + name + "': missing");
    Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
    if (!attr.ok()) fail(path, dataset, std::string("attribute '") + name + "': cannot open");
    if (attribute_points(attr.get()) != 1) fail(path, dataset, std::string("attribute '") + name + "': must hold one value");
    Handle type(H5Aget_type(attr.get()), H5Tclose);
    const H5T_class_t cls = H5Tget_class(type.get());
    if (cls == H5T_STRING) {
        if (H5Tis_variable_str(type.get()) > 0) {
            Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
            H5Tset_size(mem.get(), H5T_VARIABLE);
            H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
            char* buf = nullptr;
            if (H5Aread(attr.get(), mem.get(), &buf) < 0 || buf == nullptr)
                fail(path, dataset, std::string("attribute '") + name + "': cannot read string");
            text = buf;
            H5free_memory(buf);
        } else {
            const std::size_t size = H5Tget_size(type.get());
            std::vector<char> buf(size + 1, '\0');
            Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
            H5Tset_size(mem.get(), size);
            H5Tset_strpad(mem.get(), H5Tget_strpad(type.get()));
            if (H5Aread(attr.get(), mem.get(), buf.data()) < 0)
                fail(path, dataset, std::string("attribute '") + name + "': cannot read string");
            text.assign(buf.data());
            while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) text.pop_back();
        }
        return true;
    }
    if (cls == H5T_INTEGER) {
        long long v = 0;
        if (H5Aread(attr.get(), H5T_NATIVE_LLONG, &v) < 0)
            fail(path, dataset, std::string("attribute '") + name + "': cannot read integer");
        number = static_cast<std::int64_t>(v);
        return false;
    }
    if (cls == H5T_FLOAT) {
        double v = 0.0;
        if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v) < 0)
            fail(path, dataset, std::string("attribute '") + name + "': cannot read number");
        if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 9.0e15)
            fail(path, dataset, std::string("attribute '") + name + "': must be a whole number of seconds");
        number = static_cast<std::int64_t>(v);
        return false;
    }
    fail(path, dataset, std::string("attribute '") + name + "': must be a string or an integer");
}

}  // namespace

TimeSeries read_hdf5(const std::string& path, const std::string& dataset) {
    QuietHdf5 quiet;
    // Regular files only (io/input_file.hpp); libhdf5 reads the parts it needs, the values at most
    // kMaxInputFileBytes (below).
    if (const std::string why = input_file_problem(path, ~std::uint64_t{0}); !why.empty()) fail(path, dataset, "cannot open file: " + why);
    if (H5Fis_hdf5(path.c_str()) <= 0) fail(path, dataset, "not an HDF5 file");
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.ok()) fail(path, dataset, "cannot open file");
    Handle ds(H5Dopen2(file.get(), dataset.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.ok()) fail(path, dataset, "no such dataset");

    Handle space(H5Dget_space(ds.get()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank != 1) fail(path, dataset, "must be one-dimensional, has rank " + std::to_string(rank));
    hsize_t n = 0;
    H5Sget_simple_extent_dims(space.get(), &n, nullptr);
    Handle type(H5Dget_type(ds.get()), H5Tclose);
    const H5T_class_t cls = H5Tget_class(type.get());
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) fail(path, dataset, "must hold integers or floating-point numbers");

    if (n > kMaxInputFileBytes / sizeof(double))
        fail(path, dataset, std::to_string(n) + " values, more than the limit of " + std::to_string(kMaxInputFileBytes / sizeof(double)) +
                                " (1 GiB of float64) for an input series");
    TimeSeries ts;
    ts.name = dataset;
    ts.values.resize(static_cast<std::size_t>(n));
    if (n > 0 && H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, ts.values.data()) < 0)
        fail(path, dataset, "cannot read values");
    for (std::size_t k = 0; k < ts.values.size(); ++k)
        if (!std::isfinite(ts.values[k])) fail(path, dataset, "value " + std::to_string(k) + " is not finite");

    std::string text;
    std::int64_t number = 0;
    if (read_string_or_integer(ds.get(), "start", path, dataset, text, number)) {
        std::string why;
        if (!try_parse_iso8601(text, ts.start, &why))
            fail(path, dataset, "attribute 'start': not a time: '" + text + "' (" + why + ")");
    } else {
        ts.start = number;
    }
    if (read_string_or_integer(ds.get(), "step_s", path, dataset, text, number))
        fail(path, dataset, "attribute 'step_s': must be an integer, got the string '" + text + "'");
    if (number <= 0) fail(path, dataset, "attribute 'step_s': must be > 0, got " + std::to_string(number));
    ts.step_s = number;
    return ts;
}

void write_hdf5(const std::string& path, const std::string& dataset, const TimeSeries& ts) {
    QuietHdf5 quiet;
    if (ts.step_s <= 0) fail(path, dataset, "field 'step_s': must be > 0, got " + std::to_string(ts.step_s));
    hid_t fid = -1;
    if (file_exists(path)) {
        if (H5Fis_hdf5(path.c_str()) <= 0) fail(path, dataset, "exists and is not an HDF5 file");
        fid = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    } else {
        fid = H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
    }
    Handle file(fid, H5Fclose);
    if (!file.ok()) fail(path, dataset, "cannot open or create file for writing");
    {
        Handle existing(H5Dopen2(file.get(), dataset.c_str(), H5P_DEFAULT), H5Dclose);
        if (existing.ok()) fail(path, dataset, "dataset already exists");
    }
    Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    const hsize_t n = ts.values.size();
    Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    Handle ds(H5Dcreate2(file.get(), dataset.c_str(), H5T_IEEE_F64LE, space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Dclose);
    if (!ds.ok()) fail(path, dataset, "cannot create dataset");
    if (n > 0 && H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, ts.values.data()) < 0)
        fail(path, dataset, "cannot write values");

    Handle scalar(H5Screate(H5S_SCALAR), H5Sclose);
    Handle str(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(str.get(), H5T_VARIABLE);
    H5Tset_cset(str.get(), H5T_CSET_UTF8);
    const std::string start = format_iso8601(ts.start);
    const char* start_c = start.c_str();
    Handle a_start(H5Acreate2(ds.get(), "start", str.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (!a_start.ok() || H5Awrite(a_start.get(), str.get(), &start_c) < 0) fail(path, dataset, "cannot write attribute 'start'");
    const long long step = ts.step_s;
    Handle a_step(H5Acreate2(ds.get(), "step_s", H5T_STD_I64LE, scalar.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (!a_step.ok() || H5Awrite(a_step.get(), H5T_NATIVE_LLONG, &step) < 0) fail(path, dataset, "cannot write attribute 'step_s'");
}

}  // namespace libgrid
