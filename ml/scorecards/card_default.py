"""`card_default`: will a credit-card holder default next month (UCI, Taiwan 2005)."""

from ml.schema import Field, FieldKind, Scorecard

# PAY_0 / BILL_AMT1 / PAY_AMT1 describe September 2005, PAY_6 / BILL_AMT6 / PAY_AMT6 April.
MONTHS = ("September", "August", "July", "June", "May", "April")
PAY_STATUS_COLUMNS = ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6")

NT_DOLLAR = "NT$"


def _pay_status(source: str, month: str) -> Field:
    when = f"{month} 2005"
    return Field(
        name=source.lower(),
        kind=FieldKind.INTEGER,
        label=f"Repayment status, {when}",
        help_text=(
            f"Repayment status in {when}: -2 no bill, -1 paid in full, 0 revolving credit with "
            "the minimum paid, 1 to 8 payment delayed that many months, 9 nine months or more."
        ),
        unit="months",
        min_value=-2,
        max_value=9,
        value_labels={
            -2: f"no bill in {when}",
            -1: f"bill paid in full in {when}",
            0: f"revolving credit, minimum paid in {when}",
            9: f"payment delayed 9 months or more in {when}",
        },
        phrase=f"payment delayed {{value}} in {when}",
        source=source,
    )


def _bill_amount(number: int, month: str) -> Field:
    return Field(
        name=f"bill_amt{number}",
        kind=FieldKind.INTEGER,
        label=f"Bill amount, {month} 2005",
        help_text=(
            f"Bill statement amount in {month} 2005, NT dollars. Negative for a credit balance."
        ),
        unit=NT_DOLLAR,
        min_value=-1_000_000,
        max_value=5_000_000,
        phrase=f"bill of {{value}} in {month} 2005",
        source=f"BILL_AMT{number}",
    )


def _paid_amount(number: int, month: str) -> Field:
    return Field(
        name=f"pay_amt{number}",
        kind=FieldKind.INTEGER,
        label=f"Amount paid, {month} 2005",
        help_text=f"Amount paid in {month} 2005, NT dollars.",
        unit=NT_DOLLAR,
        min_value=0,
        max_value=5_000_000,
        phrase=f"payment of {{value}} in {month} 2005",
        source=f"PAY_AMT{number}",
    )


FIELDS = (
    Field(
        name="limit_bal",
        kind=FieldKind.INTEGER,
        label="Credit limit",
        help_text="Amount of credit granted, NT dollars (individual plus family/supplementary).",
        unit=NT_DOLLAR,
        min_value=10_000,
        max_value=1_000_000,
        source="LIMIT_BAL",
    ),
    Field(
        name="sex",
        kind=FieldKind.CATEGORICAL,
        label="Sex",
        help_text="Protected: never a model input; used only by the fairness report.",
        choices=(("male", "male"), ("female", "female")),
        aliases={"1": "male", "2": "female"},
        protected=True,
        source="SEX",
    ),
    Field(
        name="education",
        kind=FieldKind.CATEGORICAL,
        label="Education",
        help_text=(
            "Highest education. The public file also holds the undocumented codes 0, 5 and 6, "
            "read as unknown."
        ),
        choices=(
            ("graduate_school", "graduate school"),
            ("university", "university"),
            ("high_school", "high school"),
            ("other", "others"),
            ("unknown", "unknown"),
        ),
        aliases={
            "1": "graduate_school",
            "2": "university",
            "3": "high_school",
            "4": "other",
            "0": "unknown",
            "5": "unknown",
            "6": "unknown",
        },
        undocumented=("0", "5", "6"),
        phrase="education: {choice}",
        source="EDUCATION",
    ),
    Field(
        name="marriage",
        kind=FieldKind.CATEGORICAL,
        label="Marital status",
        help_text=(
            "Protected: never a model input; used only by the fairness report. "
            "The undocumented code 0 is read as other."
        ),
        choices=(("married", "married"), ("single", "single"), ("other", "other")),
        aliases={"1": "married", "2": "single", "3": "other", "0": "other"},
        undocumented=("0",),
        protected=True,
        source="MARRIAGE",
    ),
    Field(
        name="age",
        kind=FieldKind.INTEGER,
        label="Age",
        help_text="Age in years.",
        unit="years",
        min_value=18,
        max_value=100,
        phrase="age {value}",
        source="AGE",
    ),
    *(_pay_status(source, month) for source, month in zip(PAY_STATUS_COLUMNS, MONTHS, strict=True)),
    *(_bill_amount(number, month) for number, month in enumerate(MONTHS, start=1)),
    *(_paid_amount(number, month) for number, month in enumerate(MONTHS, start=1)),
)

CARD_DEFAULT = Scorecard(
    key="card_default",
    label="Credit card default",
    description=(
        "Probability that a credit-card holder defaults on next month's payment, from the "
        "credit limit, education, age and the last six months of repayment status, bills and "
        "payments (UCI default of credit card clients, Taiwan, April to September 2005)."
    ),
    fields=FIELDS,
    target="default_payment_next_month",
    target_source="default.payment.next.month",
    classes=("no_default", "default"),
    class_labels={"no_default": "no default next month", "default": "default next month"},
    target_aliases={"0": "no_default", "1": "default"},
    # Truth no_default: predicting default (declining a good client) costs 1, the card's lost
    # margin. Truth default: approving costs 3, roughly the written-off balance relative to that
    # margin. Declining good clients is kept expensive on purpose (a third of a default, much
    # more than German credit's 1:5); the cost-minimising cut-off is P(default) = 1 / (1 + 3).
    cost_matrix=((0.0, 1.0), (3.0, 0.0)),
    cost_rationale=(
        "Declining a client who would have paid costs 1 (lost margin); approving a client who "
        "defaults costs 3 (written-off balance). Rejecting good clients stays costly, so the "
        "break-even probability of default is 25%."
    ),
    product="credit card",
    data_files=("uci_credit_card_default/UCI_Credit_Card.csv",),
    ignored_sources=("ID",),
)
