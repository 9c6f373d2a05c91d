"""Investment economics (issue 18, docs/economics.md): the finance functions of libgrid's C++
economics layer and the cost / emission catalogue as a pandas table.

    >>> from libgrid import economics as ec
    >>> cat = ec.catalogue("data/costs/malaysia_2024.yaml")
    >>> cat.loc["assets.pv_residential.capex_rm_per_kwp", "value"]
    4000.0
    >>> costs = ec.asset_costs("pv", capex=20000, om_per_year=200, lifetime_years=25, project_years=12)
    >>> ec.npv([-28000] + [3900] * 12, 0.06)
"""
from __future__ import annotations

from typing import Iterable, Sequence, Tuple

import pandas as pd

from . import _libgrid

npv = _libgrid.npv
irr = _libgrid.irr
simple_payback_years = _libgrid.simple_payback_years
discounted_payback_years = _libgrid.discounted_payback_years
levelised_cost = _libgrid.levelised_cost
annuity_factor = _libgrid.annuity_factor
abatement_cost = _libgrid.abatement_cost
battery_life_years = _libgrid.battery_life_years

__all__ = ["npv", "irr", "simple_payback_years", "discounted_payback_years", "levelised_cost", "annuity_factor", "abatement_cost",
           "battery_life_years", "asset_costs", "catalogue", "business_case", "BusinessCase"]


def asset_costs(name: str, capex: float, om_per_year: float = 0.0, lifetime_years: int = 25, project_years: int = 25,
                om_escalation: float = 0.0, replacements: Iterable[Tuple[int, float]] = (),
                residual_value: bool = True) -> Sequence[float]:
    """One asset's costs by year 0..project_years (RM): capex at 0 and again at each end of life,
    escalated O&M, replacements (year, cost), the straight-line residual value back at the end
    (docs/economics.md "Costs of an asset")."""
    return _libgrid.asset_costs(name, float(capex), float(om_per_year), float(om_escalation), int(lifetime_years),
                                [(int(y), float(c)) for y, c in replacements], bool(residual_value), int(project_years))


def catalogue(path: str) -> pd.DataFrame:
    """A cost or emission catalogue as a table indexed by figure name (dotted path): value, source,
    citation, year, assumption, reason, line. attrs: file, currency, price_year, region, series (the
    hourly profiles: name -> 24 values), undocumented (figures without provenance: none in the
    shipped files)."""
    c = _libgrid.load_cost_catalogue(str(path))
    df = pd.DataFrame(c["figures"]).set_index("name")
    for k in ("file", "currency", "price_year", "region", "series", "undocumented"):
        df.attrs[k] = c[k]
    return df


# ---- the business case (docs/economics.md "The business case") ------------------------------------

