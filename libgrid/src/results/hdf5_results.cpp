// libgrid layer 9: HDF5 results writer and reader (HDF5 C API). See libgrid/results/hdf5_results.hpp
// and docs/results_hdf5.md.
#include <libgrid/results/hdf5_results.hpp>

#include <libgrid/config.hpp>
#include <libgrid/core/errors.hpp>
#include <libgrid/core/input_file.hpp>

#include <hdf5.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

namespace libgrid {

namespace {

// ---- small HDF5 helpers -----------------------------------------------------------------------

/// Owns one HDF5 identifier and closes it with the matching H5?close.
class Hid {
public:
    using Closer = herr_t (*)(hid_t);
    Hid() = default;
    Hid(hid_t id, Closer close) : id_(id), close_(close) {}
    Hid(Hid&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), close_(o.close_) {}
    Hid& operator=(Hid&& o) noexcept {
        if (this != &o) {
            reset();
            id_ = std::exchange(o.id_, H5I_INVALID_HID);
            close_ = o.close_;
        }
        return *this;
    }
    Hid(const Hid&) = delete;
    Hid& operator=(const Hid&) = delete;
    ~Hid() { reset(); }
    hid_t get() const { return id_; }
    bool valid() const { return id_ >= 0; }
    /// Closes now; returns false when HDF5 reports an error.
    bool reset() {
        bool ok = true;
        if (id_ >= 0 && close_) ok = close_(id_) >= 0;
        id_ = H5I_INVALID_HID;
        return ok;
    }

private:
    hid_t id_ = H5I_INVALID_HID;
    Closer close_ = nullptr;
};

/// Silences HDF5's automatic error printing for its lifetime (restores the caller's handler).
/// The error stack is per thread in a thread-safe HDF5 build, so is this setting.
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

herr_t innermost_error(unsigned n, const H5E_error2_t* e, void* out) {
    if (n == 0 && e && e->desc) *static_cast<std::string*>(out) = e->desc;
    return 0;
}

/// The most specific message on HDF5's error stack ("" when empty), e.g.
/// "unable to open file: name = '...', errno = 2, error message = 'No such file or directory'".
std::string hdf5_detail() {
    std::string msg;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_error, &msg);
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    return msg;
}

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

/// "results file 'f': what" (+ ": hdf5 detail" when there is one).
[[noreturn]] void fail(const std::string& file, const std::string& what, bool with_hdf5_detail = true) {
    std::string msg = "results file " + in_quotes(file) + ": " + what;
    if (with_hdf5_detail) {
        std::string detail = hdf5_detail();
        if (!detail.empty()) msg += " (HDF5: " + detail + ")";
    }
    throw Error(msg);
}

/// "/a/b" from "a/b", "/a/b", "/a/b/"; "/" stays "/". Throws for empty names, "//", "." or "..".
std::string normalize(const std::string& file, const std::string& path, const char* what) {
    if (path.empty()) fail(file, std::string("empty ") + what + " path", false);
    std::string out;
    std::size_t i = 0;
    while (i <= path.size()) {
        std::size_t j = path.find('/', i);
        if (j == std::string::npos) j = path.size();
        std::string part = path.substr(i, j - i);
        bool at_edge = (i == 0) || (j == path.size());
        if (part.empty() && !at_edge)
            fail(file, std::string("bad ") + what + " path " + in_quotes(path) + " (empty component)", false);
        if (part == "." || part == "..")
            fail(file, std::string("bad ") + what + " path " + in_quotes(path) + " ('.' or '..')", false);
        if (!part.empty()) out += "/" + part;
        i = j + 1;
    }
    return out.empty() ? "/" : out;
}

std::string parent_of(const std::string& abs_path) {
    std::size_t k = abs_path.rfind('/');
    return k == 0 ? "/" : abs_path.substr(0, k);
}

std::string join(const std::string& group, const std::string& name) {
    return group == "/" ? "/" + name : group + "/" + name;
}

void check_name(const std::string& file, const std::string& name, const char* what) {
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
        fail(file,
             std::string("bad ") + what + " name " + in_quotes(name) + " (must be non-empty, without '/')",
             false);
}

/// Whether every link on the way to `abs_path` exists and resolves to an object.
bool object_exists(hid_t file, const std::string& abs_path) {
    if (abs_path == "/") return true;
    std::size_t k = 0;
    while (true) {
        k = abs_path.find('/', k + 1);
        std::string prefix = abs_path.substr(0, k);
        if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
        if (H5Oexists_by_name(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
        if (k == std::string::npos) return true;
    }
}

H5I_type_t object_type(hid_t file, const std::string& abs_path) {
    Hid obj(H5Oopen(file, abs_path.c_str(), H5P_DEFAULT), H5Oclose);
    if (!obj.valid()) return H5I_BADID;
    return H5Iget_type(obj.get());
}

/// Variable-length UTF-8 string type.
Hid vlen_string_type() {
    Hid t(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(t.get(), H5T_VARIABLE);
    H5Tset_cset(t.get(), H5T_CSET_UTF8);
    return t;
}

// ---- untrusted files: what is checked before libhdf5 converts or allocates --------------------

/// Most values one read may allocate (2^28 elements, 2 GiB of doubles; read larger series by rows): beyond that the file is
/// not one libgrid wrote for a machine like this.
constexpr std::size_t kMaxReadElements = std::size_t{1} << 28;
/// Longest fixed-length string accepted (our files write variable-length strings).
constexpr std::size_t kMaxFixedString = std::size_t{1} << 20;

/// An integer or floating-point type that libhdf5's conversions handle safely: 1, 2, 4 or 8 bytes,
/// little or big endian, its bit fields (precision, offset; sign, exponent, mantissa) inside its
/// bytes. A damaged type message can say otherwise, and libhdf5 then reads out of bounds.
bool sane_numeric_type(hid_t t) {
    const H5T_class_t c = H5Tget_class(t);
    if (c != H5T_INTEGER && c != H5T_FLOAT) return false;
    const std::size_t size = H5Tget_size(t);
    if (size != 1 && size != 2 && size != 4 && size != 8) return false;
    const H5T_order_t order = H5Tget_order(t);
    if (order != H5T_ORDER_LE && order != H5T_ORDER_BE) return false;
    const std::size_t bits = 8 * size;
    const std::size_t prec = H5Tget_precision(t);
    const int off = H5Tget_offset(t);
    if (prec == 0 || off < 0 || std::size_t(off) + prec > bits) return false;
    if (c == H5T_INTEGER) return true;
    std::size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
    if (H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize) < 0) return false;
    const std::size_t lo = std::size_t(off), hi = std::size_t(off) + prec;
    auto inside = [&](std::size_t pos, std::size_t n) { return n > 0 && pos >= lo && pos + n <= hi; };
    if (!inside(spos, 1) || !inside(epos, esize) || !inside(mpos, msize)) return false;
    if (esize > 32 || msize > 64) return false;
    return H5Tget_norm(t) != H5T_NORM_ERROR && H5Tget_inpad(t) != H5T_PAD_ERROR;
}

/// Elements of a dataspace, or kMaxReadElements + 1 when it is larger (or broken).
std::size_t checked_count(const std::vector<std::size_t>& dims) {
    std::size_t n = 1;
    for (std::size_t d : dims) {
        if (d != 0 && n > kMaxReadElements / d) return kMaxReadElements + 1;
        n *= d;
    }
    return n;
}

std::string format_double(double x) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, x);
    return std::string(buf, r.ptr);
}

// ---- parallel chunk compression ----------------------------------------------------------------

static_assert(std::endian::native == std::endian::little, "chunks are encoded as little-endian bytes");

/// Columns per HDF5 chunk of a series (chunk = rows x min(columns, kChunkCols)).
constexpr std::size_t kChunkCols = 1024;

/// A buffer whose memory is not initialised (make_unique_for_overwrite): a large one costs no
/// page until it is written, so a short run (a few rows of a 256-row chunk) touches only the rows
/// it appends, and a buffer that is never needed (the compression side of a run shorter than one
/// chunk) costs nothing at all.
template <class T>
class RawBuffer {
public:
    void allocate(std::size_t n) {
        p_ = std::make_unique_for_overwrite<T[]>(n);
        n_ = n;
    }
    T* data() { return p_.get(); }
    const T* data() const { return p_.get(); }
    std::size_t size() const { return n_; }
    T& operator[](std::size_t i) { return p_[i]; }
    const T& operator[](std::size_t i) const { return p_[i]; }

private:
    std::unique_ptr<T[]> p_;
    std::size_t n_ = 0;
};

/// One full chunk of rows of one series, compressed off the appending thread into the bytes that
/// HDF5's filter pipeline (shuffle, then deflate) would store, one piece per column-chunk.
/// Each series owns one job: the rows in flight while the series fills its other buffer.
struct ChunkJob {
    // Set once by add_series:
    std::size_t n_cols = 0;      ///< columns of the series
    std::size_t rows = 0;        ///< rows per chunk
    std::size_t chunk_cols = 0;  ///< columns per HDF5 chunk, min(n_cols, 1024)
    std::size_t n_pieces = 0;    ///< column-chunks, ceil(n_cols / chunk_cols)
    std::size_t elem_bytes = 8;  ///< stored element size: 8 (float64, int64) or 4 (float32)
    bool is_int = false;
    bool float32 = false;
    bool shuffle = false;
    int level = 1;
    std::size_t bound = 0;  ///< compressBound of one column-chunk, bytes

