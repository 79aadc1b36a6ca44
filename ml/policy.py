"""Decision policy: approve / refer / decline from the risk, tuned against a cost matrix.

Risk is the probability of the worst class. Two thresholds cut it into three bands:

    risk <  approve_below                 -> approve
    approve_below <= risk < decline_from  -> refer (an officer reviews the case)
    risk >= decline_from                  -> decline

Costs come from the scorecard's matrix ``cost[true][predicted]`` (classes best -> worst):
declining an applicant of true class k costs ``cost[k][worst]``; approving costs
``cost[k][j]`` where j is the class the approval assigns: the most probable of the
non-worst classes (always the best class for a two-class scorecard). A referral costs
``refer_cost`` per applicant (officer time) and is assumed to end in the right decision;
at most ``max_refer_rate`` of applicants may be referred, so the refer band stays a
narrow zone of doubt around the cost-optimal cut-off. The thresholds minimise the mean
cost on the *validation* split; with a refer cost above the saving it brings, the two
thresholds coincide and nobody is referred.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

APPROVE, REFER, DECLINE = "approve", "refer", "decline"
DECISIONS = (APPROVE, REFER, DECLINE)
DEFAULT_MAX_REFER_RATE = 0.10
DEFAULT_REFER_COST_SHARE = 0.25  # a referral costs a quarter of the cheapest wrong decision
MAX_CANDIDATES = 400


@dataclass(frozen=True)
class DecisionPolicy:
    approve_below: float
    decline_from: float
    refer_cost: float = 0.0
    max_refer_rate: float = DEFAULT_MAX_REFER_RATE

    def decision_codes(self, risk) -> np.ndarray:
        """0 approve, 1 refer, 2 decline for each risk."""
        risk = np.asarray(risk, dtype=np.float64)
        return (risk >= self.approve_below).astype(np.int8) + (risk >= self.decline_from)

    def decide(self, risk) -> np.ndarray:
        return np.array(DECISIONS, dtype=object)[self.decision_codes(risk)]

    def decide_one(self, risk: float) -> str:
        if risk >= self.decline_from:
            return DECLINE
        return REFER if risk >= self.approve_below else APPROVE

    def to_dict(self) -> dict:
        return {
            **asdict(self),
            "rule": "approve if risk < approve_below; decline if risk >= "
            "decline_from; refer in between (risk = probability of the worst class)",
        }


def approve_classes(proba) -> np.ndarray:
    """The class an approval assigns to each row: the most probable non-worst class."""
    proba = np.asarray(proba, dtype=np.float64)
    return proba[:, :-1].argmax(axis=1)


def row_decision_costs(y_codes, cost_matrix, refer_cost: float, approved_as=None) -> np.ndarray:
    """(rows, 3) cost of approve / refer / decline for each row's true class."""
    matrix = np.asarray(cost_matrix, dtype=np.float64)
    y_codes = np.asarray(y_codes)
    approved_as = np.zeros_like(y_codes) if approved_as is None else np.asarray(approved_as)
    return np.column_stack(
        [matrix[y_codes, approved_as], np.full(len(y_codes), refer_cost), matrix[y_codes, -1]]
    )


def default_refer_cost(cost_matrix) -> float:
    matrix = np.asarray(cost_matrix, dtype=np.float64)
    errors = matrix[matrix > 0]
    return float(DEFAULT_REFER_COST_SHARE * errors.min()) if errors.size else 0.0


def expected_cost(
    y_codes, decision_codes, cost_matrix, refer_cost: float = 0.0, approved_as=None
) -> float:
    """Mean cost per applicant of the decisions."""
    costs = row_decision_costs(y_codes, cost_matrix, refer_cost, approved_as)
    return float(costs[np.arange(len(costs)), np.asarray(decision_codes)].mean())


def _candidates(risk: np.ndarray) -> np.ndarray:
    unique = np.unique(risk)
    if len(unique) > MAX_CANDIDATES:
        unique = np.unique(np.quantile(risk, np.linspace(0, 1, MAX_CANDIDATES)))
    return np.concatenate([unique, [np.nextafter(1.0, 2.0)]])


def tune_policy(
    risk,
    y_codes,
    cost_matrix,
    *,
    refer_cost: float | None = None,
    max_refer_rate: float = DEFAULT_MAX_REFER_RATE,
    approved_as=None,
) -> DecisionPolicy:
    """The thresholds minimising the mean cost on (validation) risks and true class codes.

    `approved_as` is the class each row's approval assigns (see `approve_classes`).
    """
    risk = np.asarray(risk, dtype=np.float64)
    y_codes = np.asarray(y_codes)
    if refer_cost is None:
        refer_cost = default_refer_cost(cost_matrix)
    costs = row_decision_costs(y_codes, cost_matrix, refer_cost, approved_as)
    thresholds = _candidates(risk)
    # below[t]: rows with risk < thresholds[t]; cumulative costs per decision.
    order = np.argsort(risk, kind="stable")
    sorted_risk = risk[order]
    approve_cost = np.concatenate([[0], np.cumsum(costs[order, 0])])
    decline_cost = np.concatenate([[0], np.cumsum(costs[order, 2])])
    below = np.searchsorted(sorted_risk, thresholds, side="left")
    n = len(risk)
    low = below[:, None]  # approve_below candidates on rows
    high = below[None, :]  # decline_from candidates on columns
    total = (
        approve_cost[low]
        + refer_cost * (high - low)
        + (decline_cost[n] - decline_cost[np.maximum(high, low)])
    )
    referred = (high - low) / max(n, 1)
    feasible = (high >= low) & (referred <= max_refer_rate + 1e-12)
    total = np.where(feasible, total, np.inf)
    i, j = np.unravel_index(np.argmin(total), total.shape)
    return DecisionPolicy(
        approve_below=float(thresholds[i]),
        decline_from=float(thresholds[j]),
        refer_cost=float(refer_cost),
        max_refer_rate=float(max_refer_rate),
    )


def tune_single_threshold(risk, y_codes, cost_matrix, approved_as=None) -> float:
    """The cut-off (decline when risk >= it) minimising the cost of a yes/no decision."""
    policy = tune_policy(
        risk, y_codes, cost_matrix, refer_cost=0.0, max_refer_rate=0.0, approved_as=approved_as
    )
    return policy.decline_from
