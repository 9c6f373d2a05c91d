// libgrid layer 9: options of the results files (shared by the HDF5 writer, the HDF5 recorder and
// SimulationOptions), without the writer itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace libgrid {

/// CF-convention `units` attribute of `/time`: integer seconds since 1970-01-01T00:00 Melaka local
/// time (UTC+08:00; Malaysia has no daylight saving). So t = 0 is 1969-12-31T16:00Z, and
/// local wall-clock time = 1970-01-01T00:00 + t seconds.
inline constexpr const char* kResultsTimeUnits = "seconds since 1970-01-01 00:00:00 +08:00";

/// Version of the layout in docs/results_hdf5.md, stored as root attribute `layout_version`.
inline constexpr std::int64_t kResultsLayoutVersion = 1;

struct H5WriterOptions {
    int compression_level = 1;     ///< gzip (deflate) level 0..9; 0 = no compression (and no shuffle)
    bool shuffle = true;           ///< byte-shuffle filter before gzip; helps floating-point data
    std::size_t chunk_rows = 256;  ///< time steps per chunk, per buffered write and per flush; >= 1
    /// Cap on one series' row buffer, bytes (buffer = rows x columns x 8 B). For very wide series
    /// the series' chunk rows are lowered to fit, never below 1. >= 1.
    std::size_t max_buffer_bytes = std::size_t{16} << 20;
    /// Cap on the writer's memory for all its series together: row buffers plus, with compression
    /// threads, the chunk in flight and its compressed copy (about 3 x the row buffer). A series
    /// that would pass it gets fewer chunk rows; one whose single row passes it is an error. So
    /// memory is bounded in bytes whatever chunk_rows says. >= 1.
    std::size_t max_total_buffer_bytes = std::size_t{256} << 20;
    bool float32 = false;  ///< store floating-point *series* as float32 (vectors and scalars stay float64)
    /// Full chunks are shuffled and deflated on worker threads (2) while the caller goes on; 0 =
    /// inline, in the appending thread, through HDF5's own filters (same bytes): for many runs in
    /// parallel processes (a Dask sweep), where each run should keep to one core.
    int compression_threads = 2;
};

/// Reopening a results file to continue the run that wrote it (Simulation's resume).
struct ResultsResume {
    /// Every series of the file -> the rows it keeps (rows beyond are cut). A series the writer
    /// adds that is not listed is created anew.
    std::map<std::string, std::uint64_t> rows;
    /// Objects deleted before anything else (what the run writes at its end: "/summary", "/bill").
    std::vector<std::string> remove;
    /// Root attributes deleted first (how the interrupted run ended: "stop_reason", ...).
    std::vector<std::string> remove_root_attributes;
};

}  // namespace libgrid
