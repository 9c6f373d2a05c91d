// A device kind defined only here, registered with the engine's device registry, run through the
// engine with an HDF5 output and an in-memory recorder: the proof that devices plug in without a
// library file knowing them (docs/device_interface.md walks through this file).
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/core/thread_pool.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/results/recorder.hpp>
#include <libgrid/simulation/device_group.hpp>
#include <libgrid/simulation/engine.hpp>

#include <algorithm>
#include <any>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <string>
#include <unistd.h>

using namespace libgrid;

namespace {

// ---- 1. the device: a heat pump drawing a constant power while the air is warmer than its set point
struct HeatPumpUnit {
    Id id = 0;
    Id bus = 0;
    Id customer = -1;      ///< behind this load's meter, or -1
    double p_kw = 3.0;     ///< electric power while running
    double t_on_c = 27.0;  ///< runs while the ambient temperature is above this
    bool in_service = true;
};

// ---- 2. its group: all heat pumps of a run, one virtual call per phase
class HeatPumpGroup final : public DeviceGroup {
public:
    explicit HeatPumpGroup(std::vector<HeatPumpUnit> u) : u_(std::move(u)) {
        on_.assign(u_.size(), 0);
        for (std::size_t k = 0; k < u_.size(); ++k) on_[k] = u_[k].in_service;
    }
    std::string kind() const override { return "heat_pump"; }
    std::size_t size() const override { return u_.size(); }
    Id id(std::size_t k) const override { return u_[k].id; }

    void validate(const NetworkIndex& ix, const SimulationOptions&) const override {
        for (const HeatPumpUnit& u : u_) {
            const std::string who = "heat_pump " + std::to_string(u.id);
            ix.check_bus(who, u.bus);
            ix.check_customer(who, u.customer, u.bus);
            if (!(u.p_kw >= 0)) throw ValidationError(who + ": field 'p_kw': must be >= 0");
        }
    }
    bool accepts_events() const override { return true; }
    void set_in_service(std::size_t k, bool on) override { on_[k] = on; }
    void prepare(const RunSetup& s) override {
        customer_.assign(u_.size(), -1);
        for (std::size_t k = 0; k < u_.size(); ++k) customer_[k] = s.index->customer(u_[k].customer);
        p_kw_.assign(u_.size(), 0.0);
        running_h_.assign(u_.size(), 0.0);
    }
    void bind(const NetworkIndex& ix) override {
        node_.assign(u_.size(), -1);
        for (std::size_t k = 0; k < u_.size(); ++k) node_[k] = ix.node(u_[k].bus);
    }
    void step(const StepContext& c) override {
        for (std::size_t k = 0; k < u_.size(); ++k) {
            const bool run = on_[k] && node_[k] >= 0 && c.weather.t_amb_c > u_[k].t_on_c;
            p_kw_[k] = run ? -u_[k].p_kw : 0.0;  // generator convention: consumption < 0
            running_h_[k] += run ? c.dt_h : 0.0;
        }
    }
    void add_injections(const Injections& inj) override {
        for (std::size_t k = 0; k < u_.size(); ++k)
            if (node_[k] >= 0) inj.add(node_[k], p_kw_[k]);
    }
    std::size_t planned_columns() const override { return 2 * u_.size(); }
    void declare(SeriesDeclarer& d, const SimulationOptions&) override {
        p_.assign(u_.size(), 0.0);
        hours_.assign(u_.size(), 0.0);
        if (!d.recorder()) return;
        std::vector<std::int64_t> id, bus, cust;
        for (const HeatPumpUnit& u : u_) {
            id.push_back(u.id);
            bus.push_back(u.bus);
            cust.push_back(u.customer);
        }
        d.ids(id, bus, &cust);
        d.series("p_mw", "MW", p_);
        d.series("running_h", "h", hours_);
    }
    void record(const RecordContext& c) override {
        for (std::size_t k = 0; k < u_.size(); ++k) {
            p_[k] = node_[k] >= 0 ? p_kw_[k] / 1000.0 : 0.0;
            hours_[k] = running_h_[k];
            c.totals->elements_mw += p_[k];  // closes the energy balance
            c.totals->load_mw -= p_[k];      // counts as consumption
        }
    }
    void meter(const CustomerFlows& f) const override {
        for (std::size_t k = 0; k < u_.size(); ++k)
            if (customer_[k] >= 0) {
                (*f.net_kw)[std::size_t(customer_[k])] -= p_[k] * 1000.0;
                (*f.extra_load_kw)[std::size_t(customer_[k])] -= p_[k] * 1000.0;
            }
    }
    void save_state(detail::StateOut& ar) override { archive(ar); }
    void restore_state(detail::StateIn& ar) override { archive(ar); }

private:
    template <class Ar>
    void archive(Ar& ar) {
        ar.flag("heat_pump.on", on_);
        ar.fixed("heat_pump.p_kw", p_kw_);
        ar.fixed("heat_pump.running_h", running_h_);
    }
    std::vector<HeatPumpUnit> u_;
    std::vector<char> on_;
    std::vector<int> node_, customer_;
    std::vector<double> p_kw_, running_h_, p_, hours_;
};

// ---- 3. registration: the factory takes the run's heat pumps from DeviceSet::extensions
void register_heat_pumps() {
    register_device_kind("heat_pump", [](DeviceSet& d) -> std::unique_ptr<DeviceGroup> {
        auto it = d.extensions.find("heat_pump");
        if (it == d.extensions.end()) return nullptr;
        return std::make_unique<HeatPumpGroup>(std::any_cast<std::vector<HeatPumpUnit>>(it->second));
    });
}

Network cigre_lv() { return read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json"); }

std::string scratch(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("libgrid_plugin_" + std::to_string(::getpid()) + "_" + name)).string();
}

SimulationOptions options() {
    SimulationOptions opt;
    opt.start = from_civil(2025, 3, 3);
    opt.n_steps = 96;
    opt.h5.float32 = false;  // exact comparison with the in-memory recorder
    opt.checkpoint_steps = 0;
    return opt;
}

DeviceSet heat_pumps(const Network& net) {
    DeviceSet d;
    std::vector<HeatPumpUnit> hp;
    for (std::size_t k = 0; k < 3; ++k) {
        HeatPumpUnit u;
        u.id = Id(100 + k);
        u.bus = net.loads[k].bus;
        u.customer = net.loads[k].id;
        u.p_kw = 2.0 + double(k);
        hp.push_back(u);
    }
    d.extensions["heat_pump"] = hp;
    return d;
}

double row_sum(const std::vector<double>& v, std::size_t row, std::size_t n) {
    double s = 0;
    for (std::size_t j = 0; j < n; ++j) s += v[row * n + j];
    return s;
}

}  // namespace

