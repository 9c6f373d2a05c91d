// libgrid scenario layer: sweep files and in-process sweeps (see scenario/sweep.hpp, docs/sweeps.md).
#include "libgrid/scenario/sweep.hpp"
#include "scenario_text.hpp"

#include "libgrid/core/errors.hpp"
#include "libgrid/core/input_file.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <functional>
#include <map>

namespace libgrid {

namespace {

const std::vector<std::string> kSweepKeys = {"name", "base", "scenario", "set", "grid", "variants", "output_dir", "workers"};

/// Reads one sweep file; every error names the file, the line of the key and the dotted key.
class SweepReader {
public:
    SweepReader(std::string path, const std::string& text) : path_(std::move(path)) {
        try {
            root_ = YAML::Load(text);
        } catch (const YAML::Exception& e) {
            throw ParseError(path_, e.mark.is_null() ? 0 : e.mark.line + 1, std::string("not valid YAML (") + e.msg + ")");
        }
        dir_ = std::filesystem::absolute(path_).parent_path();
    }

    SweepFile read() {
        try {
            return read_file();
        } catch (const YAML::Exception& e) {  // a node of an unexpected shape met by yaml-cpp itself
            throw ParseError(path_, e.mark.is_null() ? 0 : e.mark.line + 1, std::string("unexpected YAML (") + e.msg + ")");
        }
    }

private:
    SweepFile read_file() {
        if (!root_.IsMap()) fail(root_, "", "expected a mapping with 'base' (or 'scenario') and 'grid' and/or 'variants'");
        for (const auto& kv : root_) {
            if (!kv.first.IsScalar()) fail(kv.first, "", "expected a plain key, got a " + std::string(kv.first.IsMap() ? "mapping" : "list"));
            const std::string k = kv.first.Scalar();
            if (std::find(kSweepKeys.begin(), kSweepKeys.end(), k) == kSweepKeys.end())
                fail(kv.first, k, "unknown key" + scenario_text::did_you_mean(k, kSweepKeys) + "; allowed: " + join(kSweepKeys));
        }
        SweepFile f;
        f.path = path_;
        f.base = read_base();
        read_set(f.base);
        if (root_["grid"]) read_grid(f.base, f.variants);
        if (root_["variants"]) read_variants(f.base, f.variants);
        if (f.variants.empty()) fail(root_, "", "no variants: give 'grid' and/or 'variants'");
        try {  // every combination too (e.g. a grid step that does not divide a variant's meter interval)
            check_variants(f.base, f.variants);
        } catch (const Error& e) {
            throw ParseError(path_, 1, e.what());
        }
        read_rest(f);
        return f;
    }

    [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& msg) const {
        const long line = at.Mark().is_null() ? 1 : long(at.Mark().line) + 1;
        throw ParseError(path_, line, (key.empty() ? std::string() : "key '" + key + "': ") + msg);
    }

    static std::string join(const std::vector<std::string>& v) {
        std::string s;
        for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
        return s;
    }

    /// The key node of `key` in map `m` (for its line), else `m`.
    static YAML::Node key_node(const YAML::Node& m, const std::string& key) {
        for (const auto& kv : m)
            if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.first;
        return m;
    }

    /// A YAML value as text override_key reads: scalars as written, collections in flow style.
    static std::string value_text(const YAML::Node& v) {
        if (v.IsScalar()) return v.Scalar();
        if (v.IsNull()) return "null";
        YAML::Emitter e;
        e << YAML::Flow << v;
        return e.c_str();
    }

    Scenario read_base() const {
        const bool has_base = bool(root_["base"]), has_inline = bool(root_["scenario"]);
        if (has_base == has_inline) fail(root_, "", "give exactly one of 'base' (a scenario file) and 'scenario' (an inline scenario)");
        if (has_base) {
            const YAML::Node b = root_["base"];
            if (!b.IsScalar() || b.Scalar().empty()) fail(key_node(root_, "base"), "base", "expected a scenario file name");
            const std::string p = (dir_ / b.Scalar()).string();
            if (!std::filesystem::is_regular_file(p)) fail(key_node(root_, "base"), "base", "no such scenario file: " + p);
            return load_scenario(p);
        }
        const YAML::Node s = root_["scenario"];
        if (!s.IsMap()) fail(key_node(root_, "scenario"), "scenario", "expected the scenario as a mapping (the keys of a scenario file)");
        YAML::Emitter e;  // relative file names in it resolve against the sweep file's directory
        e << s;
        return parse_scenario(e.c_str(), std::filesystem::absolute(path_).string());
    }

