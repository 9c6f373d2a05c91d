// libgrid layer 7: the device-group registry and the helpers of the device interface
// (simulation/device_group.hpp).
#include "group_common.hpp"

#include <mutex>
#include <utility>

namespace libgrid {

void NetworkIndex::check_bus(const std::string& who, Id bus) const {
    if (!bus_at->count(bus)) throw IdError(who + ": field 'bus': unknown bus id " + std::to_string(bus));
}

void NetworkIndex::check_customer(const std::string& who, Id c, Id bus) const {
    if (c < 0) return;
    const auto it = load_at->find(c);
    if (it == load_at->end()) throw IdError(who + ": field 'customer': unknown load id " + std::to_string(c));
    if (load_bus != nullptr && (*load_bus)[it->second] != bus)
        throw ValidationError(who + ": field 'bus': bus " + std::to_string(bus) + " is not the bus of its customer (load " + std::to_string(c) +
                              " at bus " + std::to_string((*load_bus)[it->second]) + "); a device behind a customer's meter sits at the customer's bus");
}

int NetworkIndex::customer(Id c) const { return c >= 0 ? int(load_at->at(c)) : -1; }

int NetworkIndex::node(Id bus) const { return (*bus_node)[bus_at->at(bus)]; }

int NetworkIndex::node_at(Id bus, Id cust, const std::string& phases, const std::string& who) const {
    if (!connections) return node(bus);
    return connections->connection(bus_at->at(bus), customer(cust), phases, who);
}

void SeriesDeclarer::ids(const std::vector<std::int64_t>& ids, const std::vector<std::int64_t>& bus, const std::vector<std::int64_t>* customer) {
    r_->write_ids(group_, ids);
    r_->write_int_vector(group_ + "/bus", bus);
    if (customer) r_->write_int_vector(group_ + "/customer", *customer);
}

void SeriesDeclarer::vector(const std::string& name, const std::vector<double>& v, const std::string& unit) {
    r_->write_vector(group_ + "/" + name, v, unit);
}

void SeriesDeclarer::series(const std::string& name, const std::string& unit, const std::vector<double>& row) {
    const int h = r_->add_series(SeriesSpec{group_, name, unit, row.size(), 1, false});
    declared.push_back({h, &row, nullptr});
}

void SeriesDeclarer::int_series(const std::string& name, const std::string& unit, const std::vector<std::int64_t>& row) {
    const int h = r_->add_series(SeriesSpec{group_, name, unit, row.size(), 1, true});
    declared.push_back({h, nullptr, &row});
}

SummaryTables::Table& SummaryTables::table(const std::string& path, const std::vector<Column>& columns) {
    for (Table& t : tables_)
        if (t.path == path) return t;
    tables_.push_back(Table{path, columns});
    return tables_.back();
}

namespace {

struct Registry {
    std::mutex mu;
    std::vector<std::pair<std::string, DeviceGroupFactory>> kinds{
        {"pv", groups::make_pv_group},           {"battery", groups::make_battery_group},
        {"ev", groups::make_ev_group},           {"ev_site", groups::make_ev_site_group},
        {"building", groups::make_building_group}, {"home", groups::make_home_group},
    };
};

Registry& registry() {
    static Registry r;
    return r;
}

}  // namespace

void register_device_kind(const std::string& kind, DeviceGroupFactory factory) {
    if (kind.empty() || !factory) throw ValidationError("register_device_kind: needs a kind name and a factory");
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    for (auto& [k, f] : r.kinds)
        if (k == kind) {
            f = std::move(factory);
            return;
        }
    r.kinds.emplace_back(kind, std::move(factory));
}

std::vector<std::string> device_kinds() {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    std::vector<std::string> v;
    for (const auto& kf : r.kinds) v.push_back(kf.first);
    return v;
}

std::vector<std::unique_ptr<DeviceGroup>> make_device_groups(DeviceSet& devices) {
    std::vector<std::pair<std::string, DeviceGroupFactory>> kinds;
    {
        Registry& r = registry();
        std::lock_guard lock(r.mu);
        kinds = r.kinds;
    }
    std::vector<std::unique_ptr<DeviceGroup>> groups;
    for (const auto& [kind, make] : kinds)
        if (std::unique_ptr<DeviceGroup> g = make(devices)) groups.push_back(std::move(g));
    for (const auto& [kind, data] : devices.extensions) {
        bool known = false;
        for (const auto& kf : kinds) known = known || kf.first == kind;
        if (!known) throw ValidationError("devices: kind '" + kind + "' is not registered (register_device_kind)");
    }
    return groups;
}

}  // namespace libgrid