TEST_CASE("device plug-in: a kind defined in a test runs through the engine, the HDF5 results and the energy balance") {
    register_heat_pumps();
    const auto kinds = device_kinds();
    CHECK(std::find(kinds.begin(), kinds.end(), "heat_pump") != kinds.end());
    const Network net = cigre_lv();

    SimulationOptions opt = options();
    opt.output_path = scratch("hp.h5");
    const SimulationSummary with = Simulation(net, heat_pumps(net), opt).run();
    SimulationOptions opt0 = options();
    opt0.output_path = scratch("ref.h5");
    const SimulationSummary without = Simulation(net, DeviceSet{}, opt0).run();
    CHECK(with.non_converged_steps == 0);
    CHECK(with.energy_balance_max_error_mw < 1e-6);

    ResultsReader r(opt.output_path);
    REQUIRE(r.shape("/heat_pump/p_mw") == std::vector<std::size_t>{opt.n_steps, 3});
    CHECK(r.read_int_vector("/heat_pump/id") == std::vector<std::int64_t>{100, 101, 102});
    CHECK(r.unit("/heat_pump/p_mw") == "MW");
    const auto hp = r.read_vector("/heat_pump/p_mw");
    const auto hours = r.read_vector("/heat_pump/running_h");
    const auto temp_on = [&](std::size_t k) { return hp[k * 3] < 0; };
    std::size_t running = 0;
    double hp_mwh = 0;
    for (std::size_t k = 0; k < opt.n_steps; ++k) {
        running += temp_on(k);
        for (std::size_t j = 0; j < 3; ++j) {
            CHECK((hp[k * 3 + j] == 0.0 || hp[k * 3 + j] == doctest::Approx(-(2.0 + double(j)) / 1000.0)));
            hp_mwh -= hp[k * 3 + j] * 0.25;
        }
    }
    CHECK(running > 0);                // a warm Melaka day: the heat pumps run at noon ...
    CHECK(running < opt.n_steps);      // ... and not at night
    CHECK(hours[(opt.n_steps - 1) * 3] == doctest::Approx(0.25 * double(running)));

    // the balance from the file: ext grid + loads + heat pumps = branch losses, at every step
    const auto ext = r.read_vector("/ext_grid/p_mw");
    const auto load = r.read_vector("/load/p_mw");
    const auto loss = r.read_vector("/branch/p_loss_mw");
    const std::size_t nl = net.loads.size(), nbr = net.lines.size() + net.transformers.size();
    double worst = 0;
    for (std::size_t k = 0; k < opt.n_steps; ++k)
        worst = std::max(worst, std::abs(ext[k] + row_sum(load, k, nl) + row_sum(hp, k, 3) - row_sum(loss, k, nbr)));
    CHECK(worst < 1e-6);
    // its energy counts as consumption, is imported, and is metered behind the customers' meters
    CHECK(with.load_mwh - without.load_mwh == doctest::Approx(hp_mwh).epsilon(1e-3));
    CHECK(with.import_mwh > without.import_mwh + 0.9 * hp_mwh);
    const auto meter = r.read_vector("/meter/import_kwh");
    ResultsReader r0(opt0.output_path);
    const auto meter0 = r0.read_vector("/meter/import_kwh");
    double extra_kwh = 0;
    for (std::size_t i = 0; i < meter.size(); ++i) extra_kwh += meter[i] - meter0[i];
    CHECK(extra_kwh == doctest::Approx(hp_mwh * 1000.0).epsilon(1e-6));

    // the same run into the in-memory recorder: the same rows
    MemoryRecorder mem;
    SimulationOptions optm = options();
    optm.recorder = &mem;
    const SimulationSummary sm = Simulation(net, heat_pumps(net), optm).run();
    CHECK(sm.load_mwh == with.load_mwh);
    const MemoryRecorder::Series& s = mem.series("heat_pump/p_mw");
    REQUIRE(s.rows == opt.n_steps);
    CHECK(s.values == hp);
    CHECK(mem.int_vectors().at("heat_pump/customer") == std::vector<std::int64_t>{net.loads[0].id, net.loads[1].id, net.loads[2].id});
    CHECK(mem.scalars().at("summary/load_mwh") == with.load_mwh);
    CHECK(mem.time().size() == opt.n_steps);
    std::filesystem::remove(opt.output_path);
    std::filesystem::remove(opt0.output_path);
}

