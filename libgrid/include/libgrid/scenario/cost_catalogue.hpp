// libgrid layer scenario: the cost and emission catalogues (issue 18, docs/economics.md "The
// catalogue"): data/costs/malaysia_2024.yaml and data/emissions/peninsular_malaysia.yaml, read as
// figures with their provenance.
//
// A catalogue is YAML. A figure is a mapping with `value` (a number) and either `source` (a key of
// the top-level `sources`) with `year`, or `assumption: true` with a `reason`; a plain number is a
// figure without provenance (sizes, years of a replacement). Figures are named by their dotted path
// ("assets.battery.utility.capex_rm_per_kwh", "assets.pv_residential.replacements.0.year"); lists of
// numbers ("hourly.average.weekday") are kept as series. The reader knows no asset: the economics
// code asks for the figures it needs by name and gets an error naming the file and the figure when
// one is missing.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace libgrid {

struct CostFigure {
    double value = 0.0;
    std::string source;       ///< a key of CostCatalogue::sources ("" when none)
    int year = 0;             ///< the year the source's number refers to (0 when none)
    bool assumption = false;  ///< marked `assumption: true`
    std::string reason;       ///< why the assumed value
    long line = 0;            ///< where it is in the file (1-based)
    bool plain = false;       ///< a plain number (a size, a year), not a mapping with `value`
    /// A figure with its provenance: a known source and a year, or an assumption with a reason.
    bool documented() const { return (!source.empty() && year > 0) || (assumption && !reason.empty()); }
};

struct CostCatalogue {
    std::string file;                               ///< where it was read from (for messages)
    std::string schema, region, currency;
    int price_year = 0;
    std::map<std::string, std::string> sources;     ///< key -> citation
    std::map<std::string, CostFigure> figures;      ///< dotted path -> figure
    std::map<std::string, std::vector<double>> series;  ///< dotted path -> a list of numbers

    /// The figure's value; IdError "<file>: no figure '<name>' (...)" when it is not there.
    double value(const std::string& name) const;
    const CostFigure& figure(const std::string& name) const;
    bool has(const std::string& name) const { return figures.count(name) != 0; }
    const std::vector<double>& values(const std::string& name) const;  ///< a series; IdError when absent
    /// Replaces a figure's value (a scenario's override); the figure must exist (IdError naming it)
    /// and the value be finite (ValidationError). Marks it `source: "override"`.
    void set(const std::string& name, double value);
    /// The figures without provenance (neither a known source with a year nor an assumption with a
    /// reason), plain numbers excluded: what a shipped catalogue must not have.
    std::vector<std::string> undocumented() const;
};

/// Parses a catalogue; errors are ParseError "<file>:<line>: ..." naming the figure.
CostCatalogue parse_cost_catalogue(const std::string& text, const std::string& file);
/// Reads a catalogue file (regular file, bounded size; io/input_file.hpp).
CostCatalogue load_cost_catalogue(const std::string& path);

}  // namespace libgrid
