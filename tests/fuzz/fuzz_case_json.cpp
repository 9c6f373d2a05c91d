// libFuzzer harness: the network JSON reader (mg-case-json/1, libgrid/io/case_json.hpp) on arbitrary
// text, and the writer on whatever the reader accepts. A libgrid::Error is a clean rejection;
// anything else is a defect. From ../shared/repro/harness/fuzz_case_json.cpp (December 2026).
#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const libgrid::Network net = libgrid::parse_case_json(text, "fuzz.json");
        try {
            (void)libgrid::to_case_json(net);
        } catch (const libgrid::Error&) {
        }
    } catch (const libgrid::Error&) {
    }
    return 0;
}
