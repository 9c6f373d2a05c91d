// libFuzzer harness: the OpenDSS script reader (libgrid/io/dss.hpp) on arbitrary text, with files
// disabled (DssReadOptions::allow_files = false: Compile, Redirect, Buscoords and mult=(file=...)
// are errors, so a fuzzer never opens a file), then the writer and the reader again on what it
// accepted, and the load shapes at an hour. A libgrid::Error is a clean rejection; anything else
// (a crash, a sanitizer report, another exception, a hang past -timeout) is a defect.
#include <libgrid/core/errors.hpp>
#include <libgrid/io/dss.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    libgrid::DssReadOptions options;
    options.allow_files = false;
    try {
        libgrid::DssReadResult r = libgrid::read_dss_string(text, "fuzz.dss", ".", options);
        try {
            const std::string written = libgrid::to_dss_string(r.net);
            (void)libgrid::read_dss_string(written, "written.dss", ".", options);
        } catch (const libgrid::Error&) {
        }
        try {
            libgrid::apply_loadshapes_at(r.net, 9.4);
        } catch (const libgrid::Error&) {
        }
    } catch (const libgrid::Error&) {
    }
    return 0;
}
