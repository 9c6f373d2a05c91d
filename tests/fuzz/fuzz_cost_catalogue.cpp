// libFuzzer harness: the cost and emission catalogue reader (libgrid/scenario/cost_catalogue.hpp,
// issue 18): parse, list the undocumented figures, look one up and override it. A libgrid::Error is a
// clean rejection; anything else (a crash, a sanitizer report, another exception) is a defect.
#include <libgrid/core/errors.hpp>
#include <libgrid/scenario/cost_catalogue.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        libgrid::CostCatalogue c = libgrid::parse_cost_catalogue(text, "fuzz.yaml");
        (void)c.undocumented();
        if (!c.figures.empty()) {
            const std::string name = c.figures.begin()->first;
            (void)c.value(name);
            c.set(name, 1.0);
        }
        (void)c.value("assets.none");
    } catch (const libgrid::Error&) {
    }
    return 0;
}
