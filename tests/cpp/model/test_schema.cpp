// Tests of the component schemas (libgrid/core/schema.hpp, libgrid/model/<component>.hpp): the docs
// tables agree with them, and what they drive (validation, the network JSON) works field by field.
#include <doctest/doctest.h>

#include <libgrid/core/schema.hpp>

#include <cstddef>
#include <fstream>
#include <utility>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "libgrid/core/errors.hpp"
#include "libgrid/io/case_json.hpp"
#include "libgrid/io/matpower.hpp"
#include "libgrid/model/network.hpp"

using namespace libgrid;

namespace {

std::string slurp_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

/// The rows of the table under "## `ARRAY`" in a markdown page: key -> cells after the key.
std::map<std::string, std::vector<std::string>> doc_table(const std::string& page, const std::string& array) {
    std::map<std::string, std::vector<std::string>> rows;
    const std::string head = "## `" + array + "`";
    auto pos = page.find(head);
    REQUIRE_MESSAGE(pos != std::string::npos, "docs/network_json.md has no section " << head);
    std::istringstream in(page.substr(pos));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line) && line.rfind("## ", 0) != 0) {
        if (line.rfind("| `", 0) != 0) continue;
        std::vector<std::string> cells;
        std::istringstream cs(line.substr(1));
        std::string cell;
        while (std::getline(cs, cell, '|')) cells.push_back(trim(cell));
        std::string key = cells.front();
        key = key.substr(1, key.find('`', 1) - 1);
        cells.erase(cells.begin());
        rows[key] = cells;
    }
    return rows;
}

/// Every field of the schema has a row with its unit and default; every row is a schema field.
template <class T>
void check_docs(const std::string& page) {
    const Schema<T>& s = T::schema();
    const auto rows = doc_table(page, std::string(s.array));
    std::set<std::string> keys;
    for (const Field<T>& f : s.fields) {
        const std::string key(f.key);
        keys.insert(key);
        auto it = rows.find(key);
        CHECK_MESSAGE(it != rows.end(), s.array << ": field '" << key << "' is not in docs/network_json.md");
        if (it == rows.end()) continue;
        REQUIRE(it->second.size() >= 2);
        CHECK_MESSAGE(it->second[0] == std::string(f.unit), s.array << "." << key << ": unit");
        const std::string def = f.required ? "*req*" : default_text(f);
        CHECK_MESSAGE(it->second[1] == def, s.array << "." << key << ": default");
    }
    for (const auto& [key, cells] : rows)
        CHECK_MESSAGE(keys.count(key) == 1, s.array << ": docs/network_json.md documents '" << key << "', which the schema lacks");
}

/// Converts to any member type (unevaluated only): counts the members of an aggregate.
struct AnyMember {
    template <class U>
    operator U() const;
};
template <class T, std::size_t... I>
constexpr bool brace_initializable(std::index_sequence<I...>) {
    return requires { T{(void(I), AnyMember{})...}; };
}
/// The number of data members of the aggregate T (the most initializers T{...} accepts).
template <class T, std::size_t N = 0>
constexpr std::size_t member_count() {
    if constexpr (brace_initializable<T>(std::make_index_sequence<N + 1>{})) return member_count<T, N + 1>();
    else return N;
}

template <class T>
std::size_t stored_fields() {
    std::size_t n = 0;
    for (const Field<T>& f : T::schema().fields) n += f.stored() ? 1 : 0;
    return n;
}

}  // namespace

