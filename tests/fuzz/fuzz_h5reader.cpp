// libFuzzer harness: the HDF5 results reader (libgrid/results/hdf5_results.hpp, ResultsReader) on arbitrary
// bytes. libFuzzer passes bytes and the reader takes a path, so the input is written to a temp file,
// opened with ResultsReader and read the way `libgrid info` reads it (root attributes, /time, each
// group's /id, /summary scalars and units), then walked further: every dataset's shape, unit and
// attributes, its first rows, whole datasets up to 1 Mi elements, integer ids and strings; and
// re-billed the way `libgrid bill` reads it (simulation/rebill.hpp: /meter, /bill), as run and
// under ToU with prorated partial months.
//
// By default each input first goes through check_results_file (a forked child reads everything; a
// crash or hang of libhdf5 there is a clean Error), as `libgrid info` and `compare` read a file from
// elsewhere; what passes is then read in this process, where a crash is libgrid's defect. This is
// what CI runs. With LIBGRID_FUZZ_H5_DIRECT=1 the reader is called directly, with no child: then
// the fuzzer sees libhdf5's own crashes (five of the six reproducers crash it) to find their causes.
// A libgrid::Error is a clean rejection; anything else is a defect.
// From ../shared/repro/harness/fuzz_h5reader.cpp, which found h5_*.h5 in tests/fuzz/corpus/h5reader/.
#include "fuzz_tmpfile.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/simulation/rebill.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#include <signal.h>

namespace {

using libgrid::ResultsReader;

constexpr std::size_t kMaxObjects = 256;            // per input
constexpr std::size_t kMaxDepth = 4;                // groups below the root
constexpr std::size_t kMaxWholeRead = std::size_t{1} << 20;  // elements read by read_vector

template <class F>
void guarded(F&& f) {
    try {
        f();
    } catch (const libgrid::Error&) {
    }
}

std::string child(const std::string& group, const std::string& name) {
    return group == "/" ? "/" + name : group + "/" + name;
}

// What `libgrid info` reads (libgrid/cli/cli_results.cpp, print_info), each step guarded so that the
// rest is still exercised after a clean error.
void read_like_info(const ResultsReader& r) {
    for (const char* a : {"libgrid_version", "layout_version", "network", "start", "step_s", "seed", "status",
                          "steps_planned", "stop_reason", "failed_at_step"})
        guarded([&] {
            if (r.has_attribute("/", a)) (void)r.attribute("/", a);
        });
    guarded([&] {
        if (r.is_dataset("/time")) {
            const auto sh = r.shape("/time");
            if (!sh.empty()) (void)sh[0];
        }
    });
    guarded([&] {
        for (const std::string& g : r.list("/")) {
            const std::string ids = "/" + g + "/id";
            guarded([&] {
                if (r.is_dataset(ids)) (void)r.shape(ids);
            });
        }
    });
    guarded([&] {
        if (!r.exists("/summary")) return;
        for (const std::string& k : r.list("/summary"))
            guarded([&] {
                const std::string p = "/summary/" + k;
                if (!r.is_dataset(p)) return;
                (void)r.read_scalar(p);
                (void)r.unit(p);
            });
    });
}

void read_dataset(const ResultsReader& r, const std::string& p, const std::string& name) {
    std::vector<std::size_t> sh;
    guarded([&] { sh = r.shape(p); });
    guarded([&] { (void)r.unit(p); });
    guarded([&] {
        for (const std::string& a : r.attribute_names(p)) guarded([&] { (void)r.attribute(p, a); });
    });
    std::size_t n = 1;
    bool small = true;
    for (std::size_t d : sh) {
        if (d != 0 && n > kMaxWholeRead / d) small = false;
        n *= d;
    }
    if (sh.empty()) guarded([&] { (void)r.read_scalar(p); });
    if (!sh.empty() && sh.size() <= 2) {
        const std::size_t rows = sh[0] < 2 ? sh[0] : 2;
        guarded([&] { (void)r.read_rows(p, 0, rows); });
        if (sh[0] > 2) guarded([&] { (void)r.read_rows(p, sh[0] - 1, 1); });
    }
    if (small) {
        guarded([&] { (void)r.read_vector(p); });
        guarded([&] { (void)r.read_strings(p); });
        if (name == "id" || name == "bus" || name == "customer") guarded([&] { (void)r.read_int_vector(p); });
    }
}

void walk(const ResultsReader& r, const std::string& group, std::size_t depth, std::size_t& budget) {
    guarded([&] {
        for (const std::string& a : r.attribute_names(group)) guarded([&] { (void)r.attribute(group, a); });
    });
    std::vector<std::string> names;
    guarded([&] { names = r.list(group); });
    for (const std::string& name : names) {
        if (budget == 0) return;
        --budget;
        const std::string p = child(group, name);
        bool is_ds = false;
        guarded([&] { is_ds = r.is_dataset(p); });
        if (is_ds) read_dataset(r, p, name);
        else if (depth < kMaxDepth) walk(r, p, depth + 1, budget);
    }
}

// check_results_file forks a child that reads the file, so that a crash or hang of libhdf5 there
// becomes an Error in this process. The child inherits libFuzzer's crash handlers and its death
// callback, which would write crash-* artifacts (and print reports) for inputs that the run as a
// whole handles cleanly, leaving artifacts that reproduce nothing. In the child, crashes take the
// default action and a sanitizer report calls no callback: the parent sees the child die, as in
// `libgrid info`. LIBGRID_FUZZ_CHILD_REPORTS=<prefix> keeps the children's sanitizer reports in
// <prefix>.<pid> (they go to /dev/null otherwise) to study what the child contained.
void quiet_child() {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP}) sigaction(sig, &sa, nullptr);
    __sanitizer_set_death_callback(nullptr);
    if (const char* prefix = std::getenv("LIBGRID_FUZZ_CHILD_REPORTS"); prefix && *prefix)
        __sanitizer_set_report_path(prefix);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    pthread_atfork(nullptr, nullptr, quiet_child);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write_tmp(data, size, ".h5");
    if (path.empty()) return 0;
    static const bool direct = [] {
        const char* e = std::getenv("LIBGRID_FUZZ_H5_DIRECT");
        return e && std::string(e) == "1";
    }();
    try {
        // 5 s: well inside libFuzzer's -timeout=10, which counts the whole input
        if (!direct) libgrid::check_results_file(path, 5.0, libgrid::ResultsCheck::Everything);
        const ResultsReader r(path);
        read_like_info(r);
        std::size_t budget = kMaxObjects;
        walk(r, "/", 0, budget);
        guarded([&] { (void)libgrid::rebill(path); });
        guarded([&] {
            libgrid::RebillOptions o;
            o.tariff = "domestic_tou";
            o.partial_months = libgrid::PartialMonths::Prorate;
            (void)libgrid::rebill(path, o);
        });
    } catch (const libgrid::Error&) {
    }
    return 0;
}
