"""Reasons: the features that moved one applicant's risk most, in a loan officer's words.

This is the one place a reason is made. A reason is always the dict `reason()` returns:

    {"field": "pay_0", "label": "Repayment status, last month", "value": 2,
     "direction": "raises", "contribution": 0.0712,
     "sentence": "Payment delayed 2 months, last month, raised the risk."}

`ScoringModel.predict_one` builds them one applicant at a time; `BatchReasons` builds the
same dicts for many rows at once (bulk scoring), as JSON text ready to store, with the
sentences of the result file and the short reason codes. A stored prediction's reasons are
served by the API as they were stored.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import repeat
from json.encoder import encode_basestring_ascii
from typing import Any

import numpy as np
import pandas as pd

MAX_REASONS = 4
MIN_CONTRIBUTION = 1e-6  # below this a field did not move the risk
# A contribution is kept to a millionth of risk: finer than anyone reads it, and every
# stored prediction (bulk ones by the hundred thousand) carries four of them.
CONTRIBUTION_DIGITS = 6


JSON_SEPARATORS = (",", ":")  # stored reasons are compact JSON, like json.dumps with these


@dataclass(frozen=True)
class ReasonItem:
    """Something a reason can name: a model field or a derived feature."""

    name: str
    label: str
    derived: bool


def reason(item: ReasonItem, value: Any, phrase: str, contribution: float) -> dict[str, Any]:
    """One reason: `value` is the applicant's (plain JSON), `phrase` says it in words."""
    return {
        "field": item.name,
        "label": item.label,
        "value": value,
        "direction": "raises" if contribution > 0 else "lowers",
        "contribution": round(contribution, CONTRIBUTION_DIGITS),
        "sentence": reason_sentence(phrase, contribution),
    }


def reason_sentence(phrase: str, contribution: float) -> str:
    """'<Payment delayed 2 months in the last month> raised the risk.'"""
    verb = "raised" if contribution > 0 else "lowered"
    return f"{phrase[:1].upper()}{phrase[1:]} {verb} the risk."


def reason_code(item: ReasonItem, contribution: float) -> str:
    """'pay_1+': the field and the sign of its push, for compact files."""
    return f"{item.name}{'+' if contribution > 0 else '-'}"


def top_reasons(item_contributions: np.ndarray, limit: int = MAX_REASONS) -> list[int]:
    """Indices of the reason items for one row.

    The items that raised the risk most come first; when fewer than `limit` raised it,
    the items that lowered it most fill the remaining places.
    """
    order = np.argsort(-item_contributions, kind="stable")
    raising = [int(i) for i in order if item_contributions[i] > MIN_CONTRIBUTION][:limit]
    if len(raising) == limit:
        return raising
    lowering = [int(i) for i in order[::-1] if item_contributions[i] < -MIN_CONTRIBUTION]
    return raising + lowering[: limit - len(raising)]


def top_reasons_batch(item_contributions: np.ndarray, limit: int = MAX_REASONS) -> np.ndarray:
    """`top_reasons` for many rows at once: (rows, limit) item indices, -1 when none."""
    n_rows, n_items = item_contributions.shape
    limit = min(limit, n_items)
    raising_first = np.argsort(-item_contributions, axis=1, kind="stable")
    lowering_first = np.argsort(item_contributions, axis=1, kind="stable")
    n_raising = (item_contributions > MIN_CONTRIBUTION).sum(axis=1)
    n_lowering = (item_contributions < -MIN_CONTRIBUTION).sum(axis=1)
    out = np.full((n_rows, limit), -1, dtype=np.intp)
    for slot in range(limit):
        take_raising = slot < n_raising
        lowering_slot = slot - np.minimum(n_raising, limit)
        take_lowering = ~take_raising & (lowering_slot < n_lowering)
        out[take_raising, slot] = raising_first[take_raising, slot]
        rows = np.flatnonzero(take_lowering)
        out[rows, slot] = lowering_first[rows, lowering_slot[rows]]
    return out


# (item index, the row's value of it) -> (value as plain JSON, phrase in words)
Describe = Callable[[int, Any], tuple[Any, str]]


@dataclass(frozen=True)
class BatchReasons:
    """The reasons of many rows: per row, the list of `reason()` dicts as JSON text, their
    sentences joined (the result file's `reasons` column) and their codes ('pay_1+;age-')."""

    json: list[str] | None  # None unless asked for
    sentences: list[str]
    codes: list[str]