    // Per use (owned by the appending thread unless `queued`):
    RawBuffer<double> data_d;          ///< rows x n_cols, row-major (float series)
    RawBuffer<std::int64_t> data_i;    ///< the same for int series
    std::size_t chunk_start = 0;       ///< first row of the chunk
    RawBuffer<unsigned char> out;      ///< n_pieces x bound: compressed column-chunks
    std::vector<std::size_t> out_size; ///< compressed bytes of each column-chunk
    bool pending = false;              ///< handed off and not yet written to the file
    bool done = false;                 ///< compression finished (guarded by the pool mutex)
    bool ok = true;                    ///< compress2 succeeded
    ChunkJob* next = nullptr;          ///< queue link (guarded by the pool mutex)

    std::size_t piece_bytes() const { return rows * chunk_cols * elem_bytes; }

    /// Stored value bits of element (r, c) of the series (0 for padding beyond the last column).
    std::uint64_t stored_bits(std::size_t r, std::size_t c) const {
        if (c >= n_cols) return 0;
        if (is_int) return static_cast<std::uint64_t>(data_i[r * n_cols + c]);
        const double x = data_d[r * n_cols + c];
        if (!float32) return std::bit_cast<std::uint64_t>(x);
        // As HDF5's hard double -> float conversion: out of range becomes +-infinity.
        constexpr double fmax = std::numeric_limits<float>::max();
        const float f = x > fmax    ? std::numeric_limits<float>::infinity()
                        : x < -fmax ? -std::numeric_limits<float>::infinity()
                                    : static_cast<float>(x);
        return std::bit_cast<std::uint32_t>(f);
    }

    /// Converts, shuffles (HDF5 shuffle filter: byte k of element i goes to k * n + i) and deflates
    /// (zlib compress2, as HDF5's deflate filter) every column-chunk. `scratch` holds piece_bytes().
    void compress(unsigned char* scratch) {
        const std::size_t n = rows * chunk_cols;  // elements per column-chunk
        ok = true;
        for (std::size_t p = 0; p < n_pieces; ++p) {
            const std::size_t c0 = p * chunk_cols;
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t c = 0; c < chunk_cols; ++c) {
                    const std::size_t i = r * chunk_cols + c;
                    const std::uint64_t bits = stored_bits(r, c0 + c);
                    for (std::size_t k = 0; k < elem_bytes; ++k) {
                        const auto byte = static_cast<unsigned char>(bits >> (8 * k));
                        scratch[shuffle ? k * n + i : i * elem_bytes + k] = byte;
                    }
                }
            uLongf len = static_cast<uLongf>(bound);
            if (compress2(out.data() + p * bound, &len, scratch, static_cast<uLong>(n * elem_bytes), level) !=
                Z_OK)
                ok = false;
            out_size[p] = len;
        }
    }
};

/// Worker threads that compress ChunkJobs in the order they are submitted. Only the appending
/// thread calls HDF5; the workers touch nothing but their job's buffers and their scratch.
class CompressorPool {
public:
    static constexpr std::size_t kWorkers = 2;

    ~CompressorPool() { stop(); }

    bool running() const { return !threads_.empty(); }

    /// Starts the workers (once) and makes each scratch buffer hold at least `bytes` (memory that
    /// costs nothing until used). Started here, not at the first chunk: append never allocates.
    void reserve(std::size_t bytes) {
        if (running()) {
            std::unique_lock lock(m_);
            idle_.wait(lock, [&] { return head_ == nullptr && busy_ == 0; });
        }
        for (auto& s : scratch_)
            if (s.size() < bytes) s.allocate(bytes);
        if (!running())
            for (std::size_t w = 0; w < kWorkers; ++w) threads_.emplace_back([this, w] { work(w); });
    }

    void submit(ChunkJob& job) {
        {
            std::lock_guard lock(m_);
            job.done = false;
            job.next = nullptr;
            if (tail_)
                tail_->next = &job;
            else
                head_ = &job;
            tail_ = &job;
        }
        work_.notify_one();
    }

    void wait(ChunkJob& job) {
        std::unique_lock lock(m_);
        idle_.wait(lock, [&] { return job.done; });
    }

    /// Finishes the queued jobs, then joins the workers. Idempotent.
    void stop() {
        {
            std::lock_guard lock(m_);
            stopping_ = true;
        }
        work_.notify_all();
        for (auto& t : threads_) t.join();
        threads_.clear();
    }

private:
    void work(std::size_t w) {
        while (true) {
            ChunkJob* job = nullptr;
            {
                std::unique_lock lock(m_);
                work_.wait(lock, [&] { return head_ != nullptr || stopping_; });
                if (!head_) return;
                job = head_;
                head_ = job->next;
                if (!head_) tail_ = nullptr;
                ++busy_;
            }
            job->compress(scratch_[w].data());
            {
                std::lock_guard lock(m_);
                job->done = true;
                --busy_;
            }
            idle_.notify_all();
        }
    }

    std::mutex m_;
    std::condition_variable work_;  ///< a job was queued, or stopping
    std::condition_variable idle_;  ///< a job finished
    ChunkJob* head_ = nullptr;
    ChunkJob* tail_ = nullptr;
    std::size_t busy_ = 0;
    bool stopping_ = false;
    RawBuffer<unsigned char> scratch_[kWorkers];
    std::vector<std::thread> threads_;
};

}  // namespace

// =================================================================================================
// Writer
// =================================================================================================

struct ResultsWriter::Impl {
    /// One extendable dataset fed row by row. The buffer holds the rows of the current chunk,
    /// whose first row is `chunk_start`; rows before it are in the file.
    struct Series {
        std::string path;
        Hid dset;
        bool is_int = false;
        int rank = 2;  ///< 1 for /time, else 2
        std::size_t n_cols = 0;
        std::size_t chunk_rows = 0;        ///< rows per chunk for this series
        RawBuffer<double> buf_d;           ///< chunk_rows x n_cols, row-major (float series)
        RawBuffer<std::int64_t> buf_i;     ///< the same for int series
        std::size_t chunk_start = 0;       ///< rows already written as whole chunks
        std::size_t buffered = 0;          ///< rows in the buffer
        std::size_t buffered_in_file = 0;  ///< buffered rows already written by flush()
        std::size_t extent_rows = 0;       ///< current dataset extent along rows
        std::size_t written_rows = 0;      ///< first rows handed to HDF5 (whole chunks or flush())
        std::size_t durable_rows = 0;      ///< written_rows at the last H5Fflush: in the file after a kill
        /// Full chunk being compressed by the pool (compression_level > 0), rows before chunk_start.
        std::unique_ptr<ChunkJob> job;
    };

    std::string path;
    std::string dir;  ///< the file's folder (free_bytes), set on first use
    H5WriterOptions opt;
    Hid file;
    Hid gcpl;  ///< group creation: no time stamps (bit-identical files for identical runs)
    std::vector<Series> series;
    int time_handle = -1;
    std::map<std::string, std::size_t> ids_width;  ///< group -> number of ids written
    bool closed = false;
    bool resuming = false;        ///< reopened to continue a run (ResultsResume)
    bool broken = false;          ///< a write failed: the file's descriptor now points to memory (write_failed)
    ResultsResume resume;
    std::size_t buffer_bytes = 0;  ///< memory held by the series' buffers (max_total_buffer_bytes)
    std::size_t planned_columns = 0;  ///< plan(): all series' columns together (0 = no plan)
    CompressorPool pool;  ///< last member: its workers stop before the jobs they use are destroyed

    Impl(const std::string& p, const H5WriterOptions& o) : path(p), opt(o) {}
    ~Impl() {
        try {
            close();
        } catch (...) {
        }
        pool.stop();
    }

    void check_open() const {
        if (closed || !file.valid()) fail(path, "writer is closed", false);
        if (broken) fail(path, "an earlier write failed; nothing more is written", false);
    }

    Series& handle_series(int handle, bool want_int) {
        if (handle < 0 || static_cast<std::size_t>(handle) >= series.size())
            fail(path, "invalid series handle " + std::to_string(handle), false);
        Series& s = series[static_cast<std::size_t>(handle)];
        if (s.is_int != want_int)
            fail(path,
                 "series " + in_quotes(s.path) + " holds " + (s.is_int ? "int64" : "floating-point") +
                     " values; append was called with " + (want_int ? "int64" : "double") + " data",
                 false);
        return s;
    }

