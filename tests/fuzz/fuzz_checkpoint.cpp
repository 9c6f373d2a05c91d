// libFuzzer harness: the checkpoint reader (libgrid/src/simulation/checkpoint.hpp, `<results>.ckpt`, read by
// `libgrid run --resume`). Each input is parsed twice: as it is (the header's checksum turns away
// almost every mutation), and with its header's payload size and checksum made to fit, so that the
// fuzzer reaches the payload's own length checks. A libgrid::Error is a clean rejection; anything
// else (a crash, a sanitizer report, another exception, a hang past -timeout) is a defect.
#include "../../libgrid/src/simulation/checkpoint.hpp"

#include <libgrid/core/errors.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        (void)libgrid::detail::parse_checkpoint(data, size, "fuzz.ckpt");
    } catch (const libgrid::Error&) {
    }
    constexpr std::size_t kHeader = 48, kSizeAt = 24, kSumAt = 32;
    if (size >= kHeader) {
        std::vector<unsigned char> fixed(data, data + size);
        const std::uint64_t payload = size - kHeader;
        const std::uint64_t sum = libgrid::detail::checksum(fixed.data() + kHeader, payload);
        std::memcpy(fixed.data() + kSizeAt, &payload, 8);
        std::memcpy(fixed.data() + kSumAt, &sum, 8);
        try {
            (void)libgrid::detail::parse_checkpoint(fixed.data(), fixed.size(), "fuzz.ckpt");
        } catch (const libgrid::Error&) {
        }
    }
    return 0;
}