TEST_CASE("device plug-in: timed events reach a registered kind by its name; unknown ids and kinds are refused") {
    register_heat_pumps();
    const Network net = cigre_lv();
    DeviceSet d = heat_pumps(net);
    Event e;
    e.time = from_civil(2025, 3, 3, 12);
    e.kind = EventKind::OutOfService;
    e.element = "heat_pump";
    e.id = 101;
    d.events.push_back(e);
    MemoryRecorder mem;
    SimulationOptions opt = options();
    opt.recorder = &mem;
    Simulation(net, d, opt).run();
    const MemoryRecorder::Series& s = mem.series("heat_pump/p_mw");
    for (std::size_t k = 48; k < opt.n_steps; ++k) CHECK(s.at(k, 1) == 0.0);
    bool ran_after = false;
    for (std::size_t k = 48; k < opt.n_steps; ++k) ran_after = ran_after || s.at(k, 0) < 0;
    CHECK(ran_after);  // the others go on

    DeviceSet bad = heat_pumps(net);
    e.id = 7;
    bad.events.push_back(e);
    CHECK_THROWS_AS(Simulation(net, bad, options()), IdError);
    DeviceSet unknown;
    unknown.extensions["no_such_kind"] = 1;
    CHECK_THROWS_AS(Simulation(net, unknown, options()), ValidationError);
}

TEST_CASE("device plug-in: a registered kind's state survives a checkpoint and resume, as the built-in kinds' do") {
    register_heat_pumps();
    const Network net = cigre_lv();
    SimulationOptions opt = options();
    opt.n_steps = 600;
    opt.checkpoint_steps = 256;
    opt.output_path = scratch("whole.h5");
    const SimulationSummary whole = Simulation(net, heat_pumps(net), opt).run();

    std::atomic<int> stop{0};
    SimulationOptions part = opt;
    part.output_path = scratch("resumed.h5");
    part.stop_requested = &stop;
    const SimulationSummary first = Simulation(net, heat_pumps(net), part).run([&](std::size_t done, std::size_t) {
        if (done == 300) stop = 2;  // SIGINT
    });
    REQUIRE_FALSE(first.completed);
    REQUIRE(std::filesystem::exists(checkpoint_path(part.output_path)));
    stop = 0;
    part.resume = true;
    const SimulationSummary second = Simulation(net, heat_pumps(net), part).run();
    CHECK(second.completed);
    CHECK(second.resumed_from_step == 256);
    CHECK(second.load_mwh == whole.load_mwh);
    CHECK(second.import_mwh == whole.import_mwh);
    ResultsReader a(opt.output_path), b(part.output_path);
    for (const char* p : {"/heat_pump/p_mw", "/heat_pump/running_h", "/meter/import_kwh", "/ext_grid/p_mw"}) {
        CAPTURE(p);
        CHECK(a.read_vector(p) == b.read_vector(p));
    }
    CHECK(b.shape("/heat_pump/running_h") == std::vector<std::size_t>{600, 3});
    std::filesystem::remove(opt.output_path);
    std::filesystem::remove(part.output_path);
}