def batch_reasons(
    items: list[ReasonItem],
    chosen: np.ndarray,
    contributions: np.ndarray,
    values: Mapping[int, pd.Series],
    describe: Describe,
    *,
    with_json: bool = True,
    memo: ReasonMemo | None = None,
) -> BatchReasons:
    """`reason()` for every chosen (row, item) of a batch, without Python work per reason
    beyond joining text.

    `chosen` holds each row's item indices (-1 for none, as `top_reasons_batch` gives),
    `contributions` each row's contribution of every item, `values[i]` each row's value of
    item i. A reason's text depends only on (item, value, direction), and over a bulk file
    a few thousand such combinations repeat: each is written once, through `reason()`, as
    the JSON before and after its contribution; each row then takes its combinations by
    index and slots its own contributions in. Without `with_json`, only the sentences and
    codes are made. A `memo` kept by the caller carries the written combinations from one
    batch to the next (a bulk file's chunks share most of their values).
    """
    n_rows, n_slots = chosen.shape if chosen.ndim == 2 else (0, 0)
    if n_rows == 0:
        return BatchReasons([] if with_json else None, [], [])
    rows = np.arange(n_rows)
    safe = np.maximum(chosen, 0)
    pushed = contributions[rows[:, None], safe]  # (rows, slots) contributions of the chosen
    raises = pushed > 0
    codes_of: dict[int, np.ndarray] = {}
    uniques_of: dict[int, list] = {}
    for i in (int(i) for i in np.unique(chosen) if i >= 0):
        column = values[i]
        if column.dtype == object:  # lists (several choices) are not hashable: tuples
            column = pd.Series(
                [tuple(v) if isinstance(v, list) else v for v in column.tolist()], dtype=object
            )
        codes_of[i], uniques = pd.factorize(column, use_na_sentinel=True)
        uniques_of[i] = list(uniques.tolist())
    width = max((len(u) for u in uniques_of.values()), default=0) + 1
    codes = np.zeros((n_rows, len(items)), dtype=np.int64)
    for i, column_codes in codes_of.items():
        codes[:, i] = column_codes + 1  # 0: missing

    templates: dict[int, tuple[str, str, str, str]] = {}
    memo = memo if memo is not None else ReasonMemo()

    def template(key: int) -> tuple[str, str, str, str]:
        """(JSON before the contribution, JSON after it, sentence, code) of one combination."""
        if key not in templates:
            rest, up = divmod(key, 2)
            i, code = divmod(rest, width)
            raw = None if code == 0 else uniques_of[i][code - 1]
            remembered = (i, raw, up, with_json)
            made = memo.get(remembered)
            if made is None:
                value, phrase = describe(i, list(raw) if isinstance(raw, tuple) else raw)
                sign = 1.0 if up else -1.0
                one = reason(items[i], value, phrase, sign)
                head, tail = _json_around_contribution(one) if with_json else ("", "")
                made = (head, tail, one["sentence"], reason_code(items[i], sign))
                memo.put(remembered, made)
            templates[key] = made
        return templates[key]

    json_parts, sentence_parts, code_parts = [], [], []
    for slot in range(n_slots):
        item = chosen[:, slot]
        present = item >= 0
        keys = np.where(
            present, (safe[:, slot] * width + codes[rows, safe[:, slot]]) * 2 + raises[:, slot], -1
        )
        distinct, inverse = np.unique(keys, return_inverse=True)
        made = [template(int(k)) if k >= 0 else ("", "", "", "") for k in distinct]
        picked = [made[k] for k in inverse.ravel().tolist()]
        if with_json:
            rounded = map(round, pushed[:, slot].tolist(), repeat(CONTRIBUTION_DIGITS))
            numbers = map(float.__repr__, rounded)
            json_parts.append(
                [m[0] + n + m[1] if m[0] else "" for m, n in zip(picked, numbers, strict=True)]
            )
        sentence_parts.append([m[2] for m in picked])
        code_parts.append([m[3] for m in picked])
    return BatchReasons(
        json=["[" + ",".join(filter(None, parts)) + "]" for parts in zip(*json_parts, strict=True)]
        if with_json
        else None,
        sentences=[" ".join(filter(None, parts)) for parts in zip(*sentence_parts, strict=True)],
        codes=[";".join(filter(None, parts)) for parts in zip(*code_parts, strict=True)],
    )


def batch_reason_codes(
    items: list[ReasonItem], chosen: np.ndarray, contributions: np.ndarray
) -> list[str]:
    """'pay_0+;limit_bal+;age-' per row: the codes of `batch_reasons` without their words.

    Rows share a few thousand combinations at most: each row's (reason, sign) slots are
    numbered as one integer, each distinct combination is written once, rows take
    theirs by index.
    """
    if len(chosen) == 0:
        return []
    raises = np.take_along_axis(contributions, np.maximum(chosen, 0), axis=1) > 0
    base = 2 * (len(items) + 1)
    keys = np.zeros(len(chosen), dtype=np.int64)
    for slot in range(chosen.shape[1]):
        item = chosen[:, slot]
        keys = keys * base + np.where(item >= 0, (item + 1) * 2 + raises[:, slot], 0)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    texts = np.array(
        [
            ";".join(
                reason_code(items[i], 1.0 if up else -1.0)
                for i, up in zip(chosen[row].tolist(), raises[row].tolist(), strict=True)
                if i >= 0
            )
            for row in first
        ],
        dtype=object,
    )
    return texts[inverse.ravel()].tolist()


class ReasonMemo:
    """The written reasons of (item, value, direction) combinations, kept from one batch to
    the next by whoever scores them (a model, for its lifetime in a process). Bounded (an
    entry is a few hundred bytes of text): when full it starts again, which costs only the
    writing again."""

    def __init__(self, limit: int = 50_000):
        self.limit = limit
        self._made: dict[tuple, tuple[str, str, str, str]] = {}

    def get(self, key: tuple) -> tuple[str, str, str, str] | None:
        return self._made.get(key)

    def put(self, key: tuple, made: tuple[str, str, str, str]) -> None:
        if len(self._made) >= self.limit:
            self._made.clear()
        self._made[key] = made


def _json_around_contribution(made: dict[str, Any]) -> tuple[str, str]:
    """The JSON of a `reason()` dict, exactly as `json.dumps` writes it with `JSON_SEPARATORS`,
    cut around its contribution's value (written per row). Written out for the keys `reason()`
    makes, in its order; tests compare it with `json.dumps` so the two cannot drift."""
    head = (
        f"{_item_json(made['field'], made['label'])}"
        f'"value":{_encode(made["value"])},"direction":"{made["direction"]}",'
        '"contribution":'
    )
    return head, f',"sentence":{_encode(made["sentence"])}}}'


@functools.lru_cache(maxsize=1024)
def _item_json(field: str, label: str) -> str:
    return f'{{"field":{_encode(field)},"label":{_encode(label)},'


def _encode(value: Any) -> str:
    """`json.dumps(value)` for the plain values of a reason, without its per-call overhead."""
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(value)
    return json.dumps(value, separators=JSON_SEPARATORS)