    void check_key(const YAML::Node& k, const std::string& where) const {
        if (!k.IsScalar() || k.Scalar().empty())
            fail(k, where, "expected a scenario key (dotted, e.g. devices.ev.share) or one of steps, seed, size, threads");
    }

    void read_set(Scenario& base) const {
        const YAML::Node set = root_["set"];
        if (!set || set.IsNull()) return;
        if (!set.IsMap()) fail(key_node(root_, "set"), "set", "expected a mapping of scenario keys to values (applied to every variant)");
        for (const auto& kv : set) {
            const std::string k = kv.first.Scalar();
            check_key(kv.first, "set." + k);
            try {
                override_key(base, sweep_key(k), value_text(kv.second));
            } catch (const Error& e) {
                fail(kv.first, "set." + k, e.what());
            }
        }
    }

    void read_grid(const Scenario& base, std::vector<SweepVariant>& out) const {
        const YAML::Node grid = root_["grid"];
        if (!grid.IsMap() || grid.size() == 0) fail(key_node(root_, "grid"), "grid", "expected a mapping of scenario keys to lists of values");
        std::vector<std::pair<std::string, std::vector<std::string>>> axes;
        for (const auto& kv : grid) {
            const std::string k = kv.first.Scalar();
            check_key(kv.first, "grid." + k);
            if (!kv.second.IsSequence() || kv.second.size() == 0)
                fail(kv.first, "grid." + k, "expected a non-empty list of values, got " + value_text(kv.second) + " (a fixed value goes in 'set')");
            std::vector<std::string> values;
            for (const auto& v : kv.second) {  // each value on its own, before anything runs
                values.push_back(value_text(v));
                try {
                    Scenario copy = base;
                    override_key(copy, sweep_key(k), values.back());
                } catch (const Error& e) {
                    fail(kv.first, "grid." + k, "value " + values.back() + ": " + e.what());
                }
            }
            axes.emplace_back(k, std::move(values));
        }
        // the cartesian product, the last axis varying fastest; bounded before anything is made
        std::size_t total = 1;
        for (const auto& axis : axes) {
            total *= axis.second.size();
            if (total > kMaxSweepVariants)
                fail(grid, "grid", "more than " + std::to_string(kMaxSweepVariants) + " combinations; split the sweep");
        }
        std::vector<std::size_t> at(axes.size(), 0);
        for (bool more = true; more;) {
            SweepVariant v;
            for (std::size_t a = 0; a < axes.size(); ++a) v.emplace_back(axes[a].first, axes[a].second[at[a]]);
            out.push_back(std::move(v));
            more = false;
            for (std::size_t a = axes.size(); a-- > 0;) {
                if (++at[a] < axes[a].second.size()) {
                    more = true;
                    break;
                }
                at[a] = 0;
            }
        }
    }

    void read_variants(const Scenario& base, std::vector<SweepVariant>& out) const {
        const YAML::Node list = root_["variants"];
        if (!list.IsSequence() || list.size() == 0) fail(key_node(root_, "variants"), "variants", "expected a non-empty list of mappings {scenario key: value}");
        for (std::size_t i = 0; i < list.size(); ++i) {
            const YAML::Node v = list[i];
            const std::string where = "variants." + std::to_string(i);
            if (!v.IsMap() || v.size() == 0) fail(v, where, "expected a mapping {scenario key: value}, got " + value_text(v));
            Scenario sc = base;
            SweepVariant var;
            for (const auto& kv : v) {
                check_key(kv.first, where);
                var.emplace_back(kv.first.Scalar(), value_text(kv.second));
                try {
                    override_key(sc, sweep_key(var.back().first), var.back().second);
                } catch (const Error& e) {
                    fail(kv.first, where + "." + var.back().first, e.what());
                }
            }
            out.push_back(std::move(var));
        }
    }

