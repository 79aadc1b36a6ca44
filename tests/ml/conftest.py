"""Shared fixtures for ml/ tests: scorecards, tiny hand-written raw CSVs, real-data paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from ml.datasets import scorecard_data_path
from ml.scorecards import get_scorecard
from ml.synthetic import synthetic_frame

# Hand-written rows in the public layouts, with the public files' quirks; no real records.
UCI_CSV = (
    '"ID","LIMIT_BAL","SEX","EDUCATION","MARRIAGE","AGE","PAY_0","PAY_2","PAY_3","PAY_4",'
    '"PAY_5","PAY_6","BILL_AMT1","BILL_AMT2","BILL_AMT3","BILL_AMT4","BILL_AMT5","BILL_AMT6",'
    '"PAY_AMT1","PAY_AMT2","PAY_AMT3","PAY_AMT4","PAY_AMT5","PAY_AMT6",'
    '"default.payment.next.month"\n'
    "1,20000,2,2,1,24,2,2,-1,-1,-2,-2,3913,3102,689,0,0,0,0,689,0,0,0,0,1\n"
    "2,5e+05,1,5,0,41,-1,0,0,0,0,2,-1500,1725,2682,3272,3455,3261,1e+05,1000,1000,1000,0,2000,0\n"
    "3,90000,2,1,2,34,0,0,0,0,0,0,29239,14027,13559,14331,14948,15549,1518,1500,1000,1000,1000,"
    "5000,0\n"
    "4,50000,1,6,3,57,-1,0,-1,0,0,0,8617,5670,35835,20940,19146,19131,2000,36681,10000,9000,"
    "689,679,0\n"
    "5,130000,2,0,1,29,1,-2,-2,-2,-2,-2,0,0,0,0,0,0,0,0,0,0,0,0,1\n"
)

GERMAN_CSV = (
    "'checking_status','duration','credit_history','purpose','credit_amount','savings_status',"
    "'employment','installment_commitment','personal_status','other_parties','residence_since',"
    "'property_magnitude','age','other_payment_plans','housing','existing_credits','job',"
    "'num_dependents','own_telephone','foreign_worker','class'\n"
    "'<0',6,'critical/other existing credit',radio/tv,1169,'no known savings','>=7',4,"
    "'male single',none,4,'real estate',67,none,own,2,skilled,1,yes,yes,good\n"
    "'0<=X<200',48,'existing paid',radio/tv,5951,'<100','1<=X<4',2,'female div/dep/mar',none,2,"
    "'real estate',22,none,own,1,skilled,1,none,yes,bad\n"
    "'no checking',12,'critical/other existing credit',education,2096,'<100','4<=X<7',2,"
    "'male single',none,3,'real estate',49,none,own,1,'unskilled resident',2,none,no,good\n"
)

CREDIT_SCORE_HEADER = (
    "ID,Customer_ID,Month,Name,Age,SSN,Occupation,Annual_Income,Monthly_Inhand_Salary,"
    "Num_Bank_Accounts,Num_Credit_Card,Interest_Rate,Num_of_Loan,Type_of_Loan,"
    "Delay_from_due_date,Num_of_Delayed_Payment,Changed_Credit_Limit,Num_Credit_Inquiries,"
    "Credit_Mix,Outstanding_Debt,Credit_Utilization_Ratio,Credit_History_Age,"
    "Payment_of_Min_Amount,Total_EMI_per_month,Amount_invested_monthly,Payment_Behaviour,"
    "Monthly_Balance,Credit_Score\n"
)
LOANS = '"Auto Loan, Credit-Builder Loan, and Personal Loan"'
# Customer CUS_0xa1: four months, one quirk after another. Customer CUS_0xb2: two months.
CREDIT_SCORE_ROWS = (
    f"0x10,CUS_0xa1,January,Ann Exampled,30,111-22-3333,Engineer,52312.68,4250.39,3,4,12,3,{LOANS},"
    "5,7,11.27,4.0,_,809.98,26.82,22 Years and 1 Months,No,49.57,80.41,"
    "High_spent_Small_value_payments,312.49,Good\n"
    f"0x11,CUS_0xa1,February,Ann Exampled,-500,#F%$D@*&8,_______,52312.68_,,3,1385,12,3_,{LOANS},"
    "-1,,_,4.0,Good,809.98_,31.94,,NM,49.57,__10000__,!@9#%8,284.62,Good\n"
    f"0x12,CUS_0xa1,March,,30_,111-22-3333,Engineer,10909427.0,4250.39,3,4,5318,967,{LOANS},"
    "3,3318,6.27,1050.0,Good,809.98,28.60,22 Years and 3 Months,No,15015.0,81.69,"
    "Low_spent_Medium_value_payments,__-333333333333333333333333333__,Standard\n"
    f"0x13,CUS_0xa1,April,Ann Exampled,30,111-22-3333,Engineer,52312.68,4250.39,3,4,12,3,{LOANS},"
    "6,8_,9.27,5.0,Good,809.98,24.79,22 Years and 4 Months,No,49.57,41.42,"
    "Low_spent_Small_value_payments,341.48,Good\n"
    "0x20,CUS_0xb2,January,Bo Samplek,45,444-55-6666,Media_Manager,34847.84,3037.98,2,4,6,1,"
    "Credit-Builder Loan,3,4,5.42,2.0,Bad,1605.03,24.46,10 Years and 7 Months,Yes,18.81,104.29,"
    "Low_spent_Small_value_payments,470.69,Poor\n"
    "0x21,CUS_0xb2,February,Bo Samplek,45,444-55-6666,Media_Manager,34847.84,3037.98,2,4,6,0,"
    ",7,1,7.42,2.0,Bad,1605.03,38.55,10 Years and 8 Months,Yes,18.81,40.39,"
    "High_spent_Large_value_payments,484.59,Poor\n"
)
CREDIT_SCORE_CSV = CREDIT_SCORE_HEADER + CREDIT_SCORE_ROWS


@pytest.fixture
def card_default():
    return get_scorecard("card_default")


@pytest.fixture
def german_credit():
    return get_scorecard("german_credit")


@pytest.fixture
def credit_score():
    return get_scorecard("credit_score")


@pytest.fixture
def uci_csv_bytes() -> bytes:
    return UCI_CSV.encode()


@pytest.fixture
def german_csv_bytes() -> bytes:
    return GERMAN_CSV.encode()


@pytest.fixture
def credit_score_csv_bytes() -> bytes:
    return CREDIT_SCORE_CSV.encode()


@pytest.fixture
def synthetic(request):
    """synthetic_frame(scorecard) by key: `synthetic("card_default", n=500)`."""

    def make(key: str, n: int = 500, seed: int = 0):
        return synthetic_frame(get_scorecard(key), n=n, seed=seed)

    return make


def real_data_path(key: str, relative_path: str | None = None) -> Path:
    """Path of a real public extract, or skip the test when this machine lacks it."""
    path = scorecard_data_path(get_scorecard(key), settings.CREDITPORTAL_DATA_DIR, relative_path)
    if path is None:
        pytest.skip(f"real data for {key} ({relative_path or 'training file'}) is not present")
    return path
