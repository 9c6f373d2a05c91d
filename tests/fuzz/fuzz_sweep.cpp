// libFuzzer harness: the sweep-file reader (libgrid/scenario/sweep.hpp): parse the file (an inline
// `scenario:` or a `base:` that is not there), expand its grid and check every variant through the
// scenario reader. Nothing is built or run. A libgrid::Error is a clean rejection; anything else is
// a defect.
#include <libgrid/core/errors.hpp>
#include <libgrid/scenario/sweep.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const libgrid::SweepFile f = libgrid::parse_sweep_file(text, "fuzz_sweep/fuzz.yaml");
        for (const libgrid::SweepVariant& v : f.variants) (void)libgrid::variant_scenario(f.base, v);
    } catch (const libgrid::Error&) {
    }
    return 0;
}
