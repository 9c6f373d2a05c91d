// libgrid layer 9: results in HDF5, written as the run goes.
//
// A ResultsWriter streams time series into chunked, compressed, row-extendable datasets. Each
// series keeps one chunk of rows in a buffer that is allocated when the series is added; `append`
// copies a row into it (no allocation) and, when the buffer is full, hands the chunk to two
// compression threads and goes on in a second buffer; the compressed chunk is written (and the file
// flushed, H5Fflush) when the series' next chunk is full. So a run that dies later keeps every
// completed chunk but the last of each series (without compression: every completed chunk).
// `flush()` writes everything appended so far; the destructor flushes and closes, so a run that
// fails with an exception keeps everything it had appended.
//
// The file layout (groups per component kind, `<group>/id` labelling the columns, `/time`, units as
// attributes, `/summary` KPIs, root attributes `scenario`, `seed`, `libgrid_version`) is described in
// docs/results_hdf5.md. Files are plain HDF5 (default, oldest-compatible format): h5py reads them,
// and bindings/python/libgrid/results.py turns them into pandas tables.
//
// HDF5 itself stays behind a pimpl: including this header needs no HDF5 include path.
#pragma once

#include <libgrid/results/results_options.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace libgrid {

/// Writes one results file. Not copyable; movable. One writer per file; the file is locked (HDF5
/// file locking) until the writer is closed or destroyed.
/// Every error is a libgrid::Error (ValidationError for bad options or widths, IdError for duplicate
/// ids) whose what() names the file and the object path.
/// Thread safety (docs/threads.md): one thread at a time per writer (its compression threads are
/// internal and never call HDF5); writers of different files may run on different threads at once,
/// which relies on HDF5's thread-safe build (checked by CMake, H5_HAVE_THREADSAFE).
class ResultsWriter {
public:
    /// Creates (or truncates) `path`. Writes root attributes `libgrid_version` and `layout_version`.
    explicit ResultsWriter(const std::string& path, H5WriterOptions options = {});
    /// Reopens `path` (written by this libgrid version, same layout) to continue it: add_series on an
    /// existing series reopens it with resume.rows[path] rows (its last partly filled chunk back in
    /// the buffer), write_ids checks the ids are the same, the other fixed data are kept as they are.
    ResultsWriter(const std::string& path, H5WriterOptions options, const ResultsResume& resume);
    ~ResultsWriter();  ///< flushes and closes; never throws (errors are swallowed: call close() to see them)
    ResultsWriter(ResultsWriter&&) noexcept;
    ResultsWriter& operator=(ResultsWriter&&) noexcept;
    ResultsWriter(const ResultsWriter&) = delete;
    ResultsWriter& operator=(const ResultsWriter&) = delete;

    const std::string& path() const;

    /// Root attributes `scenario` (the scenario file's text) and `seed`.
    void write_run_info(const std::string& scenario_text, std::uint64_t seed);

    // ---- time series --------------------------------------------------------------------------
    /// Creates `/time`, 1-D int64, extendable, with attribute `units` (see kResultsTimeUnits).
    /// Returns its handle (append_time is the shortcut).
    int add_time(const std::string& units = kResultsTimeUnits);
    /// One time stamp of `/time`, in the units given to add_time. No allocation.
    void append_time(std::int64_t seconds);
    /// `<group>/time`, for a group whose rows are not the steps of `/time` (e.g. 30-minute meter
    /// readings in a 15-minute run). Append with append(handle, &seconds).
    int add_group_time(const std::string& group, const std::string& units = kResultsTimeUnits);

    /// Creates the float series `<group>/<name>` of shape (0, n_cols), extendable along rows, chunked
    /// (chunk rows x min(n_cols, 1024)) and compressed; `unit` becomes its `unit` attribute.
    /// If `<group>/id` was written, n_cols must equal its length. Returns the handle for append.
    int add_series(const std::string& group, const std::string& name, std::size_t n_cols,
                   const std::string& unit = "");
    /// The same for int64 values (tap positions, switch states, counts).
    int add_int_series(const std::string& group, const std::string& name, std::size_t n_cols,
                       const std::string& unit = "");
    /// Appends one row of n_cols values (one value for a time axis). No allocation; writes and
    /// flushes a chunk when it is full.
    void append(int handle, const double* row);
    void append(int handle, const std::int64_t* row);
    /// Hint before the series are added: they have about this many columns in all. The chunk rows
    /// of every series are then cut alike so that all buffers fit max_total_buffer_bytes (without a
    /// plan the first series added take what they need and the later ones what is left). A plan
    /// whose single row (x 3 with compression threads) passes max_total_buffer_bytes raises the
    /// budget to that floor: one row of every series is the least a step needs.
    void plan(std::size_t total_columns);
    /// Rows appended to the series so far (written or still buffered).
    std::size_t rows(int handle) const;
    /// Rows appended to `/time` so far.
    std::size_t time_rows() const;
    /// Rows of the series that a kill of the process now would leave readable in the file: written
    /// and flushed (H5Fflush) so far.
    std::size_t durable_rows(int handle) const;
    /// Every series' path and rows appended so far, in the order they were added.
    std::vector<std::pair<std::string, std::size_t>> series_rows() const;
    /// Bytes free for an unprivileged writer on the file system holding the file (statvfs), or
    /// SIZE_MAX when it cannot be told.
    std::size_t free_bytes() const;
    /// Deletes an object (group or dataset) when it exists.
    void remove(const std::string& path);

