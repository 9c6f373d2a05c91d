// make_refs: compare libgrid's unbalanced nodal model with OpenDSS's on a feeder (yprims element by
// element, node sets, the model equation's residual at OpenDSS's solution, a fixed point on the model,
// the solvers), and with REFS=<prefix> write OpenDSS's taps and node voltages (<prefix>_taps.csv, _v.csv).
// Build: g++ -std=c++20 -O2 -I<repo>/libgrid/include -I<build>/include -I/usr/include/eigen3 -I/work/opendss/dss_capi/include make_refs.cpp <build>/libgrid.a -L/work/opendss/dss_capi/lib/linux_x64 -ldss_capi -lklu -lbtf -lamd -lcolamd -lsuitesparseconfig -lhdf5 -lz -lyaml-cpp -lpthread -Wl,-rpath,/work/opendss/dss_capi/lib/linux_x64
// Run:   [REFS=<prefix>] [TOL=1e-12] [DUMP=1] ./make_refs FEEDER.dss [pq]
#include <dss_capi.h>
#include <libgrid/io/dss.hpp>
#include <libgrid/math/umath.hpp>
#include <libgrid/solvers/usolvers.hpp>
#include <Eigen/SparseLU>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
using namespace libgrid;
static std::string lower(std::string s){ for(auto&c:s) c=(char)std::tolower((unsigned char)c); return s;}
int main(int argc, char** argv) {
    const std::string path = argv[1];
    const bool pq = argc > 2 && std::string(argv[2]) == "pq";
    DSS_Start(0);
    Text_Set_Command(("compile [" + path + "]").c_str());
    if (pq) Text_Set_Command("batchedit load..* vmaxpu=1.2 vminpu=0.8");
    // read the taps OpenDSS has now and use them (then no control)
    DssReadOptions opt; opt.missing_redirect_is_error = false;
    UNetwork net = read_dss(path, opt).net;
    if (pq) for (auto& l : net.loads) { l.vmaxpu = 1.2; l.vminpu = 0.8; }
    for (int i = Transformers_Get_First(); i > 0; i = Transformers_Get_Next()) {
        std::string name = lower(Transformers_Get_Name());
        for (auto& t : net.transformers) if (t.name == name)
            for (int w = 1; w <= Transformers_Get_NumWindings(); ++w) { Transformers_Set_Wdg(w); t.windings[w-1].tap = Transformers_Get_Tap(); }
    }
    for (auto& b : net.buses) if (Circuit_SetActiveBus(b.name.c_str()) >= 0 && Bus_Get_kVBase() > 0) b.kv_base_ll = Bus_Get_kVBase() * std::sqrt(3.0);
    Text_Set_Command("set controlmode=off");
    Text_Set_Command(("set tolerance=" + std::string(getenv("TOL") ? getenv("TOL") : "1e-12")).c_str());
    Text_Set_Command("set maxiterations=200");
    Text_Set_Command("solve");
    std::printf("opendss converged %d\n", Solution_Get_Converged());
    UMathModel m = build_umath_model(net);
    // yprims
    double worst = 0; std::string worst_name;
    for (auto& e : m.elements) {
        std::string kind = e.kind==UElementKind::line?"line":e.kind==UElementKind::transformer?"transformer":e.kind==UElementKind::load?"load":e.kind==UElementKind::capacitor?"capacitor":"vsource";
        std::string nm = kind=="line"?net.lines[e.index].name:kind=="transformer"?net.transformers[e.index].name:kind=="load"?net.loads[e.index].name:kind=="capacitor"?net.capacitors[e.index].name:net.vsources[e.index].name;
        std::string full = kind + "." + nm;
        if (Circuit_SetActiveElement(full.c_str()) < 0) { std::printf("no element %s in OpenDSS\n", full.c_str()); continue; }
        double* y = nullptr; int32_t d[4] = {0,0,0,0};
        CktElement_Get_Yprim(&y, d);
        const int n = (int)std::lround(std::sqrt(d[0] / 2.0));
        if (n != e.yprim.rows()) { std::printf("%s: size %d vs %d\n", full.c_str(), n, (int)e.yprim.rows()); continue; }
        double mx = 0, df = 0;
        for (int c = 0; c < n; ++c) for (int r = 0; r < n; ++r) {
            cplx v(y[2*(c*n+r)], y[2*(c*n+r)+1]);
            mx = std::max(mx, std::abs(v)); df = std::max(df, std::abs(v - e.yprim(r, c)));
        }
        double rel = mx > 0 ? df / mx : df;
        if (rel > worst) { worst = rel; worst_name = full; }
        if (rel > 1e-9) std::printf("%s: yprim rel diff %.3e\n", full.c_str(), rel);
    }
    std::printf("yprim worst rel diff %.3e (%s), %zu elements\n", worst, worst_name.c_str(), m.elements.size());
    // nodes
    char** names = nullptr; int32_t nd[4] = {0,0,0,0};
    Circuit_Get_YNodeOrder(&names, nd);
    double* vv = nullptr; int32_t vd[4] = {0,0,0,0};
    Circuit_Get_YNodeVarray(&vv, vd);
    std::printf("nodes: opendss %d, libgrid %d\n", nd[0], m.n_nodes);
    std::vector<cplx> v(m.n_nodes, cplx(0,0)); std::vector<char> seen(m.n_nodes, 0);
    for (int i = 0; i < nd[0]; ++i) {
        std::string s = lower(names[i]); auto dot = s.rfind('.');
        int b = net.find_bus(s.substr(0, dot)); int ph = std::stoi(s.substr(dot+1));
        int k = b < 0 ? -1 : m.bus_node(b, ph);
        if (k < 0) { std::printf("opendss node %s not in libgrid\n", s.c_str()); continue; }
        v[k] = cplx(vv[2*i], vv[2*i+1]); seen[k] = 1;
    }
    for (int k = 0; k < m.n_nodes; ++k) if (!seen[k]) std::printf("libgrid node %s.%d not in opendss\n", net.buses[m.node_bus[k]].name.c_str(), m.node_phase[k]);
    if (getenv("DUMP")) for (int k = 0; k < m.n_nodes; ++k) std::printf("  %s.%d dss %.6f %.4f start %.6f %.4f\n", net.buses[m.node_bus[k]].name.c_str(), m.node_phase[k], std::abs(v[k])/m.node_vbase_v[k], std::arg(v[k])*57.29578, std::abs(m.v_start[k])/m.node_vbase_v[k], std::arg(m.v_start[k])*57.29578);
    if (const char* out = getenv("REFS")) {  // the reference: OpenDSS's taps and node voltages
        FILE* f = std::fopen((std::string(out) + "_taps.csv").c_str(), "w");
        std::fprintf(f, "transformer,winding,tap\n");
        for (auto& t : net.transformers) for (std::size_t w = 0; w < t.windings.size(); ++w)
            if (t.windings[w].tap != 1.0) std::fprintf(f, "%s,%zu,%.17g\n", t.name.c_str(), w + 1, t.windings[w].tap);
        std::fclose(f);
        f = std::fopen((std::string(out) + "_v.csv").c_str(), "w");
        std::fprintf(f, "bus,node,vbase_v,v_re,v_im\n");
        for (int k = 0; k < m.n_nodes; ++k)
            std::fprintf(f, "%s,%d,%.10g,%.12g,%.12g\n", net.buses[m.node_bus[k]].name.c_str(), m.node_phase[k], m.node_vbase_v[k], v[k].real(), v[k].imag());
        std::fclose(f);
    }
    // residual: Y V - i_source - I_comp(V), in A, relative to the largest |Y_kk V_k|
    std::vector<cplx> r(m.n_nodes, cplx(0,0));
    for (int c = 0; c < m.Y.outerSize(); ++c) for (Eigen::SparseMatrix<cplx>::InnerIterator it(m.Y, c); it; ++it) r[it.row()] += it.value() * v[c];
    std::vector<cplx> comp(m.n_nodes, cplx(0,0)); add_load_compensation(m, v, comp);
    double rmax = 0; int rk = -1;
    for (int k = 0; k < m.n_nodes; ++k) { cplx x = r[k] - m.i_source[k] - comp[k]; double a = std::abs(x); if (a > rmax) { rmax = a; rk = k; } }
    std::printf("residual max %.3e A at %s.%d\n", rmax, rk>=0?net.buses[m.node_bus[rk]].name.c_str():"", rk>=0?m.node_phase[rk]:0);
    // start and solve
    double dstart = 0; for (int k = 0; k < m.n_nodes; ++k) if (std::isfinite(m.node_vbase_v[k])) dstart = std::max(dstart, std::abs(m.v_start[k]-v[k])/m.node_vbase_v[k]);
    std::printf("v_start max diff %.4f pu, radial %d, branches %zu\n", dstart, (int)m.radial, m.branches.size());
    {
        Eigen::SparseLU<Eigen::SparseMatrix<cplx>> lu; lu.compute(m.Y);
        std::vector<cplx> x = m.v_start; int it = 0; double dvmax = 1;
        for (; it < 500 && dvmax > 1e-13; ++it) {
            std::vector<cplx> rhs = m.i_source; add_load_compensation(m, x, rhs);
            Eigen::VectorXcd xn = lu.solve(Eigen::Map<Eigen::VectorXcd>(rhs.data(), m.n_nodes));
            dvmax = 0; for (int k = 0; k < m.n_nodes; ++k) { double vb = std::isfinite(m.node_vbase_v[k]) ? m.node_vbase_v[k] : 1.0; dvmax = std::max(dvmax, std::abs(xn(k) - x[k]) / vb); x[k] = xn(k); }
        }
        double dv = 0; int kk = -1; for (int k = 0; k < m.n_nodes; ++k) { double vb = std::isfinite(m.node_vbase_v[k]) ? m.node_vbase_v[k] : 1.0; double d = std::abs(x[k]-v[k])/vb; if (d > dv) { dv = d; kk = k; } }
        std::printf("own fixed point (add_load_compensation): it %d, max |V - V_dss| %.3e pu at %s.%d\n", it, dv, kk>=0?net.buses[m.node_bus[kk]].name.c_str():"", kk>=0?m.node_phase[kk]:0);
    }
    for (UMethod meth : {UMethod::fixed_point, UMethod::newton, UMethod::sweep}) {
        if (meth == UMethod::sweep && !m.radial) continue;
        try {
            auto s = make_usolver(m, meth); std::vector<cplx> x = m.v_start; USolveOptions o; o.tolerance = 1e-12; o.max_iterations = 200;
            auto st = s->solve(x, o);
            double dv = 0; int kk = -1; for (int k = 0; k < m.n_nodes; ++k) { double vb = std::isfinite(m.node_vbase_v[k]) ? m.node_vbase_v[k] : 1.0; double d = std::abs(x[k]-v[k])/vb; if (d > dv) { dv = d; kk = k; } }
            std::printf("%s: converged %d it %d, max |V - V_dss| %.3e pu at %s.%d\n", to_string(meth), (int)st.converged, st.iterations, dv, kk>=0?net.buses[m.node_bus[kk]].name.c_str():"", kk>=0?m.node_phase[kk]:0);
        } catch (std::exception& ex) { std::printf("%s: %s\n", to_string(meth), ex.what()); }
    }
    return 0;
}
