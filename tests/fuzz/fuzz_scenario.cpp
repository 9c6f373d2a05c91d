// libFuzzer harness: the scenario YAML reader (libgrid/scenario/scenario.hpp): parse + validate, then
// write the effective YAML back and parse that again. Not built (building runs the grid generator:
// far too slow per input). A libgrid::Error is a clean rejection; anything else is a defect.
// From ../shared/repro/harness/fuzz_scenario.cpp, which found the dangling YAML::Node reference in
// MapReader (stack-use-after-scope on every map, December 2026).
#include <libgrid/core/errors.hpp>
#include <libgrid/scenario/scenario.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        // the file name sets the folder relative network and profile files resolve in; nothing is read
        const libgrid::Scenario s = libgrid::parse_scenario(text, "fuzz_scenario/fuzz.yaml");
        try {
            const std::string yaml = libgrid::scenario_to_yaml(s);
            (void)libgrid::parse_scenario(yaml, "fuzz_scenario/fuzz.yaml");
        } catch (const libgrid::Error&) {
        }
    } catch (const libgrid::Error&) {
    }
    return 0;
}
