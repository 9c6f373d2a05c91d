// libgrid layer scenario: the cost and emission catalogues (scenario/cost_catalogue.hpp).
#include "libgrid/scenario/cost_catalogue.hpp"

#include "libgrid/core/errors.hpp"
#include "libgrid/core/input_file.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <string>

namespace libgrid {
namespace {

constexpr int kMaxDepth = 32;  // nesting a catalogue never needs; bounds the recursion on hostile input

long line_of(const YAML::Node& n) { return n.Mark().is_null() ? 0 : long(n.Mark().line) + 1; }

/// A scalar as a finite number (strict: the whole text), else false.
bool as_number(const YAML::Node& n, double& out) {
    if (!n.IsScalar()) return false;
    const std::string& s = n.Scalar();
    if (s.empty()) return false;
    const char* b = s.data();
    const char* e = b + s.size();
    if (*b == '+') ++b;
    const auto r = std::from_chars(b, e, out);
    return r.ec == std::errc() && r.ptr == e && std::isfinite(out);
}

struct Reader {
    CostCatalogue& c;
    const std::string& file;

    [[noreturn]] void fail(const YAML::Node& n, const std::string& name, const std::string& what) const {
        throw ParseError(file, line_of(n), "figure '" + name + "': " + what);
    }

    void figure(const YAML::Node& m, const std::string& name) {
        CostFigure f;
        f.line = line_of(m);
        if (!as_number(m["value"], f.value)) fail(m["value"], name, "'value' must be a finite number");
        if (const YAML::Node s = m["source"]) {
            if (!s.IsScalar()) fail(s, name, "'source' must be a key of 'sources'");
            f.source = s.Scalar();
        }
        if (const YAML::Node y = m["year"]) {
            double v = 0;
            if (!as_number(y, v) || v != std::floor(v) || v < 1900 || v > 2100) fail(y, name, "'year' must be a year (1900 .. 2100)");
            f.year = int(v);
        }
        if (const YAML::Node a = m["assumption"]) {
            if (!a.IsScalar() || (a.Scalar() != "true" && a.Scalar() != "false")) fail(a, name, "'assumption' must be true or false");
            f.assumption = a.Scalar() == "true";
        }
        if (const YAML::Node r = m["reason"]) {
            if (!r.IsScalar()) fail(r, name, "'reason' must be text");
            f.reason = r.Scalar();
        }
        c.figures[name] = f;
    }

    void walk(const YAML::Node& n, const std::string& name, int depth) {
        if (depth > kMaxDepth) fail(n, name, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
        if (n.IsMap()) {
            if (n["value"]) {
                figure(n, name);
                return;
            }
            for (const auto& kv : n) {
                if (!kv.first.IsScalar()) fail(kv.first, name, "a key must be text");
                walk(kv.second, name.empty() ? kv.first.Scalar() : name + "." + kv.first.Scalar(), depth + 1);
            }
        } else if (n.IsSequence()) {
            std::vector<double> numbers;
            bool all = n.size() > 0;
            for (const auto& e : n) {
                double v = 0;
                if (as_number(e, v)) numbers.push_back(v);
                else all = false;
            }
            if (all) {
                c.series[name] = std::move(numbers);
                return;
            }
            for (std::size_t i = 0; i < n.size(); ++i)
                if (n[i].IsMap() || n[i].IsSequence()) walk(n[i], name + "." + std::to_string(i), depth + 1);
        } else if (n.IsScalar()) {
            double v = 0;
            if (as_number(n, v)) {
                CostFigure f;
                f.value = v;
                f.line = line_of(n);
                f.plain = true;
                c.figures[name] = f;
            }  // text (descriptions, notes, derivations): kept in the file, not as a figure
        }
    }
};

}  // namespace

CostCatalogue parse_cost_catalogue(const std::string& text, const std::string& file) {
    YAML::Node top;
    try {
        top = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw ParseError(file, e.mark.is_null() ? 0 : e.mark.line + 1, "YAML: " + e.msg);
    }
    if (!top.IsMap()) throw ParseError(file, line_of(top), "a catalogue is a mapping (schema, currency, sources, figures)");
    CostCatalogue c;
    c.file = file;
    Reader r{c, file};
    try {
        for (const auto& kv : top) {
            if (!kv.first.IsScalar()) throw ParseError(file, line_of(kv.first), "a key must be text");
            const std::string k = kv.first.Scalar();
            const YAML::Node& v = kv.second;
            if (k == "schema" || k == "region" || k == "currency") {
                if (!v.IsScalar()) throw ParseError(file, line_of(v), "'" + k + "' must be text");
                (k == "schema" ? c.schema : k == "region" ? c.region : c.currency) = v.Scalar();
            } else if (k == "price_year") {
                double y = 0;
                if (!as_number(v, y) || y != std::floor(y) || y < 1900 || y > 2100)
                    throw ParseError(file, line_of(v), "'price_year' must be a year (1900 .. 2100)");
                c.price_year = int(y);
            } else if (k == "sources") {
                if (!v.IsMap()) throw ParseError(file, line_of(v), "'sources' must map a key to its citation");
                for (const auto& s : v) {
                    if (!s.first.IsScalar() || !s.second.IsScalar())
                        throw ParseError(file, line_of(s.first), "'sources': each entry is key: citation text");
                    c.sources[s.first.Scalar()] = s.second.Scalar();
                }
            } else if (k != "accessed") {
                r.walk(v, k, 1);
            }
        }
    } catch (const YAML::Exception& e) {
        throw ParseError(file, e.mark.is_null() ? 0 : e.mark.line + 1, "YAML: " + e.msg);
    }
    for (const auto& [name, f] : c.figures)
        if (!f.source.empty() && !c.sources.count(f.source))
            throw ParseError(file, f.line, "figure '" + name + "': source '" + f.source + "' is not in 'sources'");
    return c;
}

CostCatalogue load_cost_catalogue(const std::string& path) { return parse_cost_catalogue(read_input_file(path), path); }

const CostFigure& CostCatalogue::figure(const std::string& name) const {
    const auto it = figures.find(name);
    if (it == figures.end()) throw IdError(file + ": no figure '" + name + "' in the cost catalogue");
    return it->second;
}

double CostCatalogue::value(const std::string& name) const { return figure(name).value; }

const std::vector<double>& CostCatalogue::values(const std::string& name) const {
    const auto it = series.find(name);
    if (it == series.end()) throw IdError(file + ": no series '" + name + "' in the catalogue");
    return it->second;
}

void CostCatalogue::set(const std::string& name, double v) {
    const auto it = figures.find(name);
    if (it == figures.end()) throw IdError(file + ": cannot override '" + name + "': no such figure in the cost catalogue");
    if (!std::isfinite(v)) throw ValidationError(file + ": figure '" + name + "': the override must be a finite number");
    it->second.value = v;
    it->second.source = "override";
    it->second.assumption = false;
    sources["override"] = "the scenario's override";
}

std::vector<std::string> CostCatalogue::undocumented() const {
    std::vector<std::string> out;
    for (const auto& [name, f] : figures) {
        // a plain number is a size or a year, not a figure needing provenance; a mapping with value must have it
        if (!f.plain && !f.documented() && f.source != "override") out.push_back(name);
    }
    return out;
}

}  // namespace libgrid
