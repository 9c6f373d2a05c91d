// libgrid layer 7: the grid_aware EV aggregator (group_common.hpp, docs/devices_ev_building.md): one
// per transformer feeding grid_aware stations, sharing that transformer's headroom among their vehicles.
#include "group_common.hpp"
#include "comms_devices.hpp"

#include <libgrid/topology/topology.hpp>

#include <numeric>

namespace libgrid::groups {
namespace {

/// Per bus index: the transformers on its path to the source, nearest first (network indices).
std::vector<std::vector<int>> transformers_above(const Network& net) {
    const SourceDistance sd = source_distance(net, /*by_km=*/false);
    std::vector<std::vector<int>> above(net.buses.size());
    for (std::size_t b = 0; b < above.size(); ++b)
        for (int cur = int(b); cur >= 0 && sd.parent[std::size_t(cur)] >= 0; cur = sd.parent[std::size_t(cur)])
            if (const Connection& c = sd.via[std::size_t(cur)]; c.kind == Connection::Transformer) above[b].push_back(c.index);
    return above;
}

/// CSR of `rows` (each a list of aggregator indices) into first/list.
void to_csr(const std::vector<std::vector<int>>& rows, std::vector<int>& first, std::vector<int>& list) {
    first.assign(rows.size() + 1, 0);
    list.clear();
    for (std::size_t r = 0; r < rows.size(); ++r) {
        list.insert(list.end(), rows[r].begin(), rows[r].end());
        first[r + 1] = int(list.size());
    }
}

}  // namespace

void EvAggregator::prepare(const RunSetup& s, const std::vector<EvStation*>& stations, const std::vector<Id>& buses, const char* who) {
    trafo_.clear();
    station_trafo_.assign(stations.size(), -1);
    station_limit_kw_.assign(stations.size(), kInf);
    // issue 17: the messages' keys and the limits kept (docs/comms.md)
    receiver_ = int(std::string(who) == "charging site" ? Receiver::EvSite : Receiver::EvStation);
    station_bus_.clear();
    for (Id b : buses) station_bus_.push_back(int(s.index->bus_at->at(b)));
    hist_kw_.assign(stations.size() * std::size_t(kEvLimitRing), std::numeric_limits<double>::quiet_NaN());
    kept_kw_.assign(stations.size(), std::numeric_limits<double>::quiet_NaN());
    comms_ = s.opt && s.opt->comms.enabled;
    bool any = false;
    for (const EvStation* st : stations) any = any || st->params.strategy == EvStrategy::GridAware;
    if (!any) return;
    if (!s.net) throw ValidationError(std::string(who) + ": strategy grid_aware needs the network (RunSetup::net)");
    const Network& net = *s.net;
    const std::vector<std::vector<int>> above = transformers_above(net);
    std::unordered_map<int, int> agg_of;  // transformer index -> aggregator
    std::vector<double> limit;
    for (std::size_t k = 0; k < stations.size(); ++k) {
        const EvStation& st = *stations[k];
        if (st.params.strategy != EvStrategy::GridAware) continue;
        const std::size_t b = s.index->bus_at->at(buses[k]);
        if (above[b].empty())
            throw ValidationError(std::string(who) + " " + std::to_string(st.params.id) + ": strategy grid_aware: bus " + std::to_string(buses[k]) +
                                  " has no transformer between it and the source (nothing to protect); use another strategy");
        const auto [it, fresh] = agg_of.emplace(above[b].front(), int(trafo_.size()));
        if (fresh) {
            trafo_.push_back(above[b].front());
            limit.push_back(st.params.grid_limit);
            llf_.push_back(st.params.grid_order == EvStrategy::PowerLimitedLLF);
        }
        limit[std::size_t(it->second)] = std::min(limit[std::size_t(it->second)], st.params.grid_limit);
        station_trafo_[k] = it->second;
    }
    const std::size_t na = trafo_.size();
    s_limit_kva_.assign(na, 0.0);
    lv_bus_.assign(na, 0);
    lv_node_.clear();
    for (std::size_t a = 0; a < na; ++a) {
        const Transformer& t = net.transformers[std::size_t(trafo_[a])];
        lv_bus_[a] = t.lv_bus;
        s_limit_kva_[a] = limit[a] * t.sn_mva * 1000.0 * t.df * t.parallel;
    }
    // buses and loads -> the aggregators above them; each aggregator's nearest aggregated ancestor
    std::vector<std::vector<int>> bus_rows(net.buses.size()), load_rows(net.loads.size());
    parent_.assign(na, -1);
    std::vector<int> depth(na, 0);
    for (std::size_t b = 0; b < net.buses.size(); ++b)
        for (int t : above[b])
            if (const auto it = agg_of.find(t); it != agg_of.end()) bus_rows[b].push_back(it->second);
    for (std::size_t a = 0; a < na; ++a) {
        const std::vector<int>& up = above[s.index->bus_at->at(net.transformers[std::size_t(trafo_[a])].hv_bus)];
        std::vector<int> chain;
        for (int t : up)
            if (const auto it = agg_of.find(t); it != agg_of.end()) chain.push_back(it->second);
        parent_[a] = chain.empty() ? -1 : chain.front();
        depth[a] = int(chain.size());
    }
    for (std::size_t l = 0; l < net.loads.size(); ++l) load_rows[l] = bus_rows[s.index->bus_at->at(net.loads[l].bus)];
    to_csr(bus_rows, bus_first_, bus_list_);
    to_csr(load_rows, load_first_, load_list_);
    order_.resize(na);
    std::iota(order_.begin(), order_.end(), 0);
    std::stable_sort(order_.begin(), order_.end(), [&](int x, int y) { return depth[std::size_t(x)] > depth[std::size_t(y)]; });
    // stations per aggregator, and room for their vehicles
    std::vector<std::vector<int>> st_rows(na);
    std::vector<std::size_t> room(na, 0);
    for (std::size_t k = 0; k < stations.size(); ++k)
        if (station_trafo_[k] >= 0) {
            st_rows[std::size_t(station_trafo_[k])].push_back(int(k));
            room[std::size_t(station_trafo_[k])] += stations[k]->active_.size();
        }
    to_csr(st_rows, st_first_, st_list_);
    const std::size_t nv = std::max<std::size_t>(1, *std::max_element(room.begin(), room.end()));
    for (auto* v : {&flo_, &want_, &key_, &pv_, &h_}) v->assign(nv, 0.0);
    tie_.assign(nv, 0);
    vorder_.assign(nv, 0);
    vstation_.assign(nv, 0);
    p_.assign(na, 0.0);
    q_.assign(na, 0.0);
}

void EvAggregator::other_load(const StepContext& c) {
    std::fill(p_.begin(), p_.end(), 0.0);
    std::fill(q_.begin(), q_.end(), 0.0);
    const std::vector<double>& lp = *c.customer_load_kw;
    const std::vector<double>& pv = *c.customer_pv_kw;
    for (std::size_t l = 0; l + 1 < load_first_.size(); ++l) {
        const double p = lp[l] - pv[l];
        const double q = c.customer_load_kvar ? (*c.customer_load_kvar)[l] : 0.0;
        for (int j = load_first_[l]; j < load_first_[l + 1]; ++j) {
            p_[std::size_t(load_list_[std::size_t(j)])] += p;
            q_[std::size_t(load_list_[std::size_t(j)])] += q;
        }
    }
    if (c.bus_flex_kw)
        for (std::size_t b = 0; b + 1 < bus_first_.size(); ++b) {
            const double f = (*c.bus_flex_kw)[b];
            if (f != 0.0)
                for (int j = bus_first_[b]; j < bus_first_[b + 1]; ++j) p_[std::size_t(bus_list_[std::size_t(j)])] += f;
        }
}

void EvAggregator::bind(const NetworkIndex& ix) {
    lv_node_.assign(trafo_.size(), -1);
    // an unbalanced grid (issue 15b): the LV bus's phases together (their positive-sequence voltage)
    for (std::size_t a = 0; a < trafo_.size(); ++a)
        lv_node_[a] = ix.connections ? ix.node_at(lv_bus_[a], -1, "", "ev grid_aware: transformer LV bus") : ix.node(lv_bus_[a]);
}

void EvAggregator::share_one(std::size_t a, const std::vector<EvStation*>& stations, const StepContext& c) {
    const LocalTime t = c.t;
    // the vehicles of its stations (those begun this step: out-of-service ones are not)
    int n = 0;
    for (int j = st_first_[a]; j < st_first_[a + 1]; ++j) {
        const EvStation& st = *stations[std::size_t(st_list_[std::size_t(j)])];
        if (st.pending_t0_ != t) continue;
        for (int k = 0; k < st.vehicles(); ++k, ++n) {
            flo_[std::size_t(n)] = st.floor_kw(k);
            want_[std::size_t(n)] = st.want_kw(k);
            key_[std::size_t(n)] = st.priority_key(k, llf_[a] != 0);
            tie_[std::size_t(n)] = std::int64_t(st_list_[std::size_t(j)]) * (std::int64_t(1) << 32) + st.session_of(k);
            vstation_[std::size_t(n)] = st_list_[std::size_t(j)];
        }
    }
    // headroom: the largest P under the transformer at the other load's Q, minus the other load's P; the
    // recorded loading is a current, S / |V|: the limit in kVA scales with the LV voltage of the last step
    const double vm = lv_node_.empty() ? 1.0 : std::min(1.0, c.node_vm(lv_node_[a]));
    const double s_lim = s_limit_kva_[a] * (std::isfinite(vm) && vm > 0.0 ? vm : 1.0);
    const double s2 = s_lim * s_lim - q_[a] * q_[a];
    const double headroom = std::max(0.0, (s2 > 0.0 ? std::sqrt(s2) : 0.0) - p_[a]);
    EvShare sh;
    sh.floor = flo_.data();
    sh.want = want_.data();
    sh.p = pv_.data();
    sh.h = h_.data();
    sh.order = vorder_.data();
    sh.n = n;
    for (int k = 0; k < n; ++k) {
        sh.sum_floor += flo_[std::size_t(k)];
        sh.sum_want += want_[std::size_t(k)];
    }
    share_limit(headroom, sh, /*greedy_rule=*/true, [&] {
        std::iota(vorder_.begin(), vorder_.begin() + n, 0);
        std::sort(vorder_.begin(), vorder_.begin() + n, [&](int x, int y) {
            const std::size_t i = std::size_t(x), j = std::size_t(y);
            return key_[i] < key_[j] || (key_[i] == key_[j] && tie_[i] < tie_[j]);
        });
    });
    double total = 0.0;
    for (int j = st_first_[a]; j < st_first_[a + 1]; ++j) station_limit_kw_[std::size_t(st_list_[std::size_t(j)])] = 0.0;
    for (int k = 0; k < n; ++k) {
        station_limit_kw_[std::size_t(vstation_[std::size_t(k)])] += pv_[std::size_t(k)];
        total += pv_[std::size_t(k)];
    }
    // this aggregator's EVs are load under the aggregators above it
    for (int up = parent_[a]; up >= 0; up = parent_[std::size_t(up)]) p_[std::size_t(up)] += total;
}

void EvAggregator::share(const StepContext& c, const std::vector<EvStation*>& stations) {
    other_load(c);
    for (int a : order_) share_one(std::size_t(a), stations, c);
    if (c.comms && c.comms->devices) limits_through_channel(c, stations);
}

/// Issue 17 (docs/comms.md "Price schedules, EV limits and battery set points through the channel"):
/// each station's limit of this step is sent to it; it uses the newest one that has arrived, else
/// keeps the one it had; before any has arrived, the share of the run's first step.
void EvAggregator::limits_through_channel(const StepContext& c, const std::vector<EvStation*>& stations) {
    const std::int64_t k = std::int64_t(c.k);
    const std::size_t R = std::size_t(kEvLimitRing);
    for (std::size_t s = 0; s < station_trafo_.size(); ++s) {
        if (station_trafo_[s] < 0) continue;
        hist_kw_[s * R + std::size_t(k) % R] = station_limit_kw_[s];
        if (std::isnan(kept_kw_[s])) kept_kw_[s] = station_limit_kw_[s];  // the run's first step
        const std::int64_t j = ev_limit_step(*c.comms, Receiver(receiver_), stations[s]->params.id, station_bus_[s], k);
        // (NaN: sent before this run's first step, e.g. before a checkpoint resume: not known here)
        if (j >= 0 && !std::isnan(hist_kw_[s * R + std::size_t(j) % R])) kept_kw_[s] = hist_kw_[s * R + std::size_t(j) % R];
        station_limit_kw_[s] = kept_kw_[s];
    }
}

}  // namespace libgrid::groups