    /// Creates the missing groups of `abs_group` (which must not be a dataset).
    void ensure_group(const std::string& abs_group) {
        if (abs_group == "/") return;
        std::size_t k = 0;
        while (true) {
            k = abs_group.find('/', k + 1);
            std::string prefix = abs_group.substr(0, k);
            htri_t e = H5Lexists(file.get(), prefix.c_str(), H5P_DEFAULT);
            if (e < 0) fail(path, "cannot look up " + in_quotes(prefix));
            if (e == 0) {
                Hid g(H5Gcreate2(file.get(), prefix.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose);
                if (!g.valid()) fail(path, "cannot create group " + in_quotes(prefix));
            } else if (object_type(file.get(), prefix) != H5I_GROUP) {
                fail(path, in_quotes(prefix) + " exists and is not a group", false);
            }
            if (k == std::string::npos) return;
        }
    }

    /// Normalised path of a new dataset; its parent groups exist afterwards.
    std::string prepare_dataset(const std::string& dataset_path) {
        check_open();
        std::string abs = normalize(path, dataset_path, "dataset");
        if (abs == "/") fail(path, "a dataset cannot be the root group", false);
        ensure_group(parent_of(abs));
        if (H5Lexists(file.get(), abs.c_str(), H5P_DEFAULT) > 0)
            fail(path, in_quotes(abs) + " already exists", false);
        return abs;
    }

    Hid dataset_plist() const {
        Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
        H5Pset_obj_track_times(dcpl.get(), false);
        return dcpl;
    }

    void write_string_attr(hid_t obj, const std::string& name, const std::string& value) {
        if (value.find('\0') != std::string::npos)
            fail(path, "attribute " + in_quotes(name) + " contains a NUL character", false);
        Hid type = vlen_string_type();
        const char* data = value.c_str();
        write_attr(obj, name, type.get(), type.get(), &data);
    }

    void write_attr(hid_t obj, const std::string& name, hid_t file_type, hid_t mem_type, const void* data) {
        if (H5Aexists(obj, name.c_str()) > 0 && H5Adelete(obj, name.c_str()) < 0)
            fail(path, "cannot replace attribute " + in_quotes(name));
        Hid space(H5Screate(H5S_SCALAR), H5Sclose);
        Hid attr(H5Acreate2(obj, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
        if (!attr.valid() || H5Awrite(attr.get(), mem_type, data) < 0)
            fail(path, "cannot write attribute " + in_quotes(name));
    }

    void set_attr(const std::string& object_path, const std::string& name, hid_t file_type, hid_t mem_type,
                  const void* data, const std::string* text) {
        check_open();
        QuietHdf5 quiet;
        std::string abs = normalize(path, object_path, "object");
        if (name.empty()) fail(path, "empty attribute name on " + in_quotes(abs), false);
        if (!object_exists(file.get(), abs))
            fail(path, "cannot set attribute " + in_quotes(name) + ": no object " + in_quotes(abs), false);
        Hid obj(H5Oopen(file.get(), abs.c_str(), H5P_DEFAULT), H5Oclose);
        if (!obj.valid()) fail(path, "cannot open " + in_quotes(abs));
        try {
            if (text)
                write_string_attr(obj.get(), name, *text);
            else
                write_attr(obj.get(), name, file_type, mem_type, data);
        } catch (const Error& e) {
            throw Error(std::string(e.what()) + " on " + in_quotes(abs));
        }
    }

    int add_series(const std::string& group, const std::string& name, std::size_t n_cols,
                   const std::string& unit, bool is_int, int rank, const char* units_attr) {
        check_open();
        QuietHdf5 quiet;
        std::string abs_group = normalize(path, group, "group");
        check_name(path, name, "series");
        std::string abs = join(abs_group, name);
        if (n_cols == 0) fail(path, "series " + in_quotes(abs) + ": n_cols must be >= 1", false);
        auto w = ids_width.find(abs_group);
        if (rank == 2 && w != ids_width.end() && w->second != n_cols)
            throw ValidationError("results file " + in_quotes(path) + ": series " + in_quotes(abs) + " has " +
                                  std::to_string(n_cols) + " columns but " +
                                  in_quotes(join(abs_group, "id")) + " has " + std::to_string(w->second) +
                                  " ids");
        const bool reopen = resuming && H5Lexists(file.get(), abs.c_str(), H5P_DEFAULT) > 0;
        if (!reopen) prepare_dataset(abs);

        Series s;
        s.path = abs;
        s.is_int = is_int;
        s.rank = rank;
        s.n_cols = n_cols;
        const std::size_t row_bytes = n_cols * 8;
        s.chunk_rows = std::max<std::size_t>(1, std::min(opt.chunk_rows, opt.max_buffer_bytes / row_bytes));
        // Memory in bytes, whatever the chunk rows: the row buffer, and with compression threads the
        // chunk in flight plus its compressed copy (compressBound ~ the raw size).
        const bool threaded = opt.compression_level > 0 && opt.compression_threads > 0;
        const std::size_t copies = threaded ? 3 : 1;
        const std::size_t left = opt.max_total_buffer_bytes > buffer_bytes ? opt.max_total_buffer_bytes - buffer_bytes : 0;
        if (row_bytes * copies > left)
            throw ValidationError("results file " + in_quotes(path) + ": series " + in_quotes(abs) + " (" +
                                  std::to_string(n_cols) + " columns) needs " + std::to_string(row_bytes * copies) +
                                  " bytes of buffer for one row, but only " + std::to_string(left) + " of max_total_buffer_bytes (" +
                                  std::to_string(opt.max_total_buffer_bytes) + ") are left");
        if (planned_columns > 0)  // the same rows for every series: each its share of the budget
            s.chunk_rows = std::min(s.chunk_rows, std::max<std::size_t>(1, opt.max_total_buffer_bytes / (planned_columns * 8 * copies)));
        s.chunk_rows = std::min(s.chunk_rows, std::max<std::size_t>(1, left / (row_bytes * copies)));
        buffer_bytes += s.chunk_rows * row_bytes * copies;
        if (reopen) return reopen_series(std::move(s));

        const hsize_t dims[2] = {0, n_cols};
        const hsize_t maxdims[2] = {H5S_UNLIMITED, n_cols};
        const hsize_t chunk[2] = {s.chunk_rows, std::min<hsize_t>(n_cols, 1024)};
        Hid space(H5Screate_simple(rank, dims, maxdims), H5Sclose);
        Hid dcpl = dataset_plist();
        H5Pset_chunk(dcpl.get(), rank, chunk);
        if (opt.compression_level > 0) {
            if (opt.shuffle) H5Pset_shuffle(dcpl.get());
            H5Pset_deflate(dcpl.get(), static_cast<unsigned>(opt.compression_level));
        }
        hid_t file_type = H5T_STD_I64LE;
        if (!is_int) {
            // Rows beyond what was written (only possible after a crash mid-write) read as NaN, not 0.
            const double nan = std::numeric_limits<double>::quiet_NaN();
            H5Pset_fill_value(dcpl.get(), H5T_NATIVE_DOUBLE, &nan);
            file_type = opt.float32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
        }
        // Whole chunks are written once, so a chunk cache would only hold memory.
        Hid dapl(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose);
        H5Pset_chunk_cache(dapl.get(), 0, 0, 1.0);
        s.dset = Hid(
            H5Dcreate2(file.get(), abs.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(), dapl.get()),
            H5Dclose);
        if (!s.dset.valid()) fail(path, "cannot create series " + in_quotes(abs));
        if (!unit.empty()) write_string_attr(s.dset.get(), "unit", unit);
        if (units_attr) write_string_attr(s.dset.get(), "units", units_attr);

        if (is_int)
            s.buf_i.allocate(s.chunk_rows * n_cols);
        else
            s.buf_d.allocate(s.chunk_rows * n_cols);
        attach_job(s);
        series.push_back(std::move(s));
        return static_cast<int>(series.size() - 1);
    }

    /// With compression threads: the series' second buffer and its compressed copy.
    void attach_job(Series& s) {
        if (!(opt.compression_level > 0 && opt.compression_threads > 0)) return;
        const std::size_t n_cols = s.n_cols;
        const bool is_int = s.is_int;
        auto job = std::make_unique<ChunkJob>();
        job->n_cols = n_cols;
        job->rows = s.chunk_rows;
        job->chunk_cols = std::min(n_cols, kChunkCols);
        job->n_pieces = (n_cols + job->chunk_cols - 1) / job->chunk_cols;
        job->elem_bytes = (!is_int && opt.float32) ? 4 : 8;
        job->is_int = is_int;
        job->float32 = opt.float32;
        job->shuffle = opt.shuffle;
        job->level = opt.compression_level;
        job->bound = compressBound(static_cast<uLong>(job->piece_bytes()));
        if (is_int)
            job->data_i.allocate(s.chunk_rows * n_cols);
        else
            job->data_d.allocate(s.chunk_rows * n_cols);
        job->out.allocate(job->n_pieces * job->bound);
        job->out_size.assign(job->n_pieces, 0);
        pool.reserve(job->piece_bytes());
        s.job = std::move(job);
    }

    /// Resume: attach to the existing dataset of `s`, cut it to the rows the checkpoint kept and load
    /// its last, partly filled chunk back into the buffer (so that it is written whole again).
    int reopen_series(Series s) {
        const std::string& abs = s.path;
        auto it = resume.rows.find(abs);
        if (it == resume.rows.end())
            fail(path, "cannot resume: the file holds " + in_quotes(abs) + " but the checkpoint does not list it", false);
        const std::size_t keep = it->second;
        Hid dapl(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose);
        H5Pset_chunk_cache(dapl.get(), 0, 0, 1.0);
        s.dset = Hid(H5Dopen2(file.get(), abs.c_str(), dapl.get()), H5Dclose);
        if (!s.dset.valid()) fail(path, "cannot resume: cannot open " + in_quotes(abs));
        // same shape, type and chunking as this run would create
        Hid space(H5Dget_space(s.dset.get()), H5Sclose);
        hsize_t dims[2] = {0, 0};
        const int rank = H5Sget_simple_extent_ndims(space.get());
        if (rank != s.rank || H5Sget_simple_extent_dims(space.get(), dims, nullptr) < 0 ||
            (s.rank == 2 && dims[1] != s.n_cols))
            fail(path, "cannot resume: " + in_quotes(abs) + " has another shape than this run's (" + std::to_string(s.n_cols) +
                           " columns)", false);
        Hid dcpl(H5Dget_create_plist(s.dset.get()), H5Pclose);
        hsize_t chunk[2] = {0, 0};
        if (H5Pget_chunk(dcpl.get(), 2, chunk) != s.rank || chunk[0] != s.chunk_rows)
            fail(path, "cannot resume: " + in_quotes(abs) + " is chunked by " + std::to_string(chunk[0]) + " rows, this run by " +
                           std::to_string(s.chunk_rows) + " (were the output options changed?)", false);
        Hid type(H5Dget_type(s.dset.get()), H5Tclose);
        const bool file_int = H5Tget_class(type.get()) == H5T_INTEGER;
        const std::size_t want_size = s.is_int ? 8 : (opt.float32 ? 4 : 8);
        if (file_int != s.is_int || H5Tget_size(type.get()) != want_size)
            fail(path, "cannot resume: " + in_quotes(abs) + " holds another value type than this run writes", false);
        if (dims[0] < keep)
            fail(path, "cannot resume: " + in_quotes(abs) + " holds " + std::to_string(dims[0]) + " rows, the checkpoint needs " +
                           std::to_string(keep), false);
        const hsize_t ext[2] = {keep, s.n_cols};
        if (dims[0] != keep && H5Dset_extent(s.dset.get(), ext) < 0) fail(path, "cannot resume: cannot cut " + in_quotes(abs));
        s.extent_rows = keep;
        s.chunk_start = keep - keep % s.chunk_rows;
        s.buffered = keep - s.chunk_start;
        s.buffered_in_file = s.buffered;
        s.written_rows = s.durable_rows = keep;
        if (s.is_int)
            s.buf_i.allocate(s.chunk_rows * s.n_cols);
        else
            s.buf_d.allocate(s.chunk_rows * s.n_cols);
        if (s.buffered > 0) {
            Hid fspace(H5Dget_space(s.dset.get()), H5Sclose);
            const hsize_t start[2] = {s.chunk_start, 0};
            const hsize_t count[2] = {s.buffered, s.n_cols};
            Hid mspace(H5Screate_simple(s.rank, count, nullptr), H5Sclose);
            herr_t st = H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
            if (st >= 0)
                st = s.is_int ? H5Dread(s.dset.get(), H5T_NATIVE_INT64, mspace.get(), fspace.get(), H5P_DEFAULT, s.buf_i.data())
                              : H5Dread(s.dset.get(), H5T_NATIVE_DOUBLE, mspace.get(), fspace.get(), H5P_DEFAULT, s.buf_d.data());
            if (st < 0) fail(path, "cannot resume: cannot read the last rows of " + in_quotes(abs));
        }
        attach_job(s);
        series.push_back(std::move(s));
        return static_cast<int>(series.size() - 1);
    }

    /// Writes the buffered rows of `s` that are not in the file yet (rewriting the partly written
    /// chunk from its first row, so that a full chunk is always written whole).
    void write_buffered(Series& s) {
        if (s.buffered == s.buffered_in_file) return;
        QuietHdf5 quiet;
        const hsize_t end_rows = s.chunk_start + s.buffered;
        if (end_rows > s.extent_rows) {
            const hsize_t ext[2] = {end_rows, s.n_cols};
            if (H5Dset_extent(s.dset.get(), ext) < 0) write_failed("cannot extend " + in_quotes(s.path));
            s.extent_rows = end_rows;
        }
        Hid fspace(H5Dget_space(s.dset.get()), H5Sclose);
        const hsize_t start[2] = {s.chunk_start, 0};
        const hsize_t count[2] = {s.buffered, s.n_cols};
        Hid mspace(H5Screate_simple(s.rank, count, nullptr), H5Sclose);
        if (!fspace.valid() || !mspace.valid() ||
            H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr) < 0)
            fail(path, "cannot select rows of " + in_quotes(s.path));
        herr_t st = s.is_int ? H5Dwrite(s.dset.get(), H5T_NATIVE_INT64, mspace.get(), fspace.get(),
                                        H5P_DEFAULT, s.buf_i.data())
                             : H5Dwrite(s.dset.get(), H5T_NATIVE_DOUBLE, mspace.get(), fspace.get(),
                                        H5P_DEFAULT, s.buf_d.data());
        if (st < 0) write_failed("cannot write rows of " + in_quotes(s.path));
        s.buffered_in_file = s.buffered;
        s.written_rows = std::max(s.written_rows, s.chunk_start + s.buffered);
    }

    /// A write to the file failed (a full disk, a file size limit, an I/O error): the file on disk
    /// is left as the last successful H5Fflush made it, which is readable. Everything HDF5 would
    /// still write (the rest of this write, metadata at close) goes to an in-memory file put in place
    /// of the file's descriptor: a flush of half-updated metadata would make the whole file
    /// unreadable ("addr overflow"), and a close that fails leaves libhdf5 to crash at exit.
    [[noreturn]] void write_failed(const std::string& what) {
        std::string msg = "results file " + in_quotes(path) + ": " + what;
        const std::string detail = hdf5_detail();
        if (!detail.empty()) msg += " (HDF5: " + detail + ")";
        if (!broken) {
            broken = true;
            void* handle = nullptr;
            if (H5Fget_vfd_handle(file.get(), H5P_DEFAULT, &handle) >= 0 && handle) {
                const int fd = *static_cast<int*>(handle);
                const int mem = ::memfd_create("libgrid-detached-results", MFD_CLOEXEC);
                if (mem >= 0) {
                    ::dup2(mem, fd);
                    ::close(mem);
                }
            }
            msg += "; the file keeps what was flushed before (readable; libgrid info tells how far)";
        }
        throw Error(msg);
    }

    void flush_file() {
        QuietHdf5 quiet;
        if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) write_failed("cannot flush");
        for (Series& x : series) x.durable_rows = x.written_rows;
    }

    /// Waits for the series' compressed chunk and writes it as is (H5Dwrite_chunk, no filter
    /// skipped: filter mask 0), then flushes the file. HDF5 is called only here, on the appending
    /// thread, at points fixed by the order of appends: files do not depend on thread timing.
    void write_job(Series& s) {
        ChunkJob& job = *s.job;
        if (!job.pending) return;
        pool.wait(job);
        if (!job.ok) fail(path, "cannot compress a chunk of " + in_quotes(s.path) + " (zlib)", false);
        QuietHdf5 quiet;
        const hsize_t end_rows = job.chunk_start + job.rows;
        if (end_rows > s.extent_rows) {
            const hsize_t ext[2] = {end_rows, s.n_cols};
            if (H5Dset_extent(s.dset.get(), ext) < 0) write_failed("cannot extend " + in_quotes(s.path));
            s.extent_rows = end_rows;
        }
        for (std::size_t p = 0; p < job.n_pieces; ++p) {
            const hsize_t offset[2] = {job.chunk_start, p * job.chunk_cols};
            if (H5Dwrite_chunk(s.dset.get(), H5P_DEFAULT, 0, offset, job.out_size[p],
                               job.out.data() + p * job.bound) < 0)
                write_failed("cannot write a chunk of " + in_quotes(s.path));
        }
        s.written_rows = std::max(s.written_rows, job.chunk_start + job.rows);
        job.pending = false;
        flush_file();
    }

    /// The buffer is full: write the chunk, flush the file, start the next chunk. With
    /// compression, the previous chunk of this series is written now and this one is handed to
    /// the pool (so at most one full chunk per series is in flight: double buffering).
    void write_chunk(Series& s) {
        if (!s.job) {
            write_buffered(s);
            flush_file();
        } else {
            write_job(s);  // frees the second buffer (waits if its chunk is still compressing)
            ChunkJob& job = *s.job;
            std::swap(s.buf_d, job.data_d);
            std::swap(s.buf_i, job.data_i);
            job.chunk_start = s.chunk_start;
            job.pending = true;
            pool.submit(job);
        }
        s.chunk_start += s.buffered;
        s.buffered = 0;
        s.buffered_in_file = 0;
    }

    template <class T>
    void append_row(Series& s, RawBuffer<T>& buf, const T* row) {
        if (s.buffered == s.chunk_rows) write_chunk(s);  // only after an earlier write failed
        std::copy(row, row + s.n_cols, buf.data() + s.buffered * s.n_cols);
        ++s.buffered;
        if (s.buffered == s.chunk_rows) write_chunk(s);
    }

    /// Every appended row into the file: chunks in flight, then the partly filled chunks.
    void write_all() {
        for (Series& s : series) {
            if (s.job) write_job(s);
            write_buffered(s);
        }
    }

    void flush() {
        check_open();
        write_all();
        flush_file();
    }

    void close() {
        if (closed) return;
        closed = true;
        if (!file.valid()) return;
        std::string error;
        try {
            if (!broken) write_all();
        } catch (const Error& e) {
            error = e.what();
        }
        pool.stop();
        bool ok = true;
        for (Series& s : series) ok = s.dset.reset() && ok;
        ok = gcpl.reset() && ok;
        {
            QuietHdf5 quiet;
            ok = file.reset() && ok;
        }
        if (!error.empty()) throw Error(error);
        if (!ok) fail(path, "cannot close", false);
    }

    /// Resume: fixed data the reopened file holds already are kept as they are.
    bool kept_on_resume(const std::string& dataset_path) {
        if (!resuming) return false;
        check_open();
        QuietHdf5 quiet;
        const std::string abs = normalize(path, dataset_path, "dataset");
        return object_exists(file.get(), abs);
    }

    void write_array(const std::string& dataset_path, hid_t file_type, hid_t mem_type, std::size_t n,
                     const void* data, const std::string& unit) {
        if (kept_on_resume(dataset_path)) return;
        QuietHdf5 quiet;
        std::string abs = prepare_dataset(dataset_path);
        const hsize_t dims[1] = {n};
        Hid space(H5Screate_simple(1, dims, nullptr), H5Sclose);
        Hid dcpl = dataset_plist();
        Hid d(
            H5Dcreate2(file.get(), abs.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
            H5Dclose);
        if (!d.valid()) fail(path, "cannot create " + in_quotes(abs));
        if (n > 0 && H5Dwrite(d.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
            fail(path, "cannot write " + in_quotes(abs));
        if (!unit.empty()) write_string_attr(d.get(), "unit", unit);
    }
};

ResultsWriter::ResultsWriter(const std::string& path, H5WriterOptions options)
    : impl_(std::make_unique<Impl>(path, options)) {
    auto bad_option = [&](const char* field, const std::string& msg) {
        throw ValidationError("H5WriterOptions (results file " + in_quotes(path) + "): field '" + field +
                              "': " + msg);
    };
    if (options.compression_level < 0 || options.compression_level > 9)
        bad_option("compression_level", "must be 0..9, got " + std::to_string(options.compression_level));
    if (options.chunk_rows == 0) bad_option("chunk_rows", "must be >= 1");
    if (options.max_buffer_bytes == 0) bad_option("max_buffer_bytes", "must be >= 1");

    QuietHdf5 quiet;
    if (options.compression_level > 0 && (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0 ||
                                          (options.shuffle && H5Zfilter_avail(H5Z_FILTER_SHUFFLE) <= 0)))
        fail(path, "this HDF5 library has no deflate/shuffle filter; use compression_level = 0", false);

    Hid fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
    H5Pset_obj_track_times(fcpl.get(), false);  // root group without time stamps
    Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
    impl_->file = Hid(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), H5Fclose);
    if (!impl_->file.valid()) {
        impl_->closed = true;
        fail(path, "cannot create");
    }
    impl_->gcpl = Hid(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
    H5Pset_obj_track_times(impl_->gcpl.get(), false);
    set_attribute("/", "libgrid_version", LIBGRID_VERSION);
    set_attribute("/", "layout_version", kResultsLayoutVersion);
}

ResultsWriter::ResultsWriter(const std::string& path, H5WriterOptions options, const ResultsResume& resume)
    : impl_(std::make_unique<Impl>(path, options)) {
    if (options.compression_level < 0 || options.compression_level > 9 || options.chunk_rows == 0 ||
        options.max_buffer_bytes == 0 || options.max_total_buffer_bytes == 0)
        throw ValidationError("H5WriterOptions (results file " + in_quotes(path) + "): out of range");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        impl_->closed = true;
        fail(path, "cannot resume: no such results file (or not a regular file)", false);
    }
    QuietHdf5 quiet;
    Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
    impl_->file = Hid(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get()), H5Fclose);
    if (!impl_->file.valid()) {
        impl_->closed = true;
        fail(path, "cannot resume: cannot open it for writing");
    }
    impl_->gcpl = Hid(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
    H5Pset_obj_track_times(impl_->gcpl.get(), false);
    impl_->resuming = true;
    impl_->resume = resume;
    // written by this libgrid, in this layout
    auto root_attr = [&](const char* name) -> std::string {
        Hid a(H5Aopen_by_name(impl_->file.get(), "/", name, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
        if (!a.valid()) return "";
        Hid t(H5Aget_type(a.get()), H5Tclose);
        if (H5Tget_class(t.get()) == H5T_STRING && H5Tis_variable_str(t.get()) > 0) {
            Hid mt = vlen_string_type();
            char* p = nullptr;
            if (H5Aread(a.get(), mt.get(), &p) < 0 || !p) return "";
            std::string v(p);
            H5free_memory(p);
            return v;
        }
        if (H5Tget_class(t.get()) == H5T_INTEGER) {
            std::int64_t v = 0;
            if (H5Aread(a.get(), H5T_NATIVE_INT64, &v) < 0) return "";
            return std::to_string(v);
        }
        return "";
    };
    const std::string version = root_attr("libgrid_version");
    if (version != LIBGRID_VERSION)
        fail(path, "cannot resume: written by libgrid '" + version + "', this is " + LIBGRID_VERSION, false);
    if (root_attr("layout_version") != std::to_string(kResultsLayoutVersion))
        fail(path, "cannot resume: another results layout", false);
    for (const std::string& r : resume.remove) remove(r);
    for (const std::string& a : resume.remove_root_attributes)
        if (H5Aexists(impl_->file.get(), a.c_str()) > 0 && H5Adelete(impl_->file.get(), a.c_str()) < 0)
            fail(path, "cannot resume: cannot remove the root attribute " + in_quotes(a));
}

ResultsWriter::~ResultsWriter() = default;  // Impl::~Impl closes, swallowing errors
ResultsWriter::ResultsWriter(ResultsWriter&&) noexcept = default;
ResultsWriter& ResultsWriter::operator=(ResultsWriter&&) noexcept = default;

ResultsWriter::Impl& ResultsWriter::impl() const {
    if (!impl_) throw Error("ResultsWriter: used after move");
    return *impl_;
}

const std::string& ResultsWriter::path() const {
    static const std::string moved_from;
    return impl_ ? impl_->path : moved_from;
}

void ResultsWriter::write_run_info(const std::string& scenario_text, std::uint64_t seed) {
    set_attribute("/", "scenario", scenario_text);
    set_attribute("/", "seed", seed);
}

int ResultsWriter::add_time(const std::string& units) {
    Impl& w = impl();
    w.time_handle = w.add_series("/", "time", 1, "", true, 1, units.c_str());
    return w.time_handle;
}

int ResultsWriter::add_group_time(const std::string& group, const std::string& units) {
    return impl().add_series(group, "time", 1, "", true, 1, units.c_str());
}

void ResultsWriter::append_time(std::int64_t seconds) {
    Impl& w = impl();
    w.check_open();
    if (w.time_handle < 0) fail(w.path, "append_time before add_time", false);
    Impl::Series& s = w.series[static_cast<std::size_t>(w.time_handle)];
    w.append_row(s, s.buf_i, &seconds);
}

int ResultsWriter::add_series(const std::string& group, const std::string& name, std::size_t n_cols,
                              const std::string& unit) {
    return impl().add_series(group, name, n_cols, unit, false, 2, nullptr);
}

int ResultsWriter::add_int_series(const std::string& group, const std::string& name, std::size_t n_cols,
                                  const std::string& unit) {
    return impl().add_series(group, name, n_cols, unit, true, 2, nullptr);
}

void ResultsWriter::append(int handle, const double* row) {
    Impl& w = impl();
    w.check_open();
    Impl::Series& s = w.handle_series(handle, false);
    w.append_row(s, s.buf_d, row);
}

void ResultsWriter::append(int handle, const std::int64_t* row) {
    Impl& w = impl();
    w.check_open();
    Impl::Series& s = w.handle_series(handle, true);
    w.append_row(s, s.buf_i, row);
}

std::size_t ResultsWriter::rows(int handle) const {
    if (handle < 0 || static_cast<std::size_t>(handle) >= impl().series.size())
        fail(impl().path, "invalid series handle " + std::to_string(handle), false);
    const Impl::Series& s = impl().series[static_cast<std::size_t>(handle)];
    return s.chunk_start + s.buffered;
}

void ResultsWriter::plan(std::size_t total_columns) {
    Impl& m = impl();
    m.planned_columns = total_columns;
    // A step appends one row to every series, so the writer holds at least one row of each (and,
    // with compression threads, the chunk in flight and its compressed copy): a plan wider than
    // the budget raises it to that floor rather than refusing a network that only needs the memory
    // (the Melaka city as built: 3.3 million nodes, ~80 MB a row per node series).
    const std::size_t copies = m.opt.compression_level > 0 && m.opt.compression_threads > 0 ? 3 : 1;
    const std::size_t floor = total_columns * 8 * copies;
    if (floor > m.opt.max_total_buffer_bytes) m.opt.max_total_buffer_bytes = floor + floor / 16;
}

std::size_t ResultsWriter::durable_rows(int handle) const {
    if (handle < 0 || static_cast<std::size_t>(handle) >= impl().series.size())
        fail(impl().path, "invalid series handle " + std::to_string(handle), false);
    return impl().series[static_cast<std::size_t>(handle)].durable_rows;
}

std::vector<std::pair<std::string, std::size_t>> ResultsWriter::series_rows() const {
    std::vector<std::pair<std::string, std::size_t>> out;
    for (const Impl::Series& s : impl().series) out.emplace_back(s.path, s.chunk_start + s.buffered);
    return out;
}

std::size_t ResultsWriter::free_bytes() const {
    Impl& w = impl();
    if (w.dir.empty()) {  // once: the run's loop calls this and must not allocate
        w.dir = std::filesystem::path(w.path).parent_path().string();
        if (w.dir.empty()) w.dir = ".";
    }
    struct statvfs st {};
    if (::statvfs(w.dir.c_str(), &st) != 0) return std::numeric_limits<std::size_t>::max();
    const unsigned long long bytes = static_cast<unsigned long long>(st.f_bavail) * st.f_frsize;
    return bytes > std::numeric_limits<std::size_t>::max() ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(bytes);
}

void ResultsWriter::remove(const std::string& object_path) {
    Impl& w = impl();
    w.check_open();
    QuietHdf5 quiet;
    const std::string abs = normalize(w.path, object_path, "object");
    if (abs == "/") fail(w.path, "cannot remove the root group", false);
    if (!object_exists(w.file.get(), abs)) return;
    if (H5Ldelete(w.file.get(), abs.c_str(), H5P_DEFAULT) < 0) fail(w.path, "cannot remove " + in_quotes(abs));
}

std::size_t ResultsWriter::time_rows() const { return impl().time_handle < 0 ? 0 : rows(impl().time_handle); }

void ResultsWriter::write_ids(const std::string& group, const std::vector<std::int64_t>& ids) {
    impl().check_open();
    const std::string& file = impl().path;
    std::string abs_group = normalize(file, group, "group");
    std::string id_path = join(abs_group, "id");
    std::vector<std::int64_t> sorted(ids);
    std::sort(sorted.begin(), sorted.end());
    auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    if (dup != sorted.end())
        throw IdError("results file " + in_quotes(file) + ": " + in_quotes(id_path) + ": duplicate id " +
                      std::to_string(*dup));
    for (const Impl::Series& s : impl().series)
        if (parent_of(s.path) == abs_group && s.rank == 2 && s.n_cols != ids.size())
            throw ValidationError("results file " + in_quotes(file) + ": " + in_quotes(id_path) + " has " +
                                  std::to_string(ids.size()) + " ids but series " + in_quotes(s.path) +
                                  " has " + std::to_string(s.n_cols) + " columns");
    if (impl().kept_on_resume(id_path)) {
        // the file must label the same columns
        QuietHdf5 quiet;
        Hid d(H5Dopen2(impl().file.get(), id_path.c_str(), H5P_DEFAULT), H5Dclose);
        Hid space(d.valid() ? H5Dget_space(d.get()) : H5I_INVALID_HID, H5Sclose);
        std::vector<std::int64_t> have;
        bool same = space.valid() && H5Sget_simple_extent_ndims(space.get()) == 1 &&
                    H5Sget_simple_extent_npoints(space.get()) == static_cast<hssize_t>(ids.size());
        if (same) {
            have.resize(ids.size());
            same = ids.empty() || H5Dread(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, have.data()) >= 0;
            same = same && have == ids;
        }
        if (!same) fail(file, "cannot resume: " + in_quotes(id_path) + " differs from this run's ids (another network?)", false);
    } else {
        impl().write_array(id_path, H5T_STD_I64LE, H5T_NATIVE_INT64, ids.size(), ids.data(), "");
    }
    impl().ids_width[abs_group] = ids.size();
}

void ResultsWriter::write_vector(const std::string& path, const std::vector<double>& v,
                                 const std::string& unit) {
    impl().write_array(path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v.size(), v.data(), unit);
}

void ResultsWriter::write_int_vector(const std::string& path, const std::vector<std::int64_t>& v,
                                     const std::string& unit) {
    impl().write_array(path, H5T_STD_I64LE, H5T_NATIVE_INT64, v.size(), v.data(), unit);
}

void ResultsWriter::write_strings(const std::string& path, const std::vector<std::string>& v) {
    std::vector<const char*> ptrs;
    ptrs.reserve(v.size());
    for (const std::string& s : v) {
        if (s.find('\0') != std::string::npos)
            fail(impl().path,
                 in_quotes(path) + ": string " + std::to_string(ptrs.size()) + " contains a NUL character",
                 false);
        ptrs.push_back(s.c_str());
    }
    Hid type = vlen_string_type();
    impl().write_array(path, type.get(), type.get(), v.size(), ptrs.data(), "");
}

void ResultsWriter::write_scalar(const std::string& path, double value, const std::string& unit) {
    Impl& w = impl();
    if (w.kept_on_resume(path)) return;
    QuietHdf5 quiet;
    std::string abs = w.prepare_dataset(path);
    Hid space(H5Screate(H5S_SCALAR), H5Sclose);
    Hid dcpl = w.dataset_plist();
    Hid d(H5Dcreate2(w.file.get(), abs.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, dcpl.get(),
                     H5P_DEFAULT),
          H5Dclose);
    if (!d.valid() || H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) < 0)
        fail(w.path, "cannot write " + in_quotes(abs));
    if (!unit.empty()) w.write_string_attr(d.get(), "unit", unit);
}

void ResultsWriter::set_attribute(const std::string& object_path, const std::string& name,
                                  const std::string& value) {
    impl().set_attr(object_path, name, H5I_INVALID_HID, H5I_INVALID_HID, nullptr, &value);
}

void ResultsWriter::set_attribute(const std::string& object_path, const std::string& name,
                                  const char* value) {
    set_attribute(object_path, name, std::string(value ? value : ""));
}

void ResultsWriter::set_attribute(const std::string& object_path, const std::string& name, double value) {
    impl().set_attr(object_path, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, nullptr);
}

void ResultsWriter::set_int_attribute(const std::string& object_path, const std::string& name,
                                      std::int64_t value) {
    impl().set_attr(object_path, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, nullptr);
}

void ResultsWriter::set_uint_attribute(const std::string& object_path, const std::string& name,
                                       std::uint64_t value) {
    impl().set_attr(object_path, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value, nullptr);
}

void ResultsWriter::flush() { impl().flush(); }

void ResultsWriter::close() {
    if (impl_) impl_->close();
}

// =================================================================================================
// Reader
// =================================================================================================

struct ResultsReader::Impl {
    std::string path;
    Hid file;

    /// Opens a dataset, or throws naming what is missing: the first missing group on the way, or
    /// the dataset together with what its group does hold.
    Hid open_dataset(const std::string& dataset) const {
        QuietHdf5 quiet;
        std::string abs = normalize(path, dataset, "dataset");
        if (!object_exists(file.get(), abs)) {
            // Name the first missing component.
            std::size_t k = 0;
            std::string prefix;
            while (true) {
                k = abs.find('/', k + 1);
                prefix = abs.substr(0, k);
                if (!object_exists(file.get(), prefix)) break;
                if (k == std::string::npos) break;
            }
            std::string parent = parent_of(prefix);
            std::string msg = "no " + std::string(prefix == abs ? "dataset " : "group ") + in_quotes(prefix);
            if (prefix != abs) msg += " (needed for " + in_quotes(abs) + ")";
            if (object_type(file.get(), parent) == H5I_GROUP) {
                std::vector<std::string> names = list(parent);
                msg += "; " + in_quotes(parent) + " holds: ";
                if (names.empty()) msg += "nothing";
                for (std::size_t i = 0; i < names.size() && i < 20; ++i) msg += (i ? ", " : "") + names[i];
                if (names.size() > 20) msg += ", ...";
            } else {
                msg += "; " + in_quotes(parent) + " is not a group";
            }
            fail(path, msg, false);
        }
        Hid d(H5Oopen(file.get(), abs.c_str(), H5P_DEFAULT), H5Oclose);
        if (!d.valid()) fail(path, "cannot open " + in_quotes(abs));
        if (H5Iget_type(d.get()) != H5I_DATASET)
            fail(path, in_quotes(abs) + " is a group, not a dataset", false);
        return d;
    }

    std::vector<std::string> list(const std::string& group) const {
        QuietHdf5 quiet;
        std::string abs = normalize(path, group, "group");
        if (!object_exists(file.get(), abs)) fail(path, "no group " + in_quotes(abs), false);
        Hid g(H5Oopen(file.get(), abs.c_str(), H5P_DEFAULT), H5Oclose);
        if (!g.valid() || H5Iget_type(g.get()) != H5I_GROUP)
            fail(path, in_quotes(abs) + " is not a group", false);
        std::vector<std::string> names;
        auto collect = [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
            try {
                static_cast<std::vector<std::string>*>(out)->emplace_back(name);
                return 0;
            } catch (...) {
                return -1;
            }
        };
        if (H5Literate(g.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names) < 0)
            fail(path, "cannot list " + in_quotes(abs));
        return names;
    }

    static std::vector<std::size_t> dims_of(hid_t dset) {
        Hid space(H5Dget_space(dset), H5Sclose);
        int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
        if (rank < 0 || rank > H5S_MAX_RANK) return {kMaxReadElements + 1};
        std::vector<hsize_t> d(static_cast<std::size_t>(rank));
        if (rank > 0 && H5Sget_simple_extent_dims(space.get(), d.data(), nullptr) < 0) return {kMaxReadElements + 1};
        return std::vector<std::size_t>(d.begin(), d.end());
    }

    /// Elements of a dataset about to be read into memory: an Error when the file's dataspace is
    /// broken or asks for more than kMaxReadElements.
    std::size_t count(const std::vector<std::size_t>& dims, const std::string& dataset) const {
        const std::size_t n = checked_count(dims);
        if (n > kMaxReadElements)
            fail(path, in_quotes(normalize(path, dataset, "dataset")) + ": its dataspace is broken or larger than " +
                           std::to_string(kMaxReadElements) + " values",
                 false);
        return n;
    }
    static std::size_t count(const std::vector<std::size_t>& dims) { return checked_count(dims); }

    void require_numeric(hid_t dset, const std::string& dataset, bool integer_only) const {
        Hid type(H5Dget_type(dset), H5Tclose);
        H5T_class_t c = H5Tget_class(type.get());
        if ((c == H5T_INTEGER || c == H5T_FLOAT) && !sane_numeric_type(type.get()))
            fail(path, in_quotes(normalize(path, dataset, "dataset")) + ": its number type is damaged", false);
        if (c == H5T_INTEGER) return;
        if (c == H5T_FLOAT && !integer_only) return;
        fail(path,
             in_quotes(normalize(path, dataset, "dataset")) + " holds " +
                 (c == H5T_FLOAT    ? "floating-point"
                  : c == H5T_STRING ? "string"
                                    : "non-numeric") +
                 " values, not " + (integer_only ? "integers" : "numbers"),
             false);
    }
};

ResultsReader::ResultsReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
    impl_->path = path;
    // regular files only (io/input_file.hpp): a FIFO would block H5Fis_hdf5 forever, a device or a
    // directory is refused by what it is; libhdf5 reads only the parts it needs (no size cap)
    if (const std::string why = input_file_problem(path, ~std::uint64_t{0}); !why.empty()) fail(path, why, false);
    QuietHdf5 quiet;
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        std::string detail = hdf5_detail();
        fail(path, "not an HDF5 file, or unreadable" + (detail.empty() ? "" : " (HDF5: " + detail + ")"),
             false);
    }
    Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
    // 32 MiB chunk cache per dataset: a 256 x 1024 float64 chunk (2 MiB) stays decompressed while
    // consecutive rows are read.
    H5Pset_cache(fapl.get(), 0, 1031, std::size_t{32} << 20, 0.75);
    impl_->file = Hid(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
    if (!impl_->file.valid()) fail(path, "cannot open");
}

ResultsReader::~ResultsReader() = default;
ResultsReader::ResultsReader(ResultsReader&&) noexcept = default;
ResultsReader& ResultsReader::operator=(ResultsReader&&) noexcept = default;

const ResultsReader::Impl& ResultsReader::impl() const {
    if (!impl_) throw Error("ResultsReader: used after move");
    return *impl_;
}

const std::string& ResultsReader::path() const {
    static const std::string moved_from;
    return impl_ ? impl_->path : moved_from;
}

std::vector<std::string> ResultsReader::list(const std::string& group) const { return impl().list(group); }

bool ResultsReader::exists(const std::string& path) const {
    QuietHdf5 quiet;
    return object_exists(impl().file.get(), normalize(impl().path, path, "object"));
}

bool ResultsReader::is_dataset(const std::string& path) const {
    QuietHdf5 quiet;
    std::string abs = normalize(impl().path, path, "object");
    return object_exists(impl().file.get(), abs) && object_type(impl().file.get(), abs) == H5I_DATASET;
}

std::vector<std::size_t> ResultsReader::shape(const std::string& dataset) const {
    Hid d = impl().open_dataset(dataset);
    return Impl::dims_of(d.get());
}

std::vector<double> ResultsReader::read_vector(const std::string& dataset) const {
    Hid d = impl().open_dataset(dataset);
    impl().require_numeric(d.get(), dataset, false);
    std::vector<double> v(impl().count(Impl::dims_of(d.get()), dataset));
    QuietHdf5 quiet;
    if (!v.empty() && H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
        fail(impl().path, "cannot read " + in_quotes(normalize(impl().path, dataset, "dataset")));
    return v;
}

std::vector<double> ResultsReader::read_rows(const std::string& dataset, std::size_t row0,
                                             std::size_t nrows) const {
    Hid d = impl().open_dataset(dataset);
    impl().require_numeric(d.get(), dataset, false);
    const std::string abs = normalize(impl().path, dataset, "dataset");
    std::vector<std::size_t> dims = Impl::dims_of(d.get());
    if (dims.size() != 1 && dims.size() != 2)
        fail(impl().path,
             in_quotes(abs) + " has rank " + std::to_string(dims.size()) + "; read_rows needs 1 or 2", false);
    const std::size_t n_rows = dims[0];
    const std::size_t n_cols = dims.size() == 2 ? dims[1] : 1;
    if (row0 > n_rows || nrows > n_rows - row0)
        fail(impl().path,
             in_quotes(abs) + ": rows " + std::to_string(row0) + ".." + std::to_string(row0 + nrows) +
                 " requested but it has " + std::to_string(n_rows) + " rows",
             false);
    if (checked_count({nrows, n_cols}) > kMaxReadElements)
        fail(impl().path, in_quotes(abs) + ": " + std::to_string(nrows) + " rows x " + std::to_string(n_cols) + " columns is more than one read takes", false);
    std::vector<double> v(nrows * n_cols);
    if (v.empty()) return v;
    QuietHdf5 quiet;
    Hid fspace(H5Dget_space(d.get()), H5Sclose);
    const hsize_t start[2] = {row0, 0};
    const hsize_t cnt[2] = {nrows, n_cols};
    const int rank = static_cast<int>(dims.size());
    Hid mspace(H5Screate_simple(rank, cnt, nullptr), H5Sclose);
    if (H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, cnt, nullptr) < 0 ||
        H5Dread(d.get(), H5T_NATIVE_DOUBLE, mspace.get(), fspace.get(), H5P_DEFAULT, v.data()) < 0)
        fail(impl().path, "cannot read rows of " + in_quotes(abs));
    return v;
}

std::vector<std::int64_t> ResultsReader::read_int_vector(const std::string& dataset) const {
    Hid d = impl().open_dataset(dataset);
    impl().require_numeric(d.get(), dataset, true);
    std::vector<std::int64_t> v(impl().count(Impl::dims_of(d.get()), dataset));
    QuietHdf5 quiet;
    if (!v.empty() && H5Dread(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
        fail(impl().path, "cannot read " + in_quotes(normalize(impl().path, dataset, "dataset")));
    return v;
}

namespace {

/// Reads n strings (variable- or fixed-length) from a dataset or attribute whose type is `ftype`.
template <class ReadFn>
std::vector<std::string> read_string_data(hid_t ftype, std::size_t n, hid_t space, ReadFn read, bool& ok) {
    std::vector<std::string> out;
    ok = true;
    if (n == 0) return out;
    if (H5Tis_variable_str(ftype) > 0) {
        Hid mtype(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mtype.get(), H5T_VARIABLE);
        H5Tset_cset(mtype.get(), H5Tget_cset(ftype));
        std::vector<char*> ptrs(n, nullptr);
        if (read(mtype.get(), ptrs.data()) < 0) {
            ok = false;
            return out;
        }
        for (char* p : ptrs) out.emplace_back(p ? p : "");
        H5Dvlen_reclaim(mtype.get(), space, H5P_DEFAULT, ptrs.data());
    } else {
        // A memory type of our own (not a copy of the file's, whose properties a damaged file sets):
        // n strings of `size` bytes, null-padded.
        const std::size_t size = H5Tget_size(ftype);
        if (size == 0 || size > kMaxFixedString || n > kMaxReadElements / size) {
            ok = false;
            return out;
        }
        Hid mtype(H5Tcopy(H5T_C_S1), H5Tclose);
        if (!mtype.valid() || H5Tset_size(mtype.get(), size) < 0 || H5Tset_strpad(mtype.get(), H5T_STR_NULLPAD) < 0) {
            ok = false;
            return out;
        }
        std::vector<char> buf(n * size + 1, '\0');
        if (read(mtype.get(), buf.data()) < 0) {
            ok = false;
            return out;
        }
        const bool space_pad = H5Tget_strpad(ftype) == H5T_STR_SPACEPAD;
        for (std::size_t i = 0; i < n; ++i) {
            std::string s(buf.data() + i * size, size);
            s = s.substr(0, s.find('\0'));
            if (space_pad) s.erase(s.find_last_not_of(' ') + 1);
            out.push_back(std::move(s));
        }
    }
    return out;
}

}  // namespace

std::vector<std::string> ResultsReader::read_strings(const std::string& dataset) const {
    Hid d = impl().open_dataset(dataset);
    const std::string abs = normalize(impl().path, dataset, "dataset");
    QuietHdf5 quiet;
    Hid ftype(H5Dget_type(d.get()), H5Tclose);
    if (H5Tget_class(ftype.get()) != H5T_STRING)
        fail(impl().path, in_quotes(abs) + " does not hold strings", false);
    Hid space(H5Dget_space(d.get()), H5Sclose);
    const std::size_t n = impl().count(Impl::dims_of(d.get()), dataset);
    bool ok = true;
    auto out = read_string_data(
        ftype.get(), n, space.get(),
        [&](hid_t mtype, void* buf) { return H5Dread(d.get(), mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); },
        ok);
    if (!ok) fail(impl().path, "cannot read " + in_quotes(abs));
    return out;
}

double ResultsReader::read_scalar(const std::string& dataset) const {
    std::vector<std::size_t> dims = shape(dataset);
    if (Impl::count(dims) != 1)
        fail(impl().path,
             in_quotes(normalize(impl().path, dataset, "dataset")) + " holds " +
                 std::to_string(Impl::count(dims)) + " values, not one",
             false);
    return read_vector(dataset)[0];
}

bool ResultsReader::has_attribute(const std::string& object_path, const std::string& name) const {
    QuietHdf5 quiet;
    std::string abs = normalize(impl().path, object_path, "object");
    return object_exists(impl().file.get(), abs) &&
           H5Aexists_by_name(impl().file.get(), abs.c_str(), name.c_str(), H5P_DEFAULT) > 0;
}

std::vector<std::string> ResultsReader::attribute_names(const std::string& object_path) const {
    QuietHdf5 quiet;
    std::string abs = normalize(impl().path, object_path, "object");
    if (!object_exists(impl().file.get(), abs)) fail(impl().path, "no object " + in_quotes(abs), false);
    Hid obj(H5Oopen(impl().file.get(), abs.c_str(), H5P_DEFAULT), H5Oclose);
    std::vector<std::string> names;
    auto collect = [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
        try {
            static_cast<std::vector<std::string>*>(out)->emplace_back(name);
            return 0;
        } catch (...) {
            return -1;
        }
    };
    if (!obj.valid() || H5Aiterate2(obj.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names) < 0)
        fail(impl().path, "cannot list attributes of " + in_quotes(abs));
    return names;
}

std::string ResultsReader::attribute(const std::string& object_path, const std::string& name) const {
    const std::string& file = impl().path;
    QuietHdf5 quiet;
    std::string abs = normalize(file, object_path, "object");
    if (!object_exists(impl().file.get(), abs))
        fail(file, "no object " + in_quotes(abs) + " (looking for its attribute " + in_quotes(name) + ")",
             false);
    if (H5Aexists_by_name(impl().file.get(), abs.c_str(), name.c_str(), H5P_DEFAULT) <= 0)
        fail(file, in_quotes(abs) + " has no attribute " + in_quotes(name), false);
    Hid attr(H5Aopen_by_name(impl().file.get(), abs.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
             H5Aclose);
    Hid ftype(H5Aget_type(attr.get()), H5Tclose);
    Hid space(H5Aget_space(attr.get()), H5Sclose);
    const hssize_t npoints = H5Sget_simple_extent_npoints(space.get());
    if (!attr.valid() || !ftype.valid() || npoints < 0)
        fail(file, "cannot read attribute " + in_quotes(name) + " of " + in_quotes(abs));
    const std::size_t n = static_cast<std::size_t>(npoints);
    const std::string what = "attribute " + in_quotes(name) + " of " + in_quotes(abs);
    if (n > (std::size_t{1} << 24)) fail(file, what + " holds " + std::to_string(n) + " values: damaged or not ours", false);
    const H5T_class_t cls = H5Tget_class(ftype.get());
    if ((cls == H5T_INTEGER || cls == H5T_FLOAT) && !sane_numeric_type(ftype.get())) fail(file, what + ": its number type is damaged", false);

    std::vector<std::string> items;
    switch (cls) {
        case H5T_STRING: {
            bool ok = true;
            items = read_string_data(
                ftype.get(), n, space.get(),
                [&](hid_t mtype, void* buf) { return H5Aread(attr.get(), mtype, buf); }, ok);
            if (!ok) fail(file, "cannot read " + what);
            break;
        }
        case H5T_INTEGER: {
            if (H5Tget_sign(ftype.get()) == H5T_SGN_NONE) {
                std::vector<std::uint64_t> v(n);
                if (n && H5Aread(attr.get(), H5T_NATIVE_UINT64, v.data()) < 0)
                    fail(file, "cannot read " + what);
                for (auto x : v) items.push_back(std::to_string(x));
            } else {
                std::vector<std::int64_t> v(n);
                if (n && H5Aread(attr.get(), H5T_NATIVE_INT64, v.data()) < 0)
                    fail(file, "cannot read " + what);
                for (auto x : v) items.push_back(std::to_string(x));
            }
            break;
        }
        case H5T_FLOAT: {
            std::vector<double> v(n);
            if (n && H5Aread(attr.get(), H5T_NATIVE_DOUBLE, v.data()) < 0) fail(file, "cannot read " + what);
            for (double x : v) items.push_back(format_double(x));
            break;
        }
        default:
            fail(file, what + " has a type this reader does not format", false);
    }
    if (H5Sget_simple_extent_type(space.get()) == H5S_SCALAR && items.size() == 1) return items[0];
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
    return out + "]";
}

// =================================================================================================
// Untrusted files: read everything once in a child process
// =================================================================================================

namespace {

/// Reads every object, attribute and value the reader API reaches (bounded); errors on single
/// objects are expected on damaged files and skipped: only crashes and hangs matter here.
void walk_results(const ResultsReader& r, const std::string& group, int depth, std::size_t& budget, bool values) {
    if (depth > 8) return;
    auto attrs = [&](const std::string& obj) {
        try {
            for (const std::string& a : r.attribute_names(obj)) {
                if (budget == 0) return;
                --budget;
                try {
                    (void)r.attribute(obj, a);
                } catch (const Error&) {
                }
            }
        } catch (const Error&) {
        }
    };
    attrs(group);
    if (group == "/") {
        // what info and compare read by name, even when listing the attributes failed
        for (const char* a : {"libgrid_version", "layout_version", "network", "start", "step_s", "seed", "status",
                              "steps_planned", "steps_done", "stop_reason", "failed_at_step", "scenario"}) {
            try {
                if (r.has_attribute("/", a)) (void)r.attribute("/", a);
            } catch (const Error&) {
            }
        }
        for (const char* d : {"/time", "/summary"}) {
            try {
                if (r.exists(d)) {
                    if (r.is_dataset(d)) (void)r.shape(d);
                    else (void)r.list(d);
                }
            } catch (const Error&) {
            }
        }
    }
    std::vector<std::string> names;
    try {
        names = r.list(group);
    } catch (const Error&) {
        return;
    }
    for (const std::string& n : names) {
        if (budget == 0) return;
        --budget;
        const std::string p = group == "/" ? "/" + n : group + "/" + n;
        try {
            if (!r.is_dataset(p)) {
                if (r.exists(p)) walk_results(r, p, depth + 1, budget, values);
                continue;
            }
            attrs(p);
            (void)r.unit(p);
            const std::vector<std::size_t> sh = r.shape(p);
            const std::size_t count = checked_count(sh);
            if (!values) {  // what info and compare read: scalars and ids
                if (sh.empty()) (void)r.read_scalar(p);
                if (n == "id" && count <= (std::size_t{256} << 20) / 8) (void)r.read_int_vector(p);
                continue;
            }
            try {
                (void)r.read_strings(p);
                continue;
            } catch (const Error&) {
            }
            if (count <= (std::size_t{256} << 20) / 8) {
                (void)r.read_vector(p);
            } else if (sh.size() == 1 || sh.size() == 2) {
                (void)r.read_rows(p, 0, 1);
                (void)r.read_rows(p, sh[0] - 1, 1);
            }
            if (sh.empty()) (void)r.read_scalar(p);
            try {
                if (count <= (std::size_t{256} << 20) / 8) (void)r.read_int_vector(p);
            } catch (const Error&) {
            }
        } catch (const Error&) {
        }
    }
}

}  // namespace

void skip_hdf5_shutdown_at_exit() { H5dont_atexit(); }

void check_results_file(const std::string& path, double timeout_s, ResultsCheck depth) {
    {
        std::error_code ec;
        if (!std::filesystem::exists(path, ec)) fail(path, "no such file", false);
        if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory", false);
        if (!std::filesystem::is_regular_file(path, ec)) fail(path, "not a regular file", false);
    }
    int fds[2];
    if (::pipe(fds) != 0) fail(path, "cannot check it: pipe() failed", false);
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        fail(path, "cannot check it: fork() failed", false);
    }
    if (pid == 0) {
        // child: no output of its own; an open error goes back through the pipe (exit 2)
        ::close(fds[0]);
        const int devnull = ::open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            ::dup2(devnull, 1);
            ::dup2(devnull, 2);
        }
        int code = 0;
        try {
            ResultsReader r(path);
            std::size_t budget = 100000;
            walk_results(r, "/", 0, budget, depth == ResultsCheck::Everything);
        } catch (const std::exception& e) {
            const std::string msg = e.what();
            [[maybe_unused]] ssize_t w = ::write(fds[1], msg.data(), msg.size());
            code = 2;
        }
        ::_exit(code);  // no atexit handlers: libhdf5's own shutdown is not run on a damaged file
    }
    ::close(fds[1]);
    std::string message;
    int status = 0;
    bool done = false, timed_out = false;
    const auto t0 = std::chrono::steady_clock::now();
    while (!done) {
        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            done = true;
        } else if (w < 0 && errno != EINTR) {
            break;
        } else if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_s) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            timed_out = done = true;
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    char buf[4096];
    ssize_t got;
    while ((got = ::read(fds[0], buf, sizeof buf)) > 0 && message.size() < 65536) message.append(buf, std::size_t(got));
    ::close(fds[0]);
    if (timed_out)
        fail(path, "damaged: libhdf5 did not finish reading it within " + format_double(timeout_s) + " s (it loops on some malformed files)", false);
    if (!done) fail(path, "cannot check it: waitpid() failed", false);
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const char* name = sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGABRT ? "SIGABRT" : sig == SIGFPE ? "SIGFPE" : nullptr;
        fail(path, std::string("damaged: libhdf5 crashed (") + (name ? name : "signal " + std::to_string(sig)) + ") reading it", false);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2) throw Error(message.empty() ? "results file " + in_quotes(path) + ": unreadable" : message);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail(path, "damaged: the reader ended with status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1), false);
}

std::string ResultsReader::unit(const std::string& dataset) const {
    impl().open_dataset(dataset);  // names a missing dataset
    if (has_attribute(dataset, "unit")) return attribute(dataset, "unit");
    if (has_attribute(dataset, "units")) return attribute(dataset, "units");
    return "";
}

}  // namespace libgrid
