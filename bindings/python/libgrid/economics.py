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
           "battery_life_years", "asset_costs", "catalogue"]


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
