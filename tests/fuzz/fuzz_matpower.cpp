// libFuzzer harness: the MATPOWER case reader (libgrid/io/matpower.hpp) on arbitrary text, and the
// writer on whatever the reader accepts. A libgrid::Error is a clean rejection; anything else (a
// crash, a sanitizer report, another exception, a hang past -timeout) is a defect.
// Found first by the harness of ../shared/repro/harness/fuzz_matpower.cpp (December 2026).
#include <libgrid/core/errors.hpp>
#include <libgrid/io/matpower.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const libgrid::Network net = libgrid::parse_matpower(text, "fuzz.m");
        // round trip through the writer when the reader accepted it
        try {
            (void)libgrid::to_matpower(net);
        } catch (const libgrid::Error&) {
        }
    } catch (const libgrid::Error&) {
    }
    return 0;
}