TEST_CASE("schema: every member of every component struct is in its schema") {
    // A member added to a struct without a field(...) line in its schema() fails here.
    CHECK(member_count<Bus>() == stored_fields<Bus>());
    CHECK(member_count<Branch>() == stored_fields<Branch>());
    CHECK(member_count<Line>() == stored_fields<Line>());
    CHECK(member_count<Transformer>() == stored_fields<Transformer>());
    CHECK(member_count<Switch>() == stored_fields<Switch>());
    CHECK(member_count<Shunt>() == stored_fields<Shunt>());
    CHECK(member_count<Load>() == stored_fields<Load>());
    CHECK(member_count<Gen>() == stored_fields<Gen>());
    CHECK(member_count<SGen>() == stored_fields<SGen>());
    CHECK(member_count<Storage>() == stored_fields<Storage>());
    CHECK(member_count<ExtGrid>() == stored_fields<ExtGrid>());
    CHECK(member_count<FormingSource>() == stored_fields<FormingSource>());
    CHECK(member_count<Transformer>() == 26);  // the counter counts
}

TEST_CASE("schema: the component tables of docs/network_json.md agree with the schemas") {
    const std::string page = slurp_file(std::string(LIBGRID_TEST_DATA) + "/../../docs/network_json.md");
    check_docs<Bus>(page);
    check_docs<Line>(page);
    check_docs<Transformer>(page);
    check_docs<Switch>(page);
    check_docs<Shunt>(page);
    check_docs<Load>(page);
    check_docs<SGen>(page);
    check_docs<Storage>(page);
    check_docs<Gen>(page);
    check_docs<ExtGrid>(page);
    check_docs<Branch>(page);
    check_docs<FormingSource>(page);
}

TEST_CASE("schema: every stored field reaches its member and has a unique name and key") {
    Network net;
    net.for_each_table([](const auto& table) {
        using T = typename std::decay_t<decltype(table)>::value_type;
        std::set<std::string_view> names, keys;
        for (const Field<T>& f : T::schema().fields) {
            CHECK_MESSAGE(keys.insert(f.key).second, T::schema().kind << ": key '" << f.key << "' twice");
            if (!f.stored()) continue;
            CHECK_MESSAGE(names.insert(f.name).second, T::schema().kind << ": name '" << f.name << "' twice");
            CHECK(T::schema().find(f.name) == &f);
            if (f.kind == FieldKind::Double) {
                // writing through the field changes exactly that member
                T e{};
                f.set_double(e, 123.25);
                CHECK(f.get_double(e) == 123.25);
                CHECK_FALSE(e == T{});
            }
        }
        CHECK(T::schema().find("id") != nullptr);
    });
    CHECK(Transformer::schema().find("df") != nullptr);
    CHECK(Transformer::schema().find("tap_step_deg")->key == "tap_step_degree");  // issue 19: one spelling, pandapower's key
    CHECK(Transformer::schema().find("shift_deg")->key == "shift_degree");
    CHECK(ExtGrid::schema().find("va_deg")->key == "va_degree");
    CHECK(Transformer::schema().find("oltc_bus") != nullptr);
    CHECK(Bus::schema().find("type")->key == "bus_type");
    CHECK(Gen::schema().find("mbase_mva")->key == "sn_mva");
}

TEST_CASE("schema: range text and checks") {
    CHECK(gt(0).text() == "> 0");
    CHECK(ge(1).text() == ">= 1");
    CHECK(in(0, 1, true, false).text() == "in (0, 1]");
    CHECK(in(0, 100).text() == "in [0, 100]");
    CHECK(Range{}.text().empty());
    CHECK_FALSE(gt(0).contains(0.0));
    CHECK_FALSE(ge(0).contains(kNaN));
    CHECK_FALSE(gt(0).contains(kInf));
    CHECK(Range{0, kInf, true, false, true}.contains(kInf));
    CHECK(default_text(*Line::schema().find("max_i_ka")) == "inf");
    CHECK(default_text(*Transformer::schema().find("tap_side")) == "null");
    CHECK(default_text(*Bus::schema().find("type")) == "pq");
}

