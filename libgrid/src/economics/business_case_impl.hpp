// libgrid economics, private: what the business case reads from one results file (business_case_read.cpp)
// and prices (business_case.cpp). docs/economics.md "The business case".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace libgrid::bc {

/// One priced unit of one run: a PV system, a battery, a HEMS, a BEMS, a group of chargers.
struct Device {
    std::string owner;        ///< "c<customer id>", "site<id>" or "<kind><id>" (own connection)
    std::int64_t customer = -1;  ///< the load behind whose meter it sits (-1: none)
    std::string kind;         ///< pv, battery, hems, bems, ev_home, ev_ac_public, ev_dc
    double size = 0.0;        ///< kWp, kWh, m2, chargers
    double size2 = 0.0;       ///< battery kW, charger kW
    double energy_kwh = 0.0;  ///< over the run: PV output, battery discharge, EV energy charged
};

struct Trafo {
    std::string key;          ///< element id (balanced) or name (unbalanced)
    double rated_kva = 0.0;
    double max_loading = 0.0; ///< %, NaN never loaded
};

struct RunData {
    std::string file;
    double hours = 0.0;                       ///< simulated
    std::vector<std::int64_t> load_ids;
    std::map<std::int64_t, std::string> load_type;  ///< load id -> class ("" -> "unclassified")
    std::string type_source;                  ///< where the classes came from (for the notes)
    std::map<std::int64_t, double> bill_rm;   ///< customer -> sum of /bill/total_rm over the run
    bool partial_months = false;              ///< /bill/full_month has a 0: a month the run covers in part
    double import_mwh = 0.0, co2_t = 0.0;
    double site_import_kwh = 0.0;             ///< the charging sites' own connections (/ev_site/p_mw < 0), not billed in /bill
    std::vector<Device> devices;
    std::vector<Trafo> trafos;
    std::size_t meters = 0, concentrators = 0;
    std::string scenario_text;                ///< root attribute `scenario` ("" when absent)
    double annualise() const { return 8760.0 / hours; }
};

/// Reads what the business case needs; errors name the file and the dataset.
RunData read_run(const std::string& path);

}  // namespace libgrid::bc