    // ---- fixed data ---------------------------------------------------------------------------
    /// `<group>/id`, int64: the component ids labelling the columns of the group's series.
    /// Ids must be unique; every series of the group must have ids.size() columns.
    void write_ids(const std::string& group, const std::vector<std::int64_t>& ids);
    void write_vector(const std::string& path, const std::vector<double>& v, const std::string& unit = "");
    void write_int_vector(const std::string& path, const std::vector<std::int64_t>& v,
                          const std::string& unit = "");
    /// Variable-length UTF-8 strings (no embedded NUL).
    void write_strings(const std::string& path, const std::vector<std::string>& v);
    /// Scalar float64 dataset, e.g. a `/summary` KPI, with its `unit` attribute.
    void write_scalar(const std::string& path, double value, const std::string& unit = "");

    /// Attribute on a group or dataset ("/" is the root); overwrites an attribute of the same name.
    /// Strings are variable-length UTF-8; signed integers int64; unsigned integers uint64.
    void set_attribute(const std::string& object_path, const std::string& name, const std::string& value);
    void set_attribute(const std::string& object_path, const std::string& name, const char* value);
    void set_attribute(const std::string& object_path, const std::string& name, double value);
    template <std::integral T>
    void set_attribute(const std::string& object_path, const std::string& name, T value) {
        if constexpr (std::signed_integral<T>)
            set_int_attribute(object_path, name, static_cast<std::int64_t>(value));
        else
            set_uint_attribute(object_path, name, static_cast<std::uint64_t>(value));
    }

    /// Writes every buffered row (also of partly filled chunks) and flushes the file to disk: a
    /// crash after this keeps everything appended up to here. A checkpoint, not a per-step call
    /// (each call rewrites the partly filled chunks).
    void flush();
    /// Flushes and closes. Later calls (except path()) throw. Idempotent.
    void close();

private:
    void set_int_attribute(const std::string& object_path, const std::string& name, std::int64_t value);
    void set_uint_attribute(const std::string& object_path, const std::string& name, std::uint64_t value);
    struct Impl;
    Impl& impl() const;  ///< throws after a move
    std::unique_ptr<Impl> impl_;
};

/// For a program that owns its process (the command line): call first in main(), before anything
/// uses HDF5. libhdf5 then runs no shutdown of its own at exit; that shutdown crashes (SIGSEGV) on a
/// file whose close failed, e.g. after a write hit a file-size limit. libgrid closes every file it
/// writes explicitly. Not for processes that share HDF5 with others (h5py relies on that shutdown).
void skip_hdf5_shutdown_at_exit();

/// How much check_results_file reads: the structure (every group, dataset shape and type,
/// attribute, scalar and `id` vector: what `libgrid info` and `compare` read), or every value too.
enum class ResultsCheck { Structure, Everything };

/// Checks a results file that may be damaged or hostile before this process reads it: a child
/// process (fork) opens it with ResultsReader and reads what `depth` says (bounded: at most 100,000
/// objects, 8 levels, 256 MiB per dataset), within `timeout_s` seconds. libhdf5 1.10 is not hardened against malformed files (it can crash or loop on
/// them); this turns such a file into an Error ("results file 'f': damaged: libhdf5 crashed (SIGSEGV)
/// reading it") instead of a crash or hang of the caller. Fork: call it where no other thread of the
/// process holds locks (the command line does, before `info` and `compare`).
void check_results_file(const std::string& path, double timeout_s = 30.0, ResultsCheck depth = ResultsCheck::Structure);

/// Reads a results file (for `libgrid info`, `libgrid compare`, tests). Read-only.
/// Every error is a libgrid::Error naming the file and the missing or wrong object.
/// Thread safety (docs/threads.md): one thread at a time per reader; several readers, of different
/// files or of the same file, may read at once on different threads (HDF5's thread-safe build).
class ResultsReader {
public:
    explicit ResultsReader(const std::string& path);
    ~ResultsReader();
    ResultsReader(ResultsReader&&) noexcept;
    ResultsReader& operator=(ResultsReader&&) noexcept;
    ResultsReader(const ResultsReader&) = delete;
    ResultsReader& operator=(const ResultsReader&) = delete;

    const std::string& path() const;

    /// Names of the children of a group, sorted by name.
    std::vector<std::string> list(const std::string& group = "/") const;
    bool exists(const std::string& path) const;                        ///< group or dataset
    bool is_dataset(const std::string& path) const;                    ///< exists and is a dataset
    std::vector<std::size_t> shape(const std::string& dataset) const;  ///< {} for a scalar

    /// Whole numeric dataset (any rank, row-major), converted to double.
    std::vector<double> read_vector(const std::string& dataset) const;
    /// Rows [row0, row0 + nrows) of a 1-D or 2-D numeric dataset, row-major (nrows x columns).
    std::vector<double> read_rows(const std::string& dataset, std::size_t row0, std::size_t nrows) const;
    /// Whole integer dataset (a float dataset is an error, never silently truncated).
    std::vector<std::int64_t> read_int_vector(const std::string& dataset) const;
    std::vector<std::string> read_strings(const std::string& dataset) const;
    /// A dataset holding exactly one number.
    double read_scalar(const std::string& dataset) const;

    bool has_attribute(const std::string& object_path, const std::string& name) const;
    std::vector<std::string> attribute_names(const std::string& object_path) const;
    /// A string attribute as is; numbers formatted (shortest round-trip for floats); arrays "[a, b]".
    std::string attribute(const std::string& object_path, const std::string& name) const;
    /// The dataset's `unit` attribute, else its `units` attribute, else "".
    std::string unit(const std::string& dataset) const;

private:
    struct Impl;
    const Impl& impl() const;  ///< throws after a move
    std::unique_ptr<Impl> impl_;
};

}  // namespace libgrid
