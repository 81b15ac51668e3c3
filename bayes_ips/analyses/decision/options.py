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
    simulations = 20000                 # simulated trials per sample size, at least (the same
                                        # number for every posterior draw of the design prior)
    alpha = 0.05                        # two-sided level of the frequentist test
    success_probability = 0.975         # Bayesian success: P(benefit) above this
    analysis_prior = "sceptical_mcid"   # library prior (normal on the log OR) of the analysis
    analysis_prior_sd = <unset>         # Normal(0, sd²) instead of the named prior
    robust_weight = 0.0                 # weight of a vague component in the design prior
    assurance_targets = [0.8, 0.9]
    null_rate = <derived>               # control rate for operating characteristics
    oc_n_per_arm = [100, 200, 400]      # sample sizes of the power curves

The ROPE half-width is the analysis's ``estimands.rope``. The Bayesian rule's
analysis prior is the library prior ``analysis_prior`` (the run's own ``sceptical_mcid`` by
default, the one the priors table lists) unless ``analysis_prior_sd`` is set. ``null_rate``
defaults to the headline fit's posterior mean control rate. Economic inputs the spec leaves out
keep their defaults, which are illustrative assumptions chosen only to make the method visible;
every output that uses them says so.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, PlainValidator

from bayes_ips.priors.settings import PriorSettings, normal_effect_names
from bayes_ips.schema import Bool, Float, Int, Section, Str, between, number_list, rule, rule_error

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
WTP_MAX_FLOOR = 100_000.0
"""The smallest default right end of the acceptability curve (it is at least 4 × value)."""

Money = Annotated[Float, between(0.0, 1e12)]


def _sizes(values) -> tuple[int, ...]:
    """Sample sizes per arm: whole numbers in 2–MAX_N_PER_ARM, sorted, without repeats."""
    if not isinstance(values, list | tuple):
        raise rule_error("must be of type list", value=values)
    if not values:
        raise rule_error("must list at least one sample size")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or not 2 <= v <= MAX_N_PER_ARM:
            raise rule_error(
                f"each entry must be a whole number of participants per arm in 2–{MAX_N_PER_ARM}",
                value=v,
            )
    return tuple(sorted(set(values)))


SampleSizes = Annotated[tuple[int, ...], PlainValidator(_sizes)]


class Economics(Section):
    """Economic inputs; :attr:`user_set` names the ones the spec gave (the rest are
    illustrative)."""

    currency: Annotated[Str, rule(lambda v: 1 <= len(v) <= 12, "must be 1–12 characters")] = "EUR"
    value_per_employed: Annotated[Money, rule(lambda v: v > 0, "must be positive")] = 25_000.0
    cost_per_patient: Money = 3_000.0
    population_per_year: Money = 500.0
    years: Annotated[Int, between(1, 200)] = 10
    discount_rate: Annotated[Float, between(0.0, 1.0)] = 0.035
    trial_fixed_cost: Money = 500_000.0
    trial_cost_per_participant: Money = 2_000.0
    wtp_max: Annotated[Float, between(1e-6, 1e13)] = Field(
        default_factory=lambda given: max(WTP_MAX_FLOOR, 4 * given["value_per_employed"])
    )

    INPUTS: ClassVar[tuple[str, ...]] = (
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
    def user_set(self) -> frozenset[str]:
        """The economic inputs the spec gave."""
        return frozenset(self.model_fields_set & set(self.INPUTS))

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


class NextTrial(Section):
    """The confirmatory trial being designed and how its success is judged."""

    n_per_arm: SampleSizes = DEFAULT_N_PER_ARM
    simulations: Annotated[Int, between(1000, MAX_SIMULATIONS)] = 20_000
    alpha: Annotated[Float, between(1e-6, 0.5)] = 0.05
    success_probability: Annotated[Float, between(0.5, 0.999999)] = 0.975
    analysis_prior: Str = "sceptical_mcid"
    analysis_prior_sd: Annotated[Float, between(1e-3, 100.0)] | None = None
    robust_weight: Annotated[Float, between(0.0, 1.0)] = 0.0
    assurance_targets: Annotated[
        number_list(0.01, 0.999), AfterValidator(lambda v: tuple(sorted(v)))
    ] = (0.8, 0.9)
    null_rate: Annotated[Float, between(0.001, 0.999)] | None = None
    oc_n_per_arm: SampleSizes = (100, 200, 400)


class DecisionSettings(Section):
    """The ``[decision]`` spec section (module docstring)."""

    enabled: Bool = True
    mcid: Annotated[Float, between(0.005, 0.99)] = 0.10
    gamma_benefit: Annotated[Float, between(0.5, 0.9999)] = 0.95
    gamma_mcid: Annotated[Float, between(0.01, 0.9999)] = 0.50
    # above one half, the ROPE rule's "go" and "no-go" exclude each other
    gamma_rope: Annotated[Float, between(0.501, 0.9999)] = 0.95
    economics: Economics = Field(default_factory=Economics)
    next_trial: NextTrial = Field(default_factory=NextTrial)

    def prior_errors(self, settings: PriorSettings) -> list:
        """The analysis prior must be a normal prior on the log OR of the spec's library (checked
        with the whole spec, before anything is fitted)."""
        trial = self.next_trial
        known = normal_effect_names(settings)
        if trial.analysis_prior_sd is not None or trial.analysis_prior in known:
            return []
        return [
            rule_error(
                "must name a prior with a normal prior on the log odds ratio; known: "
                + ", ".join(known),
                key="next_trial.analysis_prior",
                value=trial.analysis_prior,
            )
        ]
