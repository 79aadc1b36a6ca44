"""`german_credit`: good or bad risk of a consumer loan (Statlog German credit, OpenML credit-g)."""

from ml.schema import Field, FieldKind, Scorecard, choices_from

# Choice values are the OpenML credit-g strings, opaque on purpose: "<0" is a label, not maths.
FIELDS = (
    Field(
        name="checking_status",
        kind=FieldKind.CATEGORICAL,
        label="Checking account",
        help_text="Balance of the applicant's existing checking account, in DM.",
        choices=(
            ("<0", "below 0 DM"),
            ("0<=X<200", "0 to 200 DM"),
            (">=200", "200 DM or more"),
            ("no checking", "no checking account"),
        ),
        phrase="checking account: {choice}",
    ),
    Field(
        name="duration",
        kind=FieldKind.INTEGER,
        label="Duration",
        help_text="Duration of the credit in months.",
        unit="months",
        min_value=1,
        max_value=120,
        phrase="duration of {value}",
    ),
    Field(
        name="credit_history",
        kind=FieldKind.CATEGORICAL,
        label="Credit history",
        help_text="How the applicant has repaid credits so far.",
        choices=(
            ("no credits/all paid", "no credits taken / all paid back duly"),
            ("all paid", "all credits at this bank paid back duly"),
            ("existing paid", "existing credits paid back duly till now"),
            ("delayed previously", "delay in paying off in the past"),
            ("critical/other existing credit", "critical account / credits at other banks"),
        ),
        phrase="credit history: {choice}",
    ),
    Field(
        name="purpose",
        kind=FieldKind.CATEGORICAL,
        label="Purpose",
        help_text="What the loan is for.",
        choices=(
            *choices_from(("new car", "used car", "furniture/equipment", "radio/tv")),
            *choices_from(("domestic appliance", "repairs", "education", "vacation")),
            *choices_from(("retraining", "business", "other")),
        ),
        phrase="loan purpose: {choice}",
    ),
    Field(
        name="credit_amount",
        kind=FieldKind.INTEGER,
        label="Credit amount",
        help_text="Amount of the loan, in Deutsche Mark.",
        unit="DM",
        min_value=1,
        max_value=1_000_000,
        phrase="credit amount of {value}",
    ),
    Field(
        name="savings_status",
        kind=FieldKind.CATEGORICAL,
        label="Savings",
        help_text="Savings account and bonds, in DM.",
        choices=(
            ("<100", "below 100 DM"),
            ("100<=X<500", "100 to 500 DM"),
            ("500<=X<1000", "500 to 1000 DM"),
            (">=1000", "1000 DM or more"),
            ("no known savings", "no known savings"),
        ),
        phrase="savings: {choice}",
    ),
    Field(
        name="employment",
        kind=FieldKind.CATEGORICAL,
        label="Employed for",
        help_text="Time in the present employment, in years.",
        choices=(
            ("unemployed", "unemployed"),
            ("<1", "less than 1 year"),
            ("1<=X<4", "1 to 4 years"),
            ("4<=X<7", "4 to 7 years"),
            (">=7", "7 years or more"),
        ),
        phrase="employed for: {choice}",
    ),
    Field(
        name="installment_commitment",
        kind=FieldKind.INTEGER,
        label="Instalment rate",
        help_text="Instalment rate as a share of disposable income, on the dataset's 1 to 4 scale.",
        min_value=1,
        max_value=4,
        phrase="instalment rate {value} of 4",
    ),
    Field(
        name="personal_status",
        kind=FieldKind.CATEGORICAL,
        label="Personal status",
        help_text=(
            "Sex and marital status combined. Protected: never a model input; used only by "
            "the fairness report."
        ),
        choices=(
            ("male div/sep", "male, divorced or separated"),
            ("female div/dep/mar", "female, divorced, separated or married"),
            ("male single", "male, single"),
            ("male mar/wid", "male, married or widowed"),
            ("female single", "female, single"),
        ),
        protected=True,
    ),
    Field(
        name="other_parties",
        kind=FieldKind.CATEGORICAL,
        label="Other debtors",
        help_text="Other debtors or guarantors of the loan.",
        choices=(("none", "none"), ("co applicant", "co-applicant"), ("guarantor", "guarantor")),
        phrase="other debtors: {choice}",
    ),
    Field(
        name="residence_since",
        kind=FieldKind.INTEGER,
        label="Present residence since",
        help_text="Time at the present residence, on the dataset's 1 to 4 scale.",
        min_value=1,
        max_value=4,
        phrase="present residence since {value} (scale 1 to 4)",
    ),
    Field(
        name="property_magnitude",
        kind=FieldKind.CATEGORICAL,
        label="Most valuable property",
        help_text="The applicant's most valuable property.",
        choices=(
            ("real estate", "real estate"),
            ("life insurance", "building society savings / life insurance"),
            ("car", "car or other"),
            ("no known property", "no known property"),
        ),
        phrase="property: {choice}",
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
    ),
    Field(
        name="other_payment_plans",
        kind=FieldKind.CATEGORICAL,
        label="Other instalment plans",
        help_text="Other instalment plans the applicant has.",
        choices=(("bank", "at a bank"), ("stores", "at stores"), ("none", "none")),
        phrase="other instalment plans: {choice}",
    ),
    Field(
        name="housing",
        kind=FieldKind.CATEGORICAL,
        label="Housing",
        choices=(("rent", "rents"), ("own", "owns"), ("for free", "lives for free")),
        phrase="housing: {choice}",
    ),
    Field(
        name="existing_credits",
        kind=FieldKind.INTEGER,
        label="Existing credits at this bank",
        help_text="Number of existing credits at this bank.",
        min_value=0,
        max_value=10,
        phrase="{value} existing credits at this bank",
    ),
    Field(
        name="job",
        kind=FieldKind.CATEGORICAL,
        label="Job",
        choices=(
            ("unemp/unskilled non res", "unemployed / unskilled, non-resident"),
            ("unskilled resident", "unskilled, resident"),
            ("skilled", "skilled employee / official"),
            ("high qualif/self emp/mgmt", "management / self-employed / highly qualified"),
        ),
        phrase="job: {choice}",
    ),
    Field(
        name="num_dependents",
        kind=FieldKind.INTEGER,
        label="Dependants",
        help_text="Number of people the applicant is liable to provide maintenance for.",
        min_value=0,
        max_value=10,
        phrase="{value} dependants",
    ),
    Field(
        name="own_telephone",
        kind=FieldKind.BOOLEAN,
        label="Has a telephone",
        help_text="Whether a telephone is registered under the applicant's name.",
        aliases={"none": False},
        phrase="telephone registered: {value}",
    ),
    Field(
        name="foreign_worker",
        kind=FieldKind.BOOLEAN,
        label="Foreign worker",
        help_text="Whether the applicant is a foreign worker.",
        phrase="foreign worker: {value}",
    ),
)

GERMAN_CREDIT = Scorecard(
    key="german_credit",
    label="Consumer loan (German credit)",
    description=(
        "Good or bad risk of a consumer loan from its duration, amount and purpose and the "
        "applicant's accounts, employment, property and housing (Statlog German credit data)."
    ),
    fields=FIELDS,
    target="class",
    target_source="class",
    classes=("good", "bad"),
    class_labels={"good": "good risk", "bad": "bad risk"},
    target_aliases={"1": "good", "2": "bad"},
    # The dataset's documented cost matrix: approving a bad applicant costs 5, declining a
    # good one costs 1.
    cost_matrix=((0.0, 1.0), (5.0, 0.0)),
    cost_rationale=(
        "The Statlog documentation's matrix: classifying a bad applicant as good costs 5, "
        "a good applicant as bad costs 1."
    ),
    product="consumer loan",
    data_files=("german_credit/german_credit.csv",),
)