    void read_rest(SweepFile& f) const {
        if (const YAML::Node o = root_["output_dir"]; o) {
            if (!o.IsScalar() || o.Scalar().empty()) fail(key_node(root_, "output_dir"), "output_dir", "expected a directory name");
            f.output_dir = (dir_ / o.Scalar()).lexically_normal().string();
        }
        if (const YAML::Node w = root_["workers"]; w) {
            std::int64_t n = 0;
            const std::string t = w.IsScalar() ? w.Scalar() : "";
            try {
                n = std::stoll(t);
            } catch (const std::exception&) {
                n = 0;
            }
            if (n < 1 || std::to_string(n) != t) fail(key_node(root_, "workers"), "workers", "expected a whole number >= 1, got " + value_text(w));
            f.workers = int(n);
        }
        const YAML::Node name = root_["name"];
        f.name = name && name.IsScalar() && !name.Scalar().empty() ? name.Scalar() : std::filesystem::path(path_).stem().string();
    }

    std::string path_;
    std::filesystem::path dir_;
    YAML::Node root_;
};

}  // namespace

std::string sweep_key(const std::string& key) {
    if (key == "steps") return "horizon.steps";
    if (key == "size") return "network.size";
    return key;
}

Scenario variant_scenario(const Scenario& base, const SweepVariant& variant) {
    Scenario sc = base;
    override_key(sc, "outputs.compression_threads", "0");
    for (const auto& [key, value] : variant) override_key(sc, sweep_key(key), value);
    return sc;
}

void check_variants(const Scenario& base, const std::vector<SweepVariant>& variants) {
    for (std::size_t i = 0; i < variants.size(); ++i) {
        std::map<std::string, std::string> given;  // scenario key -> the variant's key
        Scenario sc = base;
        override_key(sc, "outputs.compression_threads", "0");
        for (const auto& [key, value] : variants[i]) {
            const std::string who = "variant " + std::to_string(i) + ": ";
            const auto [it, fresh] = given.emplace(sweep_key(key), key);
            if (!fresh)
                throw ValidationError(who + "keys '" + it->second + "' and '" + key + "' both set the scenario key '" + it->first + "'");
            try {
                override_key(sc, it->first, value);
            } catch (const Error& e) {
                throw ValidationError(who + "key '" + it->first + "' = " + value + ": " + e.what());
            }
        }
    }
}

SweepFile parse_sweep_file(const std::string& text, const std::string& path) { return SweepReader(path, text).read(); }

SweepFile load_sweep_file(const std::string& path) {
    std::string text;
    try {
        text = read_input_file(path);
    } catch (const Error& e) {
        throw ParseError(path, 0, std::string("cannot read sweep file: ") + e.what());
    }
    return parse_sweep_file(text, path);
}

std::string sweep_output(const std::string& output_dir, std::size_t i) {
    return (std::filesystem::path(output_dir) / ("variant_" + std::to_string(i) + ".h5")).string();
}

std::vector<BatchResult> run_sweep(const Scenario& base, const std::vector<SweepVariant>& variants, int threads,
                                   const std::string& output_dir, const std::atomic<int>* stop, const BatchDoneFn& done) {
    if (!output_dir.empty()) std::filesystem::create_directories(output_dir);
    auto make = [&](std::size_t i) {
        const Scenario sc = variant_scenario(base, variants[i]);
        BuiltScenario b = build_scenario(sc);
        std::string out;
        if (!output_dir.empty()) {
            out = sweep_output(output_dir, i);
            check_output_is_not_input(sc, out);
            std::filesystem::remove(out);  // never report a stale file from an earlier sweep
        }
        check_run_resources(sc, b, out);
        b.options.output_path = out;
        return BatchItem{std::move(b.net), std::move(b.devices), std::move(b.options), std::move(b.weather), b.unbalanced, std::move(b.unet)};
    };
    return run_batch(variants.size(), make, threads, stop, done);
}

}  // namespace libgrid