TEST_CASE("schema: validation messages name the component, its id and the field") {
    Network net = read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json");
    CHECK_NOTHROW(net.validate());
    {
        Network n = net;
        n.lines[2].length_km = -1.0;
        const std::string msg = "line " + std::to_string(n.lines[2].id) + ": field 'length_km': must be > 0";
        CHECK_THROWS_WITH_AS(n.validate(), doctest::Contains(msg.c_str()), ValidationError);
    }
    {
        Network n = net;
        n.transformers[0].df = kNaN;
        CHECK_THROWS_WITH_AS(n.validate(), doctest::Contains(": field 'df': must be a finite number"), ValidationError);
    }
    {
        Network n = net;
        n.loads[0].bus = 987654;
        const std::string msg = "load " + std::to_string(n.loads[0].id) + ": field 'bus': unknown bus id 987654";
        CHECK_THROWS_WITH_AS(n.validate(), doctest::Contains(msg.c_str()), IdError);
    }
    {
        Network n = net;
        n.buses[0].type = static_cast<BusType>(9);
        CHECK_THROWS_WITH_AS(n.validate(), doctest::Contains("field 'type': must be one of 1 (pq)"), ValidationError);
    }
    {
        Network n = net;
        n.transformers[0].parallel = 0;
        CHECK_THROWS_WITH_AS(n.validate(), doctest::Contains("field 'parallel': must be >= 1, got 0"), ValidationError);
    }
}

TEST_CASE("schema: the JSON reader checks each field against its schema range") {
    const std::string head = R"({"schema": "mg-case-json/1", "buses": [{"id": 1, "vn_kv": 10}, {"id": 2, "vn_kv": 0.4}], )";
    auto trafo = [&](const std::string& extra) {
        return head + R"("transformers": [{"id": 7, "hv_bus": 1, "lv_bus": 2, "sn_mva": 0.4, "vn_hv_kv": 10, "vn_lv_kv": 0.4, "vk_percent": 4)" +
               extra + "}]}";
    };
    CHECK_NOTHROW(parse_case_json(trafo(""), "t.json"));
    CHECK_THROWS_WITH_AS(parse_case_json(trafo(R"(, "df": 1.5)"), "t.json"),
                         "t.json: transformers[id=7]: field 'df': must be in (0, 1], got 1.5", ValidationError);
    CHECK_THROWS_WITH_AS(parse_case_json(trafo(R"(, "tap_side": "mv")"), "t.json"),
                         "t.json: transformers[id=7]: field 'tap_side': must be \"hv\", \"lv\" or null, got string \"mv\"",
                         ValidationError);
    CHECK_THROWS_WITH_AS(parse_case_json(trafo(R"(, "tap_step_degree": "x")"), "t.json"),
                         "t.json: transformers[id=7]: field 'tap_step_degree': must be a number, got string \"x\"", ValidationError);
    const Network n = parse_case_json(trafo(R"(, "tap_side": "hv", "tap_step_degree": 1.5, "oltc": true, "oltc_bus": 1)"), "t.json");
    REQUIRE(n.transformers.size() == 1);
    CHECK(n.transformers[0].tap_step_deg == 1.5);
    CHECK(n.transformers[0].oltc_bus == 1);
    CHECK(parse_case_json(to_case_json(n), "again.json") == n);
}

TEST_CASE("schema: JSON -> Network -> JSON round trip of the shipped cases") {
    for (const char* rel : {"cigre/cigre_lv.input.json", "cigre/cigre_mv_all.input.json", "cigre/mv_oberrhein.input.json",
                            "pgm_bench/radial_1804.input.json"}) {
        CAPTURE(rel);
        const Network a = read_case_json(std::string(LIBGRID_TEST_DATA) + "/" + rel);
        const std::string text = to_case_json(a);
        const Network b = parse_case_json(text, rel);
        CHECK(b == a);
        CHECK(to_case_json(b) == text);
    }
    const Network m = read_matpower(std::string(LIBGRID_TEST_DATA) + "/matpower/case118.m");
    const std::string text = to_case_json(m);
    CHECK(parse_case_json(text, "case118.json") == m);
}