class BusinessCase:
    """The business case of a scenario against a base run (``business_case(base, scenario)``).

    DataFrames: ``stakeholders`` (index ``stakeholder``: capex_rm, npv_rm, irr, simple_payback_years,
    discounted_payback_years, discount_rate), ``cash_flows`` (MultiIndex (stakeholder, item); columns
    0..n = year, RM, + = money in), ``assets`` (stakeholder, asset_class, quantity, unit, units, capex_rm,
    om_rm_per_year, lifetime_years, figures), ``upgrades`` (transformer, rated_kva,
    max_loading_base_percent, max_loading_scenario_percent, status, cost_rm, next_rating). Floats
    ``lcoe_pv_rm_per_kwh``, ``lcos_rm_per_kwh``, ``co2_avoided_t_per_year``, ``abatement_cost_rm_per_t``
    (NaN when undefined); ``project_years``; ``notes`` (every assumption made); ``figures`` (the catalogue's
    figures as used, after every override: dotted path -> value); ``catalogue_file``; ``tariff_scale``; ``to_json()``.
    """

    def __init__(self, d: dict):
        self._d = d
        n = int(d["project_years"])
        self.project_years = n
        self.base_file = d["base_file"]
        self.scenario_file = d["scenario_file"]
        self.catalogue_file = d["catalogue_file"]
        self.hours_base = d["hours_base"]
        self.hours_scenario = d["hours_scenario"]
        self.tariff_escalation = d["tariff_escalation"]
        self.tariff_scale = d["tariff_scale"]
        #: the catalogue's figures as used (after every override): dotted path -> value
        self.figures = dict(d["figures"])
        self.lcoe_pv_rm_per_kwh = float(d["lcoe_pv_rm_per_kwh"])
        self.lcos_rm_per_kwh = float(d["lcos_rm_per_kwh"])
        self.co2_avoided_t_per_year = float(d["co2_avoided_t_per_year"])
        self.abatement_cost_rm_per_t = float(d["abatement_cost_rm_per_t"])
        self.notes = list(d["notes"])
        cols = ["capex_rm", "npv_rm", "irr", "simple_payback_years", "discounted_payback_years", "discount_rate"]
        self.stakeholders = pd.DataFrame(d["stakeholders"], columns=["stakeholder"] + cols).set_index("stakeholder")
        rows = d["cash_flows"]
        idx = pd.MultiIndex.from_tuples([(r["stakeholder"], r["item"]) for r in rows], names=["stakeholder", "item"])
        self.cash_flows = pd.DataFrame([r["rm"] for r in rows], index=idx, columns=list(range(n + 1)), dtype=float)
        self.cash_flows.columns.name = "year"
        self.assets = pd.DataFrame(d["assets"], columns=["stakeholder", "asset_class", "quantity", "unit", "units", "capex_rm",
                                                         "om_rm_per_year", "lifetime_years", "figures"])
        self.upgrades = pd.DataFrame(d["upgrades"], columns=["transformer", "rated_kva", "max_loading_base_percent",
                                                             "max_loading_scenario_percent", "status", "cost_rm", "next_rating"])

    def net_cash_flow(self, stakeholder: str) -> pd.Series:
        """The stakeholder's net cash flow by year (the sum of its items), RM."""
        if stakeholder not in self.stakeholders.index:
            raise KeyError(f"no stakeholder '{stakeholder}'; the case has: {', '.join(self.stakeholders.index)}")
        return self.cash_flows.xs(stakeholder, level="stakeholder").sum(axis=0)

    def to_json(self) -> str:
        """The whole case as JSON (the C++ BusinessCase::to_json; NaN as null)."""
        return self._d["json"]

    def __repr__(self) -> str:
        return (f"BusinessCase({self.scenario_file!r} vs {self.base_file!r}, {self.project_years} years)\n"
                f"{self.stakeholders.to_string()}")


def business_case(base, scenario, catalogue=None, overrides=None, project_years=None, discount_rate=None,
                  tariff_escalation=None, tariff_scale=1.0) -> BusinessCase:
    """The business case of results file ``scenario`` against ``base`` (two runs of the same network).

    catalogue: a cost catalogue file (default: the scenario's ``economics.catalogue``, else the shipped
    data/costs/malaysia_2024.yaml). overrides: {dotted.figure: value} set in the catalogue (after the
    scenario's). project_years: default the scenario's, else 20. discount_rate: a number (every
    stakeholder) or {customer, cpo, utility, city}: fractions. tariff_escalation: a fraction a year.
    tariff_scale: multiplies every bill of both files (the tornado's tariff input; default 1).
    Explicit arguments win over the scenario's ``economics:`` key, which wins over the catalogue.
    Errors (libgrid.ValidationError / IdError / ParseError) name the file and the dataset or figure.
    """
    if isinstance(discount_rate, (int, float)):
        discount_rate = {k: float(discount_rate) for k in ("customer", "cpo", "utility", "city")}
    ov = [(str(k), float(v)) for k, v in dict(overrides or {}).items()]
    d = _libgrid.business_case(str(base), str(scenario), "" if catalogue is None else str(catalogue), ov,
                               None if project_years is None else int(project_years),
                               {str(k): float(v) for k, v in dict(discount_rate or {}).items()},
                               None if tariff_escalation is None else float(tariff_escalation), float(tariff_scale))
    return BusinessCase(d)


# issue 18 (H3): sensitivity of a business case (docs/economics.md "Sensitivity")
from .sensitivity import plot_tornado, tornado  # noqa: E402

__all__ += ["tornado", "plot_tornado"]
