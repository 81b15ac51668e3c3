"""The ``[decision]`` spec section: decision thresholds, economic inputs and the next trial.

Keys and defaults (every key optional)::

    [decision]
    enabled = true
    mcid = 0.10               # minimal clinically important risk difference (0.005–0.99)
    gamma_benefit = 0.95      # dual criterion γ₁: P(RD > 0) needed for "go"
    gamma_mcid = 0.50         # dual criterion γ₂: P(RD > mcid) needed for "go"
    gamma_rope = 0.95         # ROPE rule: posterior mass needed on one side of the ROPE bound

    [decision.economics]      # ILLUSTRATIVE ASSUMPTIONS by default, not facts
    currency = "EUR"
    value_per_employed = 25000          # value of one extra person employed
    cost_per_patient = 3000             # incremental cost of IPS per patient
    population_per_year = 500           # patients the decision affects each year
    years = 10                          # how long the decision stands
    discount_rate = 0.035               # annual discount rate for future patients
    trial_fixed_cost = 500000           # fixed cost of a confirmatory trial
    trial_cost_per_participant = 2000   # marginal cost per trial participant
    wtp_max = 100000                    # right end of the acceptability curve
                                        # (default: the larger of 100000 and 4 × value)

    [decision.next_trial]
    n_per_arm = [20, 40, ..., 2000]     # 20 sample sizes per arm (see DEFAULT_N_PER_ARM)
    simulations = 20000                 # simulated trials per sample size
    alpha = 0.05                        # two-sided level of the frequentist test
    success_probability = 0.975         # Bayesian success: P(benefit) above this
    analysis_prior_sd = <derived>       # sceptical analysis prior SD on the log OR
    robust_weight = 0.0                 # weight of a vague component in the design prior
    assurance_targets = [0.8, 0.9]
    null_rate = <derived>               # control rate for operating characteristics
    oc_n_per_arm = [100, 200, 400]      # sample sizes of the power curves

The ROPE half-width is the analysis's ``estimands.rope``. ``analysis_prior_sd`` and
``null_rate`` default to values derived from the headline fit (see
:func:`~bayes_ips.analyses.decision.trial.sceptical_sd`). Economic inputs the spec leaves out
keep their defaults, which are illustrative assumptions chosen only to make the method visible;
every output that uses them says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bayes_ips.errors import InputError
from bayes_ips.spec import check_keys, in_range, number_list

DEFAULT_N_PER_ARM = (
    20,
    40,
    60,
    80,
    100,
    125,
    150,
    175,
    200,
    250,
    300,
    350,
    400,
    500,
    600,
    800,
    1000,
    1250,
    1500,
    2000,
)
MAX_N_PER_ARM = 100_000
MAX_SIMULATIONS = 1_000_000


@dataclass(frozen=True)
class Economics:
    """Economic inputs; ``user_set`` names the ones the spec gave (the rest are illustrative)."""

    currency: str = "EUR"
    value_per_employed: float = 25_000.0
    cost_per_patient: float = 3_000.0
    population_per_year: float = 500.0
    years: int = 10
    discount_rate: float = 0.035
    trial_fixed_cost: float = 500_000.0
    trial_cost_per_participant: float = 2_000.0
    wtp_max: float = 100_000.0
    user_set: frozenset[str] = frozenset()

    INPUTS = (
        "currency",
        "value_per_employed",
        "cost_per_patient",
        "population_per_year",
        "years",
        "discount_rate",
        "trial_fixed_cost",
        "trial_cost_per_participant",
    )

    @property
    def population(self) -> float:
        """Discounted number of patients the decision affects:
        Σ_{t=0}^{years−1} population_per_year / (1 + discount_rate)^t."""
        return sum(
            self.population_per_year / (1 + self.discount_rate) ** t for t in range(self.years)
        )

    @property
    def illustrative(self) -> bool:
        """True when at least one economic input is an illustrative default."""
        return not set(self.INPUTS) <= self.user_set

    def trial_cost(self, n_per_arm: int) -> float:
        return self.trial_fixed_cost + 2 * n_per_arm * self.trial_cost_per_participant

    def as_dict(self) -> dict:
        """Every input with its value and whether it is an illustrative default."""
        inputs = {
            k: {
                "value": getattr(self, k),
                "source": "spec" if k in self.user_set else "illustrative default",
            }
            for k in self.INPUTS
        }
        return {
            "inputs": inputs,
            "illustrative": self.illustrative,
            "population_discounted": self.population,
            "wtp_max": self.wtp_max,
        }


@dataclass(frozen=True)
class NextTrial:
    """The confirmatory trial being designed and how its success is judged."""

    n_per_arm: tuple[int, ...] = DEFAULT_N_PER_ARM
    simulations: int = 20_000
    alpha: float = 0.05
    success_probability: float = 0.975
    analysis_prior_sd: float | None = None
    robust_weight: float = 0.0
    assurance_targets: tuple[float, ...] = (0.8, 0.9)
    null_rate: float | None = None
    oc_n_per_arm: tuple[int, ...] = (100, 200, 400)


@dataclass(frozen=True)
class DecisionSettings:
    """Parsed ``[decision]`` section."""

    enabled: bool = True
    mcid: float = 0.10
    gamma_benefit: float = 0.95
    gamma_mcid: float = 0.50
    gamma_rope: float = 0.95
    economics: Economics = field(default_factory=Economics)
    next_trial: NextTrial = field(default_factory=NextTrial)


_TOP = {
    "enabled": bool,
    "mcid": float,
    "gamma_benefit": float,
    "gamma_mcid": float,
    "gamma_rope": float,
    "economics": dict,
    "next_trial": dict,
}
_ECONOMICS = {
    "currency": str,
    "value_per_employed": float,
    "cost_per_patient": float,
    "population_per_year": float,
    "years": int,
    "discount_rate": float,
    "trial_fixed_cost": float,
    "trial_cost_per_participant": float,
    "wtp_max": float,
}
_NEXT_TRIAL = {
    "n_per_arm": list,
    "simulations": int,
    "alpha": float,
    "success_probability": float,
    "analysis_prior_sd": float,
    "robust_weight": float,
    "assurance_targets": list,
    "null_rate": float,
    "oc_n_per_arm": list,
}


def _sizes(values: list, origin: str, name: str) -> tuple[int, ...]:
    if not values:
        raise InputError(origin, "must list at least one sample size", field=name)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or not 2 <= v <= MAX_N_PER_ARM:
            raise InputError(
                origin,
                f"each entry must be a whole number of participants per arm in 2–{MAX_N_PER_ARM}",
                field=name,
                value=v,
            )
    return tuple(sorted(set(values)))


def _get(table: dict, base, key: str, lo: float, hi: float, origin: str, prefix: str):
    """``table[key]`` (or the default from ``base``) checked to lie in [lo, hi]."""
    return in_range(table.get(key, getattr(base, key)), lo, hi, origin, prefix + key)


def _economics(table: dict, origin: str) -> Economics:
    p = "decision.economics."
    check_keys(table, _ECONOMICS, origin, p)
    base = Economics()
    currency = table.get("currency", base.currency)
    if not 1 <= len(currency) <= 12:
        raise InputError(origin, "must be 1–12 characters", field=p + "currency", value=currency)
    value = float(_get(table, base, "value_per_employed", 0.0, 1e12, origin, p))
    if value <= 0:
        raise InputError(origin, "must be positive", field=p + "value_per_employed", value=value)
    money = {
        k: float(_get(table, base, k, 0.0, 1e12, origin, p))
        for k in (
            "cost_per_patient",
            "population_per_year",
            "trial_fixed_cost",
            "trial_cost_per_participant",
        )
    }
    wtp_max = float(
        in_range(
            table.get("wtp_max", max(base.wtp_max, 4 * value)), 1e-6, 1e13, origin, p + "wtp_max"
        )
    )
    return Economics(
        currency=currency,
        value_per_employed=value,
        years=_get(table, base, "years", 1, 200, origin, p),
        discount_rate=float(_get(table, base, "discount_rate", 0.0, 1.0, origin, p)),
        wtp_max=wtp_max,
        user_set=frozenset(k for k in table if k in Economics.INPUTS),
        **money,
    )


def _next_trial(table: dict, origin: str) -> NextTrial:
    p = "decision.next_trial."
    check_keys(table, _NEXT_TRIAL, origin, p)
    base = NextTrial()
    sd = table.get("analysis_prior_sd")
    null_rate = table.get("null_rate")
    targets = table.get("assurance_targets", list(base.assurance_targets))
    return NextTrial(
        n_per_arm=_sizes(table.get("n_per_arm", list(base.n_per_arm)), origin, p + "n_per_arm"),
        simulations=_get(table, base, "simulations", 1000, MAX_SIMULATIONS, origin, p),
        alpha=float(_get(table, base, "alpha", 1e-6, 0.5, origin, p)),
        success_probability=float(
            _get(table, base, "success_probability", 0.5, 0.999999, origin, p)
        ),
        analysis_prior_sd=None
        if sd is None
        else float(in_range(sd, 1e-3, 100.0, origin, p + "analysis_prior_sd")),
        robust_weight=float(_get(table, base, "robust_weight", 0.0, 1.0, origin, p)),
        assurance_targets=tuple(
            sorted(number_list(targets, origin, p + "assurance_targets", 0.01, 0.999))
        ),
        null_rate=None
        if null_rate is None
        else float(in_range(null_rate, 0.001, 0.999, origin, p + "null_rate")),
        oc_n_per_arm=_sizes(
            table.get("oc_n_per_arm", list(base.oc_n_per_arm)), origin, p + "oc_n_per_arm"
        ),
    )


def parse(table: dict, origin: str) -> DecisionSettings:
    """Validate the ``[decision]`` table of a spec (``{}`` when absent).

    Raises
    ------
    InputError
        Naming ``decision.KEY`` (or ``decision.economics.KEY``, ``decision.next_trial.KEY``) and
        the rule broken.
    """
    p = "decision."
    check_keys(table, _TOP, origin, p)
    base = DecisionSettings()
    # gamma_rope above one half keeps the ROPE rule's "go" and "no-go" mutually exclusive
    bounds = {"gamma_benefit": 0.5, "gamma_mcid": 0.01, "gamma_rope": 0.501}
    return DecisionSettings(
        enabled=table.get("enabled", base.enabled),
        mcid=float(_get(table, base, "mcid", 0.005, 0.99, origin, p)),
        economics=_economics(table.get("economics", {}), origin),
        next_trial=_next_trial(table.get("next_trial", {}), origin),
        **{k: float(_get(table, base, k, lo, 0.9999, origin, p)) for k, lo in bounds.items()},
    )
