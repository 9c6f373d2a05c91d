// libFuzzer harness: the time-series CSV reader (libgrid/profiles/time_series.hpp, read_csv), which
// reads the profile files a scenario names. The input is written to a temp file (read_csv takes a
// path) and read with the default options and with step-column options. A libgrid::Error is a clean
// rejection; anything else is a defect.
#include "fuzz_tmpfile.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/profiles/time_series.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write_tmp(data, size, ".csv");
    if (path.empty()) return 0;
    try {
        for (const libgrid::TimeSeries& ts : libgrid::read_csv(path)) (void)ts.at(ts.start);
    } catch (const libgrid::Error&) {
    }
    try {
        libgrid::CsvOptions o;
        o.step_s = 900;
        (void)libgrid::read_csv(path, o);
    } catch (const libgrid::Error&) {
    }
    return 0;
}
